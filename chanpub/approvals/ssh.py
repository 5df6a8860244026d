"""SSH signatures through OpenSSH's own `ssh-keygen -Y` (the sshsig format, as git uses
for signed commits): https://man.openbsd.org/ssh-keygen#Y and
https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.sshsig

chanpub never computes or checks a signature itself: it writes the message, the signature
and an allowed-signers file to a private temporary folder and asks ssh-keygen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from chanpub.approvals import NAMESPACE
from chanpub.errors import ApprovalError
from chanpub.i18n import _


def _ssh_keygen() -> str:
    """The ssh-keygen program, or an error saying what to install."""
    program = shutil.which("ssh-keygen")
    if program is None:
        raise ApprovalError(
            _(
                "ssh-keygen not found: signed approvals need OpenSSH's client "
                "(Debian/Ubuntu: apt-get install openssh-client)"
            )
        )
    return program


def _run(args: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """ssh-keygen with the message on stdin; stdout and stderr captured."""
    return subprocess.run(
        [_ssh_keygen(), *args], input=stdin, capture_output=True, text=True, check=False
    )


def sign(message: str, key: Path, public_key: str | None = None) -> str:
    """An armored sshsig signature of `message` in chanpub's namespace.

    `key` is a private key file (ssh-keygen asks for its passphrase on the terminal, or
    a hardware key asks for a touch), or a public key file whose private half is in
    ssh-agent: ssh-keygen signs through the agent whenever the agent holds the key."""
    with tempfile.TemporaryDirectory(prefix="chanpub-sign-") as folder:
        data = Path(folder) / "sha256"
        data.write_text(message, encoding="utf-8")
        if public_key is not None:  # sign through the agent with the listed key
            key = Path(folder) / "approver.pub"
            key.write_text(public_key + "\n", encoding="utf-8")
        # stdin stays the terminal: a passphrase prompt or a touch request reaches the person.
        done = subprocess.run(
            [_ssh_keygen(), "-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(data)],
            capture_output=True,
            text=True,
            check=False,
        )
        signature = data.with_name("sha256.sig")
        if done.returncode != 0 or not signature.exists():
            reason = (done.stderr.strip().splitlines() or ["?"])[-1]
            raise ApprovalError(
                _(
                    "--key {key}: could not sign with it ({reason}): give your private key "
                    "file, or add it to ssh-agent (ssh-add KEYFILE)"
                ).format(key=key if public_key is None else _("(ssh-agent)"), reason=reason)
            )
        return signature.read_text(encoding="utf-8")


def agent_keys() -> list[str]:
    """The public keys ssh-agent holds ('type base64'), or [] when there is no agent."""
    if not os.environ.get("SSH_AUTH_SOCK") or shutil.which("ssh-add") is None:
        return []
    done = subprocess.run(["ssh-add", "-L"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return []
    return [" ".join(line.split()[:2]) for line in done.stdout.splitlines() if line.strip()]


class Checker:
    """Checks signatures against a fixed set of allowed keys (one temporary folder)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="chanpub-verify-")
        self._allowed = Path(self._folder.name) / "allowed_signers"
        # Principals are list positions: approvers' names may hold spaces and commas.
        self._allowed.write_text(
            "".join(f'{n} namespaces="{NAMESPACE}" {key}\n' for n, key in enumerate(keys) if key),
            encoding="utf-8",
        )

    def close(self) -> None:
        """Remove the temporary folder."""
        self._folder.cleanup()

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _signature_file(self, signature: str) -> Path:
        path = Path(self._folder.name) / "approval.sig"
        path.write_text(signature.strip() + "\n", encoding="utf-8")
        return path

    def signer(self, signature: str) -> int | None:
        """The position of the allowed key that made the signature (not yet verified over
        any message), or None when no allowed key made it."""
        sig = self._signature_file(signature)
        done = _run(["-Y", "find-principals", "-s", str(sig), "-f", str(self._allowed)])
        if done.returncode != 0:
            return None
        first = done.stdout.split()[0] if done.stdout.split() else ""
        return int(first) if first.isdigit() else None

    def verifies(self, message: str, signature: str, position: int) -> bool:
        """Whether the signature is by the key at `position` over exactly `message`."""
        sig = self._signature_file(signature)
        args = ["-Y", "verify", "-f", str(self._allowed), "-I", str(position)]
        done = _run([*args, "-n", NAMESPACE, "-s", str(sig)], stdin=message)
        return done.returncode == 0


def signing_key(message: str, signature: str) -> str | None:
    """The fingerprint of whichever key made a valid signature over `message` (listed or
    not), or None when it is no valid signature at all."""
    with tempfile.TemporaryDirectory(prefix="chanpub-verify-") as folder:
        sig = Path(folder) / "approval.sig"
        sig.write_text(signature.strip() + "\n", encoding="utf-8")
        done = _run(["-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(sig)], stdin=message)
    if done.returncode != 0:
        return None
    words = [w for w in done.stdout.split() if w.startswith("SHA256:")]
    return words[-1] if words else None
