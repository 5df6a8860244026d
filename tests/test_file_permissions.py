"""Deployment: what chanpub writes for others follows the umask, so a web server running as
another user can serve public/ and the other officers can read the outputs; only the state
directory (ledger, sessions, lock) is private; `approve` keeps the release's mode and owner.

The send runs the installed `chanpub` on a copy of the repository's example office, with a
letter channel added so that every kind of output (page, index, feed, media, e-mail, poster,
thumbnail, share card, share text, letters) is written.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from chanpub.approval import approve
from chanpub.errors import ApprovalError
from chanpub.ledger import Ledger
from chanpub.testing import write_release

REPO = Path(__file__).resolve().parent.parent
OUTPUTS = ("public", "outbox", "posters", "letters")
OFFICER = 4242  # a uid and gid no account on the machine has
NOBODY = 65534


def office(folder: Path) -> Path:
    """The example office (default channels.yaml and examples/) plus a letter channel."""
    shutil.copytree(REPO / "examples", folder / "examples")
    config = yaml.safe_load((REPO / "channels.yaml").read_text(encoding="utf-8"))
    config["channels"]["letters"] = {
        "type": "letter-pdf",
        "out": "letters",
        "letterhead": {"lines": ["PEMERINTAH KOTA CONTOH", "DINAS KOMINFO"]},
        "signatory": {"position": "Kepala Dinas", "name": "Dra. Maria Wenas"},
        "recipients": "examples/media.csv",
    }
    (folder / "channels.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder


def send(folder: Path, umask: int) -> subprocess.CompletedProcess[str]:
    """`chanpub send examples/release.md` as a cron job with this umask would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANPUB_")}
    env.update(CHANPUB_STATE_DIR=str(folder / ".chanpub"), CHANPUB_LANG="en")
    command = shutil.which("chanpub")
    assert command, "chanpub is not installed: pip install -e '.[test]'"
    return subprocess.run(
        [command, "send", "examples/release.md"],
        cwd=folder,
        env=env,
        umask=umask,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def modes(root: Path) -> dict[str, int]:
    """Permission bits of every file and folder under `root`, by relative path."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


@pytest.mark.parametrize("umask", [0o022, 0o027], ids=["umask-0022", "umask-0027"])
def test_every_output_follows_the_umask_and_the_state_stays_private(
    tmp_path: Path, umask: int
) -> None:
    folder = office(tmp_path / "humas")
    result = send(folder, umask)
    assert result.returncode == 0, result.stdout + result.stderr

    for name in OUTPUTS:
        found = modes(folder / name)
        files = [p for p in found if (folder / name / p).is_file()]
        assert len(files) >= 3, (name, found)  # the outputs are really there
        expected = {
            path: (0o777 if (folder / name / path).is_dir() else 0o666) & ~umask for path in found
        }
        assert {p: oct(m) for p, m in found.items()} == {p: oct(m) for p, m in expected.items()}, (
            name
        )

    state = modes(folder / ".chanpub")
    assert "ledger.sqlite3" in state and "send.lock" in state, state
    expected_state = {
        path: 0o700 if (folder / ".chanpub" / path).is_dir() else 0o600 for path in state
    }
    assert {p: oct(m) for p, m in state.items()} == {p: oct(m) for p, m in expected_state.items()}


def test_the_ledger_and_its_wal_files_are_private_while_open(tmp_path: Path) -> None:
    os.umask(previous := os.umask(0o022))  # the usual umask, whatever pytest was given
    try:
        ledger = Ledger(tmp_path / "state" / "ledger.sqlite3")
        ledger.check_writable()
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "state").iterdir()}
        ledger.close()
    finally:
        os.umask(previous)
    assert {name: oct(mode) for name, mode in files.items()} == {
        "ledger.sqlite3": "0o600",
        "ledger.sqlite3-wal": "0o600",
        "ledger.sqlite3-shm": "0o600",
    }
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700


def test_approve_keeps_the_mode_and_the_owner_of_the_release(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "giving a file to another user needs root (as in CI)"
    path = write_release(tmp_path / "releases", approved=False, status="draft")
    os.chown(path, OFFICER, OFFICER)
    path.chmod(0o664)
    approve(path, "Kepala Dinas")
    after = path.stat()
    assert (oct(stat.S_IMODE(after.st_mode)), after.st_uid, after.st_gid) == (
        "0o664",
        OFFICER,
        OFFICER,
    )
    assert "status: approved" in path.read_text(encoding="utf-8")


def as_user(uid: int, groups: list[int], work: Callable[[], object]) -> int:
    """Run `work` in a child process as user `uid` (group `uid`, plus `groups`); its exit
    status. (A new interpreter could not run: this one lives in root's home.)"""
    with warnings.catch_warnings():  # 3.12+ warns when pytest runs other threads; the
        warnings.simplefilter("ignore", DeprecationWarning)  # child takes none of their locks
        pid = os.fork()
    if pid == 0:  # the child: drop root, work, and never return into pytest
        code = 1
        try:
            os.setgroups(groups)
            os.setgid(uid)
            os.setuid(uid)
            work()
            code = 0
        except BaseException:  # reported on stderr, then the child ends
            traceback.print_exc()
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A releases folder as several officers share it: group OFFICER may write (outside
    pytest's private tmp folder, so that another user can reach it)."""
    assert os.geteuid() == 0, "sharing a folder between users needs root (as in CI)"
    folder = Path(tempfile.mkdtemp(prefix="chanpub-shared-"))
    folder.chmod(0o755)
    releases = folder / "releases"
    releases.mkdir()
    os.chown(releases, OFFICER, OFFICER)
    releases.chmod(0o2775)
    yield releases
    shutil.rmtree(folder)


def test_another_officer_approves_a_colleagues_release_and_it_stays_theirs(
    shared_folder: Path,
) -> None:
    """Not root: the new file cannot be given back to its owner, so it is rewritten in place."""
    path = write_release(shared_folder, approved=False, status="draft")
    os.chown(path, OFFICER, OFFICER)
    path.chmod(0o664)
    warm_up = write_release(shared_folder.parent, approved=False, status="draft")
    approve(warm_up, "Sekretaris")  # loads every module before we stop being root
    assert as_user(NOBODY, [OFFICER], lambda: approve(path, "Sekretaris")) == 0
    after = path.stat()
    assert (oct(stat.S_IMODE(after.st_mode)), after.st_uid, after.st_gid) == (
        "0o664",
        OFFICER,
        OFFICER,
    )
    assert 'approved_by: "Sekretaris"' in path.read_text(encoding="utf-8")


def test_an_officer_who_may_not_write_the_release_gets_a_clear_error(shared_folder: Path) -> None:
    path = write_release(shared_folder, approved=False, status="draft")
    os.chown(path, OFFICER, OFFICER)
    path.chmod(0o644)  # only its owner may write it
    before = path.read_bytes()
    warm_up = write_release(shared_folder.parent, approved=False, status="draft")
    approve(warm_up, "Sekretaris")  # loads every module before we stop being root

    def refused() -> None:
        with pytest.raises(ApprovalError) as raised:
            approve(path, "Sekretaris")
        assert str(raised.value).startswith(f"{path}: cannot write the approval (")
        assert "ask the file's owner for write permission" in str(raised.value)

    assert as_user(NOBODY, [NOBODY], refused) == 0
    assert path.read_bytes() == before
