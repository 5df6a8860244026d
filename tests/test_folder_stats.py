"""The stats of a `chanpub send` folder, taken by a second process while chanpub starts
up: the scan uses them exactly where it would have taken the same stats itself, and an
edit is never missed for more than the one run that had started before it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_channels import FakeChannel, fresh_board, make_config
from test_folder_scan_cache import NOW, rewrite_keeping_stat, statuses

from chanpub import actions, folder_stats, scan
from chanpub.config import Config
from chanpub.testing import write_release


@pytest.fixture(autouse=True)
def no_child_yet(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts its own child; one left unanswered is collected at the end."""
    monkeypatch.setattr(folder_stats, "_child", None)
    yield
    if folder_stats._child is not None:
        folder_stats.stats_for("", [])


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs happen a minute after the files were written (their timestamps have settled)."""
    monkeypatch.setattr(scan, "clock", lambda: time.time_ns() + 60_000_000_000)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    fresh_board()
    return make_config(tmp_path, {"social": (FakeChannel, {})})


def a_folder(folder: Path) -> Path:
    write_release(folder, title="Rapat Koordinasi", name="a.md", approved=False)
    write_release(folder, title="Jadwal Vaksinasi", name="b.md", approved=False)
    (folder / "README.txt").write_text("not a release", encoding="utf-8")
    (folder / ".hidden.md").write_text("not listed", encoding="utf-8")
    return folder


def test_the_child_lists_and_stats_a_folder_as_the_scan_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = a_folder(tmp_path / "releases")
    monkeypatch.chdir(tmp_path)
    folder_stats.start(["send", "releases"])  # relative, as cron's command line gives it
    names = folder_stats.release_names(folder)
    assert names == ["a.md", "b.md"]
    expected = folder_stats.packed_stats([str(folder / name) for name in names])
    assert expected is not None
    assert folder_stats.stats_for(str(folder.resolve()), names) == expected


def test_the_answer_is_only_for_the_folder_and_the_names_the_scan_compares(
    tmp_path: Path,
) -> None:
    folder = a_folder(tmp_path / "releases")
    other = a_folder(tmp_path / "other")
    folder_stats.start(["send", str(folder)])
    assert folder_stats.stats_for(str(other.resolve()), ["a.md", "b.md"]) is None
    assert folder_stats.stats_for(str(folder.resolve()), ["a.md", "b.md"]) is not None
    assert folder_stats.stats_for(str(folder.resolve()), ["a.md", "b.md"]) is None  # once


def test_an_answer_for_other_names_is_not_used(tmp_path: Path) -> None:
    folder = a_folder(tmp_path / "releases")
    folder_stats.start(["send", str(folder)])
    assert folder_stats.stats_for(str(folder.resolve()), ["a.md"]) is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["send", "releases"], ["releases"]),
        (["--lang", "id", "send", "releases", "--json"], ["releases"]),
        (["send", "releases", "--config", "office", "--log-file", "office"], ["releases"]),
        (["send", "releases/a.md"], []),  # a file: it is read in full anyway
        (["send", "missing"], []),
        (["send", "releases", "--help"], []),
        (["history", "releases"], []),
        (["approve", "releases"], []),
    ],
)
def test_only_the_folders_given_to_send_get_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: list[str]
) -> None:
    a_folder(tmp_path / "releases")
    (tmp_path / "office").mkdir()
    monkeypatch.chdir(tmp_path)
    assert folder_stats._folders(argv) == expected
    folder_stats.start(argv)
    assert (folder_stats._child is not None) == bool(expected)


def test_on_one_core_the_scan_takes_the_stats_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A container limited to one CPU: the child would only add its start-up to the run.
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    folder_stats.start(["send", str(a_folder(tmp_path / "releases"))])
    assert folder_stats._child is None


@pytest.mark.parametrize(
    "child",
    [
        "import sys; sys.exit(3)",  # a child that fails
        "import os, sys; sys.stdout.buffer.write(b'{'); sys.stdout.flush(); os._exit(0)",  # a cut answer
        "import sys; sys.stdout.buffer.write(b'N')",  # an answer that is no folder's
    ],
)
def test_without_a_whole_answer_the_scan_stats_the_files_itself(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch, child: str
) -> None:
    folder = a_folder(tmp_path / "releases")
    monkeypatch.setattr(folder_stats, "CHILD", child)
    folder_stats.start(["send", str(folder)])
    assert folder_stats.stats_for(str(folder.resolve()), ["a.md", "b.md"]) is None
    assert statuses(actions.send([folder], config, now=NOW)) == {
        "a.md": "skipped",
        "b.md": "skipped",
    }


def test_with_the_childs_answer_the_scan_takes_no_stat_of_its_own(
    tmp_path: Path, config: Config, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = a_folder(tmp_path / "releases")
    actions.send([folder], config, now=NOW)  # remembers both drafts
    folder_stats.start(["send", str(folder)])
    taken: list[str] = []
    monkeypatch.setattr(folder_stats, "packed_stats", lambda paths: taken.extend(paths))
    result = actions.send([folder], config, now=NOW)
    assert statuses(result) == {"a.md": "skipped", "b.md": "skipped"}
    assert taken == []


def remembered_draft(tmp_path: Path, config: Config) -> tuple[Path, str]:
    """A folder whose draft a.md a run has remembered, and the approved text of that
    draft, of the same size (the draft is padded with trailing blanks: no change)."""
    folder = a_folder(tmp_path / "releases")
    approved = write_release(tmp_path / "elsewhere", name="a.md").read_text()
    draft = folder / "a.md"
    draft.write_text(draft.read_text().ljust(len(approved)))
    actions.send([folder], config, now=NOW)
    return folder, approved


def test_a_draft_approved_in_place_goes_out_with_the_childs_answer(
    tmp_path: Path, config: Config, settled: None
) -> None:
    folder, approved = remembered_draft(tmp_path, config)
    rewrite_keeping_stat(folder / "a.md", approved)  # same size and mtime: only ctime tells
    folder_stats.start(["send", str(folder)])
    assert statuses(actions.send([folder], config, now=NOW)) == {
        "a.md": "published",
        "b.md": "skipped",
    }
    assert len(FakeChannel.board.posts) == 1


def test_an_edit_after_the_childs_stat_goes_out_with_the_next_run(
    tmp_path: Path, config: Config, settled: None
) -> None:
    # The child's stat stands for the moment it was taken, as the scan's own would: an
    # approval saved after it (here: before this run's scan) waits for the next cron run.
    folder, approved = remembered_draft(tmp_path, config)
    folder_stats.start(["send", str(folder)])
    folder_stats.stats_for("", [])  # the child has answered
    rewrite_keeping_stat(folder / "a.md", approved)
    assert statuses(actions.send([folder], config, now=NOW))["a.md"] == "skipped"
    assert statuses(actions.send([folder], config, now=NOW))["a.md"] == "published"


def test_where_no_program_may_be_started_the_scan_stats_the_files_itself(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: object, **kwargs: object) -> int:
        raise PermissionError(1, "Operation not permitted")  # seccomp, AppArmor

    monkeypatch.setattr(os, "posix_spawn", refused)
    descriptors = set(os.listdir("/proc/self/fd"))
    folder = a_folder(tmp_path / "releases")
    folder_stats.start(["send", str(folder)])
    assert folder_stats._child is None
    assert set(os.listdir("/proc/self/fd")) == descriptors  # the pipe closed again
    assert statuses(actions.send([folder], config, now=NOW)) == {
        "a.md": "skipped",
        "b.md": "skipped",
    }


def test_modules_in_the_folder_cron_runs_in_are_not_the_childs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = a_folder(tmp_path / "releases")
    (tmp_path / "operator.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    folder_stats.start(["send", "releases"])
    assert folder_stats.stats_for(str(folder.resolve()), ["a.md", "b.md"]) is not None


def test_the_child_never_writes_to_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(folder_stats, "CHILD", "raise SystemExit('a child that breaks')")
    folder_stats.start(["send", str(a_folder(tmp_path / "releases"))])
    assert folder_stats.stats_for(str((tmp_path / "releases").resolve()), ["a.md"]) is None
    assert capfd.readouterr() == ("", "")


def test_the_child_is_waited_for_and_leaves_no_descriptor_open(tmp_path: Path) -> None:
    before = set(os.listdir("/proc/self/fd"))
    folder_stats.start(["send", str(a_folder(tmp_path / "releases"))])
    child = folder_stats._child
    assert child is not None
    folder_stats.stats_for("", [])
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)  # reaped: no zombie left behind
    assert set(os.listdir("/proc/self/fd")) == before
