"""A strict Telegram Bot API for one bot posting to one channel, written from
https://core.telegram.org/bots/api

Rules enforced, and where they are written:
- The token is in the path, `/bot<token>/<method>`; an unknown token -> 401 "Unauthorized",
  a malformed path -> 404 "Not Found"; answers are `{"ok": false, "error_code",
  "description", "parameters"?}`: https://core.telegram.org/bots/api#making-requests
- Parameters as query string, urlencoded form, JSON or multipart; object parameters in a
  form are JSON-serialised: https://core.telegram.org/bots/api#making-requests
- HTML parse mode: only the listed tags, entities `&lt; &gt; &amp; &quot;` and numeric
  ones, tags closed in order, otherwise 400 "can't parse entities":
  https://core.telegram.org/bots/api#html-style
- sendMessage text 1-4096 characters after entities parsing, sendPhoto caption 0-1024;
  counted here in UTF-16 code units, the unit the API uses for entity offsets:
  https://core.telegram.org/bots/api#sendmessage, #sendphoto, #messageentity
- sendPhoto upload: at most 10 MB, width + height at most 10000, ratio at most 20:
  https://core.telegram.org/bots/api#sendphoto
- reply_parameters.message_id must exist in the chat: https://core.telegram.org/bots/api#replyparameters
- editMessageText / editMessageCaption: the same content -> 400 "message is not
  modified"; a text edit of a photo (and a caption edit of a text) is refused:
  https://core.telegram.org/bots/api#editmessagetext, #editmessagecaption
- deleteMessage only within 48 hours of sending: https://core.telegram.org/bots/api#deletemessage
- Flood control: about 20 messages a minute in one channel, then 429 with
  `parameters.retry_after`: https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
  and https://core.telegram.org/bots/api#responseparameters
- No method reads a channel's messages back (there is no lookup to offer).
Description strings ("Bad Request: ...") are the ones the Bot API sends; the methods'
pages document the rules, not every string.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from .base import Body, Clock, StandIn, inspect_image, read_body

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PHOTO_BYTES = 10 * 1024 * 1024
DELETE_WINDOW = timedelta(hours=48)
FLOOD_PER_MINUTE = 20
TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji", "tg-time",
}  # fmt: skip
_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>|&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|<|>"
)
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class ParseError(ValueError):
    """The text is not valid Telegram HTML."""


def parse_html(text: str) -> tuple[str, tuple[tuple[str, int, int], ...]]:
    """The visible text and its entities (tag, UTF-16 start, UTF-16 end), as Telegram
    parses HTML; a ParseError with Telegram's reason otherwise."""
    plain: list[str] = []
    units = 0
    stack: list[tuple[str, int]] = []
    entities: list[tuple[str, int, int]] = []
    last = 0
    for match in _TOKEN.finditer(text):
        chunk = text[last : match.start()]
        plain.append(chunk)
        units += len(chunk.encode("utf-16-le")) // 2
        last = match.end()
        closing, tag, _attrs, entity = match.groups()
        offset = len(text[: match.start()].encode())
        if entity is not None:
            if entity.startswith("#"):
                value = chr(int(entity[2:], 16) if entity[1] in "xX" else int(entity[1:]))
            elif entity in NAMED:
                value = NAMED[entity]
            else:
                raise ParseError(f'Unsupported HTML entity "&{entity};" at byte offset {offset}')
            plain.append(value)
            units += len(value.encode("utf-16-le")) // 2
        elif tag is None:
            raise ParseError(f"Unexpected end of name token at byte offset {offset}")
        elif tag.lower() not in TAGS:
            kind = "end" if closing else "start"
            raise ParseError(f'Unsupported {kind} tag "{tag}" at byte offset {offset}')
        elif not closing:
            stack.append((tag.lower(), units))
        elif not stack or stack[-1][0] != tag.lower():
            raise ParseError(
                f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1][0] if stack else ""}>", found "</{tag}>"'
            )
        else:
            name, start = stack.pop()
            entities.append((name, start, units))
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    plain.append(text[last:])
    return "".join(plain), tuple(sorted(entities))


