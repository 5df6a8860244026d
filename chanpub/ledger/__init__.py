"""The ledger: SQLite in the state directory by default, PostgreSQL with `database:`.

`Ledger(path)` opens a SQLite file; `Ledger("postgresql://...")` a shared database (the
`chanpub[postgres]` extra). Both keep the same rows and answer the same queries.
"""

from __future__ import annotations

from chanpub.ledger.core import Ledger, is_database_url
from chanpub.ledger.items import LedgerStore
from chanpub.ledger.schema import ADDED_COLUMNS, UNSETTLED, Delivery

__all__ = ["ADDED_COLUMNS", "UNSETTLED", "Delivery", "Ledger", "LedgerStore", "is_database_url"]
