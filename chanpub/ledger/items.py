"""The ledger's per-item queries (one row per e-mail recipient, thread post, subscriber)
and an adapter's key-value store, on either backend."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from typing import Any

from chanpub.i18n import _
from chanpub.ledger.backend import Row, Transaction
from chanpub.ledger.schema import UNSETTLED, now
from chanpub.status import Status

STATES_CHUNK = 1000  # items asked about in one statement (SQLite allows 32,766 parameters)


def _states(rows: list[Row]) -> dict[str, Status]:
    return {str(row["item"]): Status(row["status"]) for row in rows}


class ItemQueries:
    """The items of deliveries; the Ledger provides the reading and writing."""

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Transaction]:
        raise NotImplementedError

    def _write_one(self, sql: str, args: Sequence[Any] = ()) -> int:
        raise NotImplementedError

    def _write_soon(
        self, sql: str, args: Sequence[Any], *, otherwise: tuple[str, Sequence[Any]]
    ) -> None:
        raise NotImplementedError

    def stored(self, namespace: str, key: str) -> Any:
        raise NotImplementedError

    def set_stored(self, namespace: str, key: str, value: Any) -> None:
        raise NotImplementedError

    def stored_items(self, namespace: str) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def store(self, namespace: str) -> LedgerStore:
        """An adapter's key-value store (sessions, lookup notes) in this database."""
        return LedgerStore(self, namespace)

    def item_status(self, key: str, item: str) -> Status | None:
        """The state of one item of a delivery."""
        row = self._one("SELECT status FROM items WHERE delivery_key=? AND item=?", (key, item))
        return Status(row["status"]) if row else None

    def item_states(self, key: str, items: Collection[str] | None = None) -> dict[str, Status]:
        """Every item of a delivery with its state, in one read; only `items` when given
        (read in chunks of STATES_CHUNK)."""
        query = "SELECT item, status FROM items WHERE delivery_key=?"
        if items is None:
            return _states(self._rows(query, (key,)))
        wanted, states = sorted(items), {}
        for start in range(0, len(wanted), STATES_CHUNK):
            chunk = wanted[start : start + STATES_CHUNK]
            marks = ", ".join("?" * len(chunk))
            states.update(_states(self._rows(f"{query} AND item IN ({marks})", (key, *chunk))))
        return states

    def item_remote_id(self, key: str, item: str) -> str | None:
        """The remote id recorded for one item of a delivery (thread posts: the post id)."""
        row = self._one("SELECT remote_id FROM items WHERE delivery_key=? AND item=?", (key, item))
        return str(row["remote_id"]) if row and row["remote_id"] else None

    def set_item(
        self,
        key: str,
        item: str,
        status: str,
        remote_id: str | None = None,
        error: str | None = None,
        *,
        wait: bool = True,
    ) -> None:
        """Record one item's state, committed at once (one statement: the hot path of a
        large list, two per recipient). After its in-progress mark an item has its row, so
        its outcome is a plain UPDATE, which costs the database less than an upsert that
        runs into its own row; an item with no row yet (a delivery receipt for a message
        of another run) is inserted. With `wait=False` an outcome is committed before the
        ledger's next statement rather than before this returns (Backend.execute_soon);
        an in-progress mark is always waited for: it must be committed before the message
        ends."""
        upsert = (
            """INSERT INTO items (delivery_key, item, status, remote_id, error, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (delivery_key, item) DO UPDATE SET status=excluded.status,
                   remote_id=excluded.remote_id, error=excluded.error,
                   updated_at=excluded.updated_at""",
            (key, item, status, remote_id, error, now()),
        )
        if status == Status.IN_PROGRESS:
            self._write_one(*upsert)
            return
        update = """UPDATE items SET status=?, remote_id=?, error=?, updated_at=?
                    WHERE delivery_key=? AND item=?"""
        values = (status, remote_id, error, now(), key, item)
        if not wait:
            self._write_soon(update, values, otherwise=upsert)
        elif not self._write_one(update, values):
            self._write_one(*upsert)

    def delivered_items(self, key: str) -> list[tuple[str, str]]:
        """(item, remote id) of the items of a delivery that arrived (sent, delivered or
        read), in item order; the remote id is '' when none was recorded."""
        rows = self._rows(
            "SELECT item, COALESCE(remote_id, '') AS remote_id FROM items "
            "WHERE delivery_key=? AND status IN (?, ?, ?) ORDER BY item",
            (key, Status.SENT, Status.DELIVERED, Status.READ),
        )
        return [(str(row["item"]), str(row["remote_id"])) for row in rows]

    def item_counts(self, key: str) -> dict[str, int]:
        """How many items of a delivery are in each state."""
        rows = self._rows(
            "SELECT status, COUNT(*) AS n FROM items WHERE delivery_key=? GROUP BY status",
            (key,),
        )
        return {str(row["status"]): int(row["n"]) for row in rows}

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
        rows = self._rows(
            "SELECT item, COALESCE(error, '') AS error FROM items "
            f"WHERE delivery_key=? AND status IN ({marks}) ORDER BY item LIMIT ?",
            (key, *states, limit),
        )
        return [(str(row["item"]), str(row["error"])) for row in rows]

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
        with self._write() as db:
            return db.execute(
                f"UPDATE items SET status=?, error=?, updated_at=? WHERE status IN ({marks}) "
                "AND delivery_key IN (SELECT delivery_key FROM deliveries WHERE slug=? AND "
                "channel=? AND delivery_key=COALESCE(?, delivery_key))",
                (status, error, now(), *states, slug, channel, key),
            )

    def unknown_count(self, slug: str, channel: str, states: tuple[str, ...] = UNSETTLED) -> int:
        """How many items of a release on a channel are in `states` (default: unknown)."""
        marks = ", ".join("?" * len(states))
        row = self._one(
            f"SELECT COUNT(*) AS n FROM items WHERE status IN ({marks}) AND delivery_key IN "
            "(SELECT delivery_key FROM deliveries WHERE slug=? AND channel=?)",
            (*states, slug, channel),
        )
        return int(row["n"]) if row else 0

    def item_for_remote_id(self, remote_id: str) -> tuple[str, str] | None:
        """(delivery key, item) of the item recorded with this remote id (a WhatsApp
        delivery receipt names only the message id)."""
        row = self._one(
            "SELECT delivery_key, item FROM items WHERE remote_id=? LIMIT 1", (remote_id,)
        )
        return (str(row["delivery_key"]), str(row["item"])) if row else None


class LedgerStore:
    """One adapter's namespace of the store table (chanpub.contract.Store)."""

    def __init__(self, ledger: ItemQueries, namespace: str) -> None:
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

    def items(self) -> list[tuple[str, Any]]:
        """Every (key, value) of this namespace, in key order."""
        return self.ledger.stored_items(self.namespace)
