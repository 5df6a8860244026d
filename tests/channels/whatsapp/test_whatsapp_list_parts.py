"""A WhatsApp batch job reads only its own rows of a big subscriber list once a job before
it has noted where each part's rows are (chanpub.channels.list_parts), and an opt-out
added since is always respected."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_whatsapp_channel import options  # the WhatsApp channel's usual options

from chanpub import file_stats
from chanpub.batches import PartLedger
from chanpub.channels.whatsapp import list_parts
from chanpub.channels.whatsapp.channel import WhatsappChannel, WhatsappOptions
from chanpub.channels.whatsapp.subscribers import Invalid, Subscriber, iter_subscribers, opted_out
from chanpub.journal import part_of
from chanpub.ledger import Ledger
from chanpub.testing import make_context

PARTS = 3
WARGA = "nama;hp;hp\n" + "".join(  # a repeated header: its last column counts
    f"Warga {n};-;0812-{n:04}-{n:04}\n" for n in range(1, 121)
)
LISTS = ["warga.csv", "+62 857 0000 1111", "0812 0001 0001"]  # the last: a repeat


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The lists, written a minute before the jobs run (their timestamps have settled)."""
    (tmp_path / "warga.csv").write_text(WARGA + "Salah;-;12345\n", encoding="utf-8")
    (tmp_path / "berhenti.csv").write_text("phone\n0812-0002-0002\n", encoding="utf-8")
    monkeypatch.setattr(file_stats, "clock", lambda: time.time_ns() + 60_000_000_000)
    return tmp_path


def channel(folder: Path) -> WhatsappChannel:
    settings = options(lists={"warga": LISTS}, opt_out=["berhenti.csv"])
    context = make_context(folder, store_factory=Ledger(folder / "ledger.sqlite3").store)
    return WhatsappChannel("wa", WhatsappOptions.model_validate(settings), context)


def job(folder: Path, index: int) -> tuple[list[Subscriber], list[Invalid], object]:
    """What the batch job of part `index` messages, the invalid rows it reports, and its
    journal."""
    ledger = Ledger(folder / "ledger.sqlite3")
    journal = PartLedger(ledger, "k" * 64, index, PARTS).journal("k" * 64)
    invalid: list[Invalid] = []
    return list(channel(folder).subscribers(invalid, journal)), invalid, journal


def whole(folder: Path, index: int) -> list[Subscriber]:
    refused = opted_out(["berhenti.csv"], folder)
    every = iter_subscribers({"warga": LISTS}, folder, [], refused)
    return [s for s in every if part_of(s.key, PARTS) == index]


def test_each_part_gets_what_a_whole_reading_gives_it_first_and_from_the_note(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = [job(folder, index) for index in range(PARTS)]

    def no_whole_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a job read the whole lists again")

    monkeypatch.setattr(list_parts, "iter_located", no_whole_reading)
    again = [job(folder, index) for index in range(PARTS)]

    for index in range(PARTS):
        assert first[index][0] == again[index][0] == whole(folder, index)
        assert [(i.number, i.source) for i in again[index][1]] == [("12345", "warga:warga.csv")]
        assert again[index][2]._narrowed is not None  # type: ignore[attr-defined]
    everyone = {s.phone: s for part in again for s in part[0]}
    assert len(everyone) == 120 - 1 + 1  # one opted out, the inline one added, a repeat once
    assert "+6281200020002" not in everyone
    assert everyone["+6281200010001"] == Subscriber("+6281200010001", "Warga 1", "warga")


def test_an_opt_out_added_since_the_note_is_respected(folder: Path) -> None:
    for index in range(PARTS):
        job(folder, index)
    with (folder / "berhenti.csv").open("a", encoding="utf-8") as file:
        file.write("+62 812 0003 0003\n")

    parts = [job(folder, index)[0] for index in range(PARTS)]

    phones = {s.phone for part in parts for s in part}
    assert "+6281200030003" not in phones and len(phones) == 119


def test_a_subscriber_taken_off_the_opt_out_list_since_the_note_is_messaged_again(
    folder: Path,
) -> None:
    for index in range(PARTS):
        job(folder, index)
    (folder / "berhenti.csv").write_text("phone\n", encoding="utf-8")

    parts = [job(folder, index)[0] for index in range(PARTS)]

    assert "+6281200020002" in {s.phone for part in parts for s in part}
