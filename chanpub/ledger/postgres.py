"""The ledger in PostgreSQL (psycopg 3): one database shared by every host.

Imported only when channels.yaml sets `database:` (the `chanpub[postgres]` extra). The
queries are the SQLite ones with `%s` for `?`; the schema is created (or brought up to
date) under an advisory lock, so hosts starting at once do not race.
See https://www.psycopg.org/psycopg3/docs/ and
https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
"""

from __future__ import annotations

import selectors
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import pq
from psycopg.rows import dict_row

from chanpub.errors import LedgerUnavailable, StateError
from chanpub.i18n import _
from chanpub.ledger.backend import Row
from chanpub.ledger.schema import ADDED_COLUMNS, SIGNERS_TABLE, TABLES

SCHEMA_LOCK = 0x63686E70_0001  # "chnp" + 1: one schema change at a time, across hosts
MASK = "***"


def masked_url(url: str) -> str:
    """The database URL with its password replaced by ***, for every message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{netloc[1]}"))


def _reason(url: str, error: BaseException) -> str:
    """The driver's message on one line, the password masked even if it shows up."""
    text = " ".join(str(error).split()) or type(error).__name__
    password = urlsplit(url).password
    return text.replace(password, MASK) if password else text


def open_error(url: str, error: BaseException) -> StateError:
    """The message for a database that cannot be reached or used when a command starts."""
    return StateError(
        _(
            "cannot use the ledger database {where}: {reason}: check that PostgreSQL is "
            "running and that 'database:' in channels.yaml (CHANPUB_DATABASE_URL) is right"
        ).format(where=masked_url(url), reason=_reason(url, error))
    )


def lost_error(where: str, error: BaseException) -> StateError:
    """The message for a database that went away during a run (exit 1)."""
    return LedgerUnavailable(
        _(
            "lost the ledger database {where}: {reason}: the run stopped; run the same "
            "command again once PostgreSQL is back (what was recorded is not sent again)"
        ).format(where=where, reason=" ".join(str(error).split()) or type(error).__name__)
    )


def _sql(sql: str) -> str:
    return sql.replace("?", "%s")  # the shared queries hold no other '?' and no '%'


def _numbered(sql: str) -> str:
    """The shared query with PostgreSQL's own placeholders, $1, $2, ..."""
    parts = sql.split("?")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]


Fallback = tuple[str, Sequence[Any]]  # a statement and its values


@cache  # one per statement: the check and the text are the same for every recipient
def _unflushed(update: str) -> str:
    """An `UPDATE ... WHERE ...` whose commit does not wait for the WAL's flush: a
    recipient's outcome. The next mark's flush, before its message ends, puts it on the disk
    too (the WAL is flushed in order), so a crash of the server loses at most this outcome,
    and that recipient is unknown, never sent twice; for one flush per recipient instead of
    two. set_config(..., true) is SET LOCAL from inside the statement (no BEGIN and COMMIT
    round trips); evaluated for the row found, and with no row nothing is written anyway.
    https://www.postgresql.org/docs/current/wal-async-commit.html"""
    assert update.lstrip().upper().startswith("UPDATE") and "WHERE" in update.upper()
    return f"{update} AND set_config('synchronous_commit', 'off', true) IS NOT NULL"


def _all_text(values: tuple[Any, ...]) -> bool:
    return all(value is None or isinstance(value, str) for value in values)


def _encoded(values: tuple[str | None, ...]) -> list[bytes | None]:
    # None is SQL NULL to libpq (psycopg passes NULLs so itself; its stub omits it).
    return [None if value is None else value.encode() for value in values]


def _checked(result: pq.abc.PGresult, pgconn: pq.abc.PGconn) -> pq.abc.PGresult:
    """The result of a statement run through libpq directly, or psycopg's error for it
    (OperationalError when the connection is gone, as psycopg's own calls raise)."""
    if result.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        return result
    message = (result.error_message or pgconn.error_message).decode("utf-8", "replace")
    if pgconn.status == pq.ConnStatus.BAD:
        raise psycopg.OperationalError(message)
    raise psycopg.DatabaseError(message)


