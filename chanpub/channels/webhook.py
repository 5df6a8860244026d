"""webhook: the release as a signed JSON document POSTed to a URL the office chooses (a CMS,
a portal, an integration service). The protocol is chanpub's own, described in
docs/webhook.md; the receiving side needs only an HMAC-SHA256 library to verify it.

Auth: HMAC-SHA256 with a shared secret (from an environment variable), plus any extra
headers (e.g. `Authorization: Bearer ${PORTAL_TOKEN}`). Limits: whatever the receiver accepts;
the image travels inside the document as base64.

Options (channels.yaml)::

    portal:
      type: webhook
      url: https://portal.example.go.id/hooks/chanpub
      secret: ${PORTAL_WEBHOOK_SECRET}
      headers: {Authorization: "Bearer ${PORTAL_TOKEN}"}   # optional

The request: `POST url` with `Content-Type: application/json; charset=utf-8` and

- `X-Chanpub-Timestamp`: Unix time in seconds when the request was signed;
- `X-Chanpub-Signature`: `sha256=` + lower-case hex of HMAC-SHA256(secret,
  timestamp + "." + body), over the exact body bytes;
- `X-Chanpub-Event`: `release.published`, `release.updated`, `release.corrected` or
  `release.retracted`;
- `Idempotency-Key`: the delivery key (hex; stable across retries of one delivery).

The receiver must recompute the signature over the raw body (constant-time compare), refuse
a timestamp more than 5 minutes away from its clock, and treat a repeated Idempotency-Key as
the same delivery (answer as the first time, create nothing). So an altered body fails the
signature, an old request replayed fails the timestamp, and a replay within the window
changes nothing. Retries are signed again with a fresh timestamp; the body is unchanged.

The answer: any 2xx is success. A JSON body with `url` (http or https) makes that the
receipt's URL, the canonical URL when this channel is canonical; `id` becomes the remote id.
401/403 mean the secret or headers are wrong; 429/503 are retried after Retry-After; other
4xx are permanent; a 5xx or a lost answer is ambiguous (the Idempotency-Key makes a resend
safe).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from chanpub.contract import (
    Action,
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Mechanism,
    Preview,
    Receipt,
)
from chanpub.errors import AuthError
from chanpub.files import read_file_for
from chanpub.i18n import _
from chanpub.options import WebAddress
from chanpub.release import Release

if TYPE_CHECKING:
    import httpx

SCHEMA = "chanpub.webhook/1"
RESERVED_HEADERS = frozenset(
    {"content-type", "content-length", "host", "idempotency-key", "transfer-encoding", "connection"}
)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110 token)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Chanpub-Signature value: 'sha256=' + hex HMAC-SHA256 of timestamp + '.' + body."""
    digest = hmac.new(
        secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str,
    timestamp: str,
    signature: str,
    body: bytes,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """For Python receivers: True when the signature matches and the time is recent."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookOptions(BaseModel):
    """Options of a webhook channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: WebAddress
    secret: SecretStr
    headers: dict[str, SecretStr] = {}  # values may hold tokens: never shown

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in value:
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"'{name}' is not a header name")
            if name.lower() in RESERVED_HEADERS or name.lower().startswith("x-chanpub-"):
                raise ValueError(f"'{name}' is set by chanpub and cannot be configured")
        return value


