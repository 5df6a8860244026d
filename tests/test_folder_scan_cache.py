"""A cron run re-reads only the release files that changed since the last run, and a
remembered answer never lets an edited release through nor holds back an approved one."""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fake_channels import FakeChannel, fresh_board, make_config
from PIL import Image

from chanpub import actions, file_stats, folder_stats, intake, scan
from chanpub.config import Config
from chanpub.outcomes import RunResult
from chanpub.release import load_release
from chanpub.testing import write_release

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = "2026-03-09T09:00:00+07:00"  # a week after NOW
AFTER_LATER = datetime(2026, 3, 10, tzinfo=UTC)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the release files that a run reads, in order."""
    names: list[str] = []

    def counting(path: Path | str) -> Any:
        names.append(Path(path).name)
        return load_release(path)

    monkeypatch.setattr(intake, "load_release", counting)
    return names


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs happen a minute after the files were written (their timestamps have settled)."""
    monkeypatch.setattr(scan, "clock", lambda: time.time_ns() + 60_000_000_000)


def statuses(result: RunResult) -> dict[str, str]:
    """file name -> 'invalid' or the channel statuses joined."""
    return {
        Path(r.path).name: "invalid" if r.error else ",".join(o.status for o in r.outcomes)
        for r in result.releases
    }


def send(folder: Path, config: Config, now: datetime = NOW) -> RunResult:
    return actions.send([folder], config, now=now)


def rewrite_keeping_stat(path: Path, text: str) -> None:
    """Replace a file's text with another of the same size, and put its mtime back: only
    its ctime tells (an editor saving twice within one timestamp tick looks like this)."""
    before = path.stat()
    data = text.encode()
    assert len(data) <= before.st_size
    path.write_bytes(data + b" " * (before.st_size - len(data)))  # trailing blanks: no change
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns


@pytest.fixture
def config(tmp_path: Path) -> Config:
    fresh_board()
    return make_config(tmp_path, {"social": (FakeChannel, {})})


