"""Writing output files: modes from the umask (or private), and cleaning up only the
temporary files whose writer is gone."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chanpub.files import remove_stale_temporaries, temporary_name, write_atomically

HOUR = 3600


@pytest.fixture
def umask_0027() -> Iterator[None]:
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_a_file_for_others_follows_the_umask(tmp_path: Path, umask_0027: None) -> None:
    write_atomically(tmp_path / "site" / "index.html", "<h1>Siaran</h1>")
    assert (mode(tmp_path / "site"), mode(tmp_path / "site" / "index.html")) == ("0o750", "0o640")


def test_a_private_file_is_0600_in_a_0700_folder(tmp_path: Path, umask_0027: None) -> None:
    write_atomically(tmp_path / "state" / "session.json", "{}", private=True)
    assert (mode(tmp_path / "state"), mode(tmp_path / "state" / "session.json")) == (
        "0o700",
        "0o600",
    )


def temporary(folder: Path, name: str, *, age: float = 0) -> Path:
    """A file named as chanpub names its temporary files, `age` seconds old."""
    path = folder / name
    path.write_text("half a page", encoding="utf-8")
    then = path.stat().st_mtime - age
    os.utime(path, (then, then))
    return path


def finished_pid() -> int:
    """The pid of a process that has already ended."""
    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(process.stdout)


def test_only_temporary_files_of_writers_that_are_gone_are_removed(tmp_path: Path) -> None:
    killed = temporary(tmp_path, temporary_name("index.html", finished_pid()))
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        concurrent = temporary(tmp_path, temporary_name("index.html", running.pid))
        ours = temporary(tmp_path, temporary_name("index.html", os.getpid()))
        elsewhere = temporary(tmp_path, ".feed.xml.0badf00d-12-0a1b2c3d.chanpub-tmp")
        abandoned_elsewhere = temporary(
            tmp_path, ".feed.xml.0badf00d-13-0a1b2c3d.chanpub-tmp", age=2 * HOUR
        )
        someone_elses = temporary(tmp_path, ".index.html.swp", age=2 * HOUR)
        page = temporary(tmp_path, "index.html", age=2 * HOUR)

        assert remove_stale_temporaries(tmp_path) == 2
    finally:
        running.kill()
        running.wait()
    assert not killed.exists() and not abandoned_elsewhere.exists()
    assert concurrent.exists() and ours.exists() and elsewhere.exists()
    assert someone_elses.exists() and page.exists()


def test_a_folder_that_does_not_exist_has_nothing_to_clean(tmp_path: Path) -> None:
    assert remove_stale_temporaries(tmp_path / "public") == 0


def test_a_long_file_name_still_gets_a_temporary_name_that_fits(tmp_path: Path) -> None:
    name = "wartawan-" + "é" * 112 + "@media.example.eml"  # 251 bytes in UTF-8
    write_atomically(tmp_path / name, "Subject: Siaran Pers\n")
    assert [p.name for p in tmp_path.iterdir()] == [name]
