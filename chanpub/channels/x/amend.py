"""Corrections and retractions on X, exactly once per key across lost answers.

A correction edits the post in place where X allows it (`edit_options.previous_post_id`:
a single post, within 30 minutes of posting, at most 5 edits, each edit a new post id:
https://docs.x.com/x-api/fundamentals/edit-posts); otherwise (a thread, too late, too many
edits, or an account X does not let edit) it replies to the post with the note and the
link. A retraction deletes every post of the delivery, thread parts and earlier
correction replies included (DELETE /2/tweets/:id: https://docs.x.com/x-api/posts/delete-post);
a post already gone counts as deleted.

Each step is journalled under the amendment's key (begin before the call, sent with the
new id after); a step left in progress is first looked for among the account's recent
posts (the edited version, or the reply with this text), so nothing is done twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chanpub.channels.x.api import RULE, comparable, shown_comparable, status_url
from chanpub.contract import Action, Amendment, ItemJournal, Preview, Receipt
from chanpub.errors import DuplicateError, PermanentError
from chanpub.i18n import _
from chanpub.render.notices import amendment_label as label
from chanpub.render.shaping import LengthRule, fit
from chanpub.status import Status

if TYPE_CHECKING:
    from chanpub.channels.x.channel import XChannel

EDIT_WINDOW = timedelta(minutes=29)  # X allows 30; a minute kept for the clocks
EDIT_LIMIT = 5


def amend(channel: XChannel, preview: Preview, amendment: Amendment, key: str) -> Receipt:
    """Carry a correction or a retraction to what the channel published."""
    journal = channel.context.journal(key)
    if amendment.retraction:
        return _retract(channel, amendment, journal)
    previous = amendment.previous
    details = dict(previous.details)
    ids = [str(i) for i in details.get("ids") or [previous.remote_id]]
    language = preview.release.language or channel.context.language
    prefix = f"{label('correction', language)}: "
    if journal.status("reply") is None and _editable(channel, details, ids, previous):
        edited = _edit(channel, preview, amendment, journal, ids[0], prefix)
        if edited is not None:
            return edited
    return _reply(channel, preview, amendment, journal, ids[0], prefix)


def _editable(
    channel: XChannel, details: dict[str, Any], ids: list[str], previous: Receipt
) -> bool:
    """A single post, young enough and not edited too often yet."""
    raw = details.get("posted_at")
    posted = datetime.fromisoformat(raw) if isinstance(raw, str) else previous.published_at
    return (
        len(ids) == 1
        and int(details.get("edits", 0)) < EDIT_LIMIT
        and channel.now() - posted < EDIT_WINDOW
    )


def _edited_text(channel: XChannel, preview: Preview, heading: str) -> str | None:
    """The new version's post under the note, fitted to 280 together; None if it cannot."""
    from chanpub.render.social import fit_post

    room = RULE.limit - RULE.count(heading)
    if room < 60:  # a long note leaves the post no room: a reply says it better
        return None
    fitted, _warnings = fit_post(
        preview.release,
        preview.links,
        LengthRule(room, RULE.unit, RULE.count),
        channel=channel.name,
        template=channel.options.template,
        organisation=channel.context.organisation,
    )
    text = heading + fitted.text
    return text if RULE.fits(text) else None


