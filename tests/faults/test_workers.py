"""Deliveries on the task queue (`database:`): `chanpub send` queues them and works them
itself, or only queues them for `chanpub worker` processes; a worker killed mid-batch
leaves its job to the others, and every recipient gets the message exactly once."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from postgres_server import rows_inserted

from chanpub import file_stats
from chanpub.channels.email import list_parts

from .office import chanpub, smtp, start, write_office
from .smtp_relay import Relay, press_list, running

RECIPIENTS = 2000
LARGE = 20_000  # the size: `send` + three workers, one killed
TITLE = "Nomor 0"


@pytest.fixture
def relay() -> Iterator[Relay]:
    with running(Relay()) as running_relay:
        yield running_relay


def _office(folder: Path, relay: Relay, recipients: int) -> list[str]:
    """An office with the website (canonical) and a press list, on the shared database."""
    folder.mkdir()
    media, addresses = press_list(folder, recipients)
    config = write_office(folder, {"press": smtp(relay.port, [media])})
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["database"] = "${CHANPUB_DATABASE_URL}"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return addresses


def _statuses(url: str) -> dict[str, str]:
    with psycopg.connect(url) as db:
        return dict(db.execute("SELECT channel, status FROM deliveries").fetchall())


def test_send_queues_and_works_its_own_jobs_on_one_host(
    tmp_path: Path, relay: Relay, postgres_url: str
) -> None:
    folder = tmp_path / "humas"
    addresses = _office(folder, relay, 5)

    run = chanpub(folder, "send", "releases/", "--json", CHANPUB_DATABASE_URL=postgres_url)

    assert run.returncode == 0, run.stderr
    channels = json.loads(run.stdout)["releases"][0]["channels"]
    assert {c["channel"]: c["status"] for c in channels} == {
        "website": "published",
        "press": "published",
    }
    assert all(relay.count(a, TITLE) == 1 for a in addresses)


def test_enqueue_only_then_a_worker_publishes(
    tmp_path: Path, relay: Relay, postgres_url: str
) -> None:
    folder = tmp_path / "humas"
    addresses = _office(folder, relay, 5)

    queued = chanpub(
        folder, "send", "releases/", "--enqueue-only", "--json", CHANPUB_DATABASE_URL=postgres_url
    )
    assert queued.returncode == 0, queued.stderr
    channels = json.loads(queued.stdout)["releases"][0]["channels"]
    assert {(c["status"], c["error"]) for c in channels} == {("skipped", "queued")}
    assert _statuses(postgres_url) == {} and relay.count(addresses[0], TITLE) == 0

    worked = chanpub(folder, "worker", "--until-empty", CHANPUB_DATABASE_URL=postgres_url)

    assert worked.returncode == 0, worked.stderr
    assert _statuses(postgres_url) == {"website": "published", "press": "published"}
    assert all(relay.count(a, TITLE) == 1 for a in addresses)


def test_send_and_three_workers_reach_20000_exactly_once_one_killed_mid_batch(
    tmp_path: Path, relay: Relay, postgres_url: str
) -> None:
    folder = tmp_path / "humas"
    addresses = _office(folder, relay, LARGE)  # `queue: batch:` left at 500: 40 batch jobs
    env = {"CHANPUB_DATABASE_URL": postgres_url}
    queued = chanpub(folder, "send", "releases/", "--enqueue-only", **env)
    assert queued.returncode == 0, queued.stderr

    # Three workers start together. The relay SIGKILLs the first at the RCPT of its 200th
    # recipient, in the middle of its first batch (it runs one batch at a time over one
    # connection, so every message before that RCPT had its reply: nobody is in doubt),
    # while the two others are sending their own batches.
    first = start(folder, "worker", "--until-empty", "--concurrency", "1", **env)
    relay.kill_stage, relay.kill_after, relay.victim = "rcpt", 200, first.pid
    others = [start(folder, "worker", "--until-empty", **env) for _ in range(2)]
    first.communicate(timeout=600)
    assert first.returncode == -signal.SIGKILL and relay.killed, relay.killed
    results = [(p.wait(timeout=600), *p.communicate(timeout=10)) for p in others]

    assert [code for code, _out, _err in results] == [0, 0], results
    received = Counter(to for to, subject in relay.received if TITLE in subject)
    assert len(received) == LARGE and set(received.values()) == {1}, "each got one"
    assert set(received) == set(addresses)
    row = _press_row(postgres_url)
    assert row["status"] == "published", repr(row)[-1500:]
    assert (row["details"]["sent"], row["details"]["batches"]) == (LARGE, 40)  # type: ignore[index]
    with psycopg.connect(postgres_url) as db:
        items = db.execute(
            "SELECT status, count(*) FROM items WHERE delivery_key = "
            "(SELECT delivery_key FROM deliveries WHERE channel = 'press') GROUP BY status"
        ).fetchall()
    assert items == [("sent", LARGE)], "the ledger agrees: everyone sent, once"
    assert _statuses(postgres_url) == {"website": "published", "press": "published"}


def _batched(folder: Path, size: int) -> None:
    """Split each recipients delivery into jobs of `size` recipients (`queue: batch:`)."""
    config = folder / "channels.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["queue"] = {"batch": size}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")


def _press_row(url: str) -> dict[str, object]:
    with psycopg.connect(url) as db:
        row = db.execute(
            "SELECT status, error, details, finished_at FROM deliveries WHERE channel = 'press'"
        ).fetchone()
    assert row is not None
    return {"status": row[0], "error": row[1], "details": json.loads(row[2]), "at": row[3]}


def test_a_large_list_is_shared_by_three_workers_in_batches_one_killed(
    tmp_path: Path, relay: Relay, postgres_url: str
) -> None:
    folder = tmp_path / "humas"
    addresses = _office(folder, relay, RECIPIENTS)
    _batched(folder, 400)  # 2000 recipients: 5 batch jobs
    env = {"CHANPUB_DATABASE_URL": postgres_url}
    # The list was written a while before, as an office's is: once a job has read it
    # whole, the jobs after it read only their own rows (list_parts).
    time.sleep(file_stats.SETTLE_NS / 1e9)
    queued = chanpub(folder, "send", "releases/", "--enqueue-only", **env)
    assert queued.returncode == 0, queued.stderr

    # The first worker is killed at the RCPT of its 150th recipient (before DATA, so
    # nobody is in doubt), in the middle of a batch; two more then share the rest. The
    # relay counts only the first worker's RCPTs, whoever else sends meanwhile; and it
    # runs one batch at a time, since a second batch's connection could be between the
    # end of a message's DATA and its reply at that moment (that recipient rightly left
    # in doubt, the delivery `failed`).
    first = start(folder, "worker", "--until-empty", "--concurrency", "1", **env)
    relay.kill_stage, relay.kill_after, relay.victim = "rcpt", 150, first.pid
    first.communicate(timeout=120)
    assert first.returncode == -signal.SIGKILL
    others = [start(folder, "worker", "--until-empty", **env) for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate(timeout=10)) for p in others]

    assert [code for code, _out, _err in results] == [0, 0], results
    counts = {a: relay.count(a, TITLE) for a in addresses}
    assert {a for a, n in counts.items() if n != 1} == set(), "each got it exactly once"
    row = _press_row(postgres_url)
    assert row["status"] == "published" and row["at"], repr(row)[-1500:]
    assert row["details"]["sent"] == RECIPIENTS  # type: ignore[index]
    assert row["details"]["batches"] == 5  # type: ignore[index]
    with psycopg.connect(postgres_url) as db:
        done = db.execute("SELECT count(*) FROM store WHERE namespace = 'batches'").fetchone()
        noted = db.execute(
            "SELECT count(*) FROM store WHERE namespace = %s", (list_parts.NAMESPACE,)
        ).fetchone()
    assert done == (5,), "each batch ended once"
    assert noted == (5 + 1,), "each part's rows were noted, and the invalid addresses"


def test_a_batch_with_refused_addresses_leaves_the_delivery_failed_and_listed(
    tmp_path: Path, postgres_url: str
) -> None:
    refused = {f"wartawan{n:02}@media.example" for n in (3, 77, 141)}
    with running(Relay(refuse=frozenset(refused))) as relay:
        folder = tmp_path / "humas"
        addresses = _office(folder, relay, 150)
        _batched(folder, 50)
        env = {"CHANPUB_DATABASE_URL": postgres_url}

        run = chanpub(folder, "send", "releases/", "--json", **env)

        assert run.returncode == 1, run.stderr
        channels = json.loads(run.stdout)["releases"][0]["channels"]
        assert {c["channel"]: c["status"] for c in channels}["press"] == "failed"
        assert all(relay.count(a, TITLE) == (0 if a in refused else 1) for a in addresses)
    row = _press_row(postgres_url)
    assert row["status"] == "failed"
    assert (row["details"]["sent"], row["details"]["failed"]) == (147, 3)  # type: ignore[index]
    history = chanpub(folder, "history", **env)
    assert all(address in history.stdout for address in refused), history.stdout


def test_a_run_queues_nothing_for_what_is_already_published(
    tmp_path: Path, relay: Relay, postgres_url: str
) -> None:
    folder = tmp_path / "humas"
    addresses = _office(folder, relay, 10)
    _batched(folder, 2)  # five parts: what cron would queue again every ten minutes
    env = {"CHANPUB_DATABASE_URL": postgres_url}
    assert chanpub(folder, "send", "releases/", **env).returncode == 0
    queued = _jobs_queued(postgres_url)

    again = chanpub(folder, "send", "releases/", "--json", **env)

    assert again.returncode == 0, again.stderr
    channels = json.loads(again.stdout)["releases"][0]["channels"]
    assert {c["channel"]: c["status"] for c in channels} == {
        "website": "already-published",
        "press": "already-published",
    }
    assert _jobs_queued(postgres_url) == queued
    assert all(relay.count(a, TITLE) == 1 for a in addresses)


def _jobs_queued(url: str) -> int:
    return rows_inserted(url, "procrastinate_jobs")
