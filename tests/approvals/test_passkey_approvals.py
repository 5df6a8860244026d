"""Passkey approvals at `send`: an approval the server accepted publishes; copied,
replayed or altered assertions, revoked passkeys and counters that went backwards are
refused (exit 2, nothing sent) with a message that says which."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chanpub.approval import approve
from chanpub.approvals.passkey_check import Assertion, b64url, unb64url
from chanpub.approvals.passkeys import PasskeyStore, now_text
from chanpub.approvals.record import Approval, approvals_yaml
from chanpub.approvals.sign import ContentChanged, approve_passkey
from chanpub.cli import app
from chanpub.config import load_config
from chanpub.errors import ApprovalError, ExitCode
from chanpub.release import load_release
from chanpub.testing import write_release

from .softkey import SoftPasskey, challenge_for

PAGE = Path("public/pemkot-buka-layanan-adminduk-keliling.html")
CONFIG = (
    "organisation: Diskominfo Kota Contoh\n"
    "approvers:\n  - name: Kepala Dinas\n    passkey: true\n  - name: Sekretaris Dinas\n    passkey: true\n"
    "channels:\n  website:\n    type: static-site\n    canonical: true\n"
    "    path: public\n    base_url: https://kominfo.example.go.id/siaran/\n"
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path: Path) -> PasskeyStore:
    (tmp_path / "channels.yaml").write_text(CONFIG, encoding="utf-8")
    opened = PasskeyStore.at(load_config(tmp_path / "channels.yaml").state_dir)
    yield opened  # type: ignore[misc]
    opened.close()


@pytest.fixture
def phone(store: PasskeyStore) -> SoftPasskey:
    key = SoftPasskey()
    key.enroll(store, "Kepala Dinas")
    return key


def draft(tmp_path: Path, name: str = "siaran", **fields: str) -> Path:
    return write_release(tmp_path / name, approved=False, **fields)


def approve_on_server(path: Path, phone: SoftPasskey, store: PasskeyStore) -> Assertion:
    """What the approval page does when the Approve button is pressed."""
    approvers = load_config(Path("channels.yaml")).approvers
    assert approvers is not None
    assertion = phone.sign(challenge_for(load_release(path).content_sha256))
    approve_passkey(path, assertion, unb64url_challenge(assertion), approvers, store)
    return assertion


def unb64url_challenge(assertion: Assertion) -> bytes:
    return assertion.challenge()


def put_record(path: Path, assertion: Assertion, by: str = "Kepala Dinas") -> None:
    """Write a passkey record into the file by hand, as a forger editing it would."""
    sha = load_release(path).content_sha256
    record = Approval("webauthn", by, now_text(), sha, assertion.proof())
    approve(path, by, extra={"approvals": approvals_yaml([record], "\n")})


def refused(path: Path, words: str) -> None:
    code, _out, err = run("send", str(path))
    assert code == ExitCode.BAD_INPUT, err
    assert words in " ".join(err.split()), err
    assert not PAGE.exists()


def test_an_approval_the_server_accepted_publishes(
    tmp_path: Path, phone: SoftPasskey, store: PasskeyStore
) -> None:
    release = draft(tmp_path)
    approve_on_server(release, phone, store)
    text = release.read_text(encoding="utf-8")
    assert 'kind: "webauthn"' in text and "authenticator_data:" in text and "client_data:" in text
    code, _out, err = run("send", str(release))
    assert (code, err) == (ExitCode.OK, "")
    assert PAGE.is_file()


def test_the_server_refuses_content_that_changed_after_it_was_shown(
    tmp_path: Path, phone: SoftPasskey, store: PasskeyStore
) -> None:
    release = draft(tmp_path)
    shown = challenge_for(load_release(release).content_sha256)
    release.write_text(release.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    approvers = load_config(Path("channels.yaml")).approvers
    assert approvers is not None
    with pytest.raises(ContentChanged, match="changed after it was shown"):
        approve_passkey(release, phone.sign(shown), shown, approvers, store)
    assert "approvals:" not in release.read_text(encoding="utf-8")


def test_the_server_refuses_a_counter_that_went_backwards(
    tmp_path: Path, phone: SoftPasskey, store: PasskeyStore
) -> None:
    first, second = draft(tmp_path, "a"), draft(tmp_path, "b", title="Kedua")
    approve_on_server(first, phone, store)
    approvers = load_config(Path("channels.yaml")).approvers
    assert approvers is not None
    challenge = challenge_for(load_release(second).content_sha256)
    with pytest.raises(ApprovalError, match="sign count"):
        approve_passkey(second, phone.sign(challenge, counter=1), challenge, approvers, store)


def test_an_assertion_copied_onto_other_content_is_refused(
    tmp_path: Path, phone: SoftPasskey, store: PasskeyStore
) -> None:
    approved = draft(tmp_path, "a", title="Klarifikasi hoaks")
    assertion = approve_on_server(approved, phone, store)
    other = draft(tmp_path, "b")
    put_record(other, assertion)
    refused(other, "was made for other content")


def test_an_assertion_over_older_content_is_refused(
    tmp_path: Path, phone: SoftPasskey, store: PasskeyStore
) -> None:
    release = draft(tmp_path)
    approve_on_server(release, phone, store)
    release.write_text(
        release.read_text(encoding="utf-8").replace("Layanan", "Pelayanan", 1), encoding="utf-8"
    )
    refused(release, "was made for other content")


def test_an_assertion_the_server_never_accepted_is_refused(
    tmp_path: Path, phone: SoftPasskey, store: PasskeyStore
) -> None:
    """Signed by the real passkey over the right hash, but not over a one-time challenge
    the server issued: a replay, or made outside the approval page."""
    release = draft(tmp_path)
    put_record(release, phone.sign(challenge_for(load_release(release).content_sha256)))
    refused(release, "was never accepted by the approval server")


def test_an_altered_assertion_is_refused(
    tmp_path: Path, phone: SoftPasskey, store: PasskeyStore
) -> None:
    release = draft(tmp_path)
    assertion = approve_on_server(release, phone, store)
    signature = bytearray(unb64url(assertion.signature))
    signature[-1] ^= 1
    put_record(release, dataclasses.replace(assertion, signature=b64url(bytes(signature))))
    refused(release, "does not verify (altered or forged")


def test_a_revoked_passkey_is_refused(
    tmp_path: Path, phone: SoftPasskey, store: PasskeyStore
) -> None:
    release = draft(tmp_path)
    approve_on_server(release, phone, store)
    code, out, err = run("approvers", "revoke", "Kepala Dinas")
    assert (code, err) == (0, ""), err
    assert "revoked" in out
    refused(release, "was revoked at")


def test_a_counter_that_went_backwards_is_refused(
    tmp_path: Path, phone: SoftPasskey, store: PasskeyStore
) -> None:
    first, second = draft(tmp_path, "a"), draft(tmp_path, "b", title="Kedua")
    approve_on_server(first, phone, store)
    approve_on_server(second, phone, store)  # the counter is now 2
    put_record(second, phone.sign(challenge_for(load_release(second).content_sha256), counter=1))
    refused(second, "signed with counter 1, not above 2")


def test_a_passkey_not_enrolled_here_is_refused(tmp_path: Path, store: PasskeyStore) -> None:
    release = draft(tmp_path)
    stranger = SoftPasskey()
    put_record(release, stranger.sign(challenge_for(load_release(release).content_sha256)))
    refused(release, "is not enrolled here")


def test_two_approvers_with_passkeys_make_four_eyes(
    tmp_path: Path, phone: SoftPasskey, store: PasskeyStore
) -> None:
    Path("channels.yaml").write_text(
        CONFIG.replace("channels:\n", "require_approvals: 2\nchannels:\n"), encoding="utf-8"
    )
    second = SoftPasskey()
    second.enroll(store, "Sekretaris Dinas")
    release = draft(tmp_path)
    approve_on_server(release, phone, store)
    refused(release, "needs 2 approvals from different approvers, has 1")
    approve_on_server(release, second, store)
    assert run("send", str(release))[0] == ExitCode.OK
    assert PAGE.is_file()
