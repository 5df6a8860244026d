"""Approving from a phone, in a real browser: Debian's chromium (Playwright) on a 390x844
viewport with a virtual authenticator (Chrome DevTools Protocol, WebAuthn domain) enrolls
a passkey from a one-time link, signs in, approves a release, and `chanpub send`
publishes it. `pytest tests/test_phone_approval_browser.py --update-golden` also
refreshes docs/approve-phone.png, the screenshot the README shows."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.config import load_config
from chanpub.errors import ExitCode
from chanpub.release import load_release
from chanpub.testing import write_release

ROOT = Path(__file__).parent.parent
CHROMIUM = Path("/usr/bin/chromium")  # installed by .ci/setup.d/50-chromium.sh
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
TITLE = "Klarifikasi Hoaks Bantuan Tunai"
OFFICE = (
    "organisation: Diskominfo Kota Contoh\n"
    "approvers:\n  - name: Kepala Dinas\n    passkey: true\n"
    "channels:\n  website:\n    type: static-site\n    canonical: true\n"
    "    path: public\n    base_url: https://kominfo.example.go.id/siaran/\n"
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An office folder with one approver who uses a passkey and one draft clarification."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "channels.yaml").write_text(OFFICE, encoding="utf-8")
    write_release(
        tmp_path / "releases",
        title=TITLE,
        approved=False,
        kind="clarification",
        claim="Pesan berantai: bantuan tunai Rp5 juta cukup dengan mengisi tautan.",
        verdict="HOAKS",
    )
    return tmp_path


@pytest.fixture
def server(office: Path) -> Iterator[str]:
    """`chanpub approvals serve` on a free loopback port (uvicorn, in a thread)."""
    import uvicorn

    from chanpub.web.app import create_app
    from chanpub.web.pages import Pages

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    origin = f"http://localhost:{port}"
    config = load_config(office / "channels.yaml")
    pages = Pages(config, (office / "releases",), origin)
    served = uvicorn.Server(
        uvicorn.Config(
            create_app(config, pages=pages), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    while not served.started:
        time.sleep(0.05)
    yield origin
    served.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A phone-sized page in chromium with a platform passkey authenticator (fingerprint
    always accepted)."""
    assert CHROMIUM.exists(), "chromium is missing: run bash .ci/setup.d/50-chromium.sh"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("profile"),
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport=PHONE,
            locale="id-ID",
        )
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        yield page
        context.close()


def enroll_and_sign_in(page: Any, origin: str) -> None:
    """The approver opens the enrollment link, creates a passkey, then signs in with it."""
    code, link, err = run("approvers", "enroll", "Kepala Dinas", "--origin", origin)
    assert code == 0, err
    assert re.fullmatch(rf"{origin}/enroll/[\w-]+\n", link)
    page.goto(link.strip())
    page.click('[data-action="enroll"]')
    page.wait_for_selector('[data-result="ok"]')
    page.goto(f"{origin}/login")
    page.click('[data-action="login"]')
    page.wait_for_url(f"{origin}/")


def test_enroll_sign_in_approve_then_send_publishes(
    phone: Any, server: str, office: Path, update_golden: bool
) -> None:
    release = office / "releases" / "release.md"
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    enroll_and_sign_in(phone, server)

    phone.click(f"a:has-text('{TITLE}')")
    shown = phone.get_attribute("[data-sha256]", "data-sha256")
    assert shown == load_release(release).content_sha256
    assert phone.locator("section.card[data-channel='website']").count() == 1
    screenshot = office / "approve-phone.png"
    phone.screenshot(path=str(screenshot))
    if update_golden:
        shutil.copy(screenshot, ROOT / "docs" / "approve-phone.png")
    assert (ROOT / "docs" / "approve-phone.png").is_file(), "run this test with --update-golden"

    phone.click('[data-action="approve"]')
    phone.wait_for_selector('[data-result="ok"]')
    assert errors == []
    assert 'kind: "webauthn"' in release.read_text(encoding="utf-8")

    code, _out, err = run("send", "releases")
    assert (code, err) == (ExitCode.OK, "")
    assert (office / "public" / "klarifikasi-hoaks-bantuan-tunai.html").is_file()
    _code, history, _err = run("history")
    assert re.search(r"signed-in\s+Kepala Dinas \(127\.0\.0\.1\)", history), history
    assert re.search(
        r"approved klarifikasi-hoaks-bantuan-tunai Kepala Dinas \(127\.0\.0\.1\)", history
    )


def test_a_release_changed_after_it_was_shown_is_not_approved(
    phone: Any, server: str, office: Path
) -> None:
    release = office / "releases" / "release.md"
    enroll_and_sign_in(phone, server)
    phone.click(f"a:has-text('{TITLE}')")
    release.write_text(
        release.read_text(encoding="utf-8").replace("Senin", "Selasa"), encoding="utf-8"
    )

    phone.click('[data-action="approve"]')
    refused = phone.wait_for_selector('[data-result="refused"]')
    assert "changed after it was shown" in refused.inner_text()
    phone.wait_for_function(
        "hash => document.querySelector('[data-sha256]').dataset.sha256 === hash",
        arg=load_release(release).content_sha256,
    )  # the page reloaded with the new content
    assert "approvals:" not in release.read_text(encoding="utf-8")
    assert run("send", "releases")[0] == ExitCode.OK  # a draft: nothing goes out
    assert not (office / "public" / "klarifikasi-hoaks-bantuan-tunai.html").exists()


def test_nothing_is_shown_without_signing_in(phone: Any, server: str) -> None:
    phone.goto(f"{server}/")
    assert phone.url == f"{server}/login"
    assert TITLE not in phone.content()
    phone.goto(f"{server}/release/klarifikasi-hoaks-bantuan-tunai")
    assert phone.url == f"{server}/login"
