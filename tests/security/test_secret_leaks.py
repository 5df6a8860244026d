"""Every secret of every channel type set to a recognisable value; every command run,
failures, `--json` and `--log-file` included, against services that repeat what they were
sent in their error messages: no secret shows in stdout, stderr, the log file, the ledger,
or any file chanpub writes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from faults.fault_server import FaultServer
from faults.smtp_relay import Relay, running
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.testing import SECRET_MARKER, write_release

VARIABLES = [
    "MASTODON_TOKEN",
    "BLUESKY_APP_PASSWORD",
    "TELEGRAM_BOT_TOKEN",
    "FB_PAGE_TOKEN",
    "IG_ACCESS_TOKEN",
    "X_API_KEY",
    "X_API_SECRET",
    "X_ACCESS_TOKEN",
    "X_ACCESS_SECRET",
    "WP_APP_PASSWORD",
    "MICROPUB_TOKEN",
    "HOOK_SECRET",
    "PORTAL_TOKEN",
    "SMTP_PASSWORD",
]
SECRETS = {name: f"{SECRET_MARKER}-{name.lower()}" for name in VARIABLES}
SECRETS["TELEGRAM_BOT_TOKEN"] = f"123456:{SECRET_MARKER}-telegram"


def channels(url: str, smtp_port: int) -> dict[str, dict[str, object]]:
    """One channel of every type with a secret, all at the careless service."""
    return {
        "website": {
            "type": "static-site",
            "canonical": True,
            "path": "public",
            "base_url": "https://kominfo.example.go.id/siaran/",
        },
        "mastodon": {"type": "mastodon", "instance": url, "token": "${MASTODON_TOKEN}"},
        "bluesky": {
            "type": "bluesky",
            "service": url,
            "handle": "kominfo.example",
            "app_password": "${BLUESKY_APP_PASSWORD}",
        },
        "telegram": {
            "type": "telegram",
            "api_base": url,
            "bot_token": "${TELEGRAM_BOT_TOKEN}",
            "chat_id": "@kominfokota",
        },
        "facebook": {
            "type": "facebook-page",
            "graph_base": url,
            "page_id": "1234567890",
            "page_token": "${FB_PAGE_TOKEN}",
        },
        "instagram": {
            "type": "instagram",
            "graph_base": url,
            "account_id": "1784",
            "access_token": "${IG_ACCESS_TOKEN}",
        },
        "x": {
            "type": "x",
            "api_base": url,
            "api_key": "${X_API_KEY}",
            "api_secret": "${X_API_SECRET}",
            "access_token": "${X_ACCESS_TOKEN}",
            "access_secret": "${X_ACCESS_SECRET}",
        },
        "wordpress": {
            "type": "wordpress",
            "site": url,
            "username": "humas",
            "app_password": "${WP_APP_PASSWORD}",
        },
        "micropub": {
            "type": "micropub",
            "endpoint": f"{url}/micropub",
            "token": "${MICROPUB_TOKEN}",
        },
        "portal": {
            "type": "webhook",
            "url": f"{url}/hooks",
            "secret": "${HOOK_SECRET}",
            "headers": {"Authorization": "Bearer ${PORTAL_TOKEN}"},
        },
        "press": {
            "type": "email",
            "transport": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "username": "humas",
            "password": "${SMTP_PASSWORD}",
            "from": "Humas <humas@example.go.id>",
            "lists": ["redaksi@media.example"],
        },
    }


@pytest.fixture
def careless() -> Iterator[FaultServer]:
    with FaultServer(echo=400) as server:
        yield server


@pytest.fixture
def relay() -> Iterator[Relay]:
    with running(Relay()) as server:
        yield server


@pytest.fixture
def office(
    tmp_path: Path, careless: FaultServer, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> Path:
    from chanpub import http

    monkeypatch.setattr(http, "transport_factory", lambda: None)  # real HTTP to loopback
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "channels.yaml").write_text(
        yaml.safe_dump(
            {"organisation": "Diskominfo", "channels": channels(careless.url, relay.port)}
        ),
        encoding="utf-8",
    )
    write_release(tmp_path / "releases")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return f"[{' '.join(args)} -> {result.exit_code}]\n{result.stdout}\n{result.stderr}"


def leaks(text: str) -> list[str]:
    """Each secret (or a recognisable piece of one) that shows in `text`."""
    found = [name for name, value in SECRETS.items() if value in text]
    return found + (["a piece of a secret"] if SECRET_MARKER[:10] in text else [])


def test_no_command_shows_a_secret_anywhere(office: Path, careless: FaultServer) -> None:
    log = office / "send.jsonl"
    shown = [
        run("channels"),
        run("channels", "--verify"),
        run("check", "releases/release.md"),
        run("preview", "releases/release.md", "--out", "previews"),
        run("send", "releases/", "--dry-run", "--json"),
        run("send", "releases/", "--json", "--log-file", str(log)),
        run("send", "releases/", "--log-file", str(log)),
        run("--lang", "id", "send", "releases/"),
        run("history"),
        run("history", "--json"),
        run("resolve", "pemkot-buka-layanan-adminduk-keliling", "telegram", "--not-published"),
    ]
    assert careless.attempts, "the services were called (and answered with what they got)"
    assert "failed" in shown[5] and "-> 1]" in shown[5]
    assert list((office / "previews").glob("*.html")), "the preview page was written"
    for output in shown:
        assert leaks(output) == [], output
    assert log.is_file() and leaks(log.read_text(encoding="utf-8")) == []
    written = [p for p in office.rglob("*") if p.is_file() and p.name != "channels.yaml"]
    assert any(p.name.startswith("ledger.sqlite3") for p in written)
    for path in written:
        assert leaks(path.read_bytes().decode("utf-8", "replace")) == [], path


def test_a_secret_written_into_the_config_is_not_repeated(office: Path) -> None:
    config = office / "channels.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["channels"]["mastodon"]["token"] = SECRETS["MASTODON_TOKEN"]  # the mistake
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    for output in (run("channels"), run("send", "releases/"), run("check", "releases/release.md")):
        assert "-> 2]" in output and "channels.mastodon.token" in output
        assert "a secret must not be written in the file" in output
        assert leaks(output) == [], output


def test_reprs_of_the_loaded_config_hold_no_secret(office: Path) -> None:
    from chanpub.config import load_config

    config = load_config(office / "channels.yaml")
    shown = repr(config) + "".join(
        repr(c) + repr(c.options) + str(c.options) for c in config.channels.values()
    )
    assert leaks(shown) == []
    assert all(os.environ[name] == value for name, value in SECRETS.items())
