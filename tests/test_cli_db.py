"""`chanpub db upgrade` and `chanpub db import`: the shared database is made ready, and an
office moving from its SQLite ledger to PostgreSQL sends nothing again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.database import durability
from chanpub.testing import write_release

runner = CliRunner()


def _office(tmp_path: Path, *, database: bool) -> Path:
    config = tmp_path / "channels.yaml"
    data = {
        "organisation": "Diskominfo Kota Contoh",
        "channels": {
            "website": {"type": "static-site", "path": "public", "base_url": "https://x.example/"}
        },
    }
    if database:
        data["database"] = "${CHANPUB_DATABASE_URL}"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


def test_upgrade_creates_the_schema_and_can_run_again(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANPUB_DATABASE_URL", postgres_url)
    config = _office(tmp_path, database=True)
    first = runner.invoke(app, ["db", "upgrade", "--config", str(config)])
    assert first.exit_code == 0, first.output
    assert "task queue schema created" in first.stdout
    assert "postgres:***@127.0.0.1" in first.stdout and postgres_url not in first.stdout
    again = runner.invoke(app, ["db", "upgrade", "--config", str(config)])
    assert again.exit_code == 0, again.output
    assert "task queue schema already present" in again.stdout


def test_upgrade_warns_when_the_server_does_not_put_commits_on_the_disk(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANPUB_DATABASE_URL", postgres_url)
    result = runner.invoke(
        app, ["db", "upgrade", "--config", str(_office(tmp_path, database=True))]
    )
    assert result.exit_code == 0, result.output
    # The test cluster runs with fsync=off (tests/postgres_server.py); an office's must not.
    assert "warning: the server runs with fsync=off" in result.stdout
    assert "Set 'fsync = on' in postgresql.conf" in result.stdout


def test_a_server_that_flushes_each_commit_is_named_as_such() -> None:
    assert "on the disk before the server confirms it" in durability("on")
    assert "fsync=off" not in durability("on")


def test_db_commands_need_a_database_setting(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["db", "upgrade", "--config", str(_office(tmp_path, database=False))]
    )
    assert result.exit_code == 2
    assert "database: is not set" in result.stderr


def test_an_imported_ledger_sends_nothing_again(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_release(
        tmp_path / "releases", name="rilis.md", title="Jembatan Dibuka", date="2026-03-01"
    )
    sqlite_config = _office(tmp_path, database=False)
    before = runner.invoke(
        app, ["send", str(tmp_path / "releases"), "--json", "--config", str(sqlite_config)]
    )
    assert before.exit_code == 0, before.output
    (tmp_path / "public").rename(tmp_path / "public-before")

    monkeypatch.setenv("CHANPUB_DATABASE_URL", postgres_url)
    config = _office(tmp_path, database=True)
    ledger_file = tmp_path / ".chanpub" / "ledger.sqlite3"
    imported = runner.invoke(app, ["db", "import", str(ledger_file), "--json", "-c", str(config)])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["copied"]["deliveries"] == 1
    again = runner.invoke(app, ["db", "import", str(ledger_file), "--json", "-c", str(config)])
    assert json.loads(again.stdout)["copied"]["deliveries"] == 0  # rows already there win

    after = runner.invoke(
        app, ["send", str(tmp_path / "releases"), "--json", "--config", str(config)]
    )
    assert after.exit_code == 0, after.output
    statuses = [c["status"] for r in json.loads(after.stdout)["releases"] for c in r["channels"]]
    assert statuses == ["already-published"]
    assert not (tmp_path / "public").exists()
    history = runner.invoke(app, ["history", "--json", "--config", str(config)])
    assert history.exit_code == 0, history.output
    assert "jembatan-dibuka" in history.stdout


def test_importing_a_missing_file_says_which(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANPUB_DATABASE_URL", postgres_url)
    config = _office(tmp_path, database=True)
    result = runner.invoke(app, ["db", "import", str(tmp_path / "nope.sqlite3"), "-c", str(config)])
    assert result.exit_code == 2
    assert "nope.sqlite3: no such ledger file" in result.stderr
