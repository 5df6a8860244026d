"""`chanpub send` killed with SIGKILL at many points, then run again: every channel and every
recipient ends with exactly one delivery, or with an entry flagged for a person (a Telegram
post, or an e-mail recipient whose reply was lost: 'unknown'), and the
ledger passes `PRAGMA integrity_check` every time.

The office sends two releases to a website (canonical), a webhook portal (deduplicates on
the key), a Telegram channel (no idempotency, no lookup) and a press list of six over SMTP.
The process is stopped at a chosen point by tests/faults/killpoints (an import-time hook
that only chooses where to wait), or by a service that holds the connection after it
applied the post; then it is killed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from .fault_server import Fault, FaultServer
from .office import (
    chanpub,
    integrity,
    kill_when,
    smtp,
    start,
    telegram,
    webhook,
    with_kill_point,
    write_office,
)
from .smtp_relay import Relay, press_list, running

RELEASES = 2
RECIPIENTS = 6


@pytest.fixture
def service() -> Iterator[FaultServer]:
    with FaultServer() as running_service:
        yield running_service


@pytest.fixture
def relay() -> Iterator[Relay]:
    with running(Relay()) as running_relay:
        yield running_relay


@pytest.fixture
def office(tmp_path: Path, service: FaultServer, relay: Relay) -> tuple[Path, list[str]]:
    folder = tmp_path / "humas"
    folder.mkdir()
    media, addresses = press_list(folder, RECIPIENTS)
    write_office(
        folder,
        {
            "portal": webhook(service.url),
            "social": telegram(service.url),
            "press": smtp(relay.port, [media]),
        },
        releases=RELEASES,
    )
    return folder, addresses


def assert_exactly_once_or_flagged(
    folder: Path, service: FaultServer, relay: Relay, addresses: list[str]
) -> None:
    """The invariant every kill point must leave after one more run."""
    assert integrity(folder) == "ok"
    with sqlite3.connect(folder / ".chanpub" / "ledger.sqlite3") as db:
        rows = {
            (slug, channel): (status, key)
            for slug, channel, status, key in db.execute(
                "SELECT slug, channel, status, delivery_key FROM deliveries"
            )
        }
        items = {
            (key, item): (status, error or "")
            for key, item, status, error in db.execute(
                "SELECT delivery_key, item, status, error FROM items"
            )
        }
    db.close()
    for number in range(RELEASES):
        title = f"Siaran Pers Nomor {number} Kota Contoh"
        slug = f"siaran-pers-nomor-{number}-kota-contoh"
        assert rows[(slug, "website")][0] == "published"
        assert (folder / "public" / f"{slug}.html").is_file()

        hooks = [p for p in service.posts if "/hooks/" in p.path and slug.encode() in p.body]
        assert rows[(slug, "portal")][0] == "published" and len(hooks) == 1, (slug, hooks)

        messages = [p for p in service.posts if "/bot" in p.path and title in p.text]
        status = rows[(slug, "social")][0]
        assert len(messages) <= 1, f"{slug} posted {len(messages)} times to Telegram"
        assert (status == "published" and len(messages) == 1) or status == "needs_check", (
            slug,
            status,
            len(messages),
        )

        key = rows[(slug, "press")][1]
        for address in addresses:
            got = relay.count(address, title)
            state, reason = items.get((key, address), ("", ""))
            assert got <= 1, f"{address} got {slug} {got} times"
            assert (state == "sent" and got == 1) or (
                state == "unknown" and "may have" in reason
            ), (slug, address, state, got)


def run_again(folder: Path) -> None:
    result = chanpub(folder, "send", "releases/", "--json")
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr


KILL_POINTS = [
    ("after-lock", 1),
    *[("mid-ledger-write", n) for n in (1, 6, 9, 24)],  # 9: an e-mail's 'sent'
    *[("after-ledger-write", n) for n in (5, 20)],
    *[("before-record", n) for n in (1, 4)],
]


@pytest.mark.parametrize(("point", "count"), KILL_POINTS, ids=[f"{p}-{n}" for p, n in KILL_POINTS])
def test_killed_at_a_point_then_run_again(
    office: tuple[Path, list[str]], service: FaultServer, relay: Relay, point: str, count: int
) -> None:
    folder, addresses = office
    signal_file = folder.parent / "stopped"
    process = start(folder, "send", "releases/", **with_kill_point(point, signal_file, count))
    kill_when(process, signal_file.exists)
    assert signal_file.read_text(encoding="utf-8") == point
    assert integrity(folder) == "ok"
    run_again(folder)
    assert_exactly_once_or_flagged(folder, service, relay, addresses)


@pytest.mark.parametrize("channel", ["portal", "social"])
def test_killed_while_the_service_holds_an_applied_post(
    office: tuple[Path, list[str]],
    service: FaultServer,
    relay: Relay,
    channel: str,
) -> None:
    folder, addresses = office
    if channel == "social":  # let the portal through first: the hold hits a Telegram post
        write_office(folder, {"social": telegram(service.url)}, releases=RELEASES)
    service.next(Fault.block())
    process = start(folder, "send", "releases/")
    kill_when(process, service.reached.is_set)
    service.released.set()
    assert integrity(folder) == "ok"
    write_office(  # the channels left out for the kill are back, and take the releases too
        folder,
        {
            "portal": {**webhook(service.url), "backfill": True},
            "social": telegram(service.url),
            "press": {**smtp(relay.port, ["media.csv"]), "backfill": True},
        },
        releases=RELEASES,
    )
    run_again(folder)
    assert_exactly_once_or_flagged(folder, service, relay, addresses)


@pytest.mark.parametrize("hold_at", [1, 4])
def test_killed_in_the_middle_of_the_press_list(
    office: tuple[Path, list[str]],
    service: FaultServer,
    relay: Relay,
    hold_at: int,
) -> None:
    folder, addresses = office
    relay.hold_at = hold_at  # the server stored message N; its 250 never reaches chanpub
    process = start(folder, "send", "releases/")
    kill_when(process, relay.held.is_set)
    assert integrity(folder) == "ok"
    run_again(folder)
    assert_exactly_once_or_flagged(folder, service, relay, addresses)
    reached = [a for a in addresses if relay.count(a, "Nomor 0") == 1]
    assert reached == addresses, "the rest of the list was sent after the kill"
