"""Moving a ledger: `chanpub db import` copies a SQLite ledger into PostgreSQL.

Every row keeps its state, so what was published before the move is not sent again; rows
already in the database win (the import can run twice).
"""

from __future__ import annotations

from chanpub.ledger.core import Ledger
from chanpub.ledger.schema import COPIED_TABLES


def copy_ledger(source: Ledger, target: Ledger) -> dict[str, int]:
    """Copy every row of `source` into `target`; returns table -> rows newly copied."""
    copied: dict[str, int] = {}
    for table in COPIED_TABLES:
        try:
            rows = source.backend.rows(f"SELECT * FROM {table}")
        except source.backend.errors:  # an older ledger without this table
            continue
        count = 0
        with target._write() as db:
            for row in rows:
                columns = ", ".join(row)
                marks = ", ".join("?" * len(row))
                count += db.execute(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING",
                    tuple(row.values()),
                )
        copied[table] = count
    return copied
