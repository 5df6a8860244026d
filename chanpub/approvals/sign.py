"""`chanpub approve` when channels.yaml lists approvers: sign the content hash with the
approver's SSH key and add the signature to the release's `approvals:`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from chanpub.approvals.passkey_check import Assertion, unb64url
from chanpub.approvals.passkeys import PasskeyStore
from chanpub.approvals.record import (
    Approval,
    Approver,
    Approvers,
    Signer,
    approvals_yaml,
    read_approvals,
)
from chanpub.errors import ApprovalError
from chanpub.i18n import _
from chanpub.release import Release, load_release, read_text


def approve_signed(
    path: Path, by: str, key: Path | None, approvers: Approvers, now: datetime | None = None
) -> tuple[Release, Signer]:
    """Sign exactly the release's content hash as `by` and record it; other approvers'
    signatures over the same content stay (four eyes), older ones are dropped."""
    approver = _listed(by, approvers)
    release = load_release(path)  # refuses a broken release before signing anything
    signature = _signature(release.content_sha256, approver, key, approvers.config_path)
    at = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    mine = Approval("ssh", approver.name, at, release.content_sha256, {"signature": signature})
    approved = record_approval(path, approver, mine, approvers, now)
    return approved, Signer(approver.name, "ssh", approver.fingerprint or "", at)


def record_approval(
    path: Path, approver: Approver, mine: Approval, approvers: Approvers, now: datetime | None
) -> Release:
    """Write one verified approval record (any kind) into the release, as `chanpub
    approve` does: other approvers' records over the same content stay (four eyes), older
    ones and this approver's earlier one are dropped."""
    from chanpub.approval import approve

    release = load_release(path)
    records, _problems = read_approvals(release.front_matter)
    kept = [
        r
        for r in records
        if r.sha256 == release.content_sha256 and approvers.named(r.by) is not approver
    ]
    text = read_text(path)
    newline = "\r\n" if "\r\n" in text[:200] else "\n"
    names = ", ".join(dict.fromkeys([*(r.by for r in kept), approver.name]))
    return approve(
        path,
        approver.name,
        now=now,
        extra={
            "approved_by": json.dumps(names, ensure_ascii=False),
            "approvals": approvals_yaml([*kept, mine], newline),
        },
    )


def _listed(by: str, approvers: Approvers) -> Approver:
    """The approver named by --by, with an SSH key."""
    approver = approvers.named(by)
    if approver is None:
        raise ApprovalError(
            _("--by {by}: not listed under approvers: in {config}: use one of {names}").format(
                by=by,
                config=approvers.config_path,
                names=", ".join(f'"{a.name}"' for a in approvers.people),
            )
        )
    if approver.ssh_key is None:
        raise ApprovalError(
            _(
                "--by {by}: approves with a passkey, not an SSH key: add 'key:' for them "
                "in {config} to approve from the command line"
            ).format(by=approver.name, config=approvers.config_path)
        )
    return approver


def _signature(message: str, approver: Approver, key: Path | None, config_path: Path) -> str:
    """Sign with --key, else through ssh-agent; then check it is the listed key."""
    from chanpub.approvals.ssh import Checker, agent_keys, sign

    assert approver.ssh_key is not None  # checked by _listed
    if key is not None:
        signature = sign(message, key)
    elif approver.ssh_key in agent_keys():
        signature = sign(message, Path("-"), public_key=approver.ssh_key)
    else:
        raise ApprovalError(
            _(
                "--key: the key listed for {by} ({fingerprint}) is not in ssh-agent: give "
                "your private key file with --key (e.g. --key ~/.ssh/id_ed25519), or add it "
                "with ssh-add"
            ).format(by=approver.name, fingerprint=approver.fingerprint)
        )
    with Checker([approver.ssh_key]) as checker:
        if checker.signer(signature) != 0 or not checker.verifies(message, signature, 0):
            raise ApprovalError(
                _(
                    "--key {key}: is not the key listed for {by} in {config} ({fingerprint}): "
                    "use that key, or list this one under approvers:"
                ).format(
                    key=key,
                    by=approver.name,
                    config=config_path,
                    fingerprint=approver.fingerprint,
                )
            )
    return signature


class ContentChanged(ApprovalError):
    """The release changed between showing it and pressing Approve."""


def approve_passkey(
    path: Path,
    assertion: Assertion,
    challenge: bytes,
    approvers: Approvers,
    store: PasskeyStore,
    now: datetime | None = None,
) -> tuple[Release, Signer]:
    """The approval server's side of the Approve button: the assertion must verify (by
    the `webauthn` library) over `challenge`, the one-time challenge the server issued
    for this release's current content hash; then it is recorded in the release and its
    counter and client data are kept so `send` can tell it from a replay."""
    from chanpub.approvals.passkey_check import HASH_BYTES, Refused, check_signature
    from chanpub.approvals.passkeys import Use, now_text

    credential = store.credential(assertion.credential_id)
    if credential is None or credential.revoked_at:
        raise ApprovalError(
            _("this passkey is not enrolled or was revoked: ask for a new enrollment link")
        )
    approver = approvers.named(credential.name)
    if approver is None or not approver.passkey:
        raise ApprovalError(
            _("{name} is not listed with 'passkey: true' under approvers: in {config}").format(
                name=credential.name, config=approvers.config_path
            )
        )
    release = load_release(path)
    if challenge[:HASH_BYTES].hex() != release.content_sha256:
        raise ContentChanged(
            _("{path}: the release changed after it was shown: read it again").format(path=path)
        )
    try:
        counter = check_signature(assertion, credential, challenge, credential.sign_count)
    except Refused as error:
        raise ApprovalError(
            _("the passkey signature does not verify: {reason}").format(reason=error)
        ) from None
    at = now_text(now)
    store.used(credential, counter, at)
    store.accept(
        unb64url(assertion.client_data),
        Use(credential.id, counter, release.content_sha256, at),
    )
    mine = Approval("webauthn", approver.name, at, release.content_sha256, assertion.proof())
    approved = record_approval(path, approver, mine, approvers, now)
    return approved, Signer(approver.name, "webauthn", credential.key_id, at)
