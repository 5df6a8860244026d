"""Corrections and retractions of what a telegram channel sent, the Bot API's own way.

- Correction: every message of the delivery is edited in place, `editMessageText` or (the
  photo's caption) `editMessageCaption`, the first one opening with the note
  (https://core.telegram.org/bots/api#editmessagetext, #editmessagecaption). The same text
  again is answered "message is not modified": already done, so repeating an edit whose
  answer was lost is harmless.
- Retraction: `deleteMessage`, which bots may do only within 48 hours of sending
  (https://core.telegram.org/bots/api#deletemessage); later, or when Telegram refuses, the
  message is edited into a notice that it was withdrawn, with the reason.
- Thread parts are corrected or withdrawn as a whole. A corrected thread with more parts
  than before gets the extra parts as replies; one with fewer has the surplus withdrawn.

Each step is journalled under the amendment's key (begun before the call, recorded after),
so a run that stopped midway resumes where it stopped and never sends a reply twice.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chanpub.channels.telegram.botapi import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    Refused,
    count_telegram_html,
)
from chanpub.contract import Action, Amendment, ItemJournal, Preview, Receipt
from chanpub.errors import AmbiguousError, ChannelError, PermanentError
from chanpub.i18n import N_, _
from chanpub.render.notices import notice_labels, notice_time
from chanpub.render.shaping import LengthRule, fit

if TYPE_CHECKING:
    from chanpub.channels.telegram.botapi import BotApi
    from chanpub.channels.telegram.channel import TelegramChannel

# Bots may delete their messages for 48 hours; an hour's margin for clocks and slow runs.
DELETE_WINDOW = timedelta(hours=47)
NOT_MODIFIED = "message is not modified"
EDIT_GONE = "message to edit not found"
DELETE_GONE = "message to delete not found"
CANNOT_DELETE = "message can't be deleted"


def amend_messages(
    channel: TelegramChannel, preview: Preview, amendment: Amendment, key: str
) -> Receipt:
    """Carry a correction or a retraction to the messages `amendment.previous` names."""
    previous = amendment.previous
    ids = message_ids(previous)
    photo = bool(previous.details.get("photo", preview.release.image is not None))
    language = preview.release.language or channel.context.language
    steps = _Steps(channel.api, channel.context.journal(key), channel.options.chat_id)
    deletable = datetime.now(UTC) - previous.published_at < DELETE_WINDOW
    if amendment.retraction:
        notice = retraction_html(amendment, language, CAPTION_LIMIT if photo else MESSAGE_LIMIT)
        for index, message in enumerate(ids):
            steps.withdraw(index, message, notice, photo and index == 0, deletable)
    else:
        first_limit = CAPTION_LIMIT if photo else MESSAGE_LIMIT
        texts = corrected_html(preview, amendment, language, first_limit)
        for index, message in enumerate(ids[: len(texts)]):
            steps.edit(f"edit:{index}", message, texts[index], photo and index == 0)
        notice = retraction_html(amendment, language, MESSAGE_LIMIT)
        for index in range(len(texts), len(ids)):
            steps.withdraw(index, ids[index], notice, False, deletable)
        for index in range(len(ids), len(texts)):
            steps.reply(index, texts[index], ids[-1])
    action = steps.action(retraction=amendment.retraction)
    return Receipt(
        remote_id=previous.remote_id,
        url=None if action is Action.DELETED else previous.url,
        published_at=datetime.now(UTC),
        details={**previous.details, "amended": amendment.kind, "steps": steps.outcomes},
        action=action,
    )


def message_ids(receipt: Receipt) -> list[int]:
    """The message ids of a delivery: every part of a thread, else the one message."""
    ids = receipt.details.get("ids")
    if isinstance(ids, list) and ids:
        return [int(message) for message in ids]
    return [int(receipt.remote_id)]


def corrected_html(
    preview: Preview, amendment: Amendment, language: str, first_limit: int
) -> list[str]:
    """The new version's messages as HTML, the first opening with the correction note
    (shortened at a word boundary when the note leaves too little room, keeping the link)."""
    labels = notice_labels(language)
    header = (
        f"<b>{_escape(labels['correction'])}</b> ({_escape(notice_time(amendment.at, language))})"
        f": {_escape(amendment.note)}"
    )
    parts = list(preview.posts)
    first = parts[0]
    link = preview.links.canonical_url or ""
    tail = ""
    if link and link in first:
        first, tail = first.replace(link, "").rstrip(), f"\n\n{_escape(link)}"

    def render(values: dict[str, str]) -> str:
        return f"{header}\n\n{_escape(values['body'])}{tail}"

    rule = LengthRule(first_limit, N_("characters"), count_telegram_html)
    fitted = fit(render, {"body": first}, rule)
    return [fitted.text, *(_escape(part) for part in parts[1:])]


def retraction_html(amendment: Amendment, language: str, limit: int) -> str:
    """The notice a withdrawn message is edited into: label, time, notice and reason."""
    labels = notice_labels(language)
    header = (
        f"<b>{_escape(labels['retraction'])}</b> "
        f"({_escape(notice_time(amendment.at, language))}): "
        f"{_escape(labels['retracted_notice'])}\n{_escape(labels['reason'])}: "
    )
    rule = LengthRule(limit, N_("characters"), count_telegram_html)
    return fit(lambda v: header + _escape(v["note"]), {"note": amendment.note}, rule).text


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


class _Steps:
    """The calls of one amendment, each journalled; `outcomes` says what each did."""

    def __init__(self, api: BotApi, journal: ItemJournal, chat_id: str) -> None:
        self.api = api
        self.journal = journal
        self.chat_id = chat_id
        self.outcomes: dict[str, str] = {}

    def _run(self, item: str, step: Any) -> None:
        """Run `step(retried)` once for `item`: skipped when already recorded."""
        state = self.journal.status(item)
        if state == "sent":
            self.outcomes[item] = self.journal.remote_id(item) or Action.EDITED
            return
        retried = state == "in_progress"
        self.journal.begin(item)
        try:
            outcome = step(retried)
        except AmbiguousError:
            raise  # stays in progress: the next attempt knows it may have been applied
        except ChannelError as error:
            self.journal.failed(item, error.message, permanent=isinstance(error, PermanentError))
            raise
        self.journal.sent(item, outcome)
        self.outcomes[item] = outcome

    def edit(self, item: str, message: int, text: str, caption: bool) -> None:
        """Edit one message's text (or caption); the same text again is no change."""

        def step(retried: bool) -> str:
            return self._edit(message, text, caption, retried)

        self._run(item, step)

    def _edit(self, message: int, text: str, caption: bool, retried: bool) -> str:
        method = "editMessageCaption" if caption else "editMessageText"
        fields = {
            "chat_id": self.chat_id,
            "message_id": message,
            "parse_mode": "HTML",
            ("caption" if caption else "text"): text,
        }
        answer = self.api.call(method, tolerate=(NOT_MODIFIED,), json=fields)
        if isinstance(answer, Refused) and not retried:
            return Action.UNCHANGED
        return Action.EDITED  # edited now, or by the attempt whose answer was lost

    def withdraw(
        self, index: int, message: int, notice: str, caption: bool, deletable: bool
    ) -> None:
        """Delete one message, or edit it into the notice when it can no longer go."""

        def step(retried: bool) -> str:
            if deletable:
                answer = self.api.call(
                    "deleteMessage",
                    tolerate=(DELETE_GONE, CANNOT_DELETE),
                    json={"chat_id": self.chat_id, "message_id": message},
                )
                if not isinstance(answer, Refused):
                    return Action.DELETED
                if DELETE_GONE in answer.description.lower():
                    return Action.DELETED if retried else Action.UNCHANGED
            method = "editMessageCaption" if caption else "editMessageText"
            fields = {
                "chat_id": self.chat_id,
                "message_id": message,
                "parse_mode": "HTML",
                ("caption" if caption else "text"): notice,
            }
            answer = self.api.call(method, tolerate=(NOT_MODIFIED, EDIT_GONE), json=fields)
            if isinstance(answer, Refused) and not retried:
                return Action.UNCHANGED
            return Action.EDITED

        self._run(f"withdraw:{index}", step)

    def reply(self, index: int, text: str, parent: int) -> None:
        """Send an extra part of a corrected thread, once: Telegram cannot be asked
        whether a lost send arrived, so a half-known one is left for a person."""

        def step(retried: bool) -> str:
            if retried:  # stays in progress: never sent again without a person's word
                raise AmbiguousError(
                    _(
                        "{channel}: part {part} of the corrected thread may or may not have "
                        "been sent: look in the channel and add it by hand if it is missing"
                    ).format(channel=self.api.channel, part=index + 1)
                )
            self.api.call(
                "sendMessage",
                json={
                    "chat_id": self.chat_id,
                    "text": text,
                    "parse_mode": "HTML",
                    "reply_parameters": {"message_id": parent},
                },
            )
            return Action.SENT

        self._run(f"send:{index}", step)

    def action(self, *, retraction: bool) -> Action:
        """What the amendment did as a whole."""
        done: Sequence[str] = list(self.outcomes.values())
        if all(outcome == Action.UNCHANGED for outcome in done):
            return Action.UNCHANGED
        if retraction and all(o in (Action.DELETED, Action.UNCHANGED) for o in done):
            return Action.DELETED
        return Action.EDITED
