"""`database:` in channels.yaml: a postgresql:// URL whose password comes from a variable,
masked wherever it could show; without it the ledger stays a SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from chanpub.actions import open_ledger
from chanpub.config import load_config
from chanpub.errors import ConfigError


def _config(tmp_path: Path, database: str) -> Path:
    path = tmp_path / "channels.yaml"
    path.write_text(f"organisation: Kominfo\ndatabase: {database}\nchannels: {{}}\n")
    return path


def test_the_database_url_comes_from_a_variable_and_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANPUB_DATABASE_URL", "postgresql://office:pw-Rahasia99@db.example/pub")
    config = load_config(_config(tmp_path, "${CHANPUB_DATABASE_URL}"))
    assert config.database == "postgresql://office:pw-Rahasia99@db.example/pub"
    assert "pw-Rahasia99" not in repr(config)
    assert config.redact("failed: pw-Rahasia99") == "failed: ***"


def test_a_password_written_into_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"database: .*password.*\$\{CHANPUB_DATABASE_URL\}"):
        load_config(_config(tmp_path, "postgresql://office:pw-Rahasia99@db.example/pub"))


def test_only_postgresql_urls_are_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANPUB_DATABASE_URL", "mysql://office:pw@db/pub")
    with pytest.raises(ConfigError, match=r"database: must be a postgresql:// URL"):
        load_config(_config(tmp_path, "${CHANPUB_DATABASE_URL}"))


def test_a_missing_variable_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"database: .*CHANPUB_DATABASE_URL is not set"):
        load_config(_config(tmp_path, "${CHANPUB_DATABASE_URL}"))


def test_without_database_the_ledger_is_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text("organisation: Kominfo\nchannels: {}\n")
    config = load_config(path)
    assert config.database is None
    ledger = open_ledger(config)
    assert ledger is not None
    assert ledger.where == str(config.state_dir / "ledger.sqlite3")


def test_with_database_the_ledger_is_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    monkeypatch.setenv("CHANPUB_DATABASE_URL", postgres_url)
    config = load_config(_config(tmp_path, "${CHANPUB_DATABASE_URL}"))
    ledger = open_ledger(config, create=False)
    assert ledger is not None
    assert ledger.where.startswith("postgresql://postgres:***@127.0.0.1:")
    assert not (config.state_dir / "ledger.sqlite3").exists()


def test_a_database_set_to_commit_asynchronously_still_gets_durable_marks(
    postgres_url: str,
) -> None:
    import psycopg

    from chanpub.ledger import Ledger

    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
        assert admin.execute("SHOW synchronous_commit").fetchone() == ("on",)  # not yet
    ledger = Ledger(postgres_url)
    try:
        # A mark committed asynchronously could be undone by a crash of the database host.
        assert ledger.backend.rows("SHOW synchronous_commit") == [{"synchronous_commit": "on"}]
    finally:
        ledger.close()
    with psycopg.connect(postgres_url) as other:  # the database's default is as set
        assert other.execute("SHOW synchronous_commit").fetchone() == ("off",)
