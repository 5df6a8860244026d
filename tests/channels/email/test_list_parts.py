"""A batch job reads only its own rows of a big list once a job before it has read the
list whole and noted where each part's rows start; whatever the note says, a job sends to
exactly the recipients a whole reading would give its part."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

from chanpub import file_stats
from chanpub.channels.email import list_parts
from chanpub.channels.email.list_parts import part_recipients
from chanpub.channels.email.recipients import Invalid, Recipient, iter_recipients
from chanpub.channels.list_files import OffsetLines
from chanpub.contract import Store
from chanpub.journal import part_of
from chanpub.ledger import Ledger

PERS = (
    "\ufeffemail;nama;media\r\n"
    "budi@example.go.id;Budi;Harian Kota\r\n"
    'siti@EXAMPLE.go.id;"Siti\r\nAminah";Radio Kota\r\n'  # a name with a line break
    "bukan-alamat;Salah;\r\n"
    "\r\n"
    "BUDI@example.go.id;Budi lagi;\r\n"
    "rina@example.go.id;Rina;TV Kota\r\n"
)
WARGA = "email,name\n" + "".join(f"warga{n}@example.id,Warga {n}\n" for n in range(200))
LISTS = {"pers": ["pers.csv", "Humas <humas@example.go.id>"], "warga": ["warga.csv", "pers.csv"]}
PARTS = 4


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The lists, written a minute before the jobs run (their timestamps have settled)."""
    (tmp_path / "pers.csv").write_text(PERS, encoding="utf-8", newline="")
    (tmp_path / "warga.csv").write_text(WARGA, encoding="utf-8")
    monkeypatch.setattr(file_stats, "clock", lambda: time.time_ns() + 60_000_000_000)
    return tmp_path


@pytest.fixture
def store(folder: Path) -> Store:
    return Ledger(folder / "ledger.sqlite3").store(list_parts.NAMESPACE)


def job(folder: Path, store: Store, index: int) -> tuple[list[Recipient], list[Invalid]]:
    """What a batch job of part `index` sends to, and the invalid addresses it reports."""
    invalid: list[Invalid] = []
    recipients = list(part_recipients(LISTS, folder, invalid, None, store, (index, PARTS)))
    return recipients, invalid


def whole(folder: Path, index: int) -> tuple[list[Recipient], list[Invalid]]:
    """The same part as a reading of the whole lists gives it."""
    invalid: list[Invalid] = []
    every = iter_recipients(LISTS, folder, invalid)
    return [r for r in every if part_of(r.key, PARTS) == index], invalid


def test_each_part_gets_what_a_whole_reading_gives_it_first_and_from_the_note(
    folder: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = [job(folder, store, index) for index in range(PARTS)]

    def no_whole_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a job read the whole lists again")

    monkeypatch.setattr(list_parts, "iter_located", no_whole_reading)
    again = [job(folder, store, index) for index in range(PARTS)]

    expected = [whole(folder, index) for index in range(PARTS)]
    assert first == expected
    assert again == expected
    everyone = [r for recipients, _invalid in again for r in recipients]
    assert len(everyone) == 204  # budi once, siti, rina, humas and the 200 warga
    siti = next(r for r in everyone if r.key == "siti@example.go.id")
    assert siti == Recipient(
        "siti@example.go.id",
        "Siti\r\nAminah",
        "pers",
        {"nama": "Siti\r\nAminah", "media": "Radio Kota"},
    )
    budi = next(r for r in everyone if r.key == "budi@example.go.id")
    assert (budi.name, budi.list_name) == ("Budi", "pers")  # the first row of an address wins
    assert [(i.address, i.source) for i in again[0][1]] == [
        ("bukan-alamat", "pers:pers.csv"),
        ("bukan-alamat", "warga:pers.csv"),
    ]


def test_a_list_written_to_since_the_note_is_read_whole(folder: Path, store: Store) -> None:
    job(folder, store, 0)
    with (folder / "warga.csv").open("a", encoding="utf-8") as file:
        file.write("baru@example.id,Baru\n")

    parts = [job(folder, store, index)[0] for index in range(PARTS)]

    assert "baru@example.id" in {r.key for recipients in parts for r in recipients}


def test_a_row_that_is_not_of_the_part_makes_the_job_read_the_lists_whole(
    folder: Path, store: Store
) -> None:
    job(folder, store, 1)
    key = next(k for k, _v in store_items(folder) if k.endswith("#1"))
    note = store.get(key)
    pairs = note["rows"]
    file_row = next(n for n in range(0, len(pairs), 2) if pairs[n] != 1)  # 1: the inline one
    pairs[file_row + 1] = 0  # the header's place, as if the file had changed under its stat
    store.put(key, note)

    assert job(folder, store, 1) == whole(folder, 1)


def test_nothing_is_noted_while_a_list_has_not_settled(
    folder: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_stats, "clock", time.time_ns)  # the list was written just now

    job(folder, store, 0)

    assert store_items(folder) == []


def store_items(folder: Path) -> list[tuple[str, object]]:
    return Ledger(folder / "ledger.sqlite3").stored_items(list_parts.NAMESPACE)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 8192])
def test_offset_lines_say_where_each_record_starts_whatever_the_line_ends(chunk: int) -> None:
    text = '\ufeffemail\r\na@x.id\rb@x.id\n"c\r\n@x.id"\r\n\nd@x.id'
    data = text.encode("utf-8")
    lines = OffsetLines(io.BytesIO(data), chunk)
    reader = csv.reader(lines)
    starts, records = [], []
    while True:
        offset = lines.offset
        record = next(reader, None)
        if record is None:
            break
        starts.append(offset)
        records.append(record)

    assert records == [["email"], ["a@x.id"], ["b@x.id"], ["c\r\n@x.id"], [], ["d@x.id"]]
    assert [data[start:].decode("utf-8")[:1] for start in starts[1:]] == ["a", "b", '"', "\n", "d"]
    lines.seek(starts[3])
    assert next(csv.reader(lines)) == ["c\r\n@x.id"]


def test_a_job_reading_from_the_note_names_its_part_before_anyone_is_asked_about(
    folder: Path, store: Store
) -> None:
    told: list[list[str]] = []
    asked: list[str] = []

    def wanted(key: str) -> bool:
        asked.append(key)
        return True

    whole_reading = part_recipients(
        LISTS, folder, [], None, store, (2, PARTS), wanted=wanted, known=told.append
    )
    first = list(whole_reading)
    assert told == []  # read whole: nothing could be told before the first was asked about
    asked.clear()

    from_note = part_recipients(
        LISTS, folder, [], None, store, (2, PARTS), wanted=wanted, known=told.append
    )

    assert told == [[r.key for r in first]] and asked == []
    assert list(from_note) == first and asked == told[0]


def test_a_note_in_another_number_of_parts_is_replaced_not_added_to(
    folder: Path, store: Store
) -> None:
    job(folder, store, 0)  # noted in 4 parts
    invalid: list[Invalid] = []

    in_three = [
        list(part_recipients(LISTS, folder, invalid, None, store, (i, 3))) for i in range(3)
    ]

    everyone = list(iter_recipients(LISTS, folder, []))
    assert in_three == [[r for r in everyone if part_of(r.key, 3) == i] for i in range(3)]
    assert len(store_items(folder)) == PARTS + 1  # the 4 parts' places, then 3 of them again
