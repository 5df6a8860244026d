"""A communications office in a temporary folder: channels.yaml, approved releases, the
installed `chanpub` command run against it, and what its ledger says afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from chanpub.testing import SECRET_MARKER, write_release

HERE = Path(__file__).parent
# The chanpub under test: a subprocess imports this copy, not whichever one is installed.
SOURCE = Path(__import__("chanpub").__file__).resolve().parents[1]
BASE_URL = "https://kominfo.example.go.id/siaran/"

# One recognisable value per secret variable (each contains the shared marker).
SECRETS = {
    "HOOK_SECRET": f"hook-{SECRET_MARKER}",
    "TG_BOT_TOKEN": f"123456:tg-{SECRET_MARKER}",
    "MASTO_TOKEN": f"masto-{SECRET_MARKER}",
    "SMTP_PASS": f"smtp-{SECRET_MARKER}",
}


def webhook(url: str) -> dict[str, Any]:
    """A webhook channel posting to `url` (idempotent: the receiver dedupes on the key)."""
    return {"type": "webhook", "url": f"{url}/hooks/chanpub", "secret": "${HOOK_SECRET}"}


def telegram(url: str) -> dict[str, Any]:
    """A telegram channel whose Bot API is at `url` (no idempotency, no lookup)."""
    return {
        "type": "telegram",
        "api_base": url,
        "bot_token": "${TG_BOT_TOKEN}",
        "chat_id": "@kominfokota",
    }


def mastodon(url: str) -> dict[str, Any]:
    """A mastodon channel on the instance at `url` (Idempotency-Key and lookup)."""
    return {"type": "mastodon", "instance": url, "token": "${MASTO_TOKEN}"}


def smtp(port: int, lists: list[str]) -> dict[str, Any]:
    """An e-mail channel sending through a plain local relay on `port`."""
    return {
        "type": "email",
        "transport": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "Diskominfo <humas@kominfo.example.go.id>",
        "lists": lists,
    }


def write_office(
    folder: Path,
    channels: Mapping[str, Mapping[str, Any]],
    *,
    releases: int = 1,
    website: bool = True,
) -> Path:
    """channels.yaml (the website as canonical, plus `channels`) and approved releases in
    releases/; returns the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    if website:
        entries["website"] = {
            "type": "static-site",
            "canonical": True,
            "path": "public",
            "base_url": BASE_URL,
        }
    entries.update({name: dict(entry) for name, entry in channels.items()})
    config = folder / "channels.yaml"
    config.write_text(
        yaml.safe_dump(
            {"organisation": "Diskominfo Kota Contoh", "language": "id", "channels": entries}
        ),
        encoding="utf-8",
    )
    for number in range(releases):
        write_release(
            folder / "releases",
            name=f"rilis-{number:04}.md",
            title=f"Siaran Pers Nomor {number} Kota Contoh",
            date="2026-03-0" + str(1 + number % 9),
        )
    return config


def environment(folder: Path, **extra: str) -> dict[str, str]:
    """The environment a cron job would give chanpub, with the state beside the config."""
    # PYTHONPATH stays: with it set to a checkout, the command runs that checkout's code.
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHANPUB_")}
    env.update(SECRETS)
    # Messages in English whatever the config's `language:` (the tests read them).
    env.update(CHANPUB_STATE_DIR=str(folder / ".chanpub"), LANG="C.UTF-8", CHANPUB_LANG="en")
    env.update(PYTHONPATH=os.pathsep.join([str(SOURCE), *_outer_path()]))
    env.update(extra)
    return env


def _outer_path() -> list[str]:
    """The test run's own PYTHONPATH entries (after the chanpub under test)."""
    return [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]


def command() -> list[str]:
    """The installed chanpub command."""
    found = shutil.which("chanpub")
    assert found, "chanpub is not installed: pip install -e '.[test]'"
    return [found]


def chanpub(
    folder: Path, *args: str, timeout: float = 60, under: Sequence[str] = (), **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run `chanpub ARGS` in `folder` the way cron does (no terminal) and wait for it;
    `under` is a command it runs under (strace ...)."""
    return subprocess.run(
        [*under, *command(), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env=environment(folder, **extra),
        timeout=timeout,
        check=False,
    )


def start(folder: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    """Start `chanpub ARGS` in `folder` without waiting."""
    return subprocess.Popen(
        [*command(), *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(folder, **extra),
    )


def with_kill_point(point: str, signal_file: Path, count: int = 1) -> dict[str, str]:
    """Environment that makes chanpub stop at `point` (see killpoints/sitecustomize.py)."""
    return {
        "PYTHONPATH": os.pathsep.join([str(HERE / "killpoints"), str(SOURCE), *_outer_path()]),
        "CHANPUB_KILL_POINT": point,
        "CHANPUB_KILL_COUNT": str(count),
        "CHANPUB_KILL_SIGNAL": str(signal_file),
    }


def kill_when(process: subprocess.Popen[str], ready: Any, timeout: float = 30) -> None:
    """SIGKILL the process once `ready()` is true; fail if it never gets there."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(
                f"chanpub ended ({process.returncode}) before the kill point:\n{out}\n{err}"
            )
        assert time.monotonic() < deadline, "chanpub never reached the kill point"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL


def ledger_rows(folder: Path) -> dict[tuple[str, str], str]:
    """(slug, channel) -> status, read straight from the ledger file."""
    path = folder / ".chanpub" / "ledger.sqlite3"
    if not path.exists():
        return {}
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT slug, channel, status FROM deliveries").fetchall()
    db.close()
    return {(slug, channel): status for slug, channel, status in rows}


def item_rows(folder: Path) -> dict[str, str]:
    """item -> status of every per-item entry (e-mail recipients, thread parts)."""
    path = folder / ".chanpub" / "ledger.sqlite3"
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT item, status FROM items").fetchall()
    db.close()
    return dict(rows)


def integrity(folder: Path) -> str:
    """PRAGMA integrity_check of the ledger."""
    with sqlite3.connect(folder / ".chanpub" / "ledger.sqlite3") as db:
        result = str(db.execute("PRAGMA integrity_check").fetchone()[0])
    db.close()
    return result


def python() -> str:
    """This interpreter (for helper processes)."""
    return sys.executable
