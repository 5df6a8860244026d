"""`chanpub worker --until-empty` (chanpub.queue.run_jobs): while other workers still run
the last jobs it only looks at the queue now and then, without starting a worker each
time, and it exits once no job is left anywhere."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest
from postgres_server import rows_inserted

from chanpub import queue
from chanpub.config import load_config
from chanpub.ledger import Ledger


def _registrations(url: str) -> int:
    return rows_inserted(url, "procrastinate_workers")


def test_a_worker_waiting_for_another_workers_last_job_does_not_start_again_and_again(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANPUB_DATABASE_URL", postgres_url)
    (tmp_path / "channels.yaml").write_text(
        "database: ${CHANPUB_DATABASE_URL}\nchannels: {}\n", encoding="utf-8"
    )
    ledger = Ledger(postgres_url)
    queue.install_schema(ledger)
    with psycopg.connect(postgres_url, autocommit=True) as db:  # another live worker's job
        other = db.execute("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id")
        db.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, worker_id) "
            "VALUES (%s, %s, '{}', 'doing', %s)",
            (queue.QUEUE, queue.TASK, other.fetchone()[0]),  # type: ignore[index]
        )
    work = queue.Work(load_config(tmp_path / "channels.yaml"), ledger)
    before = _registrations(postgres_url)
    done = threading.Event()

    def run() -> None:
        queue.run_jobs(work, concurrency=1, until_empty=True, signals=False)
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(3 * queue.POLL + 1)
    assert not done.is_set(), "it waits while a job runs elsewhere"
    with psycopg.connect(postgres_url, autocommit=True) as db:  # that job ends
        db.execute("UPDATE procrastinate_jobs SET status = 'succeeded'")
    thread.join(timeout=10)

    assert done.is_set()
    assert _registrations(postgres_url) - before <= 1
    ledger.close()
