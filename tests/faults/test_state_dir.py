"""A state directory chanpub cannot write (read-only, full, or not a directory at all) gives
one clear error and exit 2 before anything is published anywhere.

As root, chmod does not stop writes, so the read-only and full cases run chanpub in its own
mount namespace (`unshare -m`) over a tiny tmpfs that is remounted read-only or filled up;
the mount disappears with the process.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chanpub.ledger import Ledger

from .fault_server import FaultServer
from .office import chanpub, command, environment, webhook, write_office


@pytest.fixture
def service() -> Iterator[FaultServer]:
    with FaultServer() as running_service:
        yield running_service


def send_on_tmpfs(folder: Path, state: Path, prepare: str) -> subprocess.CompletedProcess[str]:
    """Mount a 64 KiB tmpfs on `state` in a private mount namespace, run `prepare` (shell)
    there, then `chanpub send releases/` with that state directory."""
    unshare = shutil.which("unshare")
    assert unshare, "unshare (util-linux) is needed for these tests: apt-get install util-linux"
    state.mkdir(parents=True, exist_ok=True)
    flags = "-m" if os.geteuid() == 0 else "-rm"  # -r: a user namespace where we may mount
    chanpub_command = " ".join(shlex.quote(part) for part in [*command(), "send", "releases/"])
    script = (
        f"set -e; mount -t tmpfs -o size=64k tmpfs {shlex.quote(str(state))}; "
        f"{prepare}; exec {chanpub_command}"
    )
    env = environment(folder, CHANPUB_STATE_DIR=str(state), STATE=str(state))
    return subprocess.run(
        [unshare, flags, "sh", "-c", script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_nothing_published(
    folder: Path, service: FaultServer, result: subprocess.CompletedProcess[str], expected: str
) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("chanpub: error: ") and expected in lines[0], lines
    assert result.stdout == ""
    assert not (folder / "public").exists(), "the website was written"
    assert service.attempts == [], "a service was called"


@pytest.fixture
def office(tmp_path: Path, service: FaultServer) -> Path:
    folder = tmp_path / "humas"
    write_office(folder, {"portal": webhook(service.url)})
    return folder


@pytest.fixture
def earlier_ledger(tmp_path: Path) -> Path:
    """A ledger as an earlier run leaves it."""
    path = tmp_path / "seed" / "ledger.sqlite3"
    Ledger(path).close()
    return path


def test_a_state_directory_below_a_file_is_refused(office: Path, service: FaultServer) -> None:
    (office / "not-a-folder").write_text("", encoding="utf-8")
    result = chanpub(
        office, "send", "releases/", CHANPUB_STATE_DIR=str(office / "not-a-folder" / "state")
    )
    assert_nothing_published(office, service, result, "cannot create the state directory")
    assert "CHANPUB_STATE_DIR" in result.stderr


def test_a_read_only_state_directory_is_refused(office: Path, service: FaultServer) -> None:
    result = send_on_tmpfs(office, office / "state", 'mount -o remount,ro "$STATE"')
    assert_nothing_published(office, service, result, "Read-only file system")


def test_a_read_only_state_directory_with_a_ledger_is_refused(
    office: Path,
    service: FaultServer,
    earlier_ledger: Path,
) -> None:
    result = send_on_tmpfs(
        office, office / "state", f'cp {earlier_ledger} "$STATE"/; mount -o remount,ro "$STATE"'
    )
    assert_nothing_published(office, service, result, "Read-only file system")


def test_a_full_state_directory_is_refused(office: Path, service: FaultServer) -> None:
    result = send_on_tmpfs(
        office, office / "state", 'dd if=/dev/zero of="$STATE/filler" bs=4k 2>/dev/null || true'
    )
    assert_nothing_published(office, service, result, "disk is full")
    assert "check free disk space" in result.stderr


def test_a_full_disk_under_an_existing_ledger_is_refused(
    office: Path,
    service: FaultServer,
    earlier_ledger: Path,
) -> None:
    result = send_on_tmpfs(
        office,
        office / "state",
        f'cp {earlier_ledger} "$STATE"/; '
        'dd if=/dev/zero of="$STATE/filler" bs=4k 2>/dev/null || true',
    )
    assert_nothing_published(office, service, result, "cannot use the ledger")
    assert "check free disk space" in result.stderr  # disk I/O error on a full tmpfs
