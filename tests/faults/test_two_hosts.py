"""Several hosts, one PostgreSQL ledger (`database:`): two hosts' cron jobs firing at the
same moment on the same shared releases folder publish each delivery exactly once, and a
database restart mid-run stops that run cleanly without anything sent twice."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psycopg
import yaml
from postgres_server import PostgresServer

from .fault_server import FaultServer
from .office import chanpub, start, telegram, webhook, write_office

RELEASES = 3


def _host(tmp_path: Path, name: str, shared: Path, service_url: str) -> Path:
    """One host's working folder: its own channels.yaml and state, the shared releases."""
    folder = tmp_path / name
    write_office(
        folder,
        {"portal": webhook(service_url), "social": telegram(service_url)},
        releases=0,
    )
    config = folder / "channels.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["database"] = "${CHANPUB_DATABASE_URL}"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return folder


def _shared_releases(tmp_path: Path) -> Path:
    write_office(tmp_path / "shared", {}, releases=RELEASES)
    return tmp_path / "shared" / "releases"


def _ledger(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as db:
        return db.execute(
            "SELECT status, attempts, COUNT(*) FROM deliveries GROUP BY status, attempts"
        ).fetchall()


def test_two_hosts_sending_at_once_publish_each_delivery_once(
    tmp_path: Path, postgres_url: str
) -> None:
    releases = _shared_releases(tmp_path)
    with FaultServer(idempotent=False, latency=0.2) as service:
        hosts = [_host(tmp_path, name, releases, service.url) for name in ("host-a", "host-b")]
        processes = [
            start(host, "send", str(releases), "--json", CHANPUB_DATABASE_URL=postgres_url)
            for host in hosts
            for _ in range(2)
        ]
        results = [(p.wait(timeout=120), *p.communicate(timeout=10)) for p in processes]

    codes = sorted(code for code, _out, _err in results)
    assert set(codes) <= {0, 75} and codes.count(0) >= 1, results
    for code, out, err in results:
        if code == 75:
            assert "another chanpub send is running on host" in err and out == "", err
            assert "postgres:***@127.0.0.1" in err and postgres_url not in err
        else:
            statuses = {c["status"] for r in json.loads(out)["releases"] for c in r["channels"]}
            assert statuses <= {"published", "already-published"}, out
    assert len(service.creates()) == 2 * RELEASES
    assert _ledger(postgres_url) == [("published", 1, 3 * RELEASES)]
    assert not (hosts[0] / ".chanpub" / "ledger.sqlite3").exists()


def test_a_database_restart_mid_run_fails_that_run_and_the_next_sends_nothing_twice(
    tmp_path: Path, postgres_url: str, postgres_server: PostgresServer
) -> None:
    releases = _shared_releases(tmp_path)
    # The service keeps one post per Idempotency-Key (as the webhook receiver's contract
    # asks): a delivery whose record was lost in the restart is sent again with its key.
    with FaultServer(latency=1.0) as service:
        host = _host(tmp_path, "host-a", releases, service.url)
        running = start(host, "send", str(releases), CHANPUB_DATABASE_URL=postgres_url)
        deadline = time.monotonic() + 30
        while not service.creates() and time.monotonic() < deadline:
            time.sleep(0.05)
        postgres_server.restart()
        code = running.wait(timeout=60)
        _out, err = running.communicate(timeout=10)
        assert code == 1, err
        assert "lost the ledger database postgresql://postgres:***@127.0.0.1" in err, err
        assert postgres_server.password not in err
        assert "Traceback" not in err

        again = chanpub(host, "send", str(releases), "--json", CHANPUB_DATABASE_URL=postgres_url)
    assert again.returncode in (0, 1), again.stderr
    assert "Traceback" not in again.stderr
    with psycopg.connect(postgres_url) as db:
        rows = dict(db.execute("SELECT slug || ' ' || channel, status FROM deliveries").fetchall())
    for number in range(RELEASES):
        slug = f"siaran-pers-nomor-{number}-kota-contoh"
        title = f"Siaran Pers Nomor {number} Kota Contoh"
        hooks = [p for p in service.posts if "/hooks/" in p.path and slug.encode() in p.body]
        assert rows[f"{slug} portal"] == "published" and len(hooks) == 1, (slug, hooks)
        messages = [p for p in service.posts if "/bot" in p.path and title in p.text]
        assert len(messages) <= 1, f"{slug} posted {len(messages)} times to Telegram"
        assert (rows[f"{slug} social"], len(messages)) in (("published", 1), ("needs_check", 1))
