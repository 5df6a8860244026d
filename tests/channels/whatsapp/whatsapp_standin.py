"""A small, strict stand-in for the WhatsApp Business Cloud API, written from Meta's
documentation, usable as an httpx.MockTransport or as a real HTTP server on loopback.

- Messages: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
  (POST /{phone-number-id}/messages; `messaging_product`, `to`, `type: template`,
  `template.name`, `template.language.code`, `template.components`; answers
  `{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id"}]}`).
- Media: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media
  (POST /{phone-number-id}/media, multipart with `file`, `type`, `messaging_product`;
  answers `{"id"}`).
- Templates: https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
  (GET /{waba-id}/message_templates?name=...; `data[]` with name, language, status,
  components).
- Errors: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
  (190 token, 130429 throughput, 131026 undeliverable, 131050 opted out of marketing,
  131053 media, 132000 parameter count, 132001 template missing, 132012 format mismatch).
- Webhooks: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
  (`statuses` with id, recipient_id, status, timestamp, biz_opaque_callback_data).

Anything else is refused: an undeclared path fails the test.
"""

from __future__ import annotations

import email.parser
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from chanpub.testing import SECRET_MARKER

TOKEN = f"EAAGwa-{SECRET_MARKER}"
PHONE_ID = "106540352242922"
WABA_ID = "102290129340398"
VERSION = "v26.0"
TEMPLATE = "siaran_resmi"
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


@dataclass
class Template:
    """A template as WhatsApp Manager holds it."""

    name: str = TEMPLATE
    language: str = "id"
    status: str = "APPROVED"
    body: str = "*{{1}}*\n\nSelengkapnya: {{2}}"
    header: str | None = "IMAGE"

    def entry(self) -> dict[str, Any]:
        components: list[dict[str, Any]] = [{"type": "BODY", "text": self.body}]
        if self.header:
            components.insert(0, {"type": "HEADER", "format": self.header})
        return {
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": "UTILITY",
            "components": components,
            "id": "1234567890",
        }

    @property
    def variables(self) -> int:
        return len(set(re.findall(r"\{\{(\w+)\}\}", self.body)))


@dataclass(frozen=True)
class Sent:
    """One template message the stand-in accepted."""

    to: str
    template: str
    params: tuple[str, ...]
    media_id: str | None
    wamid: str
    callback: str | None


def error(code: int, message: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    """Graph's error envelope as the Cloud API sends it."""
    return status, {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message},
            "fbtrace_id": "AbCdEfGhIjK",
        }
    }