class PostgresTransaction:
    """Statements inside one PostgreSQL transaction."""

    def __init__(self, db: psycopg.Connection[Row]) -> None:
        self.db = db

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        return self.db.execute(_sql(sql), tuple(args)).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for every row of arguments."""
        with self.db.cursor() as cursor:
            cursor.executemany(_sql(sql), rows)

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Run a query inside the transaction."""
        return self.db.execute(_sql(sql), tuple(args)).fetchall()


class PostgresBackend:
    """A connection to the shared ledger database."""

    errors: tuple[type[Exception], ...] = (psycopg.Error,)

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = masked_url(url)
        self._db = psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=10)
        # A mark must be on the disk when the server says it is committed, or a crash of
        # the database host undoes it and what it guarded is sent again: whatever the
        # database's or role's default, this session's commits wait for the flush.
        self._db.execute("SET synchronous_commit = on")
        self._prepared: dict[str, bytes] = {}  # statement -> its prepared name on this session
        self._in_flight = False  # a statement sent by execute_soon is not answered yet
        self._otherwise: Fallback | None = None  # and what runs when it changed no row
        upgrade(self._db)

    @property
    def db(self) -> psycopg.Connection[Row]:
        """The session, once the statement execute_soon sent is answered: whatever runs
        next on it runs after that statement, and its error is raised here."""
        if self._in_flight:
            self._collect()
        return self._db

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Run a query outside any write transaction."""
        return self.db.execute(_sql(sql), tuple(args)).fetchall()

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """One statement in autocommit, a transaction of its own: one round trip to the
        server instead of three (BEGIN, the statement, COMMIT). A statement whose values
        are all text (a recipient's mark: two per recipient of a big list) goes straight
        to libpq as a prepared statement; psycopg's own execute spends about 40 µs more
        of Python on each call. The caller holds the ledger's lock, as for every call."""
        values = tuple(args)
        if _all_text(values):
            return self._execute_prepared(sql, values)
        return self.db.execute(_sql(sql), values).rowcount

    def execute_soon(
        self, sql: str, args: Sequence[Any] = (), *, otherwise: Fallback | None = None
    ) -> None:
        """Send one statement in autocommit without waiting for the server's answer (a
        recipient's outcome), which is collected before the next statement on this session
        (`db`): the server commits it while the caller builds and sends the next message.
        libpq in blocking mode has handed the whole statement to the kernel when this
        returns, so the server runs it even if this process is killed now. Its commit does
        not wait for the disk (`_unflushed`). When it changed no row, `otherwise` (sql,
        args) runs then, waited for."""
        values = tuple(args)
        if not _all_text(values):  # not the hot path: wait, as execute does
            if not self.execute(sql, values) and otherwise is not None:
                self.execute(*otherwise)
            return
        pgconn = self.db.pgconn
        pgconn.send_query_prepared(self._statement(_unflushed(sql)), _encoded(values))
        self._in_flight, self._otherwise = True, otherwise

    def _collect(self) -> None:
        """Wait for the answer to the statement in flight; run its fallback if it changed
        no row. The wait is on the socket, so other threads run meanwhile."""
        self._in_flight = False
        pgconn = self._db.pgconn
        pgconn.consume_input()
        if pgconn.is_busy():  # not answered yet (usually it is, by the next message)
            with selectors.DefaultSelector() as waiting:  # no FD_SETSIZE limit, unlike select
                waiting.register(pgconn.socket, selectors.EVENT_READ)
                while pgconn.is_busy():
                    waiting.select()
                    pgconn.consume_input()
        results = []
        while (result := pgconn.get_result()) is not None:  # to the end: the session is idle
            results.append(result)
        for result in results:
            _checked(result, pgconn)
        changed = int(results[-1].command_tuples or 0) if results else 0
        if not changed and self._otherwise is not None:
            self.execute(*self._otherwise)

    def _execute_prepared(self, sql: str, values: tuple[str | None, ...]) -> int:
        """Run `sql` as this session's prepared statement (prepared on first use), with
        libpq's text format: https://www.postgresql.org/docs/current/libpq-exec.html"""
        pgconn = self.db.pgconn
        result = pgconn.exec_prepared(self._statement(sql), _encoded(values))  # type: ignore[arg-type]
        return int(_checked(result, pgconn).command_tuples or 0)

    def _statement(self, sql: str) -> bytes:
        """The name of `sql` prepared on this session, preparing it on first use."""
        name = self._prepared.get(sql)
        if name is None:
            pgconn = self.db.pgconn
            name = f"chanpub_{len(self._prepared)}".encode()
            _checked(pgconn.prepare(name, _numbered(sql).encode()), pgconn)
            self._prepared[sql] = name
        return name

    @contextmanager
    def transaction(self) -> Iterator[PostgresTransaction]:
        """One transaction; rolled back when the block raises."""
        with self.db.transaction():
            yield PostgresTransaction(self.db)

    def check_writable(self) -> None:
        """A write that changes nothing still fails on a read-only server or role."""
        self.db.execute("UPDATE sequences SET value = value WHERE false")

    def integrity_ok(self) -> bool:
        """PostgreSQL keeps its own consistency; the connection answering is the check."""
        return bool(self.db.execute("SELECT 1 AS ok").fetchone())

    def close(self) -> None:
        """Close the connection, once the statement in flight is answered."""
        try:
            if self._in_flight and not self._db.closed:
                self._collect()
        finally:
            self._db.close()

    def __del__(self) -> None:
        # A ledger dropped without close() still ends its session cleanly (psycopg
        # warns about connections left to the garbage collector).
        if getattr(self, "_db", None) is not None:
            self._db.close()


def upgrade(db: psycopg.Connection[Row]) -> None:
    """Create the ledger's tables and add the columns newer chanpubs know; idempotent."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        for statement in (*TABLES, SIGNERS_TABLE):
            db.execute(statement)
        for column, kind in ADDED_COLUMNS.items():
            db.execute(f"ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS {column} {kind}")


RUN_LOCK = 0x63686E70_0002  # "chnp" + 2: one `chanpub send` at a time on this database
CLAIMS_TABLE = """CREATE TABLE IF NOT EXISTS send_claims (
    name TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, started_at TEXT NOT NULL
)"""


@contextmanager
def claim_run(backend: PostgresBackend, started_at: str) -> Iterator[None]:
    """Hold the send lock of this database, for every host that shares it.

    A session advisory lock: PostgreSQL lets it go by itself when the holder's connection
    ends, so a host that died holds nothing. Beside it, a row says who holds it, for the
    message the second host prints."""
    import os
    import socket

    from chanpub.errors import LockHeld

    db = backend.db
    db.execute(CLAIMS_TABLE)
    taken = db.execute("SELECT pg_try_advisory_lock(%s) AS taken", (RUN_LOCK,)).fetchone()
    if not taken or not taken["taken"]:
        holder = db.execute("SELECT * FROM send_claims WHERE name = 'send'").fetchone() or {}
        raise LockHeld(
            _(
                "another chanpub send is running on host {host} (process {pid}, since "
                "{since}) with the ledger database {where}: wait for it to finish; nothing "
                "was sent"
            ).format(
                host=holder.get("host", "?"),
                pid=holder.get("pid", "?"),
                since=holder.get("started_at", "?"),
                where=backend.where,
            )
        )
    try:
        db.execute(
            "INSERT INTO send_claims VALUES ('send', %s, %s, %s) ON CONFLICT (name) DO UPDATE "
            "SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at",
            (socket.gethostname(), os.getpid(), started_at),
        )
        yield
    finally:
        db = backend.db  # a recipient's outcome still in flight is collected first
        if not db.closed and not db.broken:  # a lost connection let the lock go already
            db.execute("DELETE FROM send_claims WHERE name = 'send' AND pid = %s", (os.getpid(),))
            db.execute("SELECT pg_advisory_unlock(%s)", (RUN_LOCK,))
