"""Signed approvals: with approvers in channels.yaml, only SSH signatures by listed keys
over the current content let a release go out; each refusal says why (exit 2)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chanpub.approval import approve
from chanpub.approvals.record import Approval, approvals_yaml, ssh_fingerprint
from chanpub.approvals.ssh import sign
from chanpub.cli import app
from chanpub.errors import ExitCode
from chanpub.release import load_release
from chanpub.testing import write_release

MakeKey = Callable[[str], tuple[Path, str]]
PAGE = Path("public/pemkot-buka-layanan-adminduk-keliling.html")


def office_config(approvers: list[tuple[str, str]], required: int = 1) -> str:
    """channels.yaml with one website and the given (name, public key) approvers."""
    listed = "".join(f'  - name: "{name}"\n    key: {key}\n' for name, key in approvers)
    return (
        "organisation: Diskominfo Kota Contoh\n"
        f"approvers:\n{listed}require_approvals: {required}\n"
        "channels:\n  website:\n    type: static-site\n    canonical: true\n"
        "    path: public\n    base_url: https://kominfo.example.go.id/siaran/\n"
    )


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def kadis(make_key: MakeKey) -> tuple[Path, str]:
    return make_key("kadis")


@pytest.fixture
def sekdis(make_key: MakeKey) -> tuple[Path, str]:
    return make_key("sekdis")


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    return write_release(tmp_path / "releases", approved=False)


def use_config(text: str) -> None:
    Path("channels.yaml").write_text(text, encoding="utf-8")


def add_record(path: Path, record: Approval) -> None:
    """Write an approval record by hand, as someone editing the file would."""
    approve(path, record.by, extra={"approvals": approvals_yaml([record], "\n")})


def test_a_signed_approval_publishes(draft: Path, kadis: tuple[Path, str]) -> None:
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    code, out, err = run("approve", str(draft), "--by", "Kepala Dinas", "--key", str(kadis[0]))
    assert (code, err) == (0, "")
    assert f"signed by Kepala Dinas (ssh {ssh_fingerprint(kadis[1])})" in out
    assert "-----BEGIN SSH SIGNATURE-----" in draft.read_text(encoding="utf-8")
    assert run("send", str(draft))[0] == ExitCode.OK
    assert PAGE.is_file()


def test_a_hand_written_approval_is_refused(tmp_path: Path, kadis: tuple[Path, str]) -> None:
    """The old forgery: status, name and hash written by hand (copied from `preview`)."""
    release = write_release(tmp_path / "releases")  # approved_by/approved_sha256, unsigned
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    code, out, err = run("send", str(release))
    assert code == ExitCode.BAD_INPUT and out == ""
    assert "'Kepala Dinas' is a hand-written approval, not signed" in err
    assert not PAGE.exists()


def test_without_approvers_the_unsigned_approval_still_publishes(draft: Path) -> None:
    use_config(office_config([]).replace("approvers:\nrequire_approvals: 1\n", ""))
    assert run("approve", str(draft), "--by", "Kepala Dinas")[0] == 0
    assert run("send", str(draft))[0] == ExitCode.OK


def test_a_signature_by_an_unlisted_key_is_refused(
    draft: Path, kadis: tuple[Path, str], make_key: MakeKey
) -> None:
    intruder, intruder_public = make_key("intruder")
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    sha = load_release(draft).content_sha256
    add_record(draft, Approval("ssh", "Kepala Dinas", "", sha, {"signature": sign(sha, intruder)}))
    code, _out, err = run("send", str(draft))
    assert code == ExitCode.BAD_INPUT
    assert f"signed with key {ssh_fingerprint(intruder_public)}, which is not listed" in err
    assert not PAGE.exists()


def test_a_signature_over_older_content_is_refused(draft: Path, kadis: tuple[Path, str]) -> None:
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    run("approve", str(draft), "--by", "Kepala Dinas", "--key", str(kadis[0]))
    text = draft.read_text(encoding="utf-8")
    draft.write_text(text.replace("12 kelurahan", "2 kelurahan"), encoding="utf-8")
    code, _out, err = run("send", str(draft))
    assert code == ExitCode.BAD_INPUT
    assert "Kepala Dinas (ssh SHA256:" in err and "signed older content" in err
    assert not PAGE.exists()


def test_a_signature_moved_to_other_content_is_refused(
    draft: Path, kadis: tuple[Path, str]
) -> None:
    """A real signature, with its sha256 edited to match new content: the signature says no."""
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    old = load_release(draft).content_sha256
    signature = sign(old, kadis[0])
    draft.write_text(draft.read_text(encoding="utf-8").replace("12", "99"), encoding="utf-8")
    new = load_release(draft).content_sha256
    add_record(draft, Approval("ssh", "Kepala Dinas", "", new, {"signature": signature}))
    code, _out, err = run("send", str(draft))
    assert code == ExitCode.BAD_INPUT
    assert "the signature for 'Kepala Dinas' does not match its sha256" in err


def test_a_made_up_signature_is_refused(draft: Path, kadis: tuple[Path, str]) -> None:
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    sha = load_release(draft).content_sha256
    fake = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n"
    add_record(draft, Approval("ssh", "Kepala Dinas", "", sha, {"signature": fake}))
    code, _out, err = run("send", str(draft))
    assert code == ExitCode.BAD_INPUT
    assert "is no valid SSH signature (forged or damaged)" in err


def test_two_approvers_publish_only_with_both_signatures(
    draft: Path, kadis: tuple[Path, str], sekdis: tuple[Path, str]
) -> None:
    use_config(office_config([("Kepala Dinas", kadis[1]), ("Sekretaris", sekdis[1])], 2))
    run("approve", str(draft), "--by", "Kepala Dinas", "--key", str(kadis[0]))
    run("approve", str(draft), "--by", "Kepala Dinas", "--key", str(kadis[0]))  # counts once
    code, _out, err = run("send", str(draft))
    assert code == ExitCode.BAD_INPUT
    assert "needs 2 approvals from different approvers, has 1 (Kepala Dinas (ssh SHA256:" in err
    assert not PAGE.exists()
    code, _out, err = run("approve", str(draft), "--by", "Sekretaris", "--key", str(sekdis[0]))
    assert code == 0, err
    release = load_release(draft)
    assert release.approved_by == "Kepala Dinas, Sekretaris"
    assert len(release.front_matter["approvals"]) == 2
    assert run("send", str(draft))[0] == ExitCode.OK
    assert PAGE.is_file()


def test_approving_through_ssh_agent_needs_no_key_file(
    draft: Path, kadis: tuple[Path, str], agent: Callable[[Path], None]
) -> None:
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    code, _out, err = run("approve", str(draft), "--by", "Kepala Dinas")
    assert code == ExitCode.BAD_INPUT and "is not in ssh-agent" in err
    agent(kadis[0])
    kadis[0].unlink()  # only the agent holds the private key now
    code, _out, err = run("approve", str(draft), "--by", "Kepala Dinas")
    assert (code, err) == (0, "")
    assert run("send", str(draft))[0] == ExitCode.OK


def test_approving_with_someone_elses_key_is_refused(
    draft: Path, kadis: tuple[Path, str], sekdis: tuple[Path, str]
) -> None:
    use_config(office_config([("Kepala Dinas", kadis[1]), ("Sekretaris", sekdis[1])]))
    code, _out, err = run("approve", str(draft), "--by", "Kepala Dinas", "--key", str(sekdis[0]))
    assert code == ExitCode.BAD_INPUT
    assert "is not the key listed for Kepala Dinas" in err
    assert load_release(draft).status == "draft"


def test_an_unlisted_name_cannot_approve(draft: Path, kadis: tuple[Path, str]) -> None:
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    code, _out, err = run("approve", str(draft), "--by", "Staf Humas", "--key", str(kadis[0]))
    assert code == ExitCode.BAD_INPUT
    assert (
        '--by Staf Humas: not listed under approvers: in channels.yaml: use one of "Kepala Dinas"'
        in err
    )


def test_the_signature_verifies_with_ssh_keygen_by_hand(
    draft: Path, kadis: tuple[Path, str]
) -> None:
    """What an auditor can do without chanpub: ssh-keygen -Y verify over the content hash."""
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    run("approve", str(draft), "--by", "Kepala Dinas", "--key", str(kadis[0]))
    record = load_release(draft).front_matter["approvals"][0]
    Path("allowed").write_text(f"kadis {kadis[1]}\n", encoding="utf-8")
    Path("approval.sig").write_text(record["signature"], encoding="utf-8")
    done = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            "allowed",
            "-I",
            "kadis",
            "-n",
            "chanpub-approval",
            "-s",
            "approval.sig",
        ],
        input=load_release(draft).content_sha256,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_check_says_plainly_when_approvals_are_not_signed(tmp_path: Path) -> None:
    release = write_release(tmp_path / "releases")
    use_config(office_config([]).replace("approvers:\nrequire_approvals: 1\n", ""))
    code, out, _err = run("check", str(release))
    assert code == 0
    assert "approvals are not signed" in " ".join(out.split())


def test_history_and_json_show_who_signed_with_the_fingerprint(
    draft: Path, kadis: tuple[Path, str]
) -> None:
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    run("approve", str(draft), "--by", "Kepala Dinas", "--key", str(kadis[0]))
    run("send", str(draft))
    slug = load_release(draft).slug
    code, out, _err = run("history", slug)
    assert code == 0
    assert f"signed by Kepala Dinas (ssh {ssh_fingerprint(kadis[1])})" in " ".join(out.split())
    signed = json.loads(run("history", slug, "--json")[1])["approvals"]
    assert signed[0]["by"] == "Kepala Dinas"
    assert signed[0]["fingerprint"] == ssh_fingerprint(kadis[1])


@pytest.mark.parametrize(
    ("approvers", "message"),
    [
        (
            "approvers:\n  - name: A\n    key: ssh-ed25519 notbase64!\n",
            "approvers[0]: key: the key's second word is not base64",
        ),
        ("approvers:\n  - name: A\n", "approvers[0]: 'A' has no 'key:'"),
        (
            "approvers:\n  - name: A\n    key: {k}\nrequire_approvals: 2\n",
            "require_approvals: 2 approvals needed but only 1 approver(s) listed",
        ),
        ("require_approvals: 2\n", "require_approvals: needs approvers"),
        (
            "approvers:\n  - name: A\n    key: {k}\n  - name: a\n    key: {k}\n",
            "approvers: 'a' is listed twice",
        ),
    ],
)
def test_broken_approvers_are_config_errors(
    draft: Path, kadis: tuple[Path, str], approvers: str, message: str
) -> None:
    use_config(
        "channels:\n  website:\n    type: static-site\n    path: public\n"
        + approvers.format(k=kadis[1])
    )
    code, _out, err = run("send", str(draft))
    assert code == ExitCode.BAD_INPUT
    assert message in " ".join(err.split())


def test_the_preview_page_shows_who_signed(draft: Path, kadis: tuple[Path, str]) -> None:
    from chanpub.config import load_config
    from chanpub.preview import build_preview

    use_config(office_config([("Kepala Dinas", kadis[1])]))
    run("approve", str(draft), "--by", "Kepala Dinas", "--key", str(kadis[0]))
    page = build_preview(draft, load_config(Path("channels.yaml")))
    assert (page.state, page.state_level) == (
        f"signed by Kepala Dinas (ssh {ssh_fingerprint(kadis[1])})",
        "ok",
    )


def test_the_preview_page_flags_a_hand_written_approval(
    tmp_path: Path, kadis: tuple[Path, str]
) -> None:
    from chanpub.config import load_config
    from chanpub.preview import build_preview

    release = write_release(tmp_path / "releases")
    use_config(office_config([("Kepala Dinas", kadis[1])]))
    page = build_preview(release, load_config(Path("channels.yaml")))
    assert page.state_level == "error"
    assert any("hand-written approval" in flag.text for flag in page.flags)
