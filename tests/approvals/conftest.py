"""Throw-away SSH keys and a throw-away ssh-agent for the signed-approval tests."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def make_key(tmp_path: Path) -> Callable[[str], tuple[Path, str]]:
    """make_key(name) -> (private key file, public key line): a fresh ed25519 key."""

    def make(name: str) -> tuple[Path, str]:
        path = tmp_path / "keys" / name
        path.parent.mkdir(exist_ok=True)
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                f"{name}@kominfo",
                "-f",
                str(path),
            ],
            check=True,
        )
        return path, path.with_suffix(".pub").read_text(encoding="utf-8").strip()

    return make


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """A private ssh-agent for this test; agent(key) adds a key to it (ssh-add)."""
    socket = tmp_path / "agent.sock"
    started = subprocess.run(
        ["ssh-agent", "-s", "-a", str(socket)], capture_output=True, text=True, check=True
    )
    pid = int(started.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))

    def add(key: Path) -> None:
        subprocess.run(["ssh-add", "-q", str(key)], check=True, capture_output=True)

    yield add
    os.kill(pid, signal.SIGTERM)


@pytest.fixture(autouse=True)
def _no_outside_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own ssh-agent (if any) plays no part unless a test starts one."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test writes its channels.yaml and release files in its own folder."""
    monkeypatch.chdir(tmp_path)
