"""The calls chanpub makes to Meta's WhatsApp Business Cloud API, and its errors.

Docs: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages,
https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media,
https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates,
https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
Auth: a system-user access token, sent as `Authorization: Bearer`. Errors come in Graph's
envelope `{"error": {"code", "message", "error_data": {"details"}, "fbtrace_id"}}`; the code
decides: 130429 (throughput) and 131056 (pair rate) slow down and retry; 131026, 131049 and
131050 refuse one subscriber for good; 132000/132001 (and the other 132xxx) are template
problems that fail the whole channel; 190 is the token. There is no idempotency key and no
way to look a sent message up.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.channels.meta_graph import graph_failure
from chanpub.errors import AmbiguousError, ChannelError, PermanentError, RetryableError
from chanpub.i18n import _

if TYPE_CHECKING:
    import httpx
    from pydantic import SecretStr

THROTTLE_CODES = frozenset({4, 80007, 130429, 131056})  # slow down, then try again
TEMPORARY_CODES = frozenset({131016})  # "service unavailable": nothing was sent
SUBSCRIBER_CODES = frozenset({131026, 131049, 131050})  # this number, for good
TEMPLATE_CODES = frozenset({132000, 132001, 132005, 132007, 132012, 132015, 132016})


class SubscriberRefused(PermanentError):
    """The API refused one subscriber for good (undeliverable, marketing limit, opt-out)."""

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


class TemplateProblem(PermanentError):
    """The template is missing, not approved, or does not match the parameters sent."""


@dataclass(frozen=True)
class Template:
    """An approved-or-not message template as the Business Management API lists it."""

    name: str
    language: str
    status: str
    body: str
    body_variables: int
    header_format: str | None  # IMAGE, TEXT, VIDEO, DOCUMENT, LOCATION or None


def count_variables(text: str) -> int:
    """How many distinct {{1}} / {{name}} placeholders a template's text has."""
    import re

    return len(set(re.findall(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", text)))


def template_from(entry: Mapping[str, Any]) -> Template:
    """A Template from one entry of GET /{waba-id}/message_templates."""
    body = ""
    header: str | None = None
    for component in entry.get("components") or []:
        kind = str(component.get("type", "")).upper()
        if kind == "BODY":
            body = str(component.get("text") or "")
        elif kind == "HEADER":
            header = str(component.get("format") or "TEXT").upper()
    return Template(
        name=str(entry.get("name", "")),
        language=str(entry.get("language", "")),
        status=str(entry.get("status", "")).upper(),
        body=body,
        body_variables=count_variables(body),
        header_format=header,
    )


@dataclass(frozen=True)
class CloudApi:
    """One channel's calls to one Cloud API version with one token."""

    client: httpx.Client
    base: str  # graph_base/api_version
    token: SecretStr
    token_variable: str  # for "renew ${VARIABLE}" messages
    channel: str

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One authenticated call; the JSON object, or the classified ChannelError."""
        import httpx

        from chanpub.http import error_for_exception

        url = f"{self.base}/{path}"
        headers = {"Authorization": f"Bearer {self.token.get_secret_value()}"}
        try:
            response = self.client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as error:
            raise error_for_exception(error, channel=self.channel, method=method, url=url) from None
        if not response.is_success:
            raise self.error_for(response)
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise (AmbiguousError if method == "POST" else RetryableError)(
                _("{channel}: the WhatsApp Cloud API answered without a JSON object").format(
                    channel=self.channel
                )
            )
        return payload

    def error_for(self, response: httpx.Response) -> ChannelError:
        """Classify a failed call by its WhatsApp error code (see the module docstring)."""
        from chanpub.channels.meta_graph import error_for_graph
        from chanpub.http import retry_after_seconds

        failure = graph_failure(response)
        text = _("{channel}: WhatsApp refused ({code}): {reason}").format(
            channel=self.channel, code=failure.code, reason=failure.message
        )
        code = failure.code
        if code in THROTTLE_CODES or code in TEMPORARY_CODES:
            return RetryableError(
                text, retry_after=retry_after_seconds(response.headers.get("Retry-After"))
            )
        if code in SUBSCRIBER_CODES:
            return SubscriberRefused(text, code=code)
        if code in TEMPLATE_CODES:
            return TemplateProblem(text)
        return error_for_graph(
            response,
            channel=self.channel,
            token_variable=self.token_variable,
            creating=response.request.method == "POST",
        )

    def send_template(self, phone_number_id: str, message: Mapping[str, Any]) -> str:
        """POST /{phone-number-id}/messages; the message's wamid."""
        payload = self.call("POST", f"{phone_number_id}/messages", json=dict(message))
        messages = payload.get("messages")
        if not isinstance(messages, list) or not messages or not messages[0].get("id"):
            raise AmbiguousError(
                _("{channel}: the Cloud API accepted a message without giving its id").format(
                    channel=self.channel
                )
            )
        return str(messages[0]["id"])

    def upload_media(self, phone_number_id: str, path: Path) -> str:
        """POST /{phone-number-id}/media (multipart); the media id, reusable for 30 days."""
        mime = mimetypes.guess_type(path.name)[0] or "image/png"
        try:
            data = path.read_bytes()
        except OSError as error:
            raise PermanentError(
                _("{channel}: cannot read the header image {path}: {reason}").format(
                    channel=self.channel, path=path, reason=error.strerror
                )
            ) from None
        payload = self.call(
            "POST",
            f"{phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (path.name, data, mime)},
        )
        if not payload.get("id"):
            raise RetryableError(
                _("{channel}: the media upload gave no id").format(channel=self.channel)
            )
        return str(payload["id"])

    def templates(self, business_account_id: str, name: str) -> list[Template]:
        """GET /{waba-id}/message_templates?name=...: the template in every language."""
        payload = self.call(
            "GET",
            f"{business_account_id}/message_templates",
            params={"name": name, "fields": "name,language,status,components"},
        )
        data = payload.get("data")
        return [template_from(entry) for entry in data if isinstance(entry, dict)] if data else []

    def phone_number(self, phone_number_id: str) -> dict[str, Any]:
        """GET /{phone-number-id}: the number's display form and verified name."""
        return self.call(
            "GET",
            phone_number_id,
            params={"fields": "display_phone_number,verified_name,quality_rating"},
        )
