"""Recipient lists as spreadsheets save them: where the decimal mark is a comma (Excel and
LibreOffice with Indonesian settings, as in most of Europe), "CSV" separates columns with
';', and names keep their commas ("Budi Santoso, S.Kom"). Every list reader (e-mail,
WhatsApp, letters) reads such a file as the officer sees it in the spreadsheet."""

from __future__ import annotations

from pathlib import Path

import pytest

from chanpub.channels.email.recipients import Invalid, check_source, iter_recipients
from chanpub.channels.letter_pdf.recipients import read_recipients
from chanpub.channels.whatsapp import subscribers

# Excel's "CSV UTF-8" with Indonesian regional settings: a BOM, ';' and CRLF line ends
BOM = "\ufeff"


def saved(path: Path, lines: list[str], separator: str) -> Path:
    path.write_text(BOM + "\r\n".join(separator.join(line.split("|")) for line in lines) + "\r\n")
    return path


@pytest.mark.parametrize("separator", [";", "\t", ","])
def test_an_email_list_in_any_spreadsheet_separator(tmp_path: Path, separator: str) -> None:
    lines = ["Email|Nama|Media", "budi@harian.example|Budi Santoso, S.Kom|Harian Contoh"]
    if separator == ",":
        lines[1] = 'budi@harian.example|"Budi Santoso, S.Kom"|Harian Contoh'  # quoted
    saved(tmp_path / "media.csv", lines, separator)
    check_source("media.csv", tmp_path, "channels.press.lists")
    invalid: list[Invalid] = []
    found = list(iter_recipients({"press": ["media.csv"]}, tmp_path, invalid))
    assert [(r.email, r.name, r.fields["Media"]) for r in found] == [
        ("budi@harian.example", "Budi Santoso, S.Kom", "Harian Contoh")
    ]
    assert invalid == []


def test_a_one_column_list_has_no_separator_to_find(tmp_path: Path) -> None:
    saved(tmp_path / "media.csv", ["email", "budi@harian.example", "siti@radio.example"], ";")
    found = list(iter_recipients({"press": ["media.csv"]}, tmp_path, []))
    assert [r.email for r in found] == ["budi@harian.example", "siti@radio.example"]


def test_a_whatsapp_list_and_its_opt_outs_with_semicolons(tmp_path: Path) -> None:
    saved(
        tmp_path / "warga.csv",
        ["nama|phone", "Ani, S.Pd|0812-3456-7890", "Dodi|0813 1111 2222"],
        ";",
    )
    saved(tmp_path / "berhenti.csv", ["phone|alasan", "0813-1111-2222|pindah, tidak aktif"], ";")
    subscribers.check_source("warga.csv", tmp_path, "channels.wa.lists")
    found = list(
        subscribers.iter_subscribers(
            {"warga": ["warga.csv"]},
            tmp_path,
            [],
            subscribers.opted_out(["berhenti.csv"], tmp_path),
        )
    )
    assert [(s.phone, s.name) for s in found] == [("+6281234567890", "Ani, S.Pd")]


def test_letter_recipients_with_semicolons(tmp_path: Path) -> None:
    path = saved(
        tmp_path / "tujuan.csv",
        [
            "name|position|organisation|address|email",
            "Dr. Siti Aminah, M.Si|Kepala Dinas|Dinas Kesehatan|Jl. Merdeka No. 1, Kota Contoh|",
        ],
        ";",
    )
    [recipient] = read_recipients(path, "channels.surat.recipients")
    assert recipient.name == "Dr. Siti Aminah, M.Si"
    assert recipient.address == "Jl. Merdeka No. 1, Kota Contoh"