def test_unchanged_drafts_and_scheduled_releases_are_not_read_again(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = tmp_path / "releases"
    write_release(folder, title="Rapat Koordinasi", name="draft.md", approved=False)
    write_release(folder, title="Jadwal Vaksinasi", name="later.md", publish_at=LATER)
    write_release(folder, title="Layanan Keliling", name="due.md")
    first = send(folder, config)
    reads.clear()
    second = send(folder, config)
    assert reads == ["due.md"]  # what may go out is always read in full
    assert statuses(first) == {"draft.md": "skipped", "due.md": "published", "later.md": "skipped"}
    assert statuses(second) == {**statuses(first), "due.md": "already-published"}
    reasons = [o.error for r in second.releases for o in r.outcomes if o.status == "skipped"]
    assert reasons == ["draft: not approved yet", f"scheduled for {LATER}"]


def test_a_draft_approved_with_the_same_size_and_mtime_goes_out(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = tmp_path / "releases"
    approved = write_release(tmp_path / "elsewhere", name="draft.md").read_text()
    draft = write_release(folder, name="draft.md", approved=False)
    draft.write_text(draft.read_text().ljust(len(approved)))  # trailing blanks: no change
    assert statuses(send(folder, config)) == {"draft.md": "skipped"}
    reads.clear()
    rewrite_keeping_stat(draft, approved)
    assert statuses(send(folder, config)) == {"draft.md": "published"}
    assert reads == ["draft.md"]
    assert len(FakeChannel.board.posts) == 1


def test_a_file_written_moments_ago_is_read_again_on_the_next_run(
    tmp_path: Path, config: Config, reads: list[str]
) -> None:
    # On a filesystem whose timestamps tick once a second or two, an edit made in the same
    # tick as the last read leaves size, mtime and ctime as they were: such a young file is
    # not remembered.
    folder = tmp_path / "releases"
    draft = write_release(folder, name="draft.md", approved=False)
    send(folder, config)
    reads.clear()
    assert statuses(send(folder, config)) == {"draft.md": "skipped"}
    assert reads == ["draft.md"]
    draft.write_text(write_release(tmp_path / "elsewhere", name="draft.md").read_text())
    assert statuses(send(folder, config)) == {"draft.md": "published"}


def test_a_scheduled_release_edited_after_approval_is_refused_when_its_time_comes(
    tmp_path: Path, config: Config, settled: None
) -> None:
    folder = tmp_path / "releases"
    later = write_release(folder, name="later.md", publish_at=LATER)
    assert statuses(send(folder, config)) == {"later.md": "skipped"}
    rewrite_keeping_stat(later, later.read_text().replace("Senin", "Rabu "))
    result = send(folder, config, now=AFTER_LATER)
    assert statuses(result) == {"later.md": "invalid"}
    assert "changed after it was approved" in (result.releases[0].error or "")
    assert FakeChannel.board.posts == []


def test_a_remembered_scheduled_release_goes_out_when_its_time_comes(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = tmp_path / "releases"
    write_release(folder, name="later.md", publish_at=LATER)
    send(folder, config)
    assert statuses(send(folder, config, now=AFTER_LATER)) == {"later.md": "published"}


def picture(path: Path, colour: str) -> None:
    Image.new("RGB", (64, 48), colour).save(path, "PNG")


def test_a_changed_picture_is_noticed(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = tmp_path / "releases"
    folder.mkdir()
    picture(folder / "taman.png", "green")
    write_release(folder, name="later.md", publish_at=LATER, image="taman.png", image_alt="Taman")
    assert statuses(send(folder, config)) == {"later.md": "skipped"}
    reads.clear()
    send(folder, config)
    assert reads == []
    (folder / "taman.png").write_bytes(b"not a picture any more")
    result = send(folder, config)
    assert reads == ["later.md"]
    assert statuses(result) == {"later.md": "invalid"}  # the approval covered the old picture


def test_a_new_file_with_a_remembered_slug_holds_both_back(
    tmp_path: Path, config: Config, settled: None
) -> None:
    folder = tmp_path / "releases"
    write_release(folder, title="Rapat Koordinasi", name="a.md", approved=False)
    send(folder, config)
    write_release(folder, title="Rapat Koordinasi", name="b.md")
    assert statuses(send(folder, config)) == {"a.md": "invalid", "b.md": "invalid"}
    assert FakeChannel.board.posts == []


def test_a_changed_configuration_reads_every_file_again(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = tmp_path / "releases"
    write_release(folder, name="draft.md", approved=False, channels=["social"])
    send(folder, config)
    reads.clear()
    other = make_config(tmp_path, {"website": (FakeChannel, {})})
    result = send(folder, other)
    assert reads == ["draft.md"]
    assert statuses(result) == {"draft.md": "invalid"}  # 'social' is no channel any more


def test_a_deleted_file_is_no_longer_reported(
    tmp_path: Path, config: Config, settled: None
) -> None:
    folder = tmp_path / "releases"
    draft = write_release(folder, name="draft.md", approved=False)
    write_release(folder, name="other.md", title="Jadwal Vaksinasi", approved=False)
    send(folder, config)
    draft.unlink()
    assert statuses(send(folder, config)) == {"other.md": "skipped"}


def test_a_dry_run_uses_what_the_last_run_remembered(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = tmp_path / "releases"
    write_release(folder, name="draft.md", approved=False)
    send(folder, config)
    reads.clear()
    result = actions.send([folder], config, dry_run=True, now=NOW)
    assert reads == []
    assert statuses(result) == {"draft.md": "skipped"}


def draft_due_and_scheduled(folder: Path) -> Path:
    """a.md a draft, b.md approved and due, c.md approved and scheduled for LATER."""
    write_release(folder, name="a.md", title="Rapat Koordinasi", approved=False)
    write_release(folder, name="b.md", title="Layanan Keliling")
    write_release(folder, name="c.md", title="Jadwal Vaksinasi", publish_at=LATER)
    return folder


def test_remembered_and_read_releases_are_reported_in_file_order(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = draft_due_and_scheduled(tmp_path / "releases")
    send(folder, config)
    write_release(folder, name="ab.md", title="Peresmian Taman", approved=False)
    reads.clear()
    result = send(folder, config)
    assert reads == ["ab.md", "b.md"]  # the new file and the one that went out
    assert [Path(r.path).name for r in result.releases] == ["a.md", "ab.md", "b.md", "c.md"]


def test_a_remembered_release_keeps_its_warnings(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = tmp_path / "releases"
    write_release(folder, name="draft.md", approved=False, colour="merah")
    first = send(folder, config)
    reads.clear()
    second = send(folder, config)
    assert reads == []
    assert any("colour" in warning for warning in first.warnings)
    assert second.warnings == first.warnings


def test_a_folder_named_like_a_release_is_left_alone(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = tmp_path / "releases"
    write_release(folder, name="draft.md", approved=False)
    (folder / "arsip.md").mkdir()
    assert statuses(send(folder, config)) == {"draft.md": "skipped"}
    reads.clear()
    assert statuses(send(folder, config)) == {"draft.md": "skipped"}
    assert reads == []


@pytest.mark.parametrize("inode", [2_261_976, 2**64 - 5])  # the second: some network filesystems
def test_a_folder_memory_reads_back_as_it_was_kept(inode: int) -> None:
    memory = scan.Memory()
    kind = (True, LATER, ("social",))
    memory.add("later.md", [864, -1_000_000_000, inode, 1796401793102571909, 65024], "s", "T", kind)
    again = scan.Memory.load(json.loads(json.dumps(memory.dump("fingerprint"))))
    assert again == memory
    assert again.kind(0) == kind
    assert not again.stats_known  # the usual run compares their digest alone
    assert again.load_stats(json.loads(json.dumps(memory.dump_stats())))
    assert again.stat(0) == memory.stat(0)


def test_a_folder_memory_refuses_the_stats_of_another() -> None:
    """A run stopped between writing a memory's stats and the memory itself leaves the
    stats of one and the memory of another: its files are read again, not compared."""
    stat = [864, 1_000_000_000, 2_261_976, 1796401793102571909, 65024]
    first, second = scan.Memory(), scan.Memory()
    first.add("a.md", stat, "a", "A", None)
    second.add("a.md", [865, *stat[1:]], "a", "A", None)
    again = scan.Memory.load(json.loads(json.dumps(second.dump("fingerprint"))))
    assert not again.load_stats(first.dump_stats())
    assert not again.stats_known


def test_an_unchanged_folder_reads_only_what_may_go_out_and_keeps_its_memory_as_it_is(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = draft_due_and_scheduled(tmp_path / "releases")
    (folder / "d.md").write_text("---\ntitle: [unclosed\n---\nIsi.\n", encoding="utf-8")
    send(folder, config)
    send(folder, config)
    written = stored_rows(config)
    reads.clear()
    result = send(folder, config)
    assert reads == ["b.md", "d.md"]  # the published one and the broken one, every run
    assert [Path(r.path).name for r in result.releases] == ["a.md", "b.md", "c.md", "d.md"]
    assert statuses(result) == {
        "a.md": "skipped",
        "b.md": "already-published",
        "c.md": "skipped",
        "d.md": "invalid",
    }
    assert stored_rows(config) == written  # nothing new: the folder's row is not rewritten


def stored_rows(config: Config) -> list[tuple[str, str]]:
    """The folder-scan rows of the state database, with the time each was written."""
    import sqlite3

    database = sqlite3.connect(config.state_dir / "ledger.sqlite3")
    try:
        query = "SELECT key, updated_at FROM store WHERE namespace=? ORDER BY key"
        return database.execute(query, (scan.NAMESPACE,)).fetchall()
    finally:
        database.close()


def test_a_run_over_the_current_folder_remembers_too(
    tmp_path: Path, config: Config, reads: list[str], settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "releases"
    write_release(folder, name="draft.md", approved=False)
    monkeypatch.chdir(folder)
    first = send(Path("."), config)
    reads.clear()
    second = send(Path("."), config)
    assert reads == []
    assert [r.path for r in second.releases] == [r.path for r in first.releases] == ["draft.md"]


def test_a_scheduled_release_in_an_unchanged_folder_goes_out_when_its_time_comes(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = tmp_path / "releases"
    write_release(folder, name="a.md", title="Rapat Koordinasi", approved=False)
    write_release(folder, name="later.md", publish_at=LATER)
    send(folder, config)
    send(folder, config)
    reads.clear()
    result = send(folder, config, now=AFTER_LATER)
    assert reads == ["later.md"]
    assert statuses(result) == {"a.md": "skipped", "later.md": "published"}
    reads.clear()
    assert statuses(send(folder, config, now=AFTER_LATER)) == {
        "a.md": "skipped",
        "later.md": "already-published",
    }
    assert reads == ["later.md"]  # published: no longer "not now", so read every run


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the folders that a run lists."""
    names: list[str] = []

    def counting(folder: Path, *, files_only: bool = True) -> list[str]:
        names.append(folder.name)
        return intake.folder_names(folder, files_only=files_only)

    monkeypatch.setattr(scan, "folder_names", counting)
    return names


def test_a_folder_whose_own_stat_is_unchanged_is_not_listed_again(
    tmp_path: Path, config: Config, reads: list[str], listings: list[str], settled: None
) -> None:
    folder = draft_due_and_scheduled(tmp_path / "releases")
    send(folder, config)
    listings.clear()
    assert statuses(send(folder, config))["a.md"] == "skipped"
    assert listings == []
    write_release(folder, name="d.md", title="Peresmian Taman")  # changes the folder's mtime
    reads.clear()
    assert statuses(send(folder, config))["d.md"] == "published"
    assert listings == ["releases"]
    assert reads == ["b.md", "d.md"]


def test_a_release_linked_before_its_file_exists_goes_out_once_the_file_is_there(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    # The link is listed but is no file yet; the folder itself does not change when the
    # file it points to appears elsewhere, so a folder holding such an entry is listed.
    folder = draft_due_and_scheduled(tmp_path / "releases")
    (folder / "linked.md").symlink_to(tmp_path / "elsewhere" / "linked.md")
    send(folder, config)
    assert "linked.md" not in statuses(send(folder, config))
    write_release(tmp_path / "elsewhere", name="linked.md", title="Peresmian Taman")
    assert statuses(send(folder, config))["linked.md"] == "published"


def test_the_file_stats_are_read_only_for_a_folder_where_something_changed(
    tmp_path: Path,
    config: Config,
    reads: list[str],
    settled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = draft_due_and_scheduled(tmp_path / "releases")
    send(folder, config)
    loaded: list[bool] = []
    load_stats = scan.Memory.load_stats

    def recorded(memory: scan.Memory, value: Any) -> bool:
        loaded.append(load_stats(memory, value))
        return loaded[-1]

    monkeypatch.setattr(scan.Memory, "load_stats", recorded)
    send(folder, config)
    assert loaded == []
    write_release(folder, name="a.md", title="Rapat Koordinasi")  # approved, in place
    reads.clear()
    assert statuses(send(folder, config))["a.md"] == "published"
    assert loaded == [True]
    assert reads == ["a.md", "b.md"]


def test_hosts_sharing_a_folder_and_a_ledger_each_keep_a_memory_of_their_own(
    tmp_path: Path,
    config: Config,
    reads: list[str],
    settled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two hosts with cron on one releases folder (a network mount) and one ledger (in
    # PostgreSQL): each sees the files with the device number of its own mount.
    folder = draft_due_and_scheduled(tmp_path / "releases")

    def on_host(name: str, device: int) -> None:
        def stat_key(st: os.stat_result) -> tuple[int, ...]:
            return st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, device

        monkeypatch.setattr(scan.socket, "gethostname", lambda: name)
        monkeypatch.setattr(folder_stats, "stat_key", stat_key)
        monkeypatch.setattr(file_stats, "stat_key", stat_key)

    for host, device in [("kominfo-1", 41), ("kominfo-2", 42)]:
        on_host(host, device)
        send(folder, config)
    for host, device in [("kominfo-1", 41), ("kominfo-2", 42)]:
        on_host(host, device)
        reads.clear()
        assert statuses(send(folder, config))["a.md"] == "skipped"
        assert reads == ["b.md"]  # the due one alone: its memory was not overwritten


def test_a_memory_kept_before_rows_were_per_host_is_dropped_when_the_folder_is_remembered(
    tmp_path: Path, config: Config, reads: list[str], settled: None
) -> None:
    folder = draft_due_and_scheduled(tmp_path / "releases")
    send(folder, config)  # creates the ledger
    ledger = actions.open_ledger(config)
    assert ledger is not None
    try:  # what chanpub kept before FORMAT 5: a row under the folder alone, and their list
        old = ledger.store(scan.NAMESPACE)
        old.put(str(folder.resolve()), {"fingerprint": "format 3", "names": ["a.md"]})
        old.put("", [str(folder.resolve())])
    finally:
        ledger.close()
    write_release(folder, name="d.md", title="Peresmian Taman", approved=False)
    send(folder, config)
    keys = [key for key, _written in stored_rows(config)]
    assert keys == [f"{socket.gethostname()}:{folder.resolve()}"]
