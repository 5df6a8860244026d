"""The approval data: approvers from channels.yaml and approval records from a release's
front matter, validated, as frozen values."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chanpub.i18n import _

KINDS = ("ssh", "webauthn")  # webauthn: recorded by the phone approval page (later)
# Key types ssh-keygen -Y signs with; the sk- ones live on a hardware key (FIDO).
SSH_KEY_TYPES = (
    "ssh-ed25519",
    "sk-ssh-ed25519@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-rsa",
)


@dataclass(frozen=True)
class Approver:
    """One person listed under `approvers:`, with the key(s) their signatures verify with."""

    name: str
    ssh_key: str | None = None  # "ssh-ed25519 AAAA..." (type and base64, no comment)
    passkey: bool = False  # approves from a phone (WebAuthn), registered there

    @property
    def fingerprint(self) -> str | None:
        """The SSH key's fingerprint as ssh-keygen -l prints it (SHA256:...)."""
        return ssh_fingerprint(self.ssh_key) if self.ssh_key else None


@dataclass(frozen=True)
class Approvers:
    """Who may approve and how many different approvers a release needs."""

    people: tuple[Approver, ...]
    required: int = 1
    config_path: Path = Path("channels.yaml")
    origin: str | None = None  # `approvals: {origin:}`: the phone approval page's address
    state_dir: Path | None = None  # whose ledger holds the enrolled passkeys

    def named(self, name: str) -> Approver | None:
        """The approver with this name (case and spacing as in channels.yaml, or folded)."""
        wanted = " ".join(name.split()).casefold()
        return next((a for a in self.people if " ".join(a.name.split()).casefold() == wanted), None)


@dataclass(frozen=True)
class Approval:
    """One approval record: who, when, over which content hash, and the kind's proof.

    `proof` holds the kind's own fields: for `ssh` the armored `signature`; for `webauthn`
    the assertion's fields. Only the verifier of that kind reads them.
    """

    kind: str
    by: str
    at: str
    sha256: str
    proof: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Signer:
    """An approval that verified: the approver it belongs to, for history and preview."""

    name: str
    kind: str
    fingerprint: str  # of the key that signed (SSH) or of the passkey credential
    at: str

    def describe(self) -> str:
        """'Name (ssh SHA256:...)': what history and the preview page show."""
        return f"{self.name} ({self.kind} {self.fingerprint})"


