"""`chanpub approvers enroll/list/revoke` and the approval page's address: what the
commands do, without the command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.approvals.passkeys import LEDGER_FILE, PasskeyStore, now_text
from chanpub.approvals.record import Approver, Approvers, origin_problem
from chanpub.errors import ApprovalError, ConfigError
from chanpub.i18n import _

if TYPE_CHECKING:
    from chanpub.config import Config

DEFAULT_PORT = 8750


def origin_for(config: Config, option: str | None, port: int = DEFAULT_PORT) -> str:
    """The approval page's origin: --origin, then `approvals: {origin:}` in channels.yaml,
    then http://localhost:PORT (browsers allow passkeys on localhost without TLS)."""
    if option is not None:
        problem = origin_problem(option)
        if problem:
            raise ConfigError(
                _("--origin {origin}: {problem}").format(origin=option, problem=problem)
            )
        return option.rstrip("/")
    configured = config.approvers.origin if config.approvers is not None else None
    return configured or f"http://localhost:{port}"


def approvers_of(config: Config) -> Approvers:
    """The config's approvers, or an error saying how to list them."""
    if config.approvers is None:
        raise ConfigError(
            _(
                "{path}: approvers: none listed: list who may approve (name, and 'passkey: "
                "true' for approving from a phone) under 'approvers:'"
            ).format(path=config.path)
        )
    return config.approvers


def passkey_approver(config: Config, name: str) -> Approver:
    """NAME from `approvers:`, who must approve with a passkey."""
    approvers = approvers_of(config)
    person = approvers.named(name)
    if person is None or not person.passkey:
        raise ApprovalError(
            _(
                "{name}: not listed with 'passkey: true' under approvers: in {path}: add "
                "'passkey: true' to their entry, or use one of {names}"
            ).format(
                name=name,
                path=config.path,
                names=", ".join(f'"{a.name}"' for a in approvers.people if a.passkey) or "-",
            )
        )
    return person


def enrollment_link(config: Config, name: str, origin: str) -> str:
    """A one-time link (15 minutes) that lets NAME create a passkey on the approval page."""
    person = passkey_approver(config, name)
    store = PasskeyStore.at(config.state_dir)
    try:
        token = store.new_enrollment(person.name, origin)
    finally:
        store.close()
    return f"{origin}/enroll/{token}"


@dataclass(frozen=True)
class KeyRow:
    """One approver key for `approvers list`."""

    name: str
    kind: str  # ssh or passkey
    key_id: str
    added: str
    last_used: str
    revoked: str = ""


def key_rows(config: Config) -> list[KeyRow]:
    """Every approver's keys: SSH keys from channels.yaml, passkeys from the ledger."""
    approvers = approvers_of(config)
    rows = [
        KeyRow(a.name, "ssh", a.fingerprint or "", "channels.yaml", "")
        for a in approvers.people
        if a.ssh_key
    ]
    for credential in _stored(config, lambda store: store.credentials()):
        rows.append(
            KeyRow(
                credential.name,
                "passkey",
                credential.key_id,
                credential.added_at,
                credential.last_used_at,
                credential.revoked_at,
            )
        )
    return rows


def revoke(config: Config, name: str, key_id: str | None) -> list[str]:
    """Revoke one of NAME's passkeys (by KEY-ID) or all of them; returns the ids revoked."""
    approvers_of(config)
    if key_id is not None and key_id.startswith("SHA256:"):
        raise ApprovalError(
            _("{key}: SSH keys are listed in {path}: remove the key: line there").format(
                key=key_id, path=config.path
            )
        )
    store = PasskeyStore.at(config.state_dir)
    try:
        mine = [c for c in store.credentials(name) if not c.revoked_at]
        chosen = [c for c in mine if key_id is None or c.key_id in (key_id, f"passkey:{key_id}")]
        if not chosen:
            raise ApprovalError(
                _("{name}: no passkey {key} to revoke: see chanpub approvers list").format(
                    name=name, key=key_id or ""
                )
            )
        at = now_text()
        for credential in chosen:
            store.revoke(credential, at)
        return [c.key_id for c in chosen]
    finally:
        store.close()


def log_entries(config: Config, slug: str | None = None) -> list[dict[str, Any]]:
    """Sign-ins, approvals and refusals on the approval page, newest first."""
    return _stored(config, lambda store: store.entries(slug))


def _stored(config: Config, read: Any) -> list[Any]:
    """Read from the ledger's passkey store; nothing when there is no ledger yet."""
    if not (Path(config.state_dir) / LEDGER_FILE).is_file():
        return []
    store = PasskeyStore.at(config.state_dir)
    try:
        return list(read(store))
    finally:
        store.close()
