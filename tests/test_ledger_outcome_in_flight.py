"""A recipient's outcome goes to PostgreSQL without waiting for the server's answer.

Per e-mail recipient the ledger writes two statements: the in-progress mark, which must be
committed before the end of DATA (so it waits), and the outcome right after. The outcome's
answer is collected before the ledger's next statement (the next recipient's mark, a read,
the delivery's end, closing), so the server commits it while the next message is built and
sent instead of on the sending thread's time. What that must not change: the outcome is
committed before anything later of this ledger, a failed outcome still stops the run, and a
process killed once the outcome has been handed over loses nothing.
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from chanpub.errors import StateError
from chanpub.ledger import Ledger


class AnswerGate:
    """A TCP proxy in front of PostgreSQL that can hold back the server's answers (what the
    server receives still passes), to see which calls wait for the server."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.server = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        port = self.listener.getsockname()[1]
        netloc = parts.netloc.rsplit(":", 1)[0] + f":{port}"
        self.url = urlunsplit(parts._replace(netloc=netloc))
        self.open = threading.Event()
        self.open.set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            upstream = socket.create_connection(self.server)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        while True:
            ready, _, _ = select.select([client, upstream], [], [])
            if upstream in ready:
                self.open.wait()  # the server's answers wait here while the gate is shut
            for source in ready:
                data = source.recv(65536)
                if not data:
                    client.close()
                    upstream.close()
                    return
                (upstream if source is client else client).sendall(data)


@pytest.fixture
def gate(postgres_url: str) -> Iterator[AnswerGate]:
    gate = AnswerGate(postgres_url)
    yield gate
    gate.open.set()


def finishes(call: object, timeout: float) -> tuple[threading.Thread, bool]:
    """Run `call` in a thread; whether it returned within `timeout` seconds."""
    thread = threading.Thread(target=call, daemon=True)  # type: ignore[arg-type]
    thread.start()
    thread.join(timeout)
    return thread, not thread.is_alive()


def test_the_outcome_does_not_wait_for_the_server_and_the_next_mark_does(
    gate: AnswerGate,
) -> None:
    ledger = Ledger(gate.url)
    journal = ledger.journal("key")
    journal.begin("a@x")  # prepares the statements while the gate is open
    journal.sent("a@x", "<a@x>")
    journal.begin("b@x")

    gate.open.clear()
    _, returned = finishes(lambda: journal.sent("b@x", "<b@x>"), timeout=10)
    assert returned, "the outcome waited for the server's answer"
    mark, returned = finishes(lambda: journal.begin("c@x"), timeout=0.5)
    assert not returned, "the next mark went out before the outcome was committed"
    gate.open.set()
    mark.join(10)

    assert not mark.is_alive()
    assert ledger.item_states("key") == {"a@x": "sent", "b@x": "sent", "c@x": "in_progress"}
    ledger.close()


def test_an_outcome_that_fails_stops_the_ledgers_next_call(postgres_url: str) -> None:
    ledger = Ledger(postgres_url)
    ledger.backend.db.execute(  # type: ignore[attr-defined]
        "ALTER TABLE items ADD CONSTRAINT known CHECK (remote_id IS NULL OR remote_id <> 'x')"
    )
    journal = ledger.journal("key")
    journal.begin("a@x")
    journal.sent("a@x", "x")  # refused by the server; said at the next call

    with pytest.raises(StateError, match="lost the ledger database"):
        journal.begin("b@x")
    assert ledger.item_states("key") == {"a@x": "in_progress"}  # unknown, never sent twice
    ledger.close()


def test_the_last_outcome_is_committed_before_the_ledger_closes(ledger_at: Path | str) -> None:
    ledger = Ledger(ledger_at)
    journal = ledger.journal("key")
    journal.begin("a@x")
    journal.sent("a@x", "<a@x>")
    journal.failed("b@x", "550 no such user")  # an outcome with no mark before it
    ledger.close()

    reopened = Ledger(ledger_at)
    assert reopened.item_states("key") == {"a@x": "sent", "b@x": "failed"}
    assert reopened.failed_items("key") == [("b@x", "550 no such user")]
    reopened.close()


def test_an_outcome_without_a_mark_is_inserted_when_its_update_finds_no_row(
    postgres_url: str,
) -> None:
    ledger = Ledger(postgres_url)
    journal = ledger.journal("key")
    journal.failed("b@x", "550 no such user")
    journal.begin("c@x")

    assert ledger.item_states("key") == {"b@x": "failed", "c@x": "in_progress"}
    ledger.close()


KILLED = """
import os, signal, sys
from chanpub.ledger import Ledger
journal = Ledger(sys.argv[1]).journal("key")
journal.begin("a@x")
journal.sent("a@x", "<a@x>")
os.kill(os.getpid(), signal.SIGKILL)  # before anything reads the outcome's answer
"""


def test_an_outcome_handed_to_the_server_survives_the_process_being_killed(
    postgres_url: str,
) -> None:
    killed = subprocess.run([sys.executable, "-c", KILLED, postgres_url], check=False)
    assert killed.returncode == -9

    ledger = Ledger(postgres_url)
    assert ledger.item_states("key") == {"a@x": "sent"}
    ledger.close()


def test_a_ledger_sending_from_several_threads_keeps_every_outcome(
    postgres_url: str,
) -> None:
    # Four SMTP connections share one ledger (one session, one lock).
    ledger = Ledger(postgres_url)
    journal = ledger.journal("key")

    def send(thread: int) -> None:
        for n in range(50):
            journal.begin(f"{thread}-{n}@x")
            journal.sent(f"{thread}-{n}@x", f"<{thread}-{n}@x>")

    threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert ledger.item_counts("key") == {"sent": 200}
    ledger.close()


def test_the_run_claim_is_let_go_after_the_last_outcome_of_a_run(postgres_url: str) -> None:
    # A run stopped right after a recipient's outcome went out leaves the claim through
    # the same session: the outcome is collected first.
    ledger = Ledger(postgres_url)
    with ledger.claim_run():
        journal = ledger.journal("key")
        journal.begin("a@x")
        journal.sent("a@x", "<a@x>")
    ledger.close()

    other = Ledger(postgres_url)
    with other.claim_run():
        assert other.item_states("key") == {"a@x": "sent"}
    other.close()
