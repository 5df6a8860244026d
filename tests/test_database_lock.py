"""With `database:`, the send lock lives in PostgreSQL: a second host is told which host
holds the work, and a host that dies lets it go."""

from __future__ import annotations

import os
import socket

import pytest

from chanpub.errors import LockHeld
from chanpub.ledger import Ledger


def test_a_second_host_is_told_who_holds_the_send(postgres_url: str) -> None:
    first, second = Ledger(postgres_url), Ledger(postgres_url)
    with first.claim_run():
        with pytest.raises(LockHeld) as caught, second.claim_run():
            pytest.fail("two hosts held the send lock at once")
        message = caught.value.message
        assert f"running on host {socket.gethostname()} (process {os.getpid()}" in message
        assert "postgres:***@" in message
    with second.claim_run():  # let go at the end of the first run
        assert second.where == first.where


def test_a_host_whose_connection_ends_lets_the_lock_go(postgres_url: str) -> None:
    first = Ledger(postgres_url)
    holding = first.claim_run()
    holding.__enter__()
    first.close()  # the host died: PostgreSQL ends its session and its advisory lock
    with Ledger(postgres_url).claim_run():
        pass
