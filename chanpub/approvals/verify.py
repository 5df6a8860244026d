"""Whether a release's approvals hold under channels.yaml's `approvers:`: every record
verifies against a listed key over the current content, and enough different approvers
signed. Each refusal says which of these failed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chanpub.approvals.record import Approval, Approvers, Checked, Signer, read_approvals
from chanpub.i18n import _
from chanpub.release import Release


@dataclass(frozen=True)
class Verdict:
    """The approvals that verified, and every reason the release may not go out."""

    signers: tuple[Signer, ...]
    problems: tuple[str, ...]

    @property
    def problem(self) -> str | None:
        """All problems, one per line, or None when the approval holds."""
        return "\n".join(self.problems) or None


# One verifier per kind: (records of that kind, approvers, current content hash, release)
# -> one Checked per record. WebAuthn plugs in here beside SSH.
Verifier = Callable[[Sequence[Approval], Approvers, str, Release], list[Checked]]


def _verify_ssh(
    records: Sequence[Approval], approvers: Approvers, current: str, release: Release
) -> list[Checked]:
    from chanpub.approvals.ssh import Checker

    people = approvers.people
    results: list[Checked] = []
    with Checker([a.ssh_key or "" for a in people]) as checker:
        for record in records:
            signature = record.proof.get("signature", "")
            position = checker.signer(signature) if signature else None
            if position is None:
                results.append(Checked(None, _unlisted(record, signature, release, approvers)))
                continue
            person = people[position]
            signer = Signer(person.name, "ssh", person.fingerprint or "", record.at)
            if not checker.verifies(record.sha256, signature, position):
                results.append(Checked(None, _forged(record, release)))
            elif record.sha256 != current:
                results.append(Checked(None, _older(record, signer, current, release)))
            elif approvers.named(record.by) is not person:
                results.append(Checked(None, _wrong_name(record, signer, release)))
            else:
                results.append(Checked(signer))
    return results


def _verify_webauthn(
    records: Sequence[Approval], approvers: Approvers, current: str, release: Release
) -> list[Checked]:
    from chanpub.approvals.passkey_check import verify_passkeys

    return verify_passkeys(records, approvers, current, release)


VERIFIERS: Mapping[str, Verifier] = {"ssh": _verify_ssh, "webauthn": _verify_webauthn}


def verify_release(release: Release, approvers: Approvers) -> Verdict:
    """Check every approval record of an approved release against the approvers."""
    records, problems = read_approvals(release.front_matter)
    problems = [f"{release.path}: {p}" for p in problems]
    if not records and not problems:
        problems.append(_hand_written(release, approvers))
    signers: dict[str, Signer] = {}  # by approver: the same key twice counts once
    for kind in dict.fromkeys(r.kind for r in records):
        verifier = VERIFIERS.get(kind)
        of_kind = [r for r in records if r.kind == kind]
        if verifier is None:
            problems.append(
                _(
                    "{path}: approvals: kind '{kind}' cannot be checked by this chanpub: "
                    "approve again with an SSH key (chanpub approve {path} --by NAME --key PATH)"
                ).format(path=release.path, kind=kind)
            )
            continue
        for checked in verifier(of_kind, approvers, release.content_sha256, release):
            if checked.problem:
                problems.append(checked.problem)
            elif checked.signer is not None:
                signers.setdefault(checked.signer.name, checked.signer)
    if not problems and len(signers) < approvers.required:
        problems.append(_too_few(release, approvers, list(signers.values())))
    return Verdict(tuple(signers.values()), tuple(problems))


def _hand_written(release: Release, approvers: Approvers) -> str:
    return _(
        "{path}: approved_by: '{by}' is a hand-written approval, not signed: approvals must "
        "be signed by an approver listed in {config}: chanpub approve {path} --by NAME"
    ).format(path=release.path, by=release.approved_by or "?", config=approvers.config_path)


def _unlisted(record: Approval, signature: str, release: Release, approvers: Approvers) -> str:
    from chanpub.approvals.ssh import signing_key

    key = signing_key(record.sha256, signature) if signature else None
    if key is None:
        return _(
            "{path}: approvals: the signature given for '{by}' is no valid SSH signature "
            "(forged or damaged): approve again (chanpub approve {path} --by NAME)"
        ).format(path=release.path, by=record.by)
    return _(
        "{path}: approvals: '{by}' signed with key {fingerprint}, which is not listed under "
        "approvers: in {config}: ask a listed approver to approve it, or list that key"
    ).format(path=release.path, by=record.by, fingerprint=key, config=approvers.config_path)


def _forged(record: Approval, release: Release) -> str:
    return _(
        "{path}: approvals: the signature for '{by}' does not match its sha256 (forged or "
        "damaged): approve again (chanpub approve {path} --by NAME)"
    ).format(path=release.path, by=record.by)


def _older(record: Approval, signer: Signer, current: str, release: Release) -> str:
    return _(
        "{path}: approvals: {signer} signed older content (sha256 {old}), not this content "
        "(sha256 {new}): check the changes and approve again (chanpub approve {path} --by NAME)"
    ).format(path=release.path, signer=signer.describe(), old=record.sha256[:16], new=current[:16])


def _wrong_name(record: Approval, signer: Signer, release: Release) -> str:
    return _(
        "{path}: approvals: says '{by}' but is signed with the key of {signer}: approve again "
        "under your own name (chanpub approve {path} --by NAME)"
    ).format(path=release.path, by=record.by, signer=signer.describe())


def _too_few(release: Release, approvers: Approvers, signers: list[Signer]) -> str:
    return _(
        "{path}: approvals: needs {need} approvals from different approvers, has {have} "
        "({names}): ask another approver listed in {config} to run chanpub approve {path} "
        "--by NAME"
    ).format(
        path=release.path,
        need=approvers.required,
        have=len(signers),
        names=", ".join(s.describe() for s in signers) or "-",
        config=approvers.config_path,
    )


def signed_by(signers: Sequence[Signer]) -> str:
    """'signed by A (ssh SHA256:...), B (...)': for check, preview and history."""
    return _("signed by {signers}").format(signers=", ".join(s.describe() for s in signers))


def approval_note(release: Release, approvers: Approvers | None, config: Path) -> str:
    """What `check` says about the approval: plainly that it is not signed (no approvers
    configured), who signed it, or why the signatures do not hold."""
    if approvers is None:
        return _(
            "approvals are not signed: anyone who can edit the release file can mark it "
            "approved; list approvers with their SSH keys under 'approvers:' in {config} "
            "to require signed approvals"
        ).format(config=config)
    if not release.is_signed_off:
        return _("not approved yet: needs {n} signed approval(s) from the approvers in {config}")\
            .format(n=approvers.required, config=config)  # fmt: skip
    verdict = verify_release(release, approvers)
    return verdict.problem or signed_by(verdict.signers)
