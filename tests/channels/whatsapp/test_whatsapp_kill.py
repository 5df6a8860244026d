"""`chanpub send` to WhatsApp subscribers, SIGKILLed mid-list and run again: nobody gets the
release twice, the rest still get it, and a subscriber whose answer was lost is left for a
person (never re-sent by itself). The Cloud API stand-in runs as a real HTTP server on
loopback in this process, so it counts messages across the killed runs."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from standins.whatsapp import Template, WhatsAppStandIn

from chanpub.testing import SECRET_MARKER, serve_on_loopback, write_release

pytestmark = pytest.mark.e2e
SLUG = "pemkot-buka-layanan-adminduk-keliling"
TOKEN = f"EAAGwa-{SECRET_MARKER}"
VERSION = "v26.0"


def local(n: int) -> str:
    """The n-th subscriber's number as offices write it: 0812-1000-0042."""
    return f"0812-1{n // 10000:03d}-{n % 10000:04d}"


def e164(n: int) -> str:
    return "+628121" + f"{n // 10000:03d}{n % 10000:04d}"


def count(cloud: WhatsAppStandIn, number: str) -> int:
    """How many messages `number` (E.164) received."""
    return cloud.sent_to()[number.lstrip("+")]


@pytest.fixture
def standin() -> Iterator[tuple[WhatsAppStandIn, str]]:
    cloud = WhatsAppStandIn(TOKEN, [Template("siaran_resmi", header=None)])
    with serve_on_loopback(cloud.http_handler()) as url:
        yield cloud, url
        cloud.released.set()  # a held answer lets its server thread go


def office(folder: Path, url: str, subscribers: int, cloud: WhatsAppStandIn) -> Path:
    """channels.yaml (website canonical + whatsapp), the subscriber list, one release."""
    folder.mkdir()
    rows = ["nama,phone"] + [f"Warga {n},{local(n)}" for n in range(subscribers)]
    rows += ["Ganda,+62 812 1000 0000", "Salah,12345"]  # a duplicate, an invalid number
    (folder / "pelanggan.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    channels = {
        "website": {
            "type": "static-site",
            "canonical": True,
            "path": "public",
            "base_url": "https://kominfo.example.go.id/siaran/",
        },
        "wa": {
            "type": "whatsapp",
            "phone_number_id": cloud.phone_number_id,
            "business_account_id": cloud.waba_id,
            "access_token": "${WHATSAPP_TOKEN}",
            "graph_base": url,
            "api_version": VERSION,
            "template": "siaran_resmi",
            "lists": ["pelanggan.csv"],
            "rate_per_second": 1000,
        },
    }
    (folder / "channels.yaml").write_text(
        yaml.safe_dump({"organisation": "Diskominfo Kota Contoh", "channels": channels}),
        encoding="utf-8",
    )
    write_release(folder / "releases")
    return folder


def environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHANPUB_", "WHATSAPP_"))}
    env.update(
        WHATSAPP_TOKEN=TOKEN,
        CHANPUB_STATE_DIR=str(folder / ".chanpub"),
        CHANPUB_LANG="en",
        LANG="C.UTF-8",
    )
    return env


def chanpub() -> list[str]:
    found = shutil.which("chanpub")
    assert found, "chanpub is not installed: pip install -e '.[test]'"
    return [found, "send", "releases/", "--json"]


def run(folder: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        chanpub(),
        cwd=folder,
        capture_output=True,
        text=True,
        env=environment(folder),
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    return result


def kill_when(folder: Path, ready: Callable[[], bool]) -> None:
    """Start `chanpub send` and SIGKILL it once `ready()`."""
    process = subprocess.Popen(
        chanpub(),
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(folder),
    )
    deadline = time.monotonic() + 120
    while not ready():
        assert process.poll() is None, f"chanpub ended before the kill: {process.stderr.read()}"
        assert time.monotonic() < deadline, "chanpub never got there"
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)


def items(folder: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(folder / ".chanpub" / "ledger.sqlite3") as db:
        rows = db.execute("SELECT item, status, COALESCE(error, '') FROM items").fetchall()
    db.close()
    return {item: (status, error) for item, status, error in rows}


def left_for_a_person(state: str, reason: str) -> bool:
    """'unknown' (or, with a journal that lacks that state, failed with the reason)."""
    return state == "unknown" or (state == "failed" and "may have received" in reason)


def settle_as_a_person_would(folder: Path, cloud: WhatsAppStandIn) -> None:
    """What `chanpub resolve SLUG wa --published -` / `--not-published` do for the
    unknown subscribers once the officer has asked them: here the stand-in tells."""
    with sqlite3.connect(folder / ".chanpub" / "ledger.sqlite3") as db:
        for item, (state, reason) in items(folder).items():
            if left_for_a_person(state, reason):
                verdict = "sent" if count(cloud, item) else "deferred"
                db.execute("UPDATE items SET status=? WHERE item=?", (verdict, item))
    db.close()


def test_a_thousand_subscribers_get_it_exactly_once_across_kills(
    tmp_path: Path, standin: tuple[WhatsAppStandIn, str]
) -> None:
    cloud, url = standin
    folder = office(tmp_path / "humas", url, 1000, cloud)
    for kill_at in (150, 420, 700):
        kill_when(folder, lambda n=kill_at: len(cloud.messages) >= n)
    run(folder)
    states = items(folder)
    counts = {e164(n): count(cloud, e164(n)) for n in range(1000)}
    assert max(counts.values()) == 1, "someone got the release twice"
    for number, (state, reason) in states.items():
        assert state == "sent" or left_for_a_person(state, reason), (number, state)
        assert state != "sent" or counts[number] == 1, number
    assert sum(left_for_a_person(*v) for v in states.values()) <= 3  # one per kill at most
    settle_as_a_person_would(folder, cloud)
    assert run(folder).returncode == 0
    assert set(counts) == set(items(folder)) and all(
        count(cloud, e164(n)) == 1 for n in range(1000)
    )
    assert "+62812100000" not in {m.to for m in cloud.messages}  # the invalid row stayed out
    assert len(cloud.messages) == 1000


def test_a_lost_answer_is_never_sent_again_by_itself(
    tmp_path: Path, standin: tuple[WhatsAppStandIn, str]
) -> None:
    cloud, url = standin
    cloud.lose_answer(e164(5))  # the 6th message is applied, its answer never comes
    folder = office(tmp_path / "humas", url, 20, cloud)
    kill_when(folder, lambda: len(cloud.messages) >= 6)
    cloud.released.set()
    result = run(folder)
    assert result.returncode == 1
    assert f"chanpub resolve {SLUG} wa --resend" in result.stderr + result.stdout
    assert [count(cloud, e164(n)) for n in range(20)] == [1] * 20
    state, reason = items(folder)[e164(5)]
    assert left_for_a_person(state, reason)
    run(folder)  # and not on any later run either
    assert count(cloud, e164(5)) == 1
