"""WhatsApp delivery receipts: the webhook's signature check and its status events.

Docs: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components and
https://developers.facebook.com/docs/graph-api/webhooks/getting-started (verification
requests, `X-Hub-Signature-256`). Meta POSTs `{"object": "whatsapp_business_account",
"entry": [{"changes": [{"field": "messages", "value": {"statuses": [...]}}]}]}`; each
status has the message `id` (wamid), `recipient_id` (digits, no '+'), `status` (sent,
delivered, read, failed), `errors` for a failure, and the `biz_opaque_callback_data` the
message was sent with (here: the delivery key). Statuses may arrive out of order.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"
# How far along a message is; a status never moves an item back (read before delivered).
RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """`header` is 'sha256=' + the HMAC-SHA256 of the raw body with the app secret
    (compared in constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta would send for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class StatusEvent:
    """One status of one sent message."""

    wamid: str
    phone: str  # E.164 with '+': the journal's item
    status: str  # sent, delivered, read or failed
    callback: str | None  # biz_opaque_callback_data: the delivery key
    error: str | None  # "131026: Message undeliverable" for a failure

    def moves(self, current: str | None) -> bool:
        """True when this status is further along than the item's `current` state."""
        return RANK.get(self.status, 0) > RANK.get(current or "", 0)


def _error_text(errors: Any) -> str | None:
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], Mapping):
        return None
    first = errors[0]
    data = first.get("error_data")
    details = data.get("details") if isinstance(data, Mapping) else None
    return f"{first.get('code')}: {details or first.get('title') or first.get('message') or ''}"


def status_events(payload: Any) -> Iterator[StatusEvent]:
    """Every well-formed status in a webhook payload (messages and others are skipped)."""
    if not isinstance(payload, Mapping):
        return
    for entry in payload.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, Mapping) else []:
            value = change.get("value") if isinstance(change, Mapping) else None
            for status in (value.get("statuses") or []) if isinstance(value, Mapping) else []:
                if not isinstance(status, Mapping):
                    continue
                kind, wamid = status.get("status"), status.get("id")
                recipient = str(status.get("recipient_id") or "")
                if kind not in RANK or not wamid or not recipient.isdigit():
                    continue
                callback = status.get("biz_opaque_callback_data")
                yield StatusEvent(
                    wamid=str(wamid),
                    phone="+" + recipient,
                    status=str(kind),
                    callback=str(callback) if callback else None,
                    error=_error_text(status.get("errors")) if kind == "failed" else None,
                )
