"""Corrections and retractions of what a bluesky channel posted, exactly once per key.

Bluesky posts cannot be edited, so a correction is a reply to the original post with
"Ralat: <note>" and the link (https://docs.bsky.app/docs/advanced-guides/posts#replies).
Its record key is a TID from the time the amendment started, kept in the store under the
amendment's key: a retried reply lands on the same key and cannot double. A retraction
deletes every record of the thread and every correction reply
(com.atproto.repo.deleteRecord; deleting a record that is already gone is a no-op on the
PDS, so a retried retraction is harmless).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chanpub.channels.atproto import GRAPHEME_LIMIT, POST, bluesky_length, facets, now_iso
from chanpub.channels.post_texts import amendment_text
from chanpub.contract import Action, Amendment, Preview, Receipt
from chanpub.errors import AmbiguousError, RetryableError
from chanpub.i18n import N_
from chanpub.render.notices import amendment_label
from chanpub.render.shaping import LengthRule

if TYPE_CHECKING:
    from chanpub.channels.bluesky import BlueskyChannel


def amend_post(
    channel: BlueskyChannel, preview: Preview, amendment: Amendment, key: str
) -> Receipt:
    """Carry the amendment to the post in `amendment.previous` (see the module)."""
    previous = amendment.previous
    posts = _posts(channel, previous)
    store = channel.context.store(channel.channel_type)
    replies_key = f"{channel.name}:replies:{posts[0]['uri']}"
    replies = list(
        dict.fromkeys([*previous.details.get("replies", []), *(store.get(replies_key) or [])])
    )
    details: dict[str, Any] = {**previous.details, "posts": posts, "replies": replies}
    if amendment.retraction:
        did = channel.xrpc.session().did
        for uri in [*reversed(replies), *reversed([post["uri"] for post in posts])]:
            rkey = uri.rsplit("/", 1)[-1]
            try:
                channel.xrpc.call(
                    "POST",
                    "com.atproto.repo.deleteRecord",
                    json={"repo": did, "collection": POST, "rkey": rkey},
                )
            except AmbiguousError as error:  # deleting again is harmless: just retry
                raise RetryableError(error.message) from None
        return _receipt(previous, posts, details, Action.DELETED)
    reply = _reply(channel, preview, amendment, key, posts[0])
    replies = list(dict.fromkeys([*replies, reply]))
    store.put(replies_key, replies)
    return _receipt(previous, posts, {**details, "replies": replies}, Action.REPLIED)


def _reply(
    channel: BlueskyChannel,
    preview: Preview,
    amendment: Amendment,
    key: str,
    root: dict[str, Any],
) -> str:
    """The correction reply's URI, created once at the record key of this amendment."""
    language = preview.release.language or channel.context.language
    link = preview.links.canonical_url or ""
    rule = LengthRule(GRAPHEME_LIMIT, N_("graphemes"), bluesky_length)
    text = amendment_text(amendment_label("correction", language), amendment.note, rule, link=link)
    notes = channel.notes(f"amend:{key}", [text], link)
    rkey = channel.finder_key(notes, 0)
    record: dict[str, Any] = {
        "$type": POST,
        "text": text,
        "createdAt": now_iso(),
        "langs": [language],
        "reply": {"root": root, "parent": root},
    }
    if found := facets(text, channel.resolve_handle):
        record["facets"] = found
    written = channel.create(record, rkey, lambda: channel.read_back(rkey, text))
    return str(json.loads(written)["uri"])


def _posts(channel: BlueskyChannel, previous: Receipt) -> list[dict[str, Any]]:
    """The URI and CID of every part the channel published (a reply needs the CID)."""
    posts = previous.details.get("posts")
    if isinstance(posts, list) and posts:
        return [dict(post) for post in posts]
    answer = channel.xrpc.call(
        "GET",
        "com.atproto.repo.getRecord",
        params={
            "repo": channel.xrpc.session().did,
            "collection": POST,
            "rkey": previous.remote_id.rsplit("/", 1)[-1],
        },
    )
    return [{"uri": answer["uri"], "cid": answer["cid"]}]


def _receipt(
    previous: Receipt, posts: list[dict[str, Any]], details: dict[str, Any], action: Action
) -> Receipt:
    return Receipt(
        remote_id=posts[0]["uri"],
        url=previous.url,
        published_at=datetime.now(UTC),
        details=details,
        action=action,
    )
