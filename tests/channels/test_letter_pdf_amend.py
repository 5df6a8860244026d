"""letter-pdf corrections and retractions: each recipient of the original letter gets a
correction letter (surat ralat) or a withdrawal letter (surat pencabutan) that refers to
the original's number and date, numbered from the same ledger sequence exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pdf_pages import pages_text
from pyhanko.pdf_utils.reader import PdfFileReader as PdfReader
from test_letter_pdf import RECIPIENTS, URL, Killed, channel, ledger, recipients_csv, release_of
from test_letter_signing import office_certificate

from chanpub.channels.letter_pdf import LetterPdfChannel
from chanpub.contract import Action, Amendment, Links, Receipt
from chanpub.ledger import Ledger
from chanpub.release import Release, load_release
from chanpub.testing import check_receipt

__all__ = ["ledger", "office_certificate"]  # fixtures, from the letter tests

NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."
REASON = "Dibatalkan karena cuaca buruk."
AT = datetime(2026, 9, 8, 14, 0, tzinfo=UTC)
ORIGINAL = "Ralat atas surat nomor {number} tanggal 3 September 2026"


def approved_on(release: Release, approved_at: str, old: str = "", new: str = "") -> Release:
    """The release edited (`old` -> `new`) and approved again at `approved_at`."""
    text = release.path.read_text(encoding="utf-8").replace(old, new) if old else None
    path = release.path
    if text is not None:
        path.write_text(text, encoding="utf-8")
    from chanpub.approval import approve

    approve(path, "Kepala Dinas", now=datetime.fromisoformat(approved_at))
    return load_release(path)


def published(tmp_path: Path, ledger: Ledger) -> tuple[LetterPdfChannel, Release, Receipt]:
    letters = channel(tmp_path, ledger)
    release = release_of(tmp_path)
    preview = letters.preview(release, Links(canonical_url=URL, predicted=False))
    return letters, release, check_receipt(letters.publish(preview, "a" * 64))


def amend(
    letters: LetterPdfChannel,
    release: Release,
    previous: Receipt,
    amendment: str,
    note: str,
    key: str,
) -> Receipt:
    """Amend as dispatch does: the new version's preview, the note, the previous receipt."""
    preview = letters.preview(release, Links(canonical_url=URL, predicted=False))
    return letters.amend(preview, Amendment(amendment, note, AT, previous), key)


def corrected(tmp_path: Path, ledger: Ledger, **kwargs: Any) -> tuple[Any, ...]:
    letters, release, first = published(tmp_path, ledger)
    release = approved_on(release, "2026-09-08T09:00:00+00:00", "12 kelurahan", "14 kelurahan")
    return letters, release, first, amend(letters, release, first, "correction", NOTE, "c" * 64)


def texts(receipt: Receipt) -> list[str]:
    """The text of each recipient's letter (the files after the combined PDF and thumbnail)."""
    return [" ".join(pages_text(path)) for path in receipt.files[2:]]


def test_each_recipient_gets_a_correction_letter_referring_to_their_original(
    tmp_path: Path, ledger: Ledger
) -> None:
    _letters, _release, first, done = corrected(tmp_path, ledger)
    assert done.action is Action.SENT
    assert dict(done.numbers) == {
        "budi@harian.example": "004/DISKOMINFO/IX/2026",
        "siti@desa.example": "005/DISKOMINFO/IX/2026",
        "Lurah Kolongan": "006/DISKOMINFO/IX/2026",
    }
    for text, old, new in zip(
        texts(done), first.numbers.values(), done.numbers.values(), strict=True
    ):
        assert f"Nomor : {new}" in text and ORIGINAL.format(number=old) in text
        assert "Perihal : Ralat: Pemberitahuan Layanan Adminduk Keliling" in text
        assert NOTE in text and "14 kelurahan" in text  # the note and the corrected text
        assert "Kota Contoh, 8 September 2026" in text  # the day the correction was approved
    assert all(path.exists() for path in first.files)  # the originals stay as they were
    assert not set(done.files) & set(first.files)


