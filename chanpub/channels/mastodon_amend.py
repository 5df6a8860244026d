"""Corrections and retractions of what a mastodon channel posted, exactly once per key.

A correction edits every status of the post or thread in place
(https://docs.joinmastodon.org/methods/statuses/#edit: PUT /api/v1/statuses/:id, the
instance keeps the earlier versions in the status's history), the first one starting with
"Ralat: <note>". Before each edit the status's source is read
(https://docs.joinmastodon.org/methods/statuses/#source): a status that already says the
new text is not edited again, so a retried correction adds no second version to the
history. A thread that grows gets its new parts as replies; one that shrinks loses the
surplus statuses. A retraction deletes every status (DELETE /api/v1/statuses/:id); one
that is already gone (404) counts as deleted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chanpub.channels.mastodon_text import plain
from chanpub.channels.post_texts import amendment_text, social_parts
from chanpub.contract import Action, Amendment, ItemJournal, Preview, Receipt
from chanpub.render.notices import amendment_label
from chanpub.render.shaping import LengthRule

if TYPE_CHECKING:
    from chanpub.channels.mastodon import MastodonChannel


def amend_statuses(
    channel: MastodonChannel, preview: Preview, amendment: Amendment, key: str
) -> Receipt:
    """Carry the amendment to the statuses in `amendment.previous` (see the module)."""
    previous = amendment.previous
    ids = [str(item) for item in previous.details.get("ids") or [previous.remote_id]]
    if amendment.retraction:
        for status_id in reversed(ids):  # replies first, then the post they answer
            channel.call("DELETE", f"/api/v1/statuses/{status_id}", accept=(404,))
        return _receipt(previous, ids, Action.DELETED)
    language = preview.release.language or channel.context.language
    parts = corrected_parts(channel, preview, amendment_label("correction", language), amendment)
    journal = channel.context.journal(key)
    edited = False
    for index, (status_id, text) in enumerate(zip(ids, parts, strict=False)):
        edited = _edit(channel, journal, f"edit-{index}", status_id, text, language) or edited
    for index in range(len(ids), len(parts)):  # the corrected thread is longer
        ids.append(_reply(channel, journal, key, index, ids[-1], parts[index], language))
        edited = True
    for status_id in ids[len(parts) :]:  # ... or shorter
        channel.call("DELETE", f"/api/v1/statuses/{status_id}", accept=(404,))
        edited = True
    return _receipt(previous, ids[: len(parts)], Action.EDITED if edited else Action.UNCHANGED)


def corrected_parts(
    channel: MastodonChannel, preview: Preview, label: str, amendment: Amendment
) -> list[str]:
    """The new version's statuses, the first one opening with 'Ralat: <note>' and still
    within max_chars (the note takes at most half of it; the release text gives way)."""
    rule = channel.rule()
    half = LengthRule(rule.limit // 2, rule.unit, rule.count)
    note = amendment_text(label, amendment.note, half) + "\n\n"
    first = LengthRule(rule.limit - rule.count(note), rule.unit, rule.count)
    parts, _warnings = social_parts(channel, preview.release, preview.links, rule, first_rule=first)
    return [note + parts[0], *parts[1:]]


def _edit(
    channel: MastodonChannel,
    journal: ItemJournal,
    item: str,
    status_id: str,
    text: str,
    language: str,
) -> bool:
    """Edit one status to `text` unless it already says it; True when this amendment
    changed it (now or in an attempt whose answer was lost)."""
    state = journal.status(item)
    if state == "sent":
        return journal.remote_id(item) == "edited"
    source = channel.call("GET", f"/api/v1/statuses/{status_id}/source").json()
    if plain(str(source.get("text", ""))) == plain(text):
        journal.sent(item, "edited" if state == "in_progress" else "unchanged")
        return state == "in_progress"
    journal.begin(item)
    status = channel.call("GET", f"/api/v1/statuses/{status_id}").json()
    form: dict[str, Any] = {"status": text, "language": language}
    media = [str(media["id"]) for media in status.get("media_attachments") or []]
    if media:  # keep the picture: an edit without media_ids may drop it
        form["media_ids[]"] = media
    channel.call("PUT", f"/api/v1/statuses/{status_id}", data=form)
    journal.sent(item, "edited")
    return True


def _reply(
    channel: MastodonChannel,
    journal: ItemJournal,
    key: str,
    index: int,
    parent: str,
    text: str,
    language: str,
) -> str:
    """Post part `index` of a corrected thread that grew, as a reply to `parent`, once:
    its Idempotency-Key, and the account's recent statuses after a lost answer."""
    item = f"add-{index}"
    if journal.status(item) == "sent":
        return str(journal.remote_id(item))
    if journal.status(item) == "in_progress":
        earlier = json.dumps({"id": parent, "url": ""})
        found = channel.finder([*[""] * index, text])(index, [*[earlier] * index])
        if found:
            status_id = str(json.loads(found)["id"])
            journal.sent(item, status_id)
            return status_id
    journal.begin(item)
    status = channel.call(
        "POST",
        "/api/v1/statuses",
        data={
            "status": text,
            "visibility": channel.options.visibility,
            "language": language,
            "in_reply_to_id": parent,
        },
        headers={"Idempotency-Key": f"{key}-add-{index}"},
    ).json()
    journal.sent(item, str(status["id"]))
    return str(status["id"])


def _receipt(previous: Receipt, ids: list[str], action: Action) -> Receipt:
    details: dict[str, Any] = {"parts": len(ids), "ids": ids} if len(ids) > 1 else {}
    return Receipt(
        remote_id=ids[0] if ids else previous.remote_id,
        url=previous.url,
        published_at=datetime.now(UTC),
        details=details,
        action=action,
    )
