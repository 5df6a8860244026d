"""Shared fixtures: every test runs in its own folder, with no real tokens, no sleeping
retries, and an HTTP transport that fails any request the test did not declare."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import PostgresServer, binaries

SECRET_PREFIXES = (
    "MASTODON_",
    "BLUESKY_",
    "TELEGRAM_",
    "FACEBOOK_",
    "INSTAGRAM_",
    "X_",
    "WORDPRESS_",
    "WP_",
    "MICROPUB_",
    "WEBHOOK_",
    "WHATSAPP_",
    "SMTP_",
    "CHANPUB_",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/ from the current output"
    )


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(SECRET_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHANPUB_STATE_DIR", str(tmp_path / ".chanpub"))
    monkeypatch.setenv("CHANPUB_LANG", "en")  # messages in English, whatever a config says
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    import stamina

    stamina.set_testing(True, attempts=3)

    from chanpub import errors

    errors.remember_secrets(())  # no secret of an earlier test's config is masked here

    from chanpub import http
    from chanpub.testing import strict_transport

    monkeypatch.setattr(http, "transport_factory", strict_transport)
    http.close_shared_client()
    yield
    http.close_shared_client()
    stamina.set_testing(False)


@pytest.fixture(scope="session")
def wordpress_site() -> dict[str, str]:
    """Start (or reuse) the real WordPress on loopback: URL, users, fresh app passwords."""
    import json
    import subprocess

    setup = Path(__file__).parent / "servers" / "wordpress" / "setup.sh"
    result = subprocess.run(
        ["bash", str(setup)], capture_output=True, text=True, timeout=900, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"the WordPress test server did not start:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was started with --update-golden."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def golden(update_golden: bool):  # type: ignore[no-untyped-def]
    """Compare text with tests/golden/<name>, or rewrite it with --update-golden."""
    root = Path(__file__).parent / "golden"

    def compare(name: str, actual: str) -> None:
        path = root / name
        if update_golden or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            if not update_golden:
                pytest.fail(f"golden file {name} was missing and has been written: review it")
        assert actual == path.read_text(encoding="utf-8"), f"differs from golden {name}"

    return compare


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL on loopback for the whole session (.ci/setup.d/60-postgresql.sh
    installs Debian's package; without it the test fails, it does not skip)."""
    bin_dir = binaries()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: run .ci/setup.d/60-postgresql.sh")
    server = PostgresServer(bin_dir)
    server.start()
    yield server
    server.remove()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database in the session's PostgreSQL."""
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_at(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a ledger lives: a SQLite file, or a PostgreSQL database (each test runs twice)."""
    if request.param == "sqlite":
        return tmp_path / "l.sqlite3"
    return request.getfixturevalue("postgres_url")  # type: ignore[no-any-return]