def test_a_retraction_after_a_correction_still_refers_to_the_original_letter(
    tmp_path: Path, ledger: Ledger
) -> None:
    letters, release, first, correction = corrected(tmp_path, ledger)
    release = approved_on(release, "2026-09-10T09:00:00+00:00", "14 kelurahan", "14 kelurahan.")
    done = amend(letters, release, correction, "retraction", REASON, "r" * 64)
    assert done.action is Action.SENT
    assert [n[:3] for n in done.numbers.values()] == ["007", "008", "009"]
    for text, old in zip(texts(done), first.numbers.values(), strict=True):
        assert f"mencabut surat nomor {old} tanggal 3 September 2026" in text
        assert f"Alasan: {REASON}" in text and "tidak berlaku" in text
        assert "Perihal : Pencabutan: Pemberitahuan Layanan Adminduk Keliling" in text
        assert "14 kelurahan" not in text
    assert "retraction-2" in done.files[0].name and "correction-1" in correction.files[0].name


def test_the_same_amendment_again_reuses_its_numbers_and_bytes(
    tmp_path: Path, ledger: Ledger
) -> None:
    letters, release, first, once = corrected(tmp_path, ledger)
    pdf = once.files[0].read_bytes()
    again = amend(letters, release, first, "correction", NOTE, "c" * 64)
    assert again.numbers == once.numbers and again.files[0].read_bytes() == pdf
    later = letters.publish(
        letters.preview(release_of(tmp_path, "Siaran Berikut"), Links()), "b" * 64
    )
    assert [n[:3] for n in later.numbers.values()] == ["007", "008", "009"]  # no gap


def test_only_the_recipients_of_the_original_get_the_correction(
    tmp_path: Path, ledger: Ledger
) -> None:
    letters, release, first = published(tmp_path, ledger)
    andi = ("Andi Wijaya", "Camat", "Kecamatan Utara", "", "andi@x.example")
    recipients_csv(tmp_path, [*RECIPIENTS, andi])  # added after the letters went out
    release = approved_on(release, "2026-09-08T09:00:00+00:00")
    done = amend(letters, release, first, "correction", NOTE, "c" * 64)
    assert sorted(done.numbers) == sorted(first.numbers)  # Andi never got the original
    assert "Yth. Siti Rahma" in texts(done)[1] and "Andi" not in " ".join(texts(done))


def test_a_run_killed_while_writing_correction_letters_leaves_one_letter_each(
    tmp_path: Path, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chanpub.channels.letter_pdf.channel as module

    letters, release, first = published(tmp_path, ledger)
    release = approved_on(release, "2026-09-08T09:00:00+00:00", "12 kelurahan", "14 kelurahan")
    real_write = module.write_atomically
    written: list[Path] = []

    def write_then_die(path: Path, content: str | bytes) -> None:
        if len(written) == 2:
            raise Killed
        real_write(path, content)
        written.append(path)

    monkeypatch.setattr(module, "write_atomically", write_then_die)
    with pytest.raises(Killed):
        amend(letters, release, first, "correction", NOTE, "c" * 64)
    monkeypatch.setattr(module, "write_atomically", real_write)

    done = amend(letters, release, first, "correction", NOTE, "c" * 64)
    folder = done.files[2].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in done.files[2:])
    assert [n[:3] for n in done.numbers.values()] == ["004", "005", "006"]
    assert [" ".join(pages_text(p)) for p in written] == texts(done)[:2]


def test_an_english_correction_letter(tmp_path: Path, ledger: Ledger) -> None:
    letters = channel(tmp_path, ledger, language="en")
    release = release_of(tmp_path)
    first = letters.publish(letters.preview(release, Links(canonical_url=URL)), "a" * 64)
    release = approved_on(release, "2026-09-08T09:00:00+00:00")
    text = texts(amend(letters, release, first, "correction", "Starts Tuesday.", "c" * 64))[0]
    assert "Correction to letter number 001/DISKOMINFO/IX/2026 dated 3 September 2026" in text
    assert "Starts Tuesday." in text


def test_correction_letters_are_signed_like_the_originals(
    tmp_path: Path, ledger: Ledger, office_certificate: Any
) -> None:
    from test_letter_signing import PASSWORD, signed_channel

    letters = signed_channel(tmp_path, ledger, PASSWORD)
    release = release_of(tmp_path)
    first = letters.publish(letters.preview(release, Links(canonical_url=URL)), "a" * 64)
    release = approved_on(release, "2026-09-08T09:00:00+00:00")
    done = amend(letters, release, first, "correction", NOTE, "c" * 64)
    for letter in (first.files[2], done.files[2]):
        with letter.open("rb") as file:
            signature = PdfReader(file).embedded_signatures[0]
        assert signature.signer_cert.subject.native["common_name"] == "Dra. Maria Wenas, M.Si."
    assert "Ditandatangani secara elektronik" in texts(done)[0]
