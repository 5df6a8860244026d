"""`chanpub db`: create or bring up to date the shared database, and move a SQLite ledger
into it. Used only with `database:` in channels.yaml (the chanpub[postgres] extra)."""

from __future__ import annotations

from pathlib import Path

from chanpub.config import Config
from chanpub.errors import ConfigError, StateError
from chanpub.i18n import _
from chanpub.ledger import Ledger


def database_url(config: Config) -> str:
    """The `database:` URL, or a clear error for a config without one."""
    if not config.database:
        raise ConfigError(
            _(
                "{path}: database: is not set: add 'database: ${{CHANPUB_DATABASE_URL}}' "
                "and set that variable to a postgresql:// URL"
            ).format(path=config.path)
        )
    return config.database


def upgrade(config: Config) -> list[str]:
    """Create or update the ledger tables and the task queue's schema; safe to repeat.
    Returns what was done, one line each."""
    url = database_url(config)
    done: list[str] = []
    ledger = Ledger(url)  # opening creates the ledger tables and adds new columns
    try:
        done.append(_("ledger tables ready in {where}").format(where=ledger.where))
        done.append(upgrade_queue(ledger))
        done.append(durability(str(ledger.backend.rows("SHOW fsync")[0]["fsync"])))
    finally:
        ledger.close()
    return done


def upgrade_queue(ledger: Ledger) -> str:
    """Install procrastinate's schema once (it cannot be applied twice)."""
    from chanpub.queue import install_schema

    if install_schema(ledger):
        return _("task queue schema created")
    return _("task queue schema already present")


def durability(fsync: str) -> str:
    """What the server's `fsync` setting means for exactly once. chanpub's sessions commit
    synchronously (PostgresBackend), but only fsync puts a commit on the disk: without it a
    power cut or crash of the database host can undo the marks of the last moments, and
    what they guarded is sent again. https://www.postgresql.org/docs/current/runtime-config-wal.html"""
    if fsync == "on":
        return _("durability: each commit is on the disk before the server confirms it (fsync on)")
    return _(
        "warning: the server runs with fsync=off: a power cut or crash of the database host "
        "can undo what chanpub recorded, and it would then send those e-mails and posts "
        "again. Set 'fsync = on' in postgresql.conf and reload the server."
    )


def import_sqlite(path: Path, *, config: Config) -> dict[str, int]:
    """Copy the SQLite ledger at `path` into the database; returns rows copied per table."""
    from chanpub.ledger.sqlite import SqliteBackend
    from chanpub.ledger.transfer import copy_ledger

    url = database_url(config)
    if not path.is_file():
        raise StateError(
            _("{path}: no such ledger file: give the ledger.sqlite3 of the state directory").format(
                path=path
            )
        )
    source = Ledger(path, backend=SqliteBackend(path, read_only=True))
    target = Ledger(url)
    try:
        return copy_ledger(source, target)
    finally:
        source.close()
        target.close()