def ssh_fingerprint(key: str) -> str:
    """SHA256 fingerprint of an SSH public key, in OpenSSH's notation (unpadded base64)."""
    blob = base64.b64decode(key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def ssh_key_problem(key: str) -> str | None:
    """Why a text is not an SSH public key line, or None. The base64 blob must start with
    the same key type as the line (as OpenSSH itself checks)."""
    parts = key.split()
    if len(parts) < 2 or parts[0] not in SSH_KEY_TYPES:
        return _("must be an SSH public key such as 'ssh-ed25519 AAAA...' (the .pub file's line)")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return _("the key's second word is not base64: copy the whole line of the .pub file")
    size = int.from_bytes(blob[:4], "big")
    if blob[4 : 4 + size].decode("ascii", "replace") != parts[0]:
        return _("the key does not match its type '{type}': copy the .pub file's line").format(
            type=parts[0]
        )
    return None


def load_approvers(
    data: Mapping[str, Any], path: Path, problems: list[str], state_dir: Path | None = None
) -> Approvers | None:
    """`approvers:`, `require_approvals:` and `approvals: {origin:}` of channels.yaml; None
    when no approvers are listed (approvals are then not signed). Problems are appended,
    one line each."""
    origin = _origin_setting(data.get("approvals"), path, problems)
    entries = data.get("approvers")
    required = data.get("require_approvals")
    if entries is None:
        if required is not None:
            problems.append(
                _(
                    "{path}: require_approvals: needs approvers: list who may approve, "
                    "each with an SSH key, under 'approvers:'"
                ).format(path=path)
            )
        return None
    if not isinstance(entries, list) or not entries:
        problems.append(
            _(
                "{path}: approvers: must be a list of people, each with 'name:' and 'key:' "
                "(an SSH public key)"
            ).format(path=path)
        )
        return None
    people = [p for n, e in enumerate(entries) if (p := _approver(e, n, path, problems))]
    names = [" ".join(p.name.split()).casefold() for p in people]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(
            _("{path}: approvers: '{name}' is listed twice: list each person once").format(
                path=path, name=name
            )
        )
    if required is None:
        required = 1
    if isinstance(required, bool) or not isinstance(required, int) or required < 1:
        problems.append(
            _("{path}: require_approvals: must be a whole number, 1 or more").format(path=path)
        )
        required = 1
    elif required > len(entries):
        problems.append(
            _(
                "{path}: require_approvals: {n} approvals needed but only {count} approver(s) "
                "listed: list more approvers or lower the number"
            ).format(path=path, n=required, count=len(entries))
        )
    return Approvers(tuple(people), required, path, origin, state_dir)


def _origin_setting(value: Any, path: Path, problems: list[str]) -> str | None:
    """`approvals: {origin: https://...}`, checked; None when not set."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"origin"}:
        problems.append(
            _("{path}: approvals: only 'origin:' can be set here (the approval page's address)")
            .format(path=path)
        )  # fmt: skip
        return None
    origin = value.get("origin")
    problem = origin_problem(origin) if isinstance(origin, str) else _("must be text")
    if problem:
        problems.append(_("{path}: approvals.origin: {problem}").format(path=path, problem=problem))
        return None
    return str(origin).rstrip("/")


def origin_problem(origin: str) -> str | None:
    """Why a text cannot be the approval page's origin (WebAuthn's relying party), or None:
    https://HOST[:PORT] with no path, or http:// only on localhost (browsers refuse
    WebAuthn on plain http elsewhere, and on bare IP addresses)."""
    from urllib.parse import urlsplit

    parts = urlsplit(origin.rstrip("/"))
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or parts.path or parts.query:
        return _("must be an address like https://approve.example.go.id (no path)")
    if parts.scheme == "http" and host != "localhost":
        return _("plain http works only as http://localhost:PORT: use the https address")
    if host.replace(".", "").isdigit() or ":" in host:
        return _("browsers refuse passkeys on an IP address: use a host name (or localhost)")
    return None


def _approver(entry: Any, index: int, path: Path, problems: list[str]) -> Approver | None:
    """One `approvers:` entry, or None after appending what is wrong with it."""
    where = f"{path}: approvers[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        problems.append(
            _("{where}: needs 'name:' (the approver's name and position) and 'key:'").format(
                where=where
            )
        )
        return None
    unknown = sorted(set(entry) - {"name", "key", "passkey"})
    if unknown:
        problems.append(
            _("{where}: {keys}: unknown setting: use name, key or passkey").format(
                where=where, keys=", ".join(map(str, unknown))
            )
        )
    key = entry.get("key")
    passkey = entry.get("passkey", False)
    if key is None and passkey is not True:
        problems.append(
            _("{where}: '{name}' has no 'key:': add their SSH public key (ssh-keygen -t ed25519)")
            .format(where=where, name=entry["name"])
        )  # fmt: skip
        return None
    if key is not None:
        problem = ssh_key_problem(key) if isinstance(key, str) else _("must be text")
        if problem:
            problems.append(_("{where}: key: {problem}").format(where=where, problem=problem))
            return None
        key = " ".join(key.split()[:2])  # the comment is the owner's note, not the key
    return Approver(entry["name"].strip(), key, passkey is True)


def read_approvals(front_matter: Mapping[str, Any]) -> tuple[list[Approval], list[str]]:
    """The `approvals:` records of a release, and what is malformed about any of them."""
    raw = front_matter.get("approvals")
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [_("approvals: must be a list written by chanpub approve")]
    records: list[Approval] = []
    problems: list[str] = []
    for number, item in enumerate(raw):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("kind", "by", "sha256")
        ):
            problems.append(
                _("approvals[{n}]: needs kind, by and sha256: approve again").format(n=number)
            )
            continue
        proof = {str(k): str(v) for k, v in item.items() if k not in ("kind", "by", "at", "sha256")}
        records.append(
            Approval(item["kind"], item["by"], str(item.get("at", "")), item["sha256"], proof)
        )
    return records, problems


def approvals_yaml(records: Sequence[Approval], newline: str) -> str:
    """The `approvals:` value as an indented YAML block (set_fields puts 'approvals: ' first).

    Every scalar is written JSON-quoted (valid YAML); an armored signature as a literal
    block so it reads as it does in an .sig file."""
    lines = [""]
    for record in records:
        fields: dict[str, str] = {
            "kind": record.kind,
            "by": record.by,
            "at": record.at,
            "sha256": record.sha256,
            **record.proof,
        }
        for number, (key, value) in enumerate(fields.items()):
            lead = "  - " if number == 0 else "    "
            if "\n" in value:
                lines.append(f"{lead}{key}: |")
                lines.extend(f"      {row}" for row in value.strip("\n").split("\n"))
            else:
                lines.append(f"{lead}{key}: {json.dumps(value, ensure_ascii=False)}")
    return newline.join(lines)


@dataclass(frozen=True)
class Checked:
    """One record checked by its kind's verifier: the signer, or why it does not count."""

    signer: Signer | None
    problem: str | None = None
