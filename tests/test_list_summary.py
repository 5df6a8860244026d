"""A preview's count of an e-mail or WhatsApp channel's lists is kept in the ledger with
the stat of each list file, so the batch jobs of a big list do not each read all of it to
count it; an edit to a list is always noticed."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from recorded_calls import record_calls

import chanpub
from chanpub import file_stats
from chanpub.channels.email import list_summary, recipients
from chanpub.channels.email.channel import EmailChannel, EmailOptions
from chanpub.channels.email.list_summary import ListSummary, remembered, summarise
from chanpub.channels.email.recipients import Invalid, Recipient, iter_recipients
from chanpub.channels.whatsapp import subscribers
from chanpub.channels.whatsapp.channel import WhatsappChannel, WhatsappOptions
from chanpub.contract import Store
from chanpub.ledger import Ledger
from chanpub.testing import make_context, sample_links, sample_release

LIST = """email,nama,media
budi@example.go.id,Budi,Harian Kota
siti@example.go.id,Siti,Radio Kota
bukan-alamat,Salah,
budi@example.go.id,Budi lagi,
rina@example.go.id,Rina,TV Kota
"""
LISTS = {"pers": ["pers.csv", "humas@example.go.id"]}


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Previews happen a minute after the list was written (its timestamps have settled)."""
    monkeypatch.setattr(file_stats, "clock", lambda: time.time_ns() + 60_000_000_000)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    (tmp_path / "pers.csv").write_text(LIST, encoding="utf-8")
    return Ledger(tmp_path / "ledger.sqlite3").store(list_summary.NAMESPACE)


class Readings:
    """The preview's reading of the lists, counting how often it is done."""

    def __init__(self, folder: Path, lists: dict[str, list[str]] = LISTS) -> None:
        self.folder, self.lists, self.count = folder, lists, 0

    def __call__(self) -> ListSummary:
        self.count += 1
        invalid: list[Invalid] = []
        return summarise(iter_recipients(self.lists, self.folder, invalid), invalid)

    def summary(self, store: Store) -> ListSummary:
        return remembered(self.lists, self.folder, store, self)


def test_a_second_preview_of_unchanged_lists_reads_nothing(
    tmp_path: Path, store: Store, settled: None
) -> None:
    readings = Readings(tmp_path)
    first = readings.summary(store)
    again = readings.summary(store)
    assert readings.count == 1
    assert again == first
    assert first.count == 4  # budi once, siti, rina, and the address written in the config
    fields = {"nama": "Budi", "media": "Harian Kota"}
    assert first.first == Recipient("budi@example.go.id", "Budi", "pers", fields)
    assert (first.invalid_count, first.invalid) == (1, ("bukan-alamat",))


def test_a_list_edited_in_place_with_its_size_and_mtime_kept_is_read_again(
    tmp_path: Path, store: Store, settled: None
) -> None:
    readings = Readings(tmp_path)
    assert readings.summary(store).count == 4
    path = tmp_path / "pers.csv"
    before = path.stat()
    edited = LIST.replace("rina@example.go.id", "bukan-lagi-alamat!")
    assert len(edited) <= len(LIST)
    path.write_text(edited.ljust(len(LIST)), encoding="utf-8")  # trailing blanks: no row
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    summary = readings.summary(store)

    assert readings.count == 2
    assert (summary.count, summary.invalid_count) == (3, 2)


def test_a_list_written_moments_ago_is_read_on_every_preview(tmp_path: Path, store: Store) -> None:
    # Within one timestamp tick of a coarse filesystem, a second edit would keep the stat.
    readings = Readings(tmp_path)
    readings.summary(store)
    readings.summary(store)
    assert readings.count == 2


def test_another_configuration_of_the_lists_is_counted_on_its_own(
    tmp_path: Path, store: Store, settled: None
) -> None:
    Readings(tmp_path).summary(store)
    other = Readings(tmp_path, {"pers": ["pers.csv"]})
    assert other.summary(store).count == 3
    assert other.count == 1


def test_a_summary_kept_by_another_chanpub_version_is_not_used(
    tmp_path: Path, store: Store, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = Readings(tmp_path)
    readings.summary(store)
    monkeypatch.setattr(chanpub, "__version__", "0.0.0-other")
    readings.summary(store)
    assert readings.count == 2


def test_a_missing_list_is_read_and_fails_as_before(
    tmp_path: Path, store: Store, settled: None
) -> None:
    readings = Readings(tmp_path, {"pers": ["hilang.csv"]})
    with pytest.raises(FileNotFoundError):  # the channel's check() says it first, clearly
        readings.summary(store)
    assert readings.count == 1


def test_the_batch_jobs_of_a_list_count_it_once(
    tmp_path: Path, store: Store, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"transport": "outbox", "path": "outbox", "from": "humas@example.go.id"}
    options["lists"] = LISTS
    ledger_store = Ledger(tmp_path / "ledger.sqlite3").store
    context = make_context(tmp_path, store_factory=ledger_store)
    channel = EmailChannel("pers", EmailOptions.model_validate(options), context)
    release = sample_release(tmp_path / "rilis")
    reads = record_calls(monkeypatch, recipients, "rows_of")

    previews = [channel.preview(release, sample_links()) for _job in range(3)]

    assert [p.recipients for p in previews] == [4, 4, 4]
    assert reads == ["pers.csv", "humas@example.go.id"]  # the first job's reading only
    assert previews[1].warnings == previews[0].warnings


SUBSCRIBERS = "phone,name\n0812-3456-7890,Budi\n+62 813 1111 2222,Siti\nbukan nomor,Salah\n"


def whatsapp_channel(tmp_path: Path, **changes: Any) -> WhatsappChannel:
    options = {
        "phone_number_id": "106540352242922",
        "business_account_id": "102290129340398",
        "access_token": "EAAGwa-not-a-real-token",
        "template": "siaran_resmi",
        "template_language": "id",
        "lists": ["warga.csv"],
        **changes,
    }
    context = make_context(tmp_path, store_factory=Ledger(tmp_path / "ledger.sqlite3").store)
    return WhatsappChannel("wa", WhatsappOptions.model_validate(options), context)


def test_the_batch_jobs_of_a_whatsapp_list_count_it_once(
    tmp_path: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "warga.csv").write_text(SUBSCRIBERS, encoding="utf-8")
    channel = whatsapp_channel(tmp_path)
    release = sample_release(tmp_path / "rilis")
    reads = record_calls(monkeypatch, subscribers, "rows_of")

    previews = [channel.preview(release, sample_links()) for _job in range(3)]

    assert [p.recipients for p in previews] == [2, 2, 2]
    assert reads == ["warga.csv"]
    assert any("1 invalid number(s): bukan nomor" in w for w in previews[2].warnings)


def test_an_edited_opt_out_file_is_counted_again(tmp_path: Path, settled: None) -> None:
    (tmp_path / "warga.csv").write_text(SUBSCRIBERS, encoding="utf-8")
    (tmp_path / "berhenti.csv").write_text("phone\n", encoding="utf-8")
    channel = whatsapp_channel(tmp_path, opt_out="berhenti.csv")
    release = sample_release(tmp_path / "rilis")
    assert channel.preview(release, sample_links()).recipients == 2
    with (tmp_path / "berhenti.csv").open("a", encoding="utf-8") as file:
        file.write("+6281234567890\n")  # Budi asked to stop
    assert channel.preview(release, sample_links()).recipients == 1
