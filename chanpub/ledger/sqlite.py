"""The SQLite ledger file: one host, the default (in the state directory)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from chanpub.files import make_private_folder
from chanpub.ledger.backend import Row
from chanpub.ledger.schema import ADDED_COLUMNS, SCHEMA, SIGNERS_TABLE


def _create_private(path: Path) -> None:
    """Create the ledger file readable by this user only (0600), if it is not there yet."""
    with suppress(FileExistsError):  # an existing ledger keeps the mode it has
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteTransaction:
    """Statements inside `BEGIN IMMEDIATE ... COMMIT`."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        return self.db.execute(sql, args).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for every row of arguments."""
        self.db.executemany(sql, rows)

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Run a query inside the transaction."""
        return list(self.db.execute(sql, args).fetchall())


class SqliteBackend:
    """A ledger file in WAL mode; concurrent runs are kept apart by the file lock."""

    errors: tuple[type[Exception], ...] = (sqlite3.Error, OSError)

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.where = str(path)
        if read_only:
            self.db = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
            self.db.row_factory = _dict_row
            return
        make_private_folder(path.parent)
        _create_private(path)  # SQLite gives its -wal and -shm files the same mode
        self.db = sqlite3.connect(path, timeout=30.0, check_same_thread=False, isolation_level=None)
        self.db.row_factory = _dict_row
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: each commit is on the disk when it returns. A power cut undoes what only
        # reached the page cache, and a mark or claim undone would be sent again after the
        # reboot. Outcomes alone are let wait for the next flush (execute_soon).
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self._add_missing_columns()
        with suppress(sqlite3.OperationalError):  # read-only: history reads what is there
            self.db.execute(SIGNERS_TABLE)

    def _add_missing_columns(self) -> None:
        """Bring a ledger written by an older chanpub up to date (ADD COLUMN keeps rows)."""
        present = {str(row["name"]) for row in self.db.execute("PRAGMA table_info(deliveries)")}
        for column, kind in ADDED_COLUMNS.items():
            if column in present:
                continue
            # It may fail when another process added it first, or when the file is
            # read-only (history still reads it; send checks the ledger is writable first).
            with suppress(sqlite3.OperationalError):
                self.db.execute(f"ALTER TABLE deliveries ADD COLUMN {column} {kind}")

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Run a query outside any write transaction."""
        return list(self.db.execute(sql, args).fetchall())

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """One statement, a transaction of its own (the connection is in autocommit)."""
        return self.db.execute(sql, args).rowcount

    def execute_soon(
        self,
        sql: str,
        args: Sequence[Any] = (),
        *,
        otherwise: tuple[str, Sequence[Any]] | None = None,
    ) -> None:
        """As execute, without flushing: a recipient's outcome reaches the disk with the
        next commit (the next mark, before its message ends). Lost to a power cut, it leaves
        the recipient unknown, never sent twice, for one fsync less per recipient."""
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            if not self.execute(sql, args) and otherwise is not None:
                self.execute(*otherwise)
        finally:
            self.db.execute("PRAGMA synchronous=FULL")

    @contextmanager
    def transaction(self) -> Iterator[SqliteTransaction]:
        """`BEGIN IMMEDIATE`: the write lock is taken first, so no writer waits mid-way."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            yield SqliteTransaction(self.db)
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def check_writable(self) -> None:
        """Create and drop a table: fails on a read-only file or a full disk."""
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS probe (x)")
            db.execute("DROP TABLE probe")

    def integrity_ok(self) -> bool:
        """PRAGMA integrity_check says 'ok'."""
        row = self.db.execute("PRAGMA integrity_check").fetchone()
        return bool(next(iter(row.values())) == "ok")

    def close(self) -> None:
        """Close the file."""
        self.db.close()
