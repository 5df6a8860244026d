"""`chanpub approvers enroll/list/revoke` and the approval page's guards: one-time
enrollment links, the origin, single-use challenges, and rate-limited sign-in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chanpub.approvals.passkeys import PasskeyStore
from chanpub.cli import app
from chanpub.config import load_config
from chanpub.errors import ExitCode

from .softkey import SoftPasskey

CONFIG = (
    "organisation: Diskominfo Kota Contoh\n"
    "approvals:\n  origin: https://setuju.kominfo.example.go.id\n"
    "approvers:\n  - name: Kepala Dinas\n    passkey: true\n"
    "  - name: Sekretaris Dinas\n"
    "    key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
    "channels: {}\n"
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store() -> PasskeyStore:
    Path("channels.yaml").write_text(CONFIG, encoding="utf-8")
    opened = PasskeyStore.at(load_config(Path("channels.yaml")).state_dir)
    yield opened  # type: ignore[misc]
    opened.close()


def test_enroll_prints_a_one_time_link_on_the_configured_origin(store: PasskeyStore) -> None:
    code, out, err = run("approvers", "enroll", "kepala dinas")
    assert code == 0, err
    match = re.fullmatch(r"https://setuju\.kominfo\.example\.go\.id/enroll/([\w-]{40,})\n", out)
    assert match, out
    token = match.group(1)
    assert (store.enrollment(token) or {}).get("name") == "Kepala Dinas"
    assert store.enrollment(token, now=datetime.now(UTC) + timedelta(minutes=16)) is None
    store.finish_enrollment(token)
    assert store.enrollment(token) is None  # used once


def test_enroll_refuses_an_approver_without_passkey(store: PasskeyStore) -> None:
    code, _out, err = run("approvers", "enroll", "Sekretaris Dinas")
    assert code == ExitCode.BAD_INPUT
    assert "not listed with 'passkey: true'" in err


def test_enroll_refuses_an_origin_on_an_ip_address(store: PasskeyStore) -> None:
    code, _out, err = run(
        "approvers", "enroll", "Kepala Dinas", "--origin", "http://192.168.1.5:8750"
    )
    assert code == ExitCode.BAD_INPUT
    assert "--origin http://192.168.1.5:8750" in err


def test_list_shows_ssh_keys_and_passkeys_and_revoke_marks_them(store: PasskeyStore) -> None:
    phone = SoftPasskey(
        origin="https://setuju.kominfo.example.go.id", rp_id="setuju.kominfo.example.go.id"
    )
    credential = phone.enroll(store, "Kepala Dinas")
    code, out, _err = run("approvers", "list")
    assert code == 0
    assert re.search(r"Sekretaris Dinas\s+ssh\s+SHA256:\S+\s+channels\.yaml", out), out
    assert re.search(rf"Kepala Dinas\s+passkey\s+{credential.key_id}\s+\d{{4}}-", out), out
    code, out, err = run("approvers", "revoke", "Kepala Dinas", credential.key_id)
    assert (code, out, err) == (0, f"Kepala Dinas: {credential.key_id} revoked\n", "")
    assert store.credential(credential.id).revoked_at  # type: ignore[union-attr]
    assert run("approvers", "revoke", "Kepala Dinas")[0] == ExitCode.BAD_INPUT  # none left


def test_a_challenge_is_used_once() -> None:
    from chanpub.web.guard import Challenges

    challenges = Challenges()
    ticket = challenges.issue(b"x" * 48, slug="banjir")
    assert challenges.take(ticket) == (b"x" * 48, {"slug": "banjir"})
    assert challenges.take(ticket) is None


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_sign_in_is_rate_limited_and_logged(store: PasskeyStore) -> None:
    from starlette.testclient import TestClient

    from chanpub.web.app import create_app
    from chanpub.web.pages import Pages

    config = load_config(Path("channels.yaml"))
    origin = "https://setuju.kominfo.example.go.id"
    client = TestClient(create_app(config, pages=Pages(config, (Path("releases"),), origin)))
    answers = [
        client.post("/login/options", headers={"Origin": origin}).status_code for _ in range(11)
    ]
    assert answers == [200] * 10 + [429]
    assert (
        client.post("/login/options", headers={"Origin": "https://evil.example"}).status_code == 403
    )
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert run("history")[0] == 0
    _code, out, _err = run("history")
    assert re.search(r"refused (\S+ )?\? \(testclient\): sign-in rate limit", out), out


def test_the_approval_page_is_not_served_for_a_folder_that_is_not_there(
    store: PasskeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: served.append(args))
    code, out, err = run("approvals", "serve", "rilis/")  # "releases/" mistyped
    assert code == ExitCode.BAD_INPUT, out + err
    assert "rilis: no such file or folder: check the path" in err
    assert served == []  # an empty page would have said nothing waits for approval
