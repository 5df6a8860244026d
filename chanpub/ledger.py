"""The SQLite ledger: what went where, so nothing is posted twice or silently lost.

Dispatch writes an in-progress mark (with the delivery key) before each remote call and
the outcome after it, each in its own committed transaction; a mark that is still there on
the next run means a run stopped between the call and its record.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chanpub.contract import Status
from chanpub.errors import StateError
from chanpub.i18n import _

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    slug TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    channel TEXT NOT NULL,
    channel_type TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    delivery_key TEXT NOT NULL,
    status TEXT NOT NULL,
    remote_id TEXT,
    url TEXT,
    error TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (slug, content_hash, channel)
);
CREATE INDEX IF NOT EXISTS deliveries_by_time ON deliveries (started_at);
CREATE TABLE IF NOT EXISTS items (
    delivery_key TEXT NOT NULL,
    item TEXT NOT NULL,
    status TEXT NOT NULL,
    remote_id TEXT,
    error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (delivery_key, item)
);
CREATE TABLE IF NOT EXISTS sequences (
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (name, scope)
);
"""

# Columns added after the first release of the ledger: a ledger file written by an older
# chanpub gets them (empty) when it is opened.
ADDED_COLUMNS = {
    "source": "TEXT",  # the release file a delivery was made from (resolved path)
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Delivery:
    """One row of the ledger: a release version on one channel."""

    slug: str
    content_hash: str
    channel: str
    channel_type: str
    title: str
    key: str
    status: str
    remote_id: str | None
    url: str | None
    error: str | None
    details: Mapping[str, Any]
    attempts: int
    started_at: str
    finished_at: str | None
    source: str | None = None  # the release file; None for rows older than the column


class Ledger:
    """The ledger file in the state directory; safe to share between adapter threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=30.0, check_same_thread=False, isolation_level=None
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process (not power loss) at a
            # fraction of FULL's cost: one commit per e-mail recipient must stay cheap.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            _add_missing_columns(self._db)
        except (sqlite3.Error, OSError) as error:
            raise StateError(
                _(
                    "cannot use the ledger {path}: {reason}: check free disk space and that "
                    "the state directory is writable, or set CHANPUB_STATE_DIR"
                ).format(path=path, reason=error)
            ) from None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StateError(
                    _(
                        "cannot write the ledger {path}: {reason}: check free disk space and "
                        "permissions"
                    ).format(path=self.path, reason=error)
                ) from None

    def check_writable(self) -> None:
        """Fail before anything is published when the ledger cannot be written."""
        with self._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS probe (x)")
            db.execute("DROP TABLE probe")

    # --- deliveries -------------------------------------------------------------------

    def get(self, slug: str, content_hash: str, channel: str) -> Delivery | None:
        """The row for this release version on this channel, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM deliveries WHERE slug=? AND content_hash=? AND channel=?",
                (slug, content_hash, channel),
            ).fetchone()
        return _delivery(row) if row else None

    def published_versions(self, slug: str, channel: str) -> list[Delivery]:
        """Other versions of this release that reached the channel."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM deliveries WHERE slug=? AND channel=? AND status=? "
                "ORDER BY finished_at",
                (slug, channel, Status.PUBLISHED),
            ).fetchall()
        return [_delivery(row) for row in rows]

    def begin(
        self,
        *,
        slug: str,
        content_hash: str,
        channel: str,
        channel_type: str,
        title: str,
        key: str,
        source: str | None = None,
    ) -> None:
        """Write the in-progress mark before the remote call; `source` is the release file."""
        with self._write() as db:
            db.execute(
                """INSERT INTO deliveries (slug, content_hash, channel, channel_type, title,
                       delivery_key, status, attempts, started_at, source)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                   ON CONFLICT (slug, content_hash, channel) DO UPDATE SET
                       status=excluded.status, attempts=attempts + 1, error=NULL,
                       started_at=excluded.started_at, finished_at=NULL,
                       source=COALESCE(excluded.source, source)""",
                (
                    slug,
                    content_hash,
                    channel,
                    channel_type,
                    title,
                    key,
                    Status.IN_PROGRESS,
                    _now(),
                    source,
                ),
            )

    def published_sources(self, slug: str) -> set[str]:
        """The release files a slug was published from (rows from before the source was
        kept are left out: they cannot tell)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT source FROM deliveries WHERE slug=? AND status=? "
                "AND source IS NOT NULL",
                (slug, Status.PUBLISHED),
            ).fetchall()
        return {str(row[0]) for row in rows}

    def finish(
        self,
        *,
        slug: str,
        content_hash: str,
        channel: str,
        status: str,
        remote_id: str | None = None,
        url: str | None = None,
        error: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Record the outcome of the remote call."""
        with self._write() as db:
            db.execute(
                """UPDATE deliveries SET status=?, remote_id=?, url=?, error=?, details=?,
                       finished_at=? WHERE slug=? AND content_hash=? AND channel=?""",
                (
                    status,
                    remote_id,
                    url,
                    error,
                    json.dumps(dict(details or {}), default=str),
                    _now(),
                    slug,
                    content_hash,
                    channel,
                ),
            )

    def history(self, slug: str | None = None, limit: int = 200) -> list[Delivery]:
        """Deliveries, newest first, optionally for one release."""
        query = "SELECT * FROM deliveries"
        args: tuple[Any, ...] = ()
        if slug:
            query += " WHERE slug=?"
            args = (slug,)
        query += " ORDER BY started_at DESC, channel LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (*args, limit)).fetchall()
        return [_delivery(row) for row in rows]

    def resolve(self, slug: str, channel: str, *, published: bool, url: str | None) -> int:
        """A person's verdict on an in-progress mark; returns how many rows changed."""
        status = Status.PUBLISHED if published else Status.FAILED
        error = None if published else _("marked as not published by a person")
        with self._write() as db:
            cursor = db.execute(
                "UPDATE deliveries SET status=?, url=COALESCE(?, url), error=?, finished_at=? "
                "WHERE slug=? AND channel=? AND status IN (?, ?)",
                (status, url, error, _now(), slug, channel, Status.IN_PROGRESS, Status.NEEDS_CHECK),
            )
            return cursor.rowcount

    # --- items inside a delivery ----------------------------------------------------

    def journal(self, key: str, redact: Callable[[str], str] | None = None) -> LedgerJournal:
        """The per-item journal of one delivery; `redact` masks secrets in item errors."""
        return LedgerJournal(self, key, redact)

    def item_status(self, key: str, item: str) -> Status | None:
        """The state of one item of a delivery."""
        with self._lock:
            row = self._db.execute(
                "SELECT status FROM items WHERE delivery_key=? AND item=?", (key, item)
            ).fetchone()
        return Status(row[0]) if row else None

    def item_remote_id(self, key: str, item: str) -> str | None:
        """The remote id recorded for one item of a delivery (thread posts: the post id)."""
        with self._lock:
            row = self._db.execute(
                "SELECT remote_id FROM items WHERE delivery_key=? AND item=?", (key, item)
            ).fetchone()
        return str(row[0]) if row and row[0] else None

    def set_item(
        self,
        key: str,
        item: str,
        status: str,
        remote_id: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record one item's state, committed at once."""
        with self._write() as db:
            db.execute(
                """INSERT INTO items (delivery_key, item, status, remote_id, error, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (delivery_key, item) DO UPDATE SET status=excluded.status,
                       remote_id=excluded.remote_id, error=excluded.error,
                       updated_at=excluded.updated_at""",
                (key, item, status, remote_id, error, _now()),
            )

    def item_counts(self, key: str) -> dict[str, int]:
        """How many items of a delivery are in each state."""
        with self._lock:
            rows = self._db.execute(
                "SELECT status, COUNT(*) FROM items WHERE delivery_key=? GROUP BY status", (key,)
            ).fetchall()
        return {str(status): int(count) for status, count in rows}

    def failed_items(self, key: str, limit: int = 100) -> list[tuple[str, str]]:
        """Items of a delivery that failed, with their reasons."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item, COALESCE(error, '') FROM items "
                "WHERE delivery_key=? AND status IN (?, ?) ORDER BY item LIMIT ?",
                (key, Status.FAILED, Status.DEFERRED, limit),
            ).fetchall()
        return [(str(item), str(error)) for item, error in rows]

    def item_for_remote_id(self, remote_id: str) -> tuple[str, str] | None:
        """(delivery key, item) of the item recorded with this remote id (a WhatsApp
        delivery receipt names only the message id)."""
        with self._lock:
            row = self._db.execute(
                "SELECT delivery_key, item FROM items WHERE remote_id=? LIMIT 1", (remote_id,)
            ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def merge_details(self, key: str, values: Mapping[str, Any]) -> None:
        """Merge `values` into the details of the delivery with this key (counts that
        delivery receipts changed after the run; `history` shows them)."""
        with self._write() as db:
            row = db.execute(
                "SELECT details FROM deliveries WHERE delivery_key=?", (key,)
            ).fetchone()
            if row is None:
                return
            details = {**json.loads(row[0] or "{}"), **values}
            db.execute(
                "UPDATE deliveries SET details=? WHERE delivery_key=?",
                (json.dumps(details, default=str), key),
            )

    # --- sequences ----------------------------------------------------------------------

    def next(self, name: str, scope: str) -> int:
        """The next number of a sequence; committed before it is handed out."""
        with self._write() as db:
            db.execute(
                "INSERT INTO sequences (name, scope, value) VALUES (?, ?, 1) "
                "ON CONFLICT (name, scope) DO UPDATE SET value = value + 1",
                (name, scope),
            )
            row = db.execute(
                "SELECT value FROM sequences WHERE name=? AND scope=?", (name, scope)
            ).fetchone()
        return int(row[0])

    def integrity_ok(self) -> bool:
        """PRAGMA integrity_check says 'ok'."""
        with self._lock:
            return bool(self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Bring a ledger written by an older chanpub up to date (ADD COLUMN keeps every row)."""
    present = {str(row[1]) for row in db.execute("PRAGMA table_info(deliveries)")}
    for column, kind in ADDED_COLUMNS.items():
        if column in present:
            continue
        # It may fail when another process added it first, or when the file is read-only
        # (history still reads it; send checks that the ledger is writable first).
        with suppress(sqlite3.OperationalError):
            db.execute(f"ALTER TABLE deliveries ADD COLUMN {column} {kind}")


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        slug=row["slug"],
        content_hash=row["content_hash"],
        channel=row["channel"],
        channel_type=row["channel_type"],
        title=row["title"],
        key=row["delivery_key"],
        status=row["status"],
        remote_id=row["remote_id"],
        url=row["url"],
        error=row["error"],
        details=json.loads(row["details"] or "{}"),
        attempts=row["attempts"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        # keys(): `in` on a sqlite3.Row looks among the values; read-only old files lack it.
        source=row["source"] if "source" in row.keys() else None,  # noqa: SIM118
    )


class LedgerJournal:
    """Per-item outcomes of one delivery (e-mail recipients, thread posts, letters)."""

    def __init__(
        self, ledger: Ledger, key: str, redact: Callable[[str], str] | None = None
    ) -> None:
        self.ledger = ledger
        self.key = key
        self.redact = redact or (lambda text: text)

    def status(self, item: str) -> Status | None:
        """IN_PROGRESS, SENT, FAILED, DEFERRED, or None when never tried."""
        return self.ledger.item_status(self.key, item)

    def begin(self, item: str) -> None:
        """Mark the item in progress before the remote call."""
        self.ledger.set_item(self.key, item, Status.IN_PROGRESS)

    def sent(self, item: str, remote_id: str = "") -> None:
        """Record the item as delivered."""
        self.ledger.set_item(self.key, item, Status.SENT, remote_id)

    def failed(self, item: str, error: str, *, permanent: bool = True) -> None:
        """Record the item as failed, or deferred to the next run when not permanent."""
        self.ledger.set_item(
            self.key,
            item,
            Status.FAILED if permanent else Status.DEFERRED,
            error=self.redact(error),
        )

    def remote_id(self, item: str) -> str | None:
        """The remote id recorded when the item was sent."""
        return self.ledger.item_remote_id(self.key, item)

    def counts(self) -> dict[str, int]:
        """How many items are in each state."""
        return self.ledger.item_counts(self.key)


class MemoryJournal:
    """An item journal that forgets: for previews, dry runs and unit tests."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[Status, str]] = {}

    def status(self, item: str) -> Status | None:
        """IN_PROGRESS, SENT, FAILED, DEFERRED, or None when never tried."""
        return self._items[item][0] if item in self._items else None

    def begin(self, item: str) -> None:
        """Mark the item in progress."""
        self._items[item] = (Status.IN_PROGRESS, "")

    def sent(self, item: str, remote_id: str = "") -> None:
        """Record the item as delivered."""
        self._items[item] = (Status.SENT, remote_id)

    def failed(self, item: str, error: str, *, permanent: bool = True) -> None:
        """Record the item as failed, or deferred when not permanent."""
        self._items[item] = (Status.FAILED if permanent else Status.DEFERRED, error)

    def remote_id(self, item: str) -> str | None:
        """The remote id recorded when the item was sent."""
        status, detail = self._items.get(item, ("", ""))
        return detail or None if status == Status.SENT else None

    def counts(self) -> dict[str, int]:
        """How many items are in each state."""
        totals: dict[str, int] = {}
        for status, _detail in self._items.values():
            totals[status] = totals.get(status, 0) + 1
        return totals
