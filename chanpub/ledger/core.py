"""The ledger: what went where, so nothing is posted twice or silently lost.

Dispatch writes an in-progress mark (with the delivery key) before each remote call and
the outcome after it, each in its own committed transaction; a mark that is still there on
the next run means a run stopped between the call and its record. The queries are written
once here; a backend (SQLite file or PostgreSQL database) runs them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.errors import StateError
from chanpub.i18n import _
from chanpub.ledger.backend import Backend, Row, Transaction
from chanpub.ledger.items import ItemQueries
from chanpub.ledger.schema import Delivery, delivery_from, now
from chanpub.status import Status

if TYPE_CHECKING:
    from chanpub.journal import LedgerJournal

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(where: object) -> bool:
    """Whether `where` names a PostgreSQL database rather than a ledger file."""
    return isinstance(where, str) and where.startswith(POSTGRES_SCHEMES)


def _backend(where: Path | str) -> Backend:
    if is_database_url(where):
        from chanpub.ledger.postgres import PostgresBackend  # psycopg only when configured

        return PostgresBackend(str(where))
    from chanpub.ledger.sqlite import SqliteBackend

    return SqliteBackend(Path(where))


class Ledger(ItemQueries):
    """The ledger in a SQLite file (a path) or a PostgreSQL database (a postgresql:// URL);
    safe to share between adapter threads."""

    def __init__(self, where: Path | str, *, backend: Backend | None = None) -> None:
        self.path = where if is_database_url(where) else Path(where)
        try:
            self.backend = backend or _backend(where)
        except StateError:
            raise
        except Exception as error:
            self._fail_open(where, error)
        self._lock = threading.Lock()

    @staticmethod
    def _fail_open(where: Path | str, error: Exception) -> None:
        if is_database_url(where):
            from chanpub.ledger.postgres import open_error

            raise open_error(str(where), error) from None
        raise StateError(
            _(
                "cannot use the ledger {path}: {reason}: check free disk space and that "
                "the state directory is writable, or set CHANPUB_STATE_DIR"
            ).format(path=where, reason=error)
        ) from None

    @property
    def where(self) -> str:
        """The file, or the database URL with its password masked."""
        return self.backend.where

    def close(self) -> None:
        """Close the database (once a statement still in flight is committed)."""
        with self._lock:
            try:
                self.backend.close()
            except self.backend.errors as error:
                raise self._failure(error) from None

    def _failure(self, error: Exception) -> StateError:
        if is_database_url(self.path):
            from chanpub.ledger.postgres import lost_error

            return lost_error(self.backend.where, error)
        return StateError(
            _(
                "cannot write the ledger {path}: {reason}: check free disk space and permissions"
            ).format(path=self.backend.where, reason=error)
        )

    @contextmanager
    def _write(self) -> Iterator[Transaction]:
        with self._lock:
            try:
                with self.backend.transaction() as db:
                    yield db
            except self.backend.errors as error:
                raise self._failure(error) from None

    def _write_one(self, sql: str, args: Sequence[Any] = ()) -> int:
        """One writing statement, committed on its own (the per-recipient marks): no
        BEGIN and COMMIT around it; returns how many rows it changed."""
        with self._lock:
            try:
                return self.backend.execute(sql, args)
            except self.backend.errors as error:
                raise self._failure(error) from None

    def _write_soon(
        self, sql: str, args: Sequence[Any], *, otherwise: tuple[str, Sequence[Any]]
    ) -> None:
        """One writing statement committed on its own, whose answer the caller does not
        wait for (a recipient's outcome): see Backend.execute_soon."""
        with self._lock:
            try:
                self.backend.execute_soon(sql, args, otherwise=otherwise)
            except self.backend.errors as error:
                raise self._failure(error) from None

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """The PostgreSQL connection inside one ledger transaction, so what belongs with
        the ledger's rows (the task queue's jobs) is written in the same transaction."""
        from chanpub.ledger.postgres import PostgresBackend

        assert isinstance(self.backend, PostgresBackend)
        with self._write():
            yield self.backend.db

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            try:
                return self.backend.rows(sql, args)
            except self.backend.errors as error:
                if is_database_url(self.path):
                    raise self._failure(error) from None
                raise

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        rows = self._rows(sql, args)
        return rows[0] if rows else None

    @contextmanager
    def claim_run(self) -> Iterator[None]:
        """Hold the send lock in the database, across hosts (PostgreSQL; a SQLite ledger
        is guarded by the file lock in the state directory instead)."""
        from chanpub.ledger.postgres import PostgresBackend, claim_run

        assert isinstance(self.backend, PostgresBackend)
        try:  # taken and let go before and after the run's threads: no thread lock needed
            with claim_run(self.backend, now()):
                yield
        except self.backend.errors as error:
            raise self._failure(error) from None

    def check_writable(self) -> None:
        """Fail before anything is published when the ledger cannot be written."""
        with self._lock:
            try:
                self.backend.check_writable()
            except self.backend.errors as error:
                raise self._failure(error) from None

    # --- deliveries -------------------------------------------------------------------

    def get(self, slug: str, content_hash: str, channel: str) -> Delivery | None:
        """The row for this release version on this channel, if any."""
        row = self._one(
            "SELECT * FROM deliveries WHERE slug=? AND content_hash=? AND channel=?",
            (slug, content_hash, channel),
        )
        return delivery_from(row) if row else None

    def published_versions(self, slug: str, channel: str) -> list[Delivery]:
        """Other versions of this release that reached the channel."""
        rows = self._rows(
            "SELECT * FROM deliveries WHERE slug=? AND channel=? AND status=? ORDER BY finished_at",
            (slug, channel, Status.PUBLISHED),
        )
        return [delivery_from(row) for row in rows]

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
        version: tuple[str, str | None, str | None] | None = None,
    ) -> None:
        """Write the in-progress mark before the remote call; `source` is the release file,
        `version` its kind (release, correction, retraction), approver and approval time."""
        kind, approved_by, approved_at = version or (None, None, None)
        row_tail = (Status.IN_PROGRESS, now(), source, kind, approved_by, approved_at)
        with self._write() as db:
            db.execute(
                """INSERT INTO deliveries (slug, content_hash, channel, channel_type, title,
                       delivery_key, status, attempts, started_at, source, kind, approved_by,
                       approved_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)
                   ON CONFLICT (slug, content_hash, channel) DO UPDATE SET
                       status=excluded.status, attempts=deliveries.attempts + 1, error=NULL,
                       started_at=excluded.started_at, finished_at=NULL,
                       source=COALESCE(excluded.source, deliveries.source),
                       kind=COALESCE(excluded.kind, deliveries.kind),
                       approved_by=COALESCE(excluded.approved_by, deliveries.approved_by),
                       approved_at=COALESCE(excluded.approved_at, deliveries.approved_at)""",
                (*(slug, content_hash, channel, channel_type, title, key), *row_tail),
            )

    def published_hashes(self, slug: str) -> set[str]:
        """The content hashes of the versions of a release that reached some channel."""
        rows = self._rows(
            "SELECT DISTINCT content_hash FROM deliveries WHERE slug=? AND status=?",
            (slug, Status.PUBLISHED),
        )
        return {str(row["content_hash"]) for row in rows}

    def published_sources(self, slug: str) -> set[str]:
        """The release files a slug was published from (rows from before the source was
        kept are left out: they cannot tell)."""
        rows = self._rows(
            "SELECT DISTINCT source FROM deliveries WHERE slug=? AND status=? "
            "AND source IS NOT NULL",
            (slug, Status.PUBLISHED),
        )
        return {str(row["source"]) for row in rows}

    def first_published(self, slug: str) -> str | None:
        """When the first delivery of a release that went out began (any version, any
        channel), as the ledger writes times; None when none went out."""
        row = self._one(
            "SELECT min(started_at) AS earliest FROM deliveries WHERE slug=? AND status=?",
            (slug, Status.PUBLISHED),
        )
        return None if row is None or row["earliest"] is None else str(row["earliest"])

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
        encoded = json.dumps(dict(details or {}), default=str)
        with self._write() as db:
            db.execute(
                """UPDATE deliveries SET status=?, remote_id=?, url=?, error=?, details=?,
                       finished_at=? WHERE slug=? AND content_hash=? AND channel=?""",
                (status, remote_id, url, error, encoded, now(), slug, content_hash, channel),
            )

    def history(self, slug: str | None = None, limit: int = 200) -> list[Delivery]:
        """Deliveries, newest first, optionally for one release."""
        query = "SELECT * FROM deliveries"
        args: tuple[Any, ...] = ()
        if slug:
            query += " WHERE slug=?"
            args = (slug,)
        query += " ORDER BY started_at DESC, channel LIMIT ?"
        return [delivery_from(row) for row in self._rows(query, (*args, limit))]

    def record_signers(
        self, slug: str, content_hash: str, signers: Sequence[tuple[str, str, str, str]]
    ) -> None:
        """Keep who signed the approval of a release version: (name, kind, fingerprint,
        signed at) each; the same key again is kept once."""
        with self._write() as db:
            db.executemany(
                "INSERT INTO signers VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(slug, content_hash, *signer) for signer in signers],
            )

    def signers(self, slug: str | None = None) -> list[dict[str, str]]:
        """Who signed the approvals of the versions that went out, optionally of one release."""
        query = "SELECT * FROM signers" + (" WHERE slug=?" if slug else "")
        try:
            rows = self._rows(query, (slug,) if slug else ())
        except self.backend.errors:  # an older SQLite ledger, opened read-only
            return []
        return [dict(row) for row in rows]

    def resolve(self, slug: str, channel: str, *, published: bool, url: str | None) -> int:
        """A person's verdict on an in-progress mark; returns how many rows changed."""
        status = Status.PUBLISHED if published else Status.FAILED
        error = None if published else _("marked as not published by a person")
        with self._write() as db:
            return db.execute(
                "UPDATE deliveries SET status=?, url=COALESCE(?, url), error=?, finished_at=? "
                "WHERE slug=? AND channel=? AND status IN (?, ?)",
                (status, url, error, now(), slug, channel, Status.IN_PROGRESS, Status.NEEDS_CHECK),
            )

    def merge_details(self, key: str, values: Mapping[str, Any]) -> None:
        """Merge `values` into the details of the delivery with this key (counts that
        delivery receipts changed after the run; `history` shows them)."""
        with self._write() as db:
            rows = db.rows("SELECT details FROM deliveries WHERE delivery_key=?", (key,))
            if not rows:
                return
            details = {**json.loads(rows[0]["details"] or "{}"), **values}
            db.execute(
                "UPDATE deliveries SET details=? WHERE delivery_key=?",
                (json.dumps(details, default=str), key),
            )

    # --- the store and sequences --------------------------------------------------------

    def stored(self, namespace: str, key: str) -> Any:
        """One stored JSON value, or None."""
        row = self._one("SELECT value FROM store WHERE namespace=? AND key=?", (namespace, key))
        return json.loads(row["value"]) if row else None

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
                (namespace, key, json.dumps(value, ensure_ascii=False), now()),
            )

    def stored_once(self, namespace: str, key: str, value: Any) -> Any:
        """The stored value of a key, storing `value` first when there is none: the first
        writer wins, whichever process or host writes at the same moment."""
        with self._write() as db:
            db.execute(
                """INSERT INTO store (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (namespace, key) DO NOTHING""",
                (namespace, key, json.dumps(value, ensure_ascii=False), now()),
            )
        return self.stored(namespace, key)

    def stored_items(self, namespace: str) -> list[tuple[str, Any]]:
        """Every (key, JSON value) of one namespace, in key order."""
        rows = self._rows(
            "SELECT key, value FROM store WHERE namespace=? ORDER BY key", (namespace,)
        )
        return [(str(row["key"]), json.loads(row["value"])) for row in rows]

    def next(self, name: str, scope: str) -> int:
        """The next number of a sequence; committed before it is handed out."""
        with self._write() as db:
            db.execute(
                "INSERT INTO sequences (name, scope, value) VALUES (?, ?, 1) "
                "ON CONFLICT (name, scope) DO UPDATE SET value = sequences.value + 1",
                (name, scope),
            )
            rows = db.rows("SELECT value FROM sequences WHERE name=? AND scope=?", (name, scope))
        return int(rows[0]["value"])

    def journal(
        self, key: str, redact: Callable[[str], str] | None = None, *, only: str | None = None
    ) -> LedgerJournal:
        """The per-item journal of one delivery; `redact` masks secrets in item errors;
        `only` hides every item not in that state (a resend touches those alone)."""
        from chanpub.journal import LedgerJournal

        return LedgerJournal(self, key, redact, only=only)

    def integrity_ok(self) -> bool:
        """The database's own consistency check passes."""
        with self._lock:
            return self.backend.integrity_ok()
