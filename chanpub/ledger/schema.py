"""The ledger's tables and rows, the same on SQLite and PostgreSQL.

The SQL is written once, with `?` placeholders; the PostgreSQL backend turns them into
`%s`. Both databases take `CREATE TABLE IF NOT EXISTS`, `ON CONFLICT ... DO UPDATE` and
TEXT columns holding JSON, so only locking, placeholders and introspection differ.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chanpub.status import Status

TABLES = (
    """CREATE TABLE IF NOT EXISTS deliveries (
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
)""",
    "CREATE INDEX IF NOT EXISTS deliveries_by_time ON deliveries (started_at)",
    """CREATE TABLE IF NOT EXISTS items (
    delivery_key TEXT NOT NULL,
    item TEXT NOT NULL,
    status TEXT NOT NULL,
    remote_id TEXT,
    error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (delivery_key, item)
)""",
    """CREATE TABLE IF NOT EXISTS store (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
)""",
    """CREATE TABLE IF NOT EXISTS sequences (
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (name, scope)
)""",
)
SCHEMA = ";\n".join(TABLES) + ";\n"

# Who signed the approval of each release version that went out (signed approvals only).
# Created apart from TABLES: an older ledger opened read-only (history) must still open.
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

# Columns added after the first release of the ledger: a ledger written by an older
# chanpub gets them (empty) when it is opened, on either backend.
ADDED_COLUMNS = {
    "source": "TEXT",  # the release file a delivery was made from (resolved path)
    "kind": "TEXT",  # the version: release, correction or retraction
    "approved_by": "TEXT",  # who approved that version, and when (history shows them)
    "approved_at": "TEXT",
}

# Every table in the order `chanpub db import` copies them.
COPIED_TABLES = ("deliveries", "items", "store", "sequences", "signers")

UNSETTLED = (Status.IN_PROGRESS, Status.UNKNOWN)  # items a person must settle (`chanpub resolve`)


def now() -> str:
    """The current UTC time as the ledger writes it: to the microsecond, because versions
    are ordered by when they finished, and a correction and a retraction can finish within
    one second (ISO text still sorts rightly against older rows kept to the second)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


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
    kind: str | None = None  # release, correction or retraction (None: an older row)
    approved_by: str | None = None
    approved_at: str | None = None


def delivery_from(row: Mapping[str, Any]) -> Delivery:
    """A Delivery from one `deliveries` row (a column mapping)."""
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
        source=row.get("source"),  # read-only old files lack the column
        kind=row.get("kind"),
        approved_by=row.get("approved_by"),
        approved_at=row.get("approved_at"),
    )
