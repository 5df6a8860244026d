"""Calling the Telegram Bot API (https://core.telegram.org/bots/api#making-requests): the
token travels in the URL path and is never shown; answers come in an `{"ok": ...}`
envelope; a 429 carries its wait in `parameters.retry_after`
(https://core.telegram.org/bots/api#responseparameters). Also Telegram's way of counting a
message: UTF-16 code units after HTML entity parsing
(https://core.telegram.org/api/entities#entity-length).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chanpub.contract import ChannelContext
from chanpub.errors import AuthError, ChannelError, PermanentError
from chanpub.http import send
from chanpub.i18n import _

if TYPE_CHECKING:
    import httpx

MESSAGE_LIMIT = (
    4096  # UTF-16 units after entity parsing (https://core.telegram.org/bots/api#sendmessage)
)
CAPTION_LIMIT = 1024  # a photo's caption (https://core.telegram.org/bots/api#sendphoto)


def count_utf16(text: str) -> int:
    """UTF-16 code units (Telegram's unit)."""
    return len(text.encode("utf-16-le")) // 2


def count_telegram_html(text: str) -> int:
    """Telegram's count for an HTML-formatted message: tags removed, entities decoded."""
    return count_utf16(html.unescape(re.sub(r"<[^>]+>", "", text)))


def telegram_length(text: str) -> int:
    """Telegram's count of a plain text sent as escaped HTML: UTF-16 units after parsing."""
    return count_telegram_html(html.escape(text, quote=False))


def retry_after_in_body(response: httpx.Response) -> float | None:
    """The wait a 429 asks for: `parameters.retry_after` in the body (seconds)."""
    try:
        payload: Any = response.json()
    except ValueError:
        return None
    parameters = payload.get("parameters") if isinstance(payload, dict) else None
    if isinstance(parameters, dict) and isinstance(parameters.get("retry_after"), int | float):
        return float(parameters["retry_after"])
    return None


@dataclass(frozen=True)
class Refused:
    """A 400 the caller expected and handles itself (e.g. "message is not modified")."""

    description: str


class BotApi:
    """One bot's calls to one chat, errors explained with the option to fix."""

    def __init__(
        self, channel: str, token: str, api_base: str, chat_id: str, context: ChannelContext
    ) -> None:
        self.channel = channel
        self._token = token
        self.api_base = api_base
        self.chat_id = chat_id
        self.context = context

    def call(self, method: str, *, tolerate: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """The method's `result`; a 400 whose description holds one of `tolerate` comes back
        as Refused; any other failure raises a ChannelError."""
        response = send(
            self.context.http,
            "POST",
            f"{self.api_base}/bot{self._token}/{method}",
            channel=self.channel,
            secret_variable=self.context.variable_for("bot_token"),
            shown_url=f"{self.api_base}/bot…/{method}",
            wait=retry_after_in_body,
            refine=self._refine,
            accept=(400,) if tolerate else (),
            **kwargs,
        )
        answer = _json(response)
        if response.is_success and answer.get("ok"):
            return answer.get("result")
        description = str(answer.get("description") or "")
        if any(words in description.lower() for words in tolerate):
            return Refused(description)
        if response.is_success:  # 200 with ok: false, which the Bot API does not document
            raise PermanentError(
                _("{channel}: the Bot API refused {method}: {reason}").format(
                    channel=self.channel, method=method, reason=description[:200]
                )
            )
        from chanpub.http import error_for_response

        raise self._refine(response, error_for_response(response, channel=self.channel))

    def _refine(self, response: httpx.Response, error: ChannelError) -> ChannelError:
        """Telegram's meaning of an error: which option or right to fix."""
        variable = self.context.variable_for("bot_token")
        parameters = _json(response).get("parameters")
        if response.status_code in (401, 404):  # 404: Telegram's answer to a malformed token
            advice = _("check the bot token in ${variable} (from @BotFather)").format(
                variable=variable
            )
            error = AuthError(f"{error.message}: {advice}", variable=variable, hint=advice)
        elif isinstance(parameters, dict) and parameters.get("migrate_to_chat_id"):
            error.hint = _(
                "the group became a supergroup: set channels.{channel}.chat_id to {chat}"
            ).format(channel=self.channel, chat=parameters["migrate_to_chat_id"])
        elif response.status_code == 403:
            error.hint = _(
                "make the bot an administrator of {chat} with the right to post messages"
            ).format(chat=self.chat_id)
        elif response.status_code == 400 and "chat not found" in error.message.lower():
            error.hint = _(
                "check channels.{channel}.chat_id, and that the bot was added to that chat"
            ).format(channel=self.channel)
        return error


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer: Any = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
