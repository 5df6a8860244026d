"""`chanpub send` stopped with SIGTERM (what systemd and cron timeouts send) in the middle of
a press list on a slow SMTP server: the message in flight is finished and recorded, nothing
new is started, the run exits 143, and the next run delivers the rest exactly once."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .office import chanpub, integrity, item_rows, ledger_rows, smtp, start, write_office
from .smtp_relay import Relay, press_list, running

RECIPIENTS = 30


@pytest.fixture
def relay() -> Iterator[Relay]:
    with running(Relay(delay=0.05)) as slow:
        yield slow


def test_sigterm_finishes_the_message_in_flight_and_exits_143(tmp_path: Path, relay: Relay) -> None:
    folder = tmp_path / "humas"
    folder.mkdir()
    media, addresses = press_list(folder, RECIPIENTS)
    write_office(folder, {"press": smtp(relay.port, [media])}, releases=2)
    process = start(folder, "send", "releases/")
    deadline = time.monotonic() + 30
    while len(relay.received) < 5:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)

    os.kill(process.pid, signal.SIGTERM)
    _out, errors = process.communicate(timeout=30)

    assert process.returncode == 143, errors
    assert "Traceback" not in errors
    assert integrity(folder) == "ok"
    items = item_rows(folder)
    assert "in_progress" not in items.values() and "unknown" not in items.values()
    sent = {a for a, status in items.items() if status == "sent"}
    got = {a for a in addresses if relay.count(a, "Nomor 0") == 1}
    assert sent == got and 5 <= len(got) < RECIPIENTS, "stopped after the message in flight"
    rows = ledger_rows(folder)
    assert rows[("siaran-pers-nomor-0-kota-contoh", "press")] == "failed"
    assert ("siaran-pers-nomor-1-kota-contoh", "press") not in rows, "nothing new started"
    assert not (folder / "public" / "siaran-pers-nomor-1-kota-contoh.html").exists()

    again = chanpub(folder, "send", "releases/")

    assert again.returncode == 0, again.stdout + again.stderr
    for number in (0, 1):
        assert [relay.count(a, f"Nomor {number}") for a in addresses] == [1] * RECIPIENTS
