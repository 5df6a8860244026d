"""What each recipient costs the PostgreSQL server's disk, on a server that flushes its
commits as an office's does (`fsync` on; the session's other tests run without it).

A recipient's in-progress mark must be on the disk before its message ends: it waits for
the flush. Its outcome need not: the WAL is flushed in order, so the next mark's flush puts
the outcome there too, and a crash in between loses at most that outcome (the recipient is
then unknown, never sent twice). So one flush per recipient, not two: half the work the
server's disk does for a big list, which many offices' sends share.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from postgres_server import PostgresServer, binaries

from chanpub.ledger import Ledger
from chanpub.status import Status

RECIPIENTS = 50
KEY = "siaran-pers:abc123:press"


@pytest.fixture(scope="module")
def durable_server() -> Iterator[PostgresServer]:
    bin_dir = binaries()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: run .ci/setup.d/60-postgresql.sh")
    server = PostgresServer(bin_dir, durable=True)
    server.start()
    yield server
    server.remove()


def flushes(url: str) -> int:
    """How many times the server has flushed its WAL to the disk since it started."""
    with psycopg.connect(url) as db:
        row = db.execute("SELECT wal_sync FROM pg_stat_wal").fetchone()
    assert row is not None
    return int(row[0])


def send_to(ledger: Ledger, recipients: range) -> None:
    """What the e-mail channel records per recipient: the mark, then the outcome."""
    for number in recipients:
        ledger.set_item(KEY, f"r{number}@media.example", Status.IN_PROGRESS)
        ledger.set_item(KEY, f"r{number}@media.example", Status.SENT, wait=False)


def test_each_recipient_costs_the_server_one_flush(durable_server: PostgresServer) -> None:
    url = durable_server.new_database()
    ledger = Ledger(url)
    send_to(ledger, range(1))  # the statements are prepared once per session
    before = flushes(url)
    send_to(ledger, range(1, 1 + RECIPIENTS))
    ledger.close()

    assert RECIPIENTS <= flushes(url) - before < RECIPIENTS + 10  # two per recipient before


def test_an_outcome_is_on_the_disk_once_the_next_mark_is(durable_server: PostgresServer) -> None:
    url = durable_server.new_database()
    ledger = Ledger(url)
    send_to(ledger, range(3))
    ledger.set_item(KEY, "r3@media.example", Status.IN_PROGRESS)  # confirmed: on the disk

    durable_server.stop("immediate")  # a crash: what was not on the disk is gone
    durable_server.start()
    ledger.close()
    after = Ledger(url)
    try:
        statuses = [after.item_status(KEY, f"r{n}@media.example") for n in range(4)]
    finally:
        after.close()
    assert statuses == [Status.SENT, Status.SENT, Status.SENT, Status.IN_PROGRESS]