@dataclass
class CloudStandIn:
    """The Cloud API of one business number; what it accepted is in `sent`."""

    templates: list[Template] = field(default_factory=lambda: [Template()])
    undeliverable: set[str] = field(default_factory=set)  # answer 131026
    opted_out: set[str] = field(default_factory=set)  # answer 131050
    throttle: int = 0  # the next N message POSTs answer 130429
    hold_after: int | None = None  # accept this many, then hold the next answer forever
    sent: list[Sent] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def count(self, to: str) -> int:
        """How many messages `to` received."""
        with self.lock:
            return sum(1 for s in self.sent if s.to == to)

    # --- routing ------------------------------------------------------------------------

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request: (status, JSON)."""
        parts = urlsplit(url)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.calls.append(f"{method} {path}")
        assert "access_token" not in query, "the token belongs in the Authorization header"
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return error(190, "Invalid OAuth access token - Cannot parse access token", 401)
        prefix = f"/{VERSION}/"
        assert path.startswith(prefix), f"unversioned or wrong version: {path}"
        route = path.removeprefix(prefix)
        if method == "POST" and route == f"{PHONE_ID}/messages":
            return self._message(headers, body)
        if method == "POST" and route == f"{PHONE_ID}/media":
            return self._media(headers, body)
        if method == "GET" and route == f"{WABA_ID}/message_templates":
            name = query.get("name")
            assert name, "list templates by name"
            return 200, {"data": [t.entry() for t in self.templates if t.name == name]}
        if method == "GET" and route == PHONE_ID:
            return 200, {"display_phone_number": "+62 21 555 0100", "verified_name": "Kominfo"}
        if method == "GET" and route.isdigit():
            return error(100, "Unsupported get request. Object does not exist")
        raise AssertionError(f"undeclared request: {method} {url}")

    def _message(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        assert headers.get("content-type", "").startswith("application/json")
        message = json.loads(body)
        assert message.get("messaging_product") == "whatsapp", message
        assert message.get("type") == "template", message
        to = str(message.get("to", ""))
        assert E164.match(to), f"'to' must be E.164 with '+': {to!r}"
        spec = message["template"]
        template = next(
            (
                t
                for t in self.templates
                if t.name == spec.get("name") and t.language == spec["language"]["code"]
            ),
            None,
        )
        if template is None or template.status != "APPROVED":
            return error(132001, "Template name does not exist in the translation")
        components = {c["type"]: c for c in spec.get("components", [])}
        params = tuple(p["text"] for p in components.get("body", {}).get("parameters", []))
        for value in params:
            assert "\n" not in value and "\t" not in value and "     " not in value, value
        if len(params) != template.variables:
            return error(132000, "Number of parameters does not match the expected number")
        media_id = None
        if template.header == "IMAGE":
            header = components.get("header", {}).get("parameters", [{}])[0]
            if header.get("type") != "image":
                return error(132012, "Parameter format does not match format in the template")
            media_id = header["image"].get("id")
            if media_id not in self.media:
                return error(131053, "Media upload error: unknown media id")
        if to in self.undeliverable:
            return error(131026, "Message undeliverable")
        if to in self.opted_out:
            return error(131050, "User has stopped receiving marketing messages")
        with self.lock:
            if self.throttle > 0:
                self.throttle -= 1
                return error(130429, "Rate limit hit", 400)
            wamid = f"wamid.HBgN{len(self.sent):08d}{to[1:]}"
            self.sent.append(
                Sent(
                    to,
                    template.name,
                    params,
                    media_id,
                    wamid,
                    message.get("biz_opaque_callback_data"),
                )
            )
            hold = self.hold_after is not None and len(self.sent) > self.hold_after
        if hold:  # applied, but the answer never comes (until the test lets go)
            self.released.wait(30)
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to[1:]}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }

    def _media(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        kind = headers.get("content-type", "")
        assert kind.startswith("multipart/form-data"), kind
        parsed = email.parser.BytesParser().parsebytes(
            b"Content-Type: " + kind.encode() + b"\r\n\r\n" + body
        )
        fields = {
            part.get_param("name", header="content-disposition"): part
            for part in parsed.get_payload()  # type: ignore[union-attr]
        }
        assert fields["messaging_product"].get_payload() == "whatsapp"
        assert fields["type"].get_payload() in ("image/png", "image/jpeg")
        data = fields["file"].get_payload(decode=True)
        assert data, "no file"
        with self.lock:
            media_id = f"{9000 + len(self.media)}"
            self.media[media_id] = data
        return 200, {"id": media_id}

    # --- as a transport or a server -----------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """The stand-in as an httpx transport."""

        def answer(request: httpx.Request) -> httpx.Response:
            status, payload = self.handle(
                request.method, str(request.url), request.headers, request.read()
            )
            return httpx.Response(status, json=payload)

        return httpx.MockTransport(answer)

    def http_handler(self) -> type[BaseHTTPRequestHandler]:
        """The stand-in as an http.server handler (for chanpub.testing.serve_on_loopback)."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = standin.handle(self.command, self.path, headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer  # http.server's naming

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def statuses_payload(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A webhook POST body carrying these statuses, shaped as Meta documents it."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "622155501000",
                                "phone_number_id": PHONE_ID,
                            },
                            "statuses": [
                                {"timestamp": "1767225600", "conversation": {}, **event}
                                for event in events
                            ],
                        },
                    }
                ],
            }
        ],
    }
