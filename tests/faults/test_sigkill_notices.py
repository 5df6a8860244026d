"""SIGKILLs in the middle of the correction and retraction notices to a press list: each
journalist who got the release gets each notice exactly once. Kills come at the two
moments of `test_sigkill_smtp.py`: after RCPT, before any DATA (a later run sends that
notice), and after the relay stored the notice, before its reply reached chanpub (that
notice is flagged unknown, never sent again by itself)."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from chanpub.approval import approve

from .office import chanpub, smtp, start, write_office
from .smtp_relay import Relay, press_list, running

RECIPIENTS = 30
SLUG = "siaran-pers-nomor-0-kota-contoh"


@pytest.fixture
def relay() -> Iterator[Relay]:
    with running(Relay()) as running_relay:
        yield running_relay


def amend(release: Path, old: str, new: str, **note: str) -> None:
    """The officer edits the release, writes the note, and the head approves it again."""
    [(field, value)] = note.items()
    text = release.read_text(encoding="utf-8").replace(old, new)
    release.write_text(text.replace("---\n", f"---\n{field}: {json.dumps(value)}\n", 1))
    approve(release, "Kepala Dinas Kominfo")


def killed_run(folder: Path, relay: Relay, stage: str, after: int) -> None:
    """`chanpub send`, killed at `stage` of the `after`-th message."""
    relay.kill_stage, relay.kill_after = stage, after
    process = start(folder, "send", "releases/")
    relay.victim = process.pid
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def test_killed_notice_mailings_reach_each_journalist_once(tmp_path: Path, relay: Relay) -> None:
    folder = tmp_path / "humas"
    folder.mkdir()
    media, addresses = press_list(folder, RECIPIENTS)
    write_office(folder, {"press": smtp(relay.port, [media])}, website=False)
    release = folder / "releases" / "rilis-0000.md"
    assert chanpub(folder, "send", "releases/").returncode == 0

    amend(release, "12 kelurahan", "14 kelurahan", correction="Ada 14 kelurahan, bukan 12.")
    killed_run(folder, relay, "rcpt", 5)
    killed_run(folder, relay, "data", 7)
    unknown = {address for stage, address in relay.killed if stage == "data"}
    corrected = chanpub(folder, "send", "releases/")
    amend(release, "14 kelurahan", "14 kelurahan", retraction="Dibatalkan karena cuaca buruk.")
    killed_run(folder, relay, "data", 11)
    withdrawn = chanpub(folder, "send", "releases/")
    history = chanpub(folder, "history", SLUG)

    for subject in ("[Ralat]", "[Pencabutan]"):
        counts = {a: relay.count(a, subject) for a in addresses}
        assert {a for a, n in counts.items() if n != 1} == set(), f"each got {subject} once"
    assert {relay.count(a, "Nomor 0") for a in addresses} == {3}  # the release, two notices
    assert corrected.returncode == 1  # the one in flight is left to a person
    assert f"press: {len(unknown)} recipient(s) may or may not have received" in corrected.stdout
    assert withdrawn.returncode == 1, withdrawn.stdout + withdrawn.stderr
    assert "press" in history.stdout
