"""Phone lists: local Indonesian forms and international ones collapse to one E.164
subscriber; invalid numbers are listed, not fatal; opt-outs are never messaged."""

from __future__ import annotations

from pathlib import Path

import pytest
from recorded_calls import record_calls

from chanpub.channels.whatsapp.subscribers import (
    Invalid,
    _parsed,
    check_source,
    iter_subscribers,
    normalise,
    opted_out,
)
from chanpub.errors import ConfigError


@pytest.mark.parametrize(
    "written",
    ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "081234567890", "(0812) 3456-7890"],
)
def test_local_indonesian_forms_are_one_number(written: str) -> None:
    assert normalise(written) == "+6281234567890"


def test_a_foreign_number_keeps_its_country() -> None:
    assert normalise("+1 650 253 0000") == "+16502530000"


@pytest.mark.parametrize("written", ["12345", "0812", "nomor saya", "+62 000"])
def test_what_is_not_a_phone_number_is_refused(written: str) -> None:
    with pytest.raises(ValueError):
        normalise(written)


def test_lists_collapse_duplicates_list_invalid_ones_and_respect_opt_out(tmp_path: Path) -> None:
    (tmp_path / "warga.csv").write_text(
        "nama,phone\nAni,0812-3456-7890\nBudi,+62 812 3456 7890\nCici,12345\n"
        "Dodi,0813 1111 2222\nEka,\n",
        encoding="utf-8",
    )
    (tmp_path / "opt-out.csv").write_text("phone\n0813-1111-2222\n", encoding="utf-8")
    invalid: list[Invalid] = []
    found = list(
        iter_subscribers(
            {"warga": ["warga.csv", "+62 857 0000 1111"]},
            tmp_path,
            invalid,
            opted_out(["opt-out.csv"], tmp_path),
        )
    )
    assert [(s.phone, s.name) for s in found] == [
        ("+6281234567890", "Ani"),
        ("+6285700001111", ""),
    ]
    assert [(i.number, i.source) for i in invalid] == [("12345", "warga:warga.csv")]


def test_a_list_without_a_phone_column_is_refused_before_sending(tmp_path: Path) -> None:
    (tmp_path / "salah.csv").write_text("nama,email\nAni,ani@example.org\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="has no 'phone' column"):
        check_source("salah.csv", tmp_path, "channels.wa.lists.default")
    with pytest.raises(ConfigError, match="does not exist"):
        check_source("hilang.csv", tmp_path, "channels.wa.lists.default")


def test_a_list_read_again_in_the_same_process_parses_each_number_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker reads a large list once for the preview and once per batch job: parsing a
    # number (phonenumbers, about 20 µs) is remembered, with the same answer and errors.
    import phonenumbers

    (tmp_path / "warga.csv").write_text(
        "phone,nama\n0812-7777-0001,Dewi\n12345,Salah\n+62 812 7777 0002,Eko\n", encoding="utf-8"
    )
    parsed = record_calls(monkeypatch, phonenumbers, "parse")
    _parsed.cache_clear()  # as in a fresh worker process
    readings = []
    for _ in range(3):
        invalid: list[Invalid] = []
        subscribers = list(iter_subscribers({"warga": ["warga.csv"]}, tmp_path, invalid))
        readings.append(([s.phone for s in subscribers], [(i.number, i.reason) for i in invalid]))

    assert sorted(parsed) == sorted(["0812-7777-0001", "12345", "+62 812 7777 0002"])
    assert readings[0] == readings[1] == readings[2]
    assert readings[0][0] == ["+6281277770001", "+6281277770002"]


def test_a_subscriber_list_that_is_a_folder_is_named_so(tmp_path: Path) -> None:
    (tmp_path / "pelanggan.csv").mkdir()
    with pytest.raises(ConfigError) as caught:
        check_source("pelanggan.csv", tmp_path, "channels.wa.lists.default")
    assert caught.value.message == (
        f"channels.wa.lists.default: {tmp_path / 'pelanggan.csv'} is not a file (a folder, "
        "pipe or device): give a CSV file with the column 'phone'"
    )
