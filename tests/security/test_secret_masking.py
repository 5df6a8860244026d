"""Secrets stay masked in the hard cases: several `${VARIABLE}`s in one value, a service
that repeats a token where chanpub cuts its reason short, a secret too short to mask, and
retries that a library would like to log on its own."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from faults.fault_server import Fault, FaultServer
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.testing import write_release

USER = "portal-user-Q7wX9kLm"
PASSWORD = "portal-pass-Z3vB8nRt"
TOKEN = "tok3n-VALUE-Hj5Kp2Lr-end"
# The careless service answers "rejected: {path} {Authorization} {body}" and chanpub keeps
# ~200 characters of it: this path puts the token's first characters just before the cut.
LONG_PATH = "/hooks/" + "p" * 165


@pytest.fixture(autouse=True)
def real_http(monkeypatch: pytest.MonkeyPatch) -> None:
    from chanpub import http

    monkeypatch.setattr(http, "transport_factory", lambda: None)  # real HTTP to loopback


@pytest.fixture
def careless() -> Iterator[FaultServer]:
    with FaultServer(echo=400) as server:
        yield server


def office(folder: Path, portal: dict[str, Any]) -> Path:
    """A website and one webhook channel `portal`, with an approved release."""
    channels = {
        "website": {
            "type": "static-site",
            "canonical": True,
            "path": "public",
            "base_url": "https://kominfo.example.go.id/siaran/",
        },
        "portal": {"type": "webhook", **portal},
    }
    (folder / "channels.yaml").write_text(
        yaml.safe_dump({"organisation": "Diskominfo", "channels": channels}), encoding="utf-8"
    )
    write_release(folder / "releases")
    return folder


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, f"{result.stdout}\n{result.stderr}"


def everything_shown(folder: Path) -> list[str]:
    """Every command's output, then every file chanpub wrote (ledger, log, preview)."""
    log = folder / "send.jsonl"
    shown = [
        run("send", "releases/", "--json", "--log-file", str(log))[1],
        run("send", "releases/")[1],
        run("history")[1],
        run("history", "--json")[1],
        run("channels")[1],
        run("channels", "--verify")[1],
        run("check", "releases/release.md")[1],
        run("send", "releases/", "--dry-run", "--json")[1],
        run("preview", "releases/release.md", "--out", "previews")[1],
    ]
    assert list((folder / "previews").glob("*.html")), "the preview page was written"
    written = [p for p in folder.rglob("*") if p.is_file() and p.name != "channels.yaml"]
    assert any(p.name.startswith("ledger.sqlite3") for p in written)
    return shown + [p.read_bytes().decode("utf-8", "replace") for p in written]


def test_every_variable_in_one_value_is_masked(
    tmp_path: Path, careless: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(
        office(
            tmp_path,
            {
                "url": f"{careless.url}/hooks",
                "secret": "${HOOK_SECRET}",
                "headers": {"Authorization": "Basic ${PORTAL_USER}:${PORTAL_PASSWORD}"},
            },
        )
    )
    monkeypatch.setenv("HOOK_SECRET", "hook-secret-Yt6Rw2Qa")
    monkeypatch.setenv("PORTAL_USER", USER)
    monkeypatch.setenv("PORTAL_PASSWORD", PASSWORD)
    shown = everything_shown(tmp_path)
    assert "rejected" in shown[0] and "***" in shown[0]
    for text in shown:
        assert USER not in text
        assert PASSWORD not in text


def test_a_token_cut_short_in_a_reason_shows_none_of_its_characters(
    tmp_path: Path, careless: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(
        office(
            tmp_path,
            {
                "url": f"{careless.url}{LONG_PATH}",
                "secret": "${HOOK_SECRET}",
                "headers": {"Authorization": "Bearer ${PORTAL_TOKEN}"},
            },
        )
    )
    monkeypatch.setenv("HOOK_SECRET", "hook-secret-Yt6Rw2Qa")
    monkeypatch.setenv("PORTAL_TOKEN", TOKEN)
    shown = everything_shown(tmp_path)
    assert f"{LONG_PATH} Bearer" in shown[0], "the reason reaches the token"
    for text in shown:
        assert TOKEN[:6] not in text


def test_a_reason_is_masked_before_it_is_shortened(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from chanpub.errors import remember_secrets
    from chanpub.http import error_for_response

    remember_secrets([TOKEN])
    answer = httpx.Response(
        400,
        json={"error": "x" * 195 + TOKEN + " was not accepted"},
        request=httpx.Request("POST", "https://portal.example/hooks"),
    )
    message = error_for_response(answer, channel="portal").message
    assert TOKEN[:4] not in message
    assert message.endswith("…")


@pytest.mark.parametrize(
    ("channel", "field"),
    [
        (
            {"type": "mastodon", "instance": "https://mastodon.example", "token": "${SHORT}"},
            "token",
        ),
        (
            {
                "type": "webhook",
                "url": "https://portal.example/hooks",
                "secret": "a-long-${SHORT}-around-it",
                "headers": {"Authorization": "Bearer ${SHORT}"},
            },
            "headers.Authorization",
        ),
    ],
    ids=["token", "a-header"],
)
def test_a_secret_shorter_than_8_characters_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, channel: dict[str, Any], field: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHORT", "abc1234")
    (tmp_path / "channels.yaml").write_text(
        yaml.safe_dump({"channels": {"social": channel}}), encoding="utf-8"
    )
    code, shown = run("channels")
    assert code == 2
    assert (
        f"channels.yaml: channels.social.{field}: the value of ${{SHORT}} is shorter "
        "than 8 characters" in " ".join(shown.split())
    )
    assert "abc1234" not in shown


def test_a_short_value_in_an_option_that_is_no_secret_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_USER", "humas")
    monkeypatch.setenv("SMTP_PASSWORD", "a-long-enough-password")
    (tmp_path / "channels.yaml").write_text(
        yaml.safe_dump(
            {
                "channels": {
                    "press": {
                        "type": "email",
                        "transport": "smtp",
                        "host": "smtp.example.go.id",
                        "username": "${SMTP_USER}",
                        "password": "${SMTP_PASSWORD}",
                        "from": "Humas <humas@example.go.id>",
                        "lists": ["redaksi@media.example"],
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    code, shown = run("channels")
    assert code == 0, shown


def test_a_retry_shows_as_one_chanpub_line_and_no_library_log(tmp_path: Path) -> None:
    """Run as cron runs it (no terminal, no test harness catching log records): the
    library's retry log would reach stderr through logging's last-resort handler."""
    with FaultServer() as server:
        office(tmp_path, {"url": f"{server.url}/hooks", "secret": "${HOOK_SECRET}"})
        server.next(Fault.status(503, retry_after="0"))
        command = shutil.which("chanpub")
        assert command, "chanpub is not installed: pip install -e '.[test]'"
        result = subprocess.run(
            [command, "send", "releases/"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "HOOK_SECRET": "hook-secret-Yt6Rw2Qa"},
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert len(server.creates()) == 2, "the 503 was retried once"
    assert "portal  published" in result.stdout
    assert "stamina" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "retrying" in line]
    assert line.startswith("chanpub: ") and "portal" in line
