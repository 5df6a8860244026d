"""Many SIGKILLs during an SMTP send to a press list of 200 (the field report: 50 kills,
37 addresses flagged 'may have received', 24 of which never had, and nothing a person could
do about them). Kills alternate between two moments: after RCPT, before any DATA (the
recipient must simply be sent by a later run), and after the server stored the message but
before its reply reached chanpub (the one moment SMTP leaves unknown)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from .office import chanpub, integrity, item_rows, smtp, start, write_office
from .smtp_relay import Relay, press_list, running

RECIPIENTS = 200
KILLS = 20
SLUG = "siaran-pers-nomor-0-kota-contoh"
TITLE = "Nomor 0"


@pytest.fixture
def relay() -> Iterator[Relay]:
    with running(Relay()) as running_relay:
        yield running_relay


def kill_runs(folder: Path, relay: Relay) -> None:
    """Start `chanpub send` again and again, each killed at the chosen moment."""
    for number in range(KILLS):
        relay.kill_stage = "data" if number % 2 else "rcpt"
        relay.kill_after = 1 + number % 5
        process = start(folder, "send", "releases/")
        relay.victim = process.pid
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL, f"run {number} was not killed"
        assert integrity(folder) == "ok"


def test_twenty_kills_lose_nobody_and_flag_only_the_unknown(tmp_path: Path, relay: Relay) -> None:
    folder = tmp_path / "humas"
    folder.mkdir()
    media, addresses = press_list(folder, RECIPIENTS)
    write_office(folder, {"press": smtp(relay.port, [media])})
    kill_runs(folder, relay)
    in_flight = {address for stage, address in relay.killed if stage == "data"}
    assert len(relay.killed) == KILLS and len(in_flight) == KILLS // 2

    rest = chanpub(folder, "send", "releases/")
    again = chanpub(folder, "send", "releases/")
    history = chanpub(folder, "history", SLUG)

    counts = {a: relay.count(a, TITLE) for a in addresses}
    unknown = {a for a, status in item_rows(folder).items() if status == "unknown"}
    assert unknown == in_flight, "only a lost reply leaves a recipient unknown"
    assert {a for a, n in counts.items() if n != 1} == set(), "each got it exactly once"
    for run in (rest, again):
        assert run.returncode == 1, run.stderr
        assert f"press: {len(unknown)} recipient(s) may or may not have received" in run.stdout
    assert all(f"press: {a}: " in history.stdout for a in unknown)

    resent = chanpub(folder, "resolve", SLUG, "press", "--resend", "--yes")

    assert resent.returncode == 0, resent.stdout + resent.stderr
    after = {a: relay.count(a, TITLE) for a in addresses}
    assert {a for a in addresses if after[a] == 2} == unknown
    assert all(after[a] == 1 for a in addresses if a not in unknown)
    assert chanpub(folder, "send", "releases/").returncode == 0