class WebhookChannel:
    """POSTs the release as a signed JSON document."""

    channel_type: ClassVar[str] = "webhook"
    Options: ClassVar[type[BaseModel]] = WebhookOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        title=True,
        html=True,
        images=1,
        edit=True,
        canonical=True,
        idempotent=True,
        corrections=Mechanism.NOTICE,
        retractions=Mechanism.NOTICE,
    )

    def __init__(self, name: str, options: WebhookOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    def canonical_url(self, release: Release) -> str | None:
        """Unknown until the receiver answers with its `url`."""
        return None

    # --- the document -------------------------------------------------------------------

    def document(
        self,
        release: Release,
        links: Links,
        *,
        key: str,
        event: str,
        previous: Receipt | None = None,
        image_data: bool = True,
        amendment: Amendment | None = None,
    ) -> dict[str, Any]:
        """The JSON document described in docs/webhook.md."""
        from chanpub.markdown import to_html, to_plain

        result: dict[str, Any] = {
            "schema": SCHEMA,
            "event": event,
            "delivery": key,
            "channel": self.name,
            "organisation": self.context.organisation,
            "canonical_url": links.canonical_url,
            "release": {
                "slug": release.slug,
                "title": release.title,
                "summary": release.summary,
                "kind": release.kind,
                "claim": release.claim,
                "verdict": release.verdict,
                "date": release.date.isoformat() if release.date else None,
                "publish_at": release.publish_at.isoformat() if release.publish_at else None,
                "tags": list(release.tags),
                "language": release.language or self.context.language,
                "source": release.source,
                "approved_by": release.approved_by,
                "approved_at": release.approved_at,
                "content_sha256": release.content_sha256,
                "markdown": release.body,
                "html": to_html(release.body),
                "text": to_plain(release.body),
                "image": self._image(release, image_data),
            },
        }
        if previous is not None:
            result["previous"] = {"id": previous.remote_id, "url": previous.url}
        if amendment is not None:
            result["amendment"] = {
                "kind": amendment.kind,
                "note": amendment.note,
                "at": amendment.at.isoformat(),
            }
        return result

    def _image(self, release: Release, with_data: bool) -> dict[str, Any] | None:
        if release.image is None:
            return None
        data = read_file_for(self.name, release.image)
        return {
            "filename": release.image.name,
            "alt": release.image_alt,
            "content_type": mimetypes.guess_type(release.image.name)[0]
            or "application/octet-stream",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "base64": base64.b64encode(data).decode("ascii") if with_data else None,
        }

    def preview(self, release: Release, links: Links) -> Preview:
        """The document that will be sent (the image's base64 left out), and where to."""
        from chanpub.markdown import to_html, to_plain

        warnings = (
            []
            if links.canonical_url
            else [_("no canonical URL yet: the document's canonical_url will be null")]
        )
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            title=release.title,
            text=to_plain(release.body),
            html=to_html(release.body),
            warnings=tuple(warnings),
            attachments=(release.image,) if release.image else (),
            data={
                "url": self.options.url,
                "headers": sorted(self.options.headers),
                "document": self.document(
                    release, links, key="", event="release.published", image_data=False
                ),
            },
        )

    # --- sending ------------------------------------------------------------------------

    def publish(self, preview: Preview, key: str) -> Receipt:
        """POST the signed document; the receiver dedupes on the Idempotency-Key."""
        document = self.document(preview.release, preview.links, key=key, event="release.published")
        return self._post(document, key)

    def update(self, preview: Preview, receipt: Receipt) -> Receipt:
        """POST the changed release as `release.updated`, naming the earlier delivery."""
        release = preview.release
        key = hashlib.sha256(
            f"update:{self.name}:{release.slug}:{receipt.remote_id}:"
            f"{release.content_sha256}".encode()
        ).hexdigest()
        document = self.document(
            release, preview.links, key=key, event="release.updated", previous=receipt
        )
        updated = self._post(document, key)
        return (
            updated
            if updated.url
            else Receipt(
                remote_id=updated.remote_id,
                url=receipt.url,
                published_at=updated.published_at,
                details=updated.details,
            )
        )

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """POST `release.corrected` (the new version with the note) or `release.retracted`
        (the reason), naming the earlier delivery; the receiver updates or withdraws that
        article. The Idempotency-Key is the amendment's key, so a resend creates nothing."""
        event = "release.retracted" if amendment.retraction else "release.corrected"
        previous = amendment.previous
        document = self.document(
            preview.release,
            preview.links,
            key=key,
            event=event,
            previous=previous,
            amendment=amendment,
        )
        sent = self._post(document, key)
        return Receipt(
            remote_id=previous.remote_id,
            url=None if amendment.retraction else sent.url or previous.url,
            published_at=sent.published_at,
            details={**sent.details, "event": event},
            action=Action.DELETED if amendment.retraction else Action.EDITED,
        )

    def _post(self, document: dict[str, Any], key: str) -> Receipt:
        from chanpub.http import send

        body = json.dumps(
            document, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {name: value.get_secret_value() for name, value in self.options.headers.items()}
        headers.update(
            {
                "Content-Type": "application/json; charset=utf-8",
                "X-Chanpub-Timestamp": timestamp,
                "X-Chanpub-Signature": sign(
                    self.options.secret.get_secret_value(), timestamp, body
                ),
                "X-Chanpub-Event": str(document["event"]),
                "Idempotency-Key": key,
            }
        )
        variable = self.context.variable_for("secret")
        try:
            response = send(
                self.context.http,
                "POST",
                self.options.url,
                channel=self.name,
                secret_variable=variable,
                content=body,
                headers=headers,
            )
        except AuthError as error:
            raise AuthError(
                _(
                    "{message}: check the shared secret in ${{{variable}}} and the "
                    "headers of channels.{channel}"
                ).format(message=error.message, variable=variable, channel=self.name),
                variable=variable,
            ) from None
        return self._receipt(response, key)

    def _receipt(self, response: httpx.Response, key: str) -> Receipt:
        try:
            answer: Any = response.json()
        except ValueError:
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        url = answer.get("url")
        if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            url = None
        remote_id = answer.get("id")
        return Receipt(
            remote_id=str(remote_id) if remote_id not in (None, "") else key,
            url=url,
            published_at=datetime.now(UTC),
            details={"status": response.status_code, "key": key},
        )
