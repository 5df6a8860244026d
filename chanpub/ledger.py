"""The SQLite ledger: what went where, so nothing is posted twice or silently lost.

Dispatch writes an in-progress mark (with the delivery key) before each remote call and
the outcome after it, each in its own committed transaction; a mark that is still there on
the next run means a run stopped between the call and its record.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.errors import StateError
from chanpub.files import make_private_folder
from chanpub.i18n import _
from chanpub.status import Status

if TYPE_CHECKING:
    from chanpub.journal import LedgerJournal

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
CREATE TABLE IF NOT EXISTS store (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
);
CREATE TABLE IF NOT EXISTS sequences (
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (name, scope)
);
"""

# Who signed the approval of each release version that went out (signed approvals only).
# Created apart from SCHEMA: an older ledger opened read-only (history) must still open.
SIGNERS_TABLE = """
CREATE TABLE IF NOT EXISTS signers (
    slug TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    PRIMARY KEY (slug, content_hash, fingerprint)
)
"""

# Columns added after the first release of the ledger: a ledger file written by an older
# chanpub gets them (empty) when it is opened.
ADDED_COLUMNS = {
    "source": "TEXT",  # the release file a delivery was made from (resolved path)
}

SET_ITEM = """INSERT INTO items (delivery_key, item, status, remote_id, error, updated_at)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (delivery_key, item) DO UPDATE SET status=excluded.status,
        remote_id=excluded.remote_id, error=excluded.error, updated_at=excluded.updated_at"""

UNSETTLED = (Status.IN_PROGRESS, Status.UNKNOWN)  # items a person must settle (`chanpub resolve`)


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


