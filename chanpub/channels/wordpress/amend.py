"""Corrections and retractions of a WordPress post (https://developer.wordpress.org/rest-api/reference/posts/):
a correction edits the post in place, the note and its time above the text; a retraction
leaves a notice with the reason at the top of the post and moves it to draft (the default)
or to the trash (`retract: trash`), so it leaves the site and editors see why. The post is
read first: one already in the wanted state is left alone, so repeating a step whose answer
was lost changes nothing.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chanpub.contract import Action, Amendment, Preview, Receipt
from chanpub.render.notices import notice_labels, notice_time

if TYPE_CHECKING:
    from chanpub.channels.wordpress.channel import WordpressChannel

FIELDS = "id,link,status,slug,date_gmt,content,title,featured_media,permalink_template"


def amend_post(
    channel: WordpressChannel, preview: Preview, amendment: Amendment, key: str
) -> Receipt:
    """Carry a correction or a retraction to the post `amendment.previous` names."""
    previous = amendment.previous
    post_id = int(previous.remote_id)
    language = preview.release.language or channel.context.language
    publish_key = str(previous.details.get("key") or "")
    params = {"context": "edit", "_fields": FIELDS}
    current = channel.rest.send("GET", f"posts/{post_id}", params=params, accept=(404, 410))
    post: dict[str, Any] = current.json() if current.is_success else {}
    raw = str((post.get("content") or {}).get("raw", ""))
    if amendment.retraction:
        target = channel.options.retract
        notice = retraction_notice(amendment, language)
        if not post or (post.get("status") == target and notice in raw):
            action = Action.UNCHANGED  # already withdrawn (or deleted by hand)
        else:
            if notice not in raw:
                channel.rest.call(
                    "POST", f"posts/{post_id}", json={"content": notice + raw}, params=params
                )
            if target == "trash":
                channel.rest.send("DELETE", f"posts/{post_id}", accept=(410,))  # 410: trashed
            else:
                channel.rest.call("POST", f"posts/{post_id}", json={"status": "draft"})
            action = Action.DELETED
        return Receipt(
            remote_id=previous.remote_id,
            url=None,
            published_at=datetime.now(UTC),
            details={**previous.details, "status": target, "amended": amendment.kind},
            action=action,
        )
    body = channel.post_body(preview, publish_key)
    body["content"] = correction_notes(raw, amendment, language) + body["content"]
    if raw == body["content"]:
        return _receipt(previous, post, Action.UNCHANGED, amendment)
    updated = channel.rest.call("POST", f"posts/{post_id}", json=body, params=params)
    return _receipt(previous, updated, Action.EDITED, amendment)


def correction_notes(raw: str, amendment: Amendment, language: str) -> str:
    """This correction's note above the earlier ones the post already shows, newest first."""
    labels = notice_labels(language)
    note = (
        f'<p class="chanpub-correction"><strong>{html.escape(labels["correction"])}</strong> '
        f"({html.escape(notice_time(amendment.at, language))}): "
        f"{html.escape(amendment.note)}</p>\n"
    )
    earlier = [line + "\n" for line in raw.splitlines() if 'class="chanpub-correction"' in line]
    return "".join([note, *(line for line in earlier if line != note)])


def retraction_notice(amendment: Amendment, language: str) -> str:
    """The notice left at the top of a withdrawn post: label, time, notice and reason."""
    labels = notice_labels(language)
    return (
        f'<p class="chanpub-retraction"><strong>{html.escape(labels["retraction"])}</strong> '
        f"({html.escape(notice_time(amendment.at, language))}): "
        f"{html.escape(labels['retracted_notice'])} {html.escape(labels['reason'])}: "
        f"{html.escape(amendment.note)}</p>\n"
    )


def _receipt(
    previous: Receipt, post: dict[str, Any], action: Action, amendment: Amendment
) -> Receipt:
    return Receipt(
        remote_id=previous.remote_id,
        url=str(post.get("link") or previous.url or "") or None,
        published_at=datetime.now(UTC),
        details={**previous.details, "amended": amendment.kind},
        action=action,
    )