def utf16_length(text: str) -> int:
    """UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _fail(code: int, description: str, **parameters: Any) -> httpx.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx.Response(code, json=body)


def _ok(result: Any) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, "result": result})


class TelegramStandIn(StandIn):
    """A bot (`token`) that administers one channel (`chat_id`, e.g. "@kominfokota")."""

    def __init__(
        self,
        token: str,
        chat_id: str = "@kominfokota",
        *,
        numeric_id: int = -1001234567890,
        clock: Clock | None = None,
        can_post: bool = True,
    ) -> None:
        super().__init__(clock)
        self.token = token
        self.chat = {
            "id": numeric_id,
            "type": "channel",
            "title": "Kominfo Kota",
            "username": chat_id[1:] if chat_id.startswith("@") else None,
        }
        self.chat_ids = {str(numeric_id), chat_id}
        self.can_post = can_post
        self.messages: dict[int, dict[str, Any]] = {}
        self.photos: list[bytes] = []  # every uploaded photo's bytes, as received
        self._next = 100

    def live(self) -> list[dict[str, Any]]:
        """The channel's messages that exist now, oldest first."""
        return [m for m in self.messages.values() if not m.get("deleted")]

    def route(self, request: httpx.Request) -> httpx.Response:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", request.url.path)
        if match is None or ":" not in match.group(1):
            return _fail(404, "Not Found")
        if match.group(1) != self.token:
            return _fail(401, "Unauthorized")
        method = match.group(2)
        params = self._params(request)
        if method == "getMe":
            return _ok(
                {"id": 7000001, "is_bot": True, "first_name": "Kominfo", "username": "kominfo_bot"}
            )
        handler = {
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "editMessageText": self.edit_text,
            "editMessageCaption": self.edit_caption,
            "deleteMessage": self.delete,
        }.get(method)
        if handler is None:
            return _fail(404, "Not Found")
        if str(params.get("chat_id", "")) not in self.chat_ids:
            return _fail(400, "Bad Request: chat not found")
        if not self.can_post:
            return _fail(400, "Bad Request: need administrator rights in the channel chat")
        return handler(params)

    def too_many(self, request: httpx.Request, until: datetime) -> httpx.Response:
        wait = max(1, int((until - self.clock.now()).total_seconds()))
        return _fail(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    @staticmethod
    def _params(request: httpx.Request) -> dict[str, Any]:
        body: Body = read_body(request)
        params: dict[str, Any] = dict(request.url.params)
        if isinstance(body.json, dict):
            params.update(body.json)
        for name, values in body.fields.items():
            value: Any = values[0]
            if name in ("reply_parameters", "link_preview_options", "caption_entities", "entities"):
                value = json.loads(value)
            params[name] = value
        params.update({name: file for name, file in body.files.items()})
        return params

    # --- sending ----------------------------------------------------------------------

    def _render(
        self, params: dict[str, Any], field: str, limit: int, empty_ok: bool
    ) -> tuple[str, tuple[Any, ...]] | httpx.Response:
        raw = str(params.get(field) or "")
        if params.get("parse_mode") == "HTML":
            try:
                plain, entities = parse_html(raw)
            except ParseError as error:
                return _fail(400, f"Bad Request: can't parse entities: {error}")
        elif params.get("parse_mode") in (None, ""):
            plain, entities = raw, ()
        else:
            return _fail(
                400, "Bad Request: unsupported parse_mode"
            )  # this stand-in knows HTML only
        if not plain.strip() and not empty_ok:
            return _fail(400, "Bad Request: message text is empty")
        if utf16_length(plain) > limit:
            return _fail(
                400,
                "Bad Request: message caption is too long"
                if field == "caption"
                else "Bad Request: message is too long",
            )
        return plain, entities

    def _flooded(self) -> httpx.Response | None:
        minute_ago = self.clock.now() - timedelta(minutes=1)
        recent = [m for m in self.messages.values() if m["sent"] > minute_ago]
        if len(recent) >= FLOOD_PER_MINUTE:
            wait = (
                int((recent[0]["sent"] + timedelta(minutes=1) - self.clock.now()).total_seconds())
                + 1
            )
            return _fail(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        return None

    def _reply_problem(self, params: dict[str, Any]) -> httpx.Response | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            target = self.messages.get(int(reply.get("message_id", 0)))
            if (target is None or target.get("deleted")) and not reply.get(
                "allow_sending_without_reply"
            ):
                return _fail(400, "Bad Request: message to be replied not found")
        return None

    def _store(
        self, kind: str, plain: str, entities: tuple[Any, ...], params: dict[str, Any]
    ) -> httpx.Response:
        self._next += 1
        reply = params.get("reply_parameters")
        message = {
            "message_id": self._next,
            "kind": kind,
            "text": plain,
            "entities": entities,
            "sent": self.clock.now(),
            "reply_to": reply.get("message_id") if isinstance(reply, dict) else None,
            "link_preview": params.get("link_preview_options"),
        }
        self.messages[self._next] = message
        return _ok(self._public(message))

    def _public(self, message: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {
            "message_id": message["message_id"],
            "chat": self.chat,
            "date": int(message["sent"].timestamp()),
        }
        result["caption" if message["kind"] == "photo" else "text"] = message["text"]
        if message["kind"] == "photo":
            result["photo"] = [
                {"file_id": f"photo-{message['message_id']}", "width": 1280, "height": 1280}
            ]
        return result

    def send_message(self, params: dict[str, Any]) -> httpx.Response:
        rendered = self._render(params, "text", TEXT_LIMIT, empty_ok=False)
        if isinstance(rendered, httpx.Response):
            return rendered
        problem = self._flooded() or self._reply_problem(params)
        return problem or self._store("text", *rendered, params)

    def send_photo(self, params: dict[str, Any]) -> httpx.Response:
        photo = params.get("photo")
        if not isinstance(photo, tuple):
            return _fail(400, "Bad Request: there is no photo in the request")
        data = photo[1]
        self.photos.append(data)
        info = inspect_image(data)
        if info is None:
            return _fail(400, "Bad Request: IMAGE_PROCESS_FAILED")
        if len(data) > PHOTO_BYTES:
            return _fail(400, "Bad Request: file is too big")
        if info.width + info.height > 10_000 or max(info.ratio, 1 / info.ratio) > 20:
            return _fail(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        rendered = self._render(params, "caption", CAPTION_LIMIT, empty_ok=True)
        if isinstance(rendered, httpx.Response):
            return rendered
        problem = self._flooded() or self._reply_problem(params)
        return problem or self._store("photo", *rendered, params)

    # --- after publication ------------------------------------------------------------

    def _target(self, params: dict[str, Any], action: str) -> dict[str, Any] | httpx.Response:
        message = self.messages.get(int(params.get("message_id") or 0))
        if message is None or message.get("deleted"):
            return _fail(400, f"Bad Request: message to {action} not found")
        return message

    def _edit(self, params: dict[str, Any], kind: str, field: str, limit: int) -> httpx.Response:
        message = self._target(params, "edit")
        if isinstance(message, httpx.Response):
            return message
        if message["kind"] != kind:
            return _fail(
                400,
                f"Bad Request: there is no {field if field == 'caption' else 'text'} in the message to edit",
            )
        rendered = self._render(params, field, limit, empty_ok=kind == "photo")
        if isinstance(rendered, httpx.Response):
            return rendered
        if (message["text"], message["entities"]) == rendered:
            return _fail(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            )
        message["text"], message["entities"] = rendered
        message.setdefault("edits", 0)
        message["edits"] += 1
        return _ok(self._public(message) | {"edit_date": self.clock.timestamp()})

    def edit_text(self, params: dict[str, Any]) -> httpx.Response:
        return self._edit(params, "text", "text", TEXT_LIMIT)

    def edit_caption(self, params: dict[str, Any]) -> httpx.Response:
        return self._edit(params, "photo", "caption", CAPTION_LIMIT)

    def delete(self, params: dict[str, Any]) -> httpx.Response:
        message = self._target(params, "delete")
        if isinstance(message, httpx.Response):
            return message
        if self.clock.now() - message["sent"] >= DELETE_WINDOW:
            return _fail(400, "Bad Request: message can't be deleted")
        message["deleted"] = True
        return _ok(True)


def escape(text: str) -> str:
    """Plain text as HTML parse-mode text (what an adapter should send)."""
    return html.escape(text, quote=False)
