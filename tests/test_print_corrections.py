"""A release corrected, then retracted, with `chanpub send`: the website, the poster and the
letters each show the right state, and every letter recipient gets one correction letter
and one withdrawal letter, numbered on from the first letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from offices import POSTER, WEBSITE, office_yaml
from pdf_pages import pages_text
from test_corrections import edit
from typer.testing import CliRunner

from chanpub.approval import approve
from chanpub.cli import app
from chanpub.testing import write_release

NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."
REASON = "Dibatalkan karena cuaca buruk."
SLUG = "pemkot-buka-layanan-adminduk-keliling"
LETTERS = """  letters:
    type: letter-pdf
    out: letters
    place: Kota Contoh
    letterhead:
      lines: ["PEMERINTAH KOTA CONTOH", "DINAS KOMUNIKASI DAN INFORMATIKA"]
    number_pattern: "{seq:03d}/DISKOMINFO/{month_roman}/{year}"
    signatory: {position: Kepala Dinas, name: "Dra. Maria Wenas, M.Si."}
    recipients: penerima.csv
"""


def send(folder: Path) -> dict[str, dict[str, Any]]:
    """`chanpub send --json releases/` in the office folder: each channel's entry."""
    result = CliRunner().invoke(app, ["send", "--json", "releases/"])
    assert result.exit_code == 0, result.stdout + result.stderr
    (release,) = json.loads(result.stdout)["releases"]
    return {entry["channel"]: entry for entry in release["channels"]}


def amended(path: Path, old: str, new: str, day: int, **note: str) -> None:
    """The officer edits the release and adds the note; the head approves it on `day`
    September 2026 (the letters are dated and numbered by that day)."""
    edit(path, old, new, **note)
    approve(path, "Kepala Dinas Kominfo", now=datetime(2026, 9, day, 9, 0, tzinfo=UTC))


def letter_texts(folder: Path) -> list[str]:
    """The text of each single letter in a folder, in order."""
    return [" ".join(pages_text(path)) for path in sorted(folder.glob("*.pdf"))]


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The office folder: channels.yaml with website, poster and letters; one release."""
    (tmp_path / "channels.yaml").write_text(office_yaml(WEBSITE, POSTER, LETTERS), "utf-8")
    (tmp_path / "penerima.csv").write_text(
        "name,organisation,email\nBudi Santoso,Harian Contoh,budi@harian.example\n"
        "Siti Rahma,Desa Sukamaju,siti@desa.example\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return write_release(tmp_path / "releases", date="2026-09-03")


def test_corrected_then_retracted_across_the_website_the_poster_and_the_letters(
    office: Path, tmp_path: Path
) -> None:
    first = send(tmp_path)
    assert {name: entry["status"] for name, entry in first.items()} == dict.fromkeys(
        ("website", "poster", "letters"), "published"
    )
    poster = tmp_path / "posters" / f"{SLUG}-poster.pdf"
    base = tmp_path / "letters" / f"{SLUG}-letters"

    amended(office, "12 kelurahan", "14 kelurahan", 8, correction=NOTE)
    corrected = send(tmp_path)
    actions = {name: (entry["status"], entry.get("action")) for name, entry in corrected.items()}
    assert actions == {
        "website": ("published", "edited"),
        "poster": ("published", "edited"),
        "letters": ("published", "sent"),
    }
    text = " ".join(pages_text(poster))
    assert "RALAT" in text and NOTE in text and "14 kelurahan" in text
    correction = letter_texts(tmp_path / "letters" / f"{SLUG}-letters-correction-1")
    assert len(correction) == 2
    for letter, old, new in zip(correction, ("001", "002"), ("003", "004"), strict=True):
        assert f"Ralat atas surat nomor {old}/DISKOMINFO/IX/2026 tanggal 3 September 2026" in letter
        assert f"{new}/DISKOMINFO/IX/2026" in letter and NOTE in letter
        assert "Kota Contoh, 8 September 2026" in letter

    again = send(tmp_path)  # cron, ten minutes later: nothing twice
    assert {entry["status"] for entry in again.values()} == {"already-published"}
    assert len(letter_texts(tmp_path / "letters" / f"{SLUG}-letters-correction-1")) == 2

    amended(office, "14 kelurahan", "14 kelurahan", 10, retraction=REASON)
    retracted = send(tmp_path)
    assert retracted["poster"]["action"] == "sent" and retracted["letters"]["action"] == "sent"
    text = " ".join(pages_text(poster))
    assert "DICABUT" in text and f"Alasan: {REASON}" in text and "14 kelurahan" not in text
    withdrawal = letter_texts(tmp_path / "letters" / f"{SLUG}-letters-retraction-2")
    assert len(withdrawal) == 2
    for letter, old, new in zip(withdrawal, ("001", "002"), ("005", "006"), strict=True):
        assert f"mencabut surat nomor {old}/DISKOMINFO/IX/2026 tanggal 3 September 2026" in letter
        assert f"{new}/DISKOMINFO/IX/2026" in letter and REASON in letter
        assert "Kota Contoh, 10 September 2026" in letter
    page = (tmp_path / "public" / f"{SLUG}.html").read_text(encoding="utf-8")
    assert REASON in page
    assert len(letter_texts(Path(f"{base}"))) == 2  # the first letters, untouched
