"""The ledger, on SQLite and on PostgreSQL: marks, outcomes, items and sequences survive a
reopen. Every test taking `ledger_at` runs once per backend."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from chanpub.errors import StateError
from chanpub.ledger import Ledger
from chanpub.ledger.sqlite import SqliteBackend


def test_a_delivery_goes_from_in_progress_to_published(ledger_at: Path | str) -> None:
    ledger = Ledger(ledger_at)
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
    reopened = Ledger(ledger_at)
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


def test_items_record_each_recipient(ledger_at: Path | str) -> None:
    ledger = Ledger(ledger_at)
    journal = ledger.journal("key")
    journal.begin("a@x")
    journal.sent("a@x", "<id@x>")
    journal.failed("b@x", "550 no such user")
    journal.failed("c@x", "451 try later", permanent=False)
    assert journal.status("a@x") == "sent"
    assert journal.status("z@x") is None
    assert journal.counts() == {"sent": 1, "failed": 1, "deferred": 1}
    assert ledger.failed_items("key") == [("b@x", "550 no such user"), ("c@x", "451 try later")]


def test_sequences_never_repeat(ledger_at: Path | str) -> None:
    ledger = Ledger(ledger_at)
    numbers = [ledger.next("letters", "2026") for _ in range(3)]
    ledger.close()
    assert numbers == [1, 2, 3]
    assert Ledger(ledger_at).next("letters", "2026") == 4
    assert Ledger(ledger_at).next("letters", "2027") == 1


def test_hosts_drawing_numbers_at_the_same_moment_never_share_one(
    ledger_at: Path | str,
) -> None:
    # Four connections (as four hosts' workers numbering letters of one list's parts)
    # draw from one sequence at once: the database hands each number out once.
    ledgers = [Ledger(ledger_at) for _ in range(4)]
    start = threading.Barrier(len(ledgers))
    drawn: list[list[int]] = [[] for _ in ledgers]

    def draw(index: int) -> None:
        start.wait()
        drawn[index].extend(ledgers[index].next("letter-pdf:letters", "2026") for _ in range(50))

    threads = [threading.Thread(target=draw, args=(n,)) for n in range(len(ledgers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ledger in ledgers:
        ledger.close()
    assert all(numbers == sorted(numbers) for numbers in drawn)
    assert sorted(n for numbers in drawn for n in numbers) == list(range(1, 201))


def test_resolving_a_stuck_mark(ledger_at: Path | str) -> None:
    ledger = Ledger(ledger_at)
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
    readonly = Ledger(path, backend=SqliteBackend(path, read_only=True))
    with pytest.raises(StateError, match=r"cannot write the ledger .*disk space and permissions"):
        readonly.check_writable()


OLD_DELIVERIES = """CREATE TABLE deliveries (slug TEXT NOT NULL, content_hash TEXT NOT NULL,
    channel TEXT NOT NULL, channel_type TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
    delivery_key TEXT NOT NULL, status TEXT NOT NULL, remote_id TEXT, url TEXT, error TEXT,
    details TEXT NOT NULL DEFAULT '{}', attempts INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL, finished_at TEXT, PRIMARY KEY (slug, content_hash, channel))"""


def _make_old_ledger(where: Path | str) -> None:
    """A ledger as the first chanpub wrote it: no `source` column."""
    if isinstance(where, Path):
        import sqlite3

        with sqlite3.connect(where) as db:
            db.execute(OLD_DELIVERIES)
        return
    import psycopg

    with psycopg.connect(where, autocommit=True) as db:
        db.execute(OLD_DELIVERIES)


def test_an_older_ledger_gets_the_added_columns_on_both_backends(ledger_at: Path | str) -> None:
    _make_old_ledger(ledger_at)
    ledger = Ledger(ledger_at)
    ledger.begin(
        slug="s", content_hash="h", channel="web", channel_type="static-site", title="T",
        key="k", source="/releases/s.md",
    )  # fmt: skip
    assert ledger.published_sources("s") == set()
    ledger.finish(slug="s", content_hash="h", channel="web", status="published")
    assert ledger.published_sources("s") == {"/releases/s.md"}


def test_two_hosts_see_one_postgres_ledger(postgres_url: str) -> None:
    first, second = Ledger(postgres_url), Ledger(postgres_url)
    first.begin(
        slug="s", content_hash="h", channel="tg", channel_type="telegram", title="T", key="k"
    )
    assert second.get("s", "h", "tg").status == "in_progress"  # type: ignore[union-attr]
    assert [first.next("letters", "2026"), second.next("letters", "2026")] == [1, 2]


def test_an_unreachable_database_is_a_clear_error_with_the_password_masked() -> None:
    url = "postgresql://chanpub:s3cret-Passw0rd@127.0.0.1:1/chanpub"
    with pytest.raises(StateError) as caught:
        Ledger(url)
    message = caught.value.message
    assert "s3cret-Passw0rd" not in message
    assert "postgresql://chanpub:***@127.0.0.1:1/chanpub" in message
    assert "check that PostgreSQL is running" in message


def test_a_recipients_mark_is_one_statement_to_postgres(postgres_url: str, tmp_path: Path) -> None:
    # Two marks per e-mail recipient: each is one statement (its own transaction in
    # autocommit), not BEGIN, the statement and COMMIT, three round trips to the server.
    ledger = Ledger(postgres_url)
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as file:
        ledger.backend.db.pgconn.trace(file.fileno())  # type: ignore[attr-defined]
        journal = ledger.journal("key")
        journal.begin("a@x")
        journal.sent("a@x", "<a@x>")
        ledger.backend.db.pgconn.untrace()  # type: ignore[attr-defined]
    sent = [line.split("\t") for line in trace.read_text().splitlines()]
    queries = [fields[3] for fields in sent if len(fields) > 3 and fields[1] == "F"]

    assert "Query" not in queries, "no BEGIN/COMMIT"
    assert queries.count("Sync") == 2 + 2  # and, once per session, preparing each statement
    assert ledger.item_status("key", "a@x") == "sent"
    ledger.close()


def test_a_recipients_mark_binds_a_prepared_statement_from_the_first_on(
    postgres_url: str, tmp_path: Path
) -> None:
    # The statements (the mark, the outcome) are parsed by the server once per connection;
    # every later one only sends its values (what psycopg's own execute spends per call, about 40 µs of
    # Python, counts twice per recipient on a list of thousands).
    ledger = Ledger(postgres_url)
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as file:
        ledger.backend.db.pgconn.trace(file.fileno())  # type: ignore[attr-defined]
        journal = ledger.journal("key")
        for address in ("a@x", "b@x", "c@x"):
            journal.begin(address)
            journal.sent(address, f"<{address}>")
        ledger.backend.db.pgconn.untrace()  # type: ignore[attr-defined]
    sent = [line.split("\t") for line in trace.read_text().splitlines()]
    messages = [fields[3] for fields in sent if len(fields) > 3 and fields[1] == "F"]

    assert messages.count("Parse") == 2
    assert messages.count("Bind") == 6
    assert ledger.item_states("key") == {"a@x": "sent", "b@x": "sent", "c@x": "sent"}
    ledger.close()


def test_a_failing_mark_says_the_database_is_lost(postgres_url: str) -> None:
    ledger = Ledger(postgres_url)
    ledger.journal("key").begin("a@x")
    ledger.backend.db.execute("ALTER TABLE items ADD CONSTRAINT short CHECK (length(item) < 5)")
    with pytest.raises(StateError, match="lost the ledger database"):
        ledger.journal("key").begin("toolong@x")
    ledger.close()


def test_an_outcome_after_the_mark_updates_the_row_the_mark_made(
    postgres_url: str, tmp_path: Path
) -> None:
    # The mark inserts the recipient's row; the outcome only changes it, and a plain
    # UPDATE costs the server less than an upsert that runs into its own row.
    ledger = Ledger(postgres_url)
    ledger.journal("key").begin("a@x")
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as file:
        ledger.backend.db.pgconn.trace(file.fileno())  # type: ignore[attr-defined]
        ledger.journal("key").sent("a@x", "<a@x>")
        ledger.backend.db.pgconn.untrace()  # type: ignore[attr-defined]
    parsed = [line for line in trace.read_text().splitlines() if "\tParse\t" in line]

    assert len(parsed) == 1 and "UPDATE items" in parsed[0]
    assert ledger.item_status("key", "a@x") == "sent"
    ledger.close()


def test_an_outcome_without_a_mark_is_still_recorded(ledger_at: Path | str) -> None:
    # A delivery receipt (WhatsApp's webhook) may name a message no mark of ours made.
    ledger = Ledger(ledger_at)
    ledger.set_item("key", "6281234567890", "delivered", remote_id="wamid.1")
    assert ledger.item_status("key", "6281234567890") == "delivered"
    assert ledger.item_remote_id("key", "6281234567890") == "wamid.1"
    ledger.close()


def test_versions_published_within_one_second_keep_their_order(ledger_at: Path | str) -> None:
    # A correction and a retraction sent moments apart: the retraction must follow the
    # correction, whatever order their content hashes sort in.
    ledger = Ledger(ledger_at)
    for content_hash in ("zz-first", "aa-second"):
        key = f"k-{content_hash}"
        ledger.begin(
            slug="s",
            content_hash=content_hash,
            channel="letters",
            channel_type="letter-pdf",
            title="T",
            key=key,
        )
        ledger.finish(slug="s", content_hash=content_hash, channel="letters", status="published")

    versions = [d.content_hash for d in ledger.published_versions("s", "letters")]
    assert versions == ["zz-first", "aa-second"]
    ledger.close()
