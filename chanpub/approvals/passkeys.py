"""Approvers' passkeys (WebAuthn credentials) kept in the ledger: each credential's public
key, sign counter and times; the assertions the approval server accepted; one-time
enrollment links; and the log of sign-ins, approvals and refusals that history shows.

Everything lives in the ledger's key-value store (one namespace each), so `send` checks a
passkey approval against the same file the server wrote, with the server stopped.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chanpub.ledger import Ledger

CREDENTIALS = "passkeys"
USES = "passkey-uses"  # accepted assertions, by the SHA-256 of their client data
ENROLLMENTS = "passkey-enrollments"  # by the SHA-256 of the link's token
LOG = "approval-log"
ENROLL_MINUTES = 15
LEDGER_FILE = "ledger.sqlite3"  # chanpub.actions.LEDGER_NAME, in the state directory


def now_text(now: datetime | None = None) -> str:
    """UTC time as the approval records write it."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Credential:
    """One enrolled passkey of one approver."""

    id: str  # the credential id, base64url
    name: str  # the approver, as listed in channels.yaml
    public_key: str  # COSE key, base64url
    sign_count: int
    rp_id: str
    origin: str
    added_at: str
    last_used_at: str = ""
    revoked_at: str = ""

    @property
    def key_id(self) -> str:
        """The short id `approvers list` shows and `approvers revoke` takes."""
        return key_id(self.id)


def key_id(credential_id: str) -> str:
    """A short, stable id of a credential: 'passkey:' and 12 hex digits of its hash."""
    return "passkey:" + hashlib.sha256(credential_id.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Use:
    """An assertion the approval server accepted over a single-use challenge."""

    credential: str
    counter: int
    sha256: str  # the content it approved
    at: str


class PasskeyStore:
    """The passkey namespaces of one ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    @classmethod
    def at(cls, state_dir: Path) -> PasskeyStore:
        """The store in the ledger of a state directory (created when missing)."""
        return cls(Ledger(state_dir / LEDGER_FILE))

    def close(self) -> None:
        """Close the ledger."""
        self.ledger.close()

    # --- credentials ----------------------------------------------------------------

    def credential(self, credential_id: str) -> Credential | None:
        """The credential with this id, revoked or not."""
        value = self.ledger.store(CREDENTIALS).get(credential_id)
        return Credential(**value) if value else None

    def credentials(self, name: str | None = None) -> list[Credential]:
        """Every credential (of one approver), revoked ones included, oldest first."""
        found = [Credential(**value) for _key, value in self.ledger.store(CREDENTIALS).items()]
        if name is not None:
            wanted = " ".join(name.split()).casefold()
            found = [c for c in found if " ".join(c.name.split()).casefold() == wanted]
        return sorted(found, key=lambda c: (c.added_at, c.id))

    def add(self, credential: Credential) -> None:
        """Keep a newly enrolled credential."""
        self.ledger.store(CREDENTIALS).put(credential.id, asdict(credential))

    def used(self, credential: Credential, counter: int, at: str) -> None:
        """Move the counter forward and note when the passkey was last used."""
        count = max(counter, credential.sign_count)
        self.add(Credential(**{**asdict(credential), "sign_count": count, "last_used_at": at}))

    def revoke(self, credential: Credential, at: str) -> None:
        """Mark a credential revoked: kept, so an approval made with it says why it fails."""
        self.add(Credential(**{**asdict(credential), "revoked_at": at}))

    # --- accepted assertions --------------------------------------------------------

    def accept(self, client_data: bytes, use: Use) -> None:
        """Record an assertion the server verified over its single-use challenge."""
        self.ledger.store(USES).put(hashlib.sha256(client_data).hexdigest(), asdict(use))

    def accepted(self, client_data: bytes) -> Use | None:
        """The server's record of the assertion with this client data, if it accepted one."""
        value = self.ledger.store(USES).get(hashlib.sha256(client_data).hexdigest())
        return Use(**value) if value else None

    # --- enrollment links -----------------------------------------------------------

    def new_enrollment(self, name: str, origin: str, now: datetime | None = None) -> str:
        """A fresh one-time token for NAME's enrollment link, valid ENROLL_MINUTES."""
        token = secrets.token_urlsafe(32)
        expires = (now or datetime.now(UTC)) + timedelta(minutes=ENROLL_MINUTES)
        self.ledger.store(ENROLLMENTS).put(
            _digest(token), {"name": name, "origin": origin, "expires": now_text(expires)}
        )
        return token

    def enrollment(self, token: str, now: datetime | None = None) -> dict[str, str] | None:
        """The enrollment a token opens ({name, origin}), or None: unknown, used or expired."""
        value: dict[str, str] | None = self.ledger.store(ENROLLMENTS).get(_digest(token))
        if not value or value.get("used") or value["expires"] < now_text(now):
            return None
        return value

    def finish_enrollment(self, token: str) -> None:
        """Use the token up: the link opens nothing any more."""
        store = self.ledger.store(ENROLLMENTS)
        value = store.get(_digest(token))
        if value:
            store.put(_digest(token), {**value, "used": now_text()})

    # --- the log --------------------------------------------------------------------

    def log(self, event: str, who: str, address: str, slug: str = "", detail: str = "") -> None:
        """Note a sign-in, approval or refusal: who, when, from which address."""
        at = now_text()
        entry = {"at": at, "event": event, "who": who, "address": address, "slug": slug}
        self.ledger.store(LOG).put(f"{at}-{secrets.token_hex(4)}", {**entry, "detail": detail})

    def entries(self, slug: str | None = None) -> list[dict[str, Any]]:
        """The log, newest first (of one release and the sign-ins when slug is given)."""
        rows = [value for _key, value in self.ledger.store(LOG).items()]
        if slug:
            rows = [r for r in rows if r.get("slug") in (slug, "")]
        return rows[::-1]


def _digest(token: str) -> str:
    """Tokens are kept hashed: reading the ledger gives no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()
