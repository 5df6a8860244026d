"""The SQLite ledger: marks, outcomes, items and sequences survive a reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from chanpub.errors import StateError
from chanpub.ledger import Ledger


def test_a_delivery_goes_from_in_progress_to_published(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.begin(
        slug="s", content_hash="h", channel="web", channel_type="static-site", title="T", key="k1"
    )
    assert ledger.get("s", "h", "web").status == "in_progress"  # type: ignore[union-attr]
    ledger.finish(
        slug="s",
        content_hash="h",
        channel="web",
        status="published",
        remote_id="42",
        url="https://x/s",
        details={"sent": 3},
    )
    ledger.close()
    reopened = Ledger(tmp_path / "l.sqlite3")
    row = reopened.get("s", "h", "web")
    assert row is not None
    assert (row.status, row.remote_id, row.url, row.details) == (
        "published",
        "42",
        "https://x/s",
        {"sent": 3},
    )
    assert [d.channel for d in reopened.published_versions("s", "web")] == ["web"]
    assert reopened.integrity_ok()


def test_items_record_each_recipient(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    journal = ledger.journal("key")
    journal.begin("a@x")
    journal.sent("a@x", "<id@x>")
    journal.failed("b@x", "550 no such user")
    journal.failed("c@x", "451 try later", permanent=False)
    assert journal.status("a@x") == "sent"
    assert journal.status("z@x") is None
    assert journal.counts() == {"sent": 1, "failed": 1, "deferred": 1}
    assert ledger.failed_items("key") == [("b@x", "550 no such user"), ("c@x", "451 try later")]


def test_sequences_never_repeat(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    numbers = [ledger.next("letters", "2026") for _ in range(3)]
    ledger.close()
    assert numbers == [1, 2, 3]
    assert Ledger(tmp_path / "l.sqlite3").next("letters", "2026") == 4
    assert Ledger(tmp_path / "l.sqlite3").next("letters", "2027") == 1


def test_resolving_a_stuck_mark(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.begin(
        slug="s", content_hash="h", channel="tg", channel_type="telegram", title="T", key="k"
    )
    assert ledger.resolve("s", "tg", published=True, url="https://t.me/c/1") == 1
    assert ledger.get("s", "h", "tg").status == "published"  # type: ignore[union-attr]
    assert ledger.resolve("s", "tg", published=True, url=None) == 0


def test_an_unusable_state_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the state directory should be")
    with pytest.raises(StateError, match=r"cannot use the ledger .*set CHANPUB_STATE_DIR"):
        Ledger(blocker / "l.sqlite3")


def test_a_read_only_ledger_fails_before_anything_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    Ledger(path).close()
    import sqlite3

    readonly = Ledger.__new__(Ledger)
    readonly.path = path
    readonly._db = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    import threading

    readonly._lock = threading.Lock()
    with pytest.raises(StateError, match=r"cannot write the ledger .*disk space and permissions"):
        readonly.check_writable()