def _create_private(path: Path) -> None:
    """Create the ledger file readable by this user only (0600), if it is not there yet."""
    with suppress(FileExistsError):  # an existing ledger keeps the mode it has
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class Ledger:
    """The ledger file in the state directory; safe to share between adapter threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            make_private_folder(path.parent)
            _create_private(path)  # SQLite gives its -wal and -shm files the same mode
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
            with suppress(sqlite3.OperationalError):  # read-only: history reads what is there
                self._db.execute(SIGNERS_TABLE)
        except (sqlite3.Error, OSError) as error:
            raise StateError(
                _(
                    "cannot use the ledger {path}: {reason}: check free disk space and that "
                    "the state directory is writable, or set CHANPUB_STATE_DIR"
                ).format(path=path, reason=error)
            ) from None
        self._lock = threading.Lock()
        self._item_states: dict[str, dict[str, Status]] = {}  # see known_item_status

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

    def published_hashes(self, slug: str) -> set[str]:
        """The content hashes of the versions of a release that reached some channel."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT content_hash FROM deliveries WHERE slug=? AND status=?",
                (slug, Status.PUBLISHED),
            ).fetchall()
        return {str(row[0]) for row in rows}

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

    def record_signers(
        self, slug: str, content_hash: str, signers: Sequence[tuple[str, str, str, str]]
    ) -> None:
        """Keep who signed the approval of a release version: (name, kind, fingerprint,
        signed at) each; the same key again is kept once."""
        with self._write() as db:
            db.executemany(
                "INSERT OR IGNORE INTO signers VALUES (?, ?, ?, ?, ?, ?)",
                [(slug, content_hash, *signer) for signer in signers],
            )

    def signers(self, slug: str | None = None) -> list[dict[str, str]]:
        """Who signed the approvals of the versions that went out, optionally of one release."""
        query = "SELECT * FROM signers" + (" WHERE slug=?" if slug else "")
        with self._lock:
            try:
                rows = self._db.execute(query, (slug,) if slug else ()).fetchall()
            except sqlite3.OperationalError:  # an older ledger, opened read-only
                return []
        return [dict(row) for row in rows]

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

    def store(self, namespace: str) -> LedgerStore:
        """An adapter's key-value store (sessions, lookup notes) in this database."""
        return LedgerStore(self, namespace)

    def stored(self, namespace: str, key: str) -> Any:
        """One stored JSON value, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM store WHERE namespace=? AND key=?", (namespace, key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def set_stored(self, namespace: str, key: str, value: Any) -> None:
        """Store one JSON value (None forgets the key), committed at once."""
        with self._write() as db:
            if value is None:
                db.execute("DELETE FROM store WHERE namespace=? AND key=?", (namespace, key))
                return
            db.execute(
                """INSERT INTO store (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (namespace, key) DO UPDATE SET value=excluded.value,
                       updated_at=excluded.updated_at""",
                (namespace, key, json.dumps(value, ensure_ascii=False), _now()),
            )

    def journal(
        self, key: str, redact: Callable[[str], str] | None = None, *, only: str | None = None
    ) -> LedgerJournal:
        """The per-item journal of one delivery; `redact` masks secrets in item errors;
        `only` hides every item not in that state (a resend touches those alone)."""
        from chanpub.journal import LedgerJournal

        return LedgerJournal(self, key, redact, only=only)

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
            db.execute(SET_ITEM, (key, item, status, remote_id, error, _now()))
        states = self._item_states.get(key)
        if states is not None:  # after the commit: what the file says now
            states[item] = Status(status)

    def known_item_status(self, key: str, item: str) -> Status | None:
        """`item_status` from a copy of the delivery's states, read once and kept up to date
        by this ledger's item writes (a journal asks once per recipient: one read per
        delivery instead). Only one run sends at a time (the send lock); `resolve` runs
        under that lock too, and a webhook only moves items that were sent already."""
        states = self._item_states.get(key)
        if states is None:
            with self._lock:
                rows = self._db.execute(
                    "SELECT item, status FROM items WHERE delivery_key=?", (key,)
                ).fetchall()
            states = self._item_states.setdefault(key, {str(i): Status(s) for i, s in rows})
        return states.get(item)

    def item_counts(self, key: str) -> dict[str, int]:
        """How many items of a delivery are in each state."""
        with self._lock:
            rows = self._db.execute(
                "SELECT status, COUNT(*) FROM items WHERE delivery_key=? GROUP BY status", (key,)
            ).fetchall()
        return {str(status): int(count) for status, count in rows}

    def failed_items(self, key: str, limit: int = 100) -> list[tuple[str, str]]:
        """Items of a delivery that failed, with their reasons."""
        return self._items_in(key, (Status.FAILED, Status.DEFERRED), limit)

    def unknown_items(
        self, key: str, limit: int = 100, states: tuple[str, ...] = UNSETTLED
    ) -> list[tuple[str, str]]:
        """Items a stopped run or a lost reply left unknown (they may have arrived)."""
        return self._items_in(key, states, limit)

    def _items_in(self, key: str, states: tuple[str, ...], limit: int) -> list[tuple[str, str]]:
        marks = ", ".join("?" * len(states))
        with self._lock:
            rows = self._db.execute(
                "SELECT item, COALESCE(error, '') FROM items "
                f"WHERE delivery_key=? AND status IN ({marks}) ORDER BY item LIMIT ?",
                (key, *states, limit),
            ).fetchall()
        return [(str(item), str(error)) for item, error in rows]

    def resolve_items(
        self,
        slug: str,
        channel: str,
        verdict: str,
        *,
        key: str | None = None,
        states: tuple[str, ...] = UNSETTLED,
    ) -> int:
        """A person's verdict on the unknown items of a release on a channel (every
        version, or the delivery `key`): 'published' (they arrived), 'not-published' (the
        next send delivers them) or 'resend' (`resolve --resend`); returns how many changed."""
        status, error = {
            "published": (Status.SENT, _("marked as received by a person")),
            "not-published": (Status.DEFERRED, _("marked as not received by a person")),
            "resend": (Status.RESEND, _("marked to be sent again by a person")),
        }[verdict]
        marks = ", ".join("?" * len(states))
        self._item_states.clear()  # many items change at once: read them again when asked
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE items SET status=?, error=?, updated_at=? WHERE status IN ({marks}) "
                "AND delivery_key IN (SELECT delivery_key FROM deliveries WHERE slug=? AND "
                "channel=? AND delivery_key=COALESCE(?, delivery_key))",
                (status, error, _now(), *states, slug, channel, key),
            )
            return cursor.rowcount

    def unknown_count(self, slug: str, channel: str, states: tuple[str, ...] = UNSETTLED) -> int:
        """How many items of a release on a channel are in `states` (default: unknown)."""
        marks = ", ".join("?" * len(states))
        with self._lock:
            row = self._db.execute(
                f"SELECT COUNT(*) FROM items WHERE status IN ({marks}) AND delivery_key IN "
                "(SELECT delivery_key FROM deliveries WHERE slug=? AND channel=?)",
                (*states, slug, channel),
            ).fetchone()
        return int(row[0])

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


class LedgerStore:
    """One adapter's namespace of the store table (chanpub.contract.Store)."""

    def __init__(self, ledger: Ledger, namespace: str) -> None:
        self.ledger = ledger
        self.namespace = namespace

    def get(self, key: str) -> Any:
        """The value stored under `key`, or None."""
        return self.ledger.stored(self.namespace, key)

    def put(self, key: str, value: Any) -> None:
        """Store a JSON value under `key`."""
        self.ledger.set_stored(self.namespace, key, value)

    def delete(self, key: str) -> None:
        """Forget `key`."""
        self.ledger.set_stored(self.namespace, key, None)