def _edit(
    channel: XChannel,
    preview: Preview,
    amendment: Amendment,
    journal: ItemJournal,
    current: str,
    prefix: str,
) -> Receipt | None:
    """Edit the post; None when X will not (the caller replies instead)."""
    previous = amendment.previous
    done = journal.remote_id("edit") if journal.status("edit") == Status.SENT else None
    if done:
        return _edited(channel, previous, done, Action.EDITED)
    if journal.status("edit") == Status.FAILED:
        return None
    text = _edited_text(channel, preview, f"{prefix}{amendment.note}\n\n")
    if text is None:
        return None
    since = _since(previous)
    for post in channel.api.recent_posts(since):
        history = [str(i) for i in post.get("edit_history_tweet_ids") or []]
        if str(post.get("id")) == current and shown_comparable(post) == comparable(text):
            return _edited(channel, previous, current, Action.UNCHANGED, counted=False)
        if current in history and str(post.get("id")) != current:
            journal.sent("edit", str(post["id"]))  # an earlier attempt's edit, answer lost
            return _edited(channel, previous, str(post["id"]), Action.EDITED)
    journal.begin("edit")
    body: dict[str, Any] = {"text": text, "edit_options": {"previous_post_id": current}}
    if preview.release.image is not None:  # the edit replaces the post: its picture goes too
        body["media"] = {"media_ids": [channel.upload_picture(preview)]}
    response = channel.api.call("POST", "/2/tweets", accept=(403,), json=body)
    if response.status_code == 403:  # not this account, too late, or too many edits
        journal.failed("edit", response.text[:200], permanent=True)
        return None
    new_id = str((response.json().get("data") or {}).get("id") or "")
    if not new_id:
        raise PermanentError(
            _("{channel}: X answered without a post id").format(channel=channel.name)
        )
    journal.sent("edit", new_id)
    return _edited(channel, previous, new_id, Action.EDITED)


def _edited(
    channel: XChannel, previous: Receipt, post_id: str, action: Action, *, counted: bool = True
) -> Receipt:
    details = dict(previous.details)
    details["ids"] = [post_id]
    details["edits"] = int(details.get("edits", 0)) + (1 if counted else 0)
    return Receipt(post_id, status_url(post_id), channel.now(), details=details, action=action)


def _since(previous: Receipt) -> datetime:
    raw = previous.details.get("posted_at")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else previous.published_at


def _reply_text(amendment: Amendment, prefix: str, link: str) -> str:
    """'Ralat: <note>' and the link, the note shortened if it must be."""

    def render(values: dict[str, str]) -> str:
        return f"{prefix}{values['note']}\n\n{link}".strip()

    return fit(render, {"note": amendment.note}, RULE).text


def _reply(
    channel: XChannel,
    preview: Preview,
    amendment: Amendment,
    journal: ItemJournal,
    parent: str,
    prefix: str,
) -> Receipt:
    """Reply to the post with the note and the link, once."""
    previous = amendment.previous
    link = preview.links.canonical_url or previous.url or status_url(parent)
    text = _reply_text(amendment, prefix, link)
    reply_id = journal.remote_id("reply") if journal.status("reply") == Status.SENT else None
    since = min(amendment.at, channel.now())
    if not reply_id and journal.status("reply") == Status.IN_PROGRESS:
        found = channel.api.find(text, since, reply_to=parent)
        reply_id = str(found["id"]) if found else None
    if not reply_id:
        journal.begin("reply")
        try:
            answer = channel.api.json(
                "POST", "/2/tweets", json={"text": text, "reply": {"in_reply_to_tweet_id": parent}}
            )
            reply_id = str((answer.get("data") or {}).get("id") or "")
        except DuplicateError:
            found = channel.api.find(text, since, reply_to=parent)
            if not found:
                raise
            reply_id = str(found["id"])
    journal.sent("reply", reply_id)
    details = dict(previous.details)
    details["replies"] = [*details.get("replies", []), reply_id]
    return replace(previous, published_at=channel.now(), details=details, action=Action.REPLIED)


def _retract(channel: XChannel, amendment: Amendment, journal: ItemJournal) -> Receipt:
    """Delete every post of the delivery; those already gone count as deleted."""
    previous = amendment.previous
    details = dict(previous.details)
    targets = [str(i) for i in details.get("ids") or [previous.remote_id]]
    targets += [str(i) for i in details.get("replies", [])]
    deleted_now = False
    for post_id in targets:
        item = f"delete:{post_id}"
        if journal.status(item) == Status.SENT:
            deleted_now = True
            continue
        tried = journal.status(item) == Status.IN_PROGRESS  # an answer lost: it may be gone
        journal.begin(item)
        response = channel.api.call("DELETE", f"/2/tweets/{post_id}", accept=(404,))
        deleted_now = deleted_now or tried or response.status_code != 404
        journal.sent(item, post_id)
    details["deleted"] = targets
    action = Action.DELETED if deleted_now else Action.UNCHANGED
    return replace(previous, published_at=channel.now(), details=details, action=action)
