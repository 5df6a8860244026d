"""A strict WhatsApp Business Cloud API (one business phone number, one WABA), written from
Meta's documentation. Token, version and error envelope: tests.standins.graph.

Rules enforced, and where they are written:
- POST /{phone-number-id}/messages `{"messaging_product": "whatsapp", "to", "type":
  "template", "template": {"name", "language": {"code"}, "components"}}` -> `{"contacts":
  [{"input", "wa_id"}], "messages": [{"id": "wamid...", "message_status": "accepted"}]}`:
  https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages and
  https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates
- `to`: the number with its country code, digits, a leading `+` allowed:
  https://developers.facebook.com/docs/whatsapp/cloud-api/reference/phone-numbers#phone-number-formats
- Templates listed at GET /{waba-id}/message_templates; a name that does not exist in that
  language or is not APPROVED -> 132001; a body parameter count that differs from the
  template's {{n}} -> 132000; a header image that is not an uploaded media id -> 131053:
  https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
  and https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
- Media: POST /{phone-number-id}/media multipart `file`, `type`, `messaging_product`;
  images JPEG or PNG up to 5 MB: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media
- Errors, synchronous or in status webhooks: 130429 throughput, 131056 pair rate (one
  message to the same user every 6 seconds), 131026 undeliverable, 131049 ecosystem
  limit, 131050 user stopped marketing messages:
  https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes and
  https://developers.facebook.com/docs/whatsapp/cloud-api/overview#throughput
- A body parameter's text has no newline, no tab and no run of more than four spaces
  (132018): https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
- `biz_opaque_callback_data` (at most 512 characters) is echoed in every status webhook of
  the message: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
- Status webhooks (sent, delivered, read, failed) signed with `X-Hub-Signature-256:
  sha256=<HMAC-SHA256 of the body with the app secret>`:
  https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#message-status-updates
  and https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads

The Cloud API has no way to look a sent message up, so a lost answer (`lose_answer`) can
only be seen in `messages`. `http_handler()` serves the stand-in on loopback
(chanpub.testing.serve_on_loopback) for tests that kill a real `chanpub` process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from .base import Body, Clock, inspect_image
from .graph import GraphStandIn, graph_error

MEDIA_BYTES = 5 * 1024 * 1024
PAIR_INTERVAL = timedelta(seconds=6)
_NUMBER = re.compile(r"\+?[1-9]\d{6,14}")
TITLES = {
    130429: "Rate limit hit", 131056: "(Business Account, Consumer Account) pair rate limit hit",
    131026: "Message undeliverable", 131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    131050: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation", 131053: "Media upload error",
    131009: "Parameter value is not valid", 131008: "Required parameter is missing",
    132018: "Template Param Text Can't Have New-line/tab Characters Or More Than 4 Consecutive Spaces",
}  # fmt: skip
_BAD_PARAM = re.compile(r"[\n\t]| {5,}")


@dataclass
class Template:
    """A message template as Meta stores it."""

    name: str
    language: str = "id"
    status: str = "APPROVED"
    body: str = "{{1}}\n\nSelengkapnya: {{2}}"
    header: str | None = "IMAGE"  # IMAGE, TEXT or None
    category: str = "UTILITY"

    @property
    def body_params(self) -> int:
        """How many {{n}} variables the body has."""
        return len(set(re.findall(r"\{\{(\d+)\}\}", self.body)))

    def as_json(self) -> dict[str, Any]:
        """The template as GET /{waba-id}/message_templates lists it."""
        components: list[dict[str, Any]] = [{"type": "BODY", "text": self.body}]
        if self.header:
            components.insert(0, {"type": "HEADER", "format": self.header})
        return {
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "components": components,
            "id": f"tmpl-{self.name}-{self.language}",
        }


@dataclass
class Failure:
    """An injected failure for one number: in the answer, or later in a status webhook."""

    code: int
    via: str = "response"  # or "webhook"
    times: int = 1_000_000


@dataclass
class Message:
    """One accepted message."""

    id: str
    wa_id: str
    template: str
    language: str
    params: list[str]
    header_media: str | None
    statuses: list[dict[str, Any]] = field(default_factory=list)
    to: str = ""  # as the request wrote it (with or without the "+")
    callback: str | None = None  # biz_opaque_callback_data


def _error(code: int, details: str) -> httpx.Response:
    return graph_error(
        code,
        f"(#{code}) {TITLES.get(code, 'Error')}",
        error_data={"messaging_product": "whatsapp", "details": details},
    )


class WhatsAppStandIn(GraphStandIn):
    """A business phone number (`phone_number_id`) in a WABA (`waba_id`) with `templates`."""

    def __init__(
        self,
        token: str,
        templates: list[Template],
        *,
        phone_number_id: str = "106540352242922",
        waba_id: str = "102290129340398",
        app_secret: str = "app-secret",
        clock: Clock | None = None,
        throughput_per_second: int | None = None,
    ) -> None:
        super().__init__(token, clock=clock)
        self.templates = templates
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.app_secret = app_secret
        self.throughput_per_second = throughput_per_second  # None: not enforced (frozen clock)
        self.failures: dict[str, Failure] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.messages: list[Message] = []
        self.lost: set[str] = set()  # numbers whose next answer is lost (see lose_answer)
        self.released = threading.Event()  # lets held answers go (http_handler)
        self._last_to: dict[str, Any] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._losing = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        if self._losing:
            self._losing = False
            raise httpx.ReadTimeout("the answer was lost (stand-in)", request=request)
        return response

    token_status = 401  # the Cloud API answers token errors with 401

    # --- what tests use -----------------------------------------------------------------

    def fail_number(
        self, number: str, code: int, *, via: str = "response", times: int = 1_000_000
    ) -> None:
        """Make messages to `number` fail with `code` (in the answer, or accepted and then
        failed in a status webhook as 131026 usually is)."""
        self.failures[_digits(number)] = Failure(code, via, times)

    def lose_answer(self, number: str) -> None:
        """Accept the next message to `number`, then lose its answer (httpx.ReadTimeout;
        served on loopback, the answer is held until `released`, then the connection drops)."""
        self.lost.add(_digits(number))

    def sent_to(self) -> Counter[str]:
        """How many messages each wa_id was sent (exactly once: every count is 1)."""
        return Counter(m.wa_id for m in self.messages)

    def webhook(
        self, message: Message, status: str, *, code: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A status webhook body for `message` and its signed headers."""
        entry: dict[str, Any] = {
            "id": message.id,
            "status": status,
            "timestamp": str(self.clock.timestamp()),
            "recipient_id": message.wa_id,
        }
        if message.callback is not None:
            entry["biz_opaque_callback_data"] = message.callback
        if code is not None:
            entry["errors"] = [
                {
                    "code": code,
                    "title": TITLES.get(code, "Error"),
                    "message": TITLES.get(code, "Error"),
                    "error_data": {"details": TITLES.get(code, "Error")},
                }
            ]
        payload = statuses_payload([entry], self.phone_number_id, self.waba_id)
        body = json.dumps(payload, separators=(",", ":")).encode()
        return body, {"Content-Type": "application/json", "X-Hub-Signature-256": self.sign(body)}

    def sign(self, body: bytes) -> str:
        """The X-Hub-Signature-256 value Meta sends with `body`."""
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    def pending_webhooks(self) -> list[tuple[bytes, dict[str, str]]]:
        """The status webhooks Meta would send now for every message: sent, then delivered
        (or failed with the injected code)."""
        return [
            self.webhook(m, s["status"], code=s.get("code"))
            for m in self.messages
            for s in m.statuses
        ]

    # --- routing ----------------------------------------------------------------------

    def graph_route(
        self, method: str, segments: list[str], params: dict[str, str], body: Body
    ) -> httpx.Response:
        if segments == [self.phone_number_id] and method == "GET":
            return httpx.Response(
                200,
                json={
                    "id": self.phone_number_id,
                    "display_phone_number": "+62 811-0000-0000",
                    "verified_name": "Kominfo Kota Contoh",
                    "quality_rating": "GREEN",
                },
            )
        if segments == [self.phone_number_id, "messages"] and method == "POST":
            return self.send(body.json if isinstance(body.json, dict) else {})
        if segments == [self.phone_number_id, "media"] and method == "POST":
            return self.upload(body)
        if segments == [self.waba_id, "message_templates"] and method == "GET":
            wanted = [t.as_json() for t in self.templates if params.get("name") in (None, t.name)]
            return httpx.Response(
                200, json={"data": wanted, "paging": {"cursors": {"before": "A", "after": "B"}}}
            )
        return self.unsupported(method, segments)

    def upload(self, body: Body) -> httpx.Response:
        if body.get("messaging_product") != "whatsapp" or "file" not in body.files:
            return _error(131008, "messaging_product=whatsapp and file are required")
        data = body.files["file"][1]
        info = inspect_image(data)
        if info is None or info.format not in ("JPEG", "PNG") or len(data) > MEDIA_BYTES:
            return _error(131053, "images must be JPEG or PNG, at most 5 MB")
        self._next += 1
        media_id = f"{900000000 + self._next}"
        self.media[media_id] = {"id": media_id, "size": len(data), "type": body.get("type")}
        return httpx.Response(200, json={"id": media_id})

    # --- sending ----------------------------------------------------------------------

    def _template_problem(
        self, template: dict[str, Any]
    ) -> tuple[Template, list[str], str | None] | httpx.Response:
        name, language = template.get("name"), (template.get("language") or {}).get("code")
        found = next((t for t in self.templates if t.name == name and t.language == language), None)
        if found is None or found.status != "APPROVED":
            return _error(
                132001, f"template name ({name}) does not exist in {language} or is not approved"
            )
        components = {
            c.get("type"): c for c in template.get("components") or [] if isinstance(c, dict)
        }
        params = [
            str(p.get("text", "")) for p in (components.get("body") or {}).get("parameters") or []
        ]
        if any(_BAD_PARAM.search(p) for p in params):
            return _error(132018, TITLES[132018])
        if len(params) != found.body_params:
            return _error(
                132000,
                f"body: number of localizable_params ({len(params)}) does not match the expected number of params ({found.body_params})",
            )
        header_media = None
        if found.header == "IMAGE":
            header = (components.get("header") or {}).get("parameters") or []
            image = header[0].get("image", {}) if header and isinstance(header[0], dict) else {}
            header_media = image.get("id")
            if header_media not in self.media and not image.get("link"):
                return _error(131053, f"header image: media id ({header_media}) does not exist")
        return found, params, header_media

    def send(self, body: dict[str, Any]) -> httpx.Response:
        if body.get("messaging_product") != "whatsapp":
            return _error(131008, "messaging_product: the value must be whatsapp")
        to = str(body.get("to") or "")
        if not _NUMBER.fullmatch(to):
            return _error(131009, f"to: ({to}) is not a phone number with its country code")
        if body.get("type") != "template" or not isinstance(body.get("template"), dict):
            return _error(131009, "type: business-initiated messages must be templates")
        checked = self._template_problem(body["template"])
        if isinstance(checked, httpx.Response):
            return checked
        template, params, header_media = checked
        wa_id = _digits(to)
        now = self.clock.now()
        if self.throughput_per_second is not None:
            this_second = sum(1 for t in self._last_to.values() if t == now)
            if this_second >= self.throughput_per_second:
                return _error(130429, "Cloud API message throughput has been reached.")
        last = self._last_to.get(wa_id)
        if last is not None and now - last < PAIR_INTERVAL:
            return _error(
                131056,
                "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
            )
        failure = self.failures.get(wa_id)
        if failure and failure.via == "response" and failure.times > 0:
            failure.times -= 1
            return _error(failure.code, TITLES.get(failure.code, "Error"))
        self._last_to[wa_id] = now
        self._next += 1
        message = Message(
            f"wamid.HBgN{self._next:012d}",
            wa_id,
            template.name,
            template.language,
            params,
            header_media,
            to=to,
            callback=body.get("biz_opaque_callback_data"),
        )
        message.statuses.append({"status": "sent"})
        if failure and failure.via == "webhook":
            message.statuses.append({"status": "failed", "code": failure.code})
        else:
            message.statuses.append({"status": "delivered"})
        self.messages.append(message)
        if wa_id in self.lost:
            self.lost.discard(wa_id)
            self._losing = True
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": wa_id}],
                "messages": [{"id": message.id, "message_status": "accepted"}],
            },
        )

    # --- on loopback ------------------------------------------------------------------

    def http_handler(self) -> type[BaseHTTPRequestHandler]:
        """The stand-in as an http.server handler (chanpub.testing.serve_on_loopback): one
        request at a time; a lost answer is held until `released`, then the connection is
        closed without one."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = httpx.Request(
                    self.command,
                    f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}",
                    headers=list(self.headers.items()),
                    content=self.rfile.read(length) if length else b"",
                )
                try:
                    with standin._lock:
                        response = standin(request)
                except httpx.ReadTimeout:
                    standin.released.wait(30)
                    self.close_connection = True
                    return
                data = response.read()
                self.send_response(response.status_code)
                self.send_header("Content-Type", response.headers.get("Content-Type", ""))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer  # http.server's naming

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def statuses_payload(
    statuses: Iterable[Mapping[str, Any]],
    phone_number_id: str = "106540352242922",
    waba_id: str = "102290129340398",
) -> dict[str, Any]:
    """A webhook POST body carrying these `statuses` entries, shaped as Meta documents it."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "6281100000000",
                                "phone_number_id": phone_number_id,
                            },
                            "statuses": [
                                {"timestamp": "1767225600", **status} for status in statuses
                            ],
                        },
                    }
                ],
            }
        ],
    }


def _digits(number: str) -> str:
    return number.lstrip("+")
