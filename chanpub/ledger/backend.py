"""What a ledger backend provides: connections, transactions and introspection.

The Ledger (chanpub.ledger.core) writes each query once with `?` placeholders; a backend runs
it on its database. SQLite (a file in the state directory, one host) and PostgreSQL
(`database:` in channels.yaml, many hosts) are the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

Row = dict[str, Any]


class Transaction(Protocol):
    """The statements of one committed transaction."""

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for every row of arguments."""

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Run a query inside the transaction."""


class Backend(Protocol):
    """One database holding a ledger."""

    where: str  # for messages: the file, or the database URL with its password masked
    errors: tuple[type[Exception], ...]  # what the driver raises

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Run a query outside any write transaction."""

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one writing statement as a transaction of its own (committed when it
        returns); returns how many rows it changed."""

    def execute_soon(
        self,
        sql: str,
        args: Sequence[Any] = (),
        *,
        otherwise: tuple[str, Sequence[Any]] | None = None,
    ) -> None:
        """Run one writing statement (an `UPDATE ... WHERE`: a recipient's outcome) as a
        transaction of its own, committed before this backend's next statement runs (a
        backend may send it without waiting for the answer; its error is then raised by
        that next call); `otherwise` (sql, args) runs instead of it when it changed no row.
        Its commit need not be on the disk until the next one's is."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction: committed when the block ends, rolled back on error."""

    def check_writable(self) -> None:
        """Raise the driver's error when nothing could be written."""

    def integrity_ok(self) -> bool:
        """The database's own consistency check passes."""

    def close(self) -> None:
        """Close the connection."""
