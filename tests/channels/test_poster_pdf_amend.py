"""poster-pdf corrections and retractions: the poster, its thumbnail, card and share text
are written again under the same names, with a "RALAT" stamp and the note, or as a
"DICABUT" notice with the reason and date; the QR code still leads to the page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pdf_pages import page_text
from test_poster_pdf import URL, qr_of

from chanpub.channels.poster_pdf import PosterPdfChannel, PosterPdfOptions
from chanpub.contract import Action, Amendment, Links, Receipt
from chanpub.release import Release
from chanpub.testing import make_context, sample_release, write_release

NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."
REASON = "Dibatalkan karena cuaca buruk."
AT = datetime(2026, 9, 7, 9, 30, tzinfo=UTC)


def poster(tmp_path: Path, **options: Any) -> PosterPdfChannel:
    model = PosterPdfOptions.model_validate({"out": "posters", **options})
    return PosterPdfChannel("poster", model, make_context(tmp_path))


def approved_release(folder: Path, approved_at: str, **fields: Any) -> Release:
    """A release approved at `approved_at` (the approval time is not part of the hash)."""
    from chanpub.release import load_release

    path = write_release(folder, date="2026-09-03", **fields)
    text = path.read_text(encoding="utf-8").replace("2026-01-01T00:00:00Z", approved_at)
    path.write_text(text, encoding="utf-8")
    return load_release(path)


def first_poster(tmp_path: Path, **options: Any) -> tuple[PosterPdfChannel, Receipt]:
    channel = poster(tmp_path, **options)
    release = sample_release(tmp_path / "v1", date="2026-09-03")
    preview = channel.preview(release, Links(canonical_url=URL, predicted=False))
    return channel, channel.publish(preview, key="k" * 64)


def amend(
    channel: PosterPdfChannel, receipt: Receipt, amendment: str, note: str, **fields: Any
) -> Receipt:
    """Amend as dispatch does: the new version's preview, the note, the previous receipt."""
    folder = channel.context.resolve(amendment)
    release = approved_release(folder, "2026-09-07T09:30:00Z", **fields)
    preview = channel.preview(release, Links(canonical_url=URL, predicted=False))
    return channel.amend(preview, Amendment(amendment, note, AT, receipt), key=amendment * 2)


def test_a_correction_reprints_the_poster_with_a_ralat_stamp_and_the_note(tmp_path: Path) -> None:
    channel, first = first_poster(tmp_path)
    first_card = first.files[2].read_bytes()
    done = amend(channel, first, "correction", NOTE, summary="Mulai Selasa, 8 September.")
    assert done.action is Action.EDITED
    assert done.files == first.files  # the same names: links and printers take the new one
    assert done.remote_id == first.remote_id and done.url == first.url
    pdf, thumbnail, card, share = done.files
    text = page_text(pdf)
    assert "RALAT" in text and NOTE in text and "7 September 2026 09.30 UTC" in text
    assert "Mulai Selasa, 8 September." in text  # the corrected text
    assert done.details["sha256"] != first.details["sha256"]
    assert qr_of(pdf) == [URL]
    assert thumbnail.stat().st_size > 0 and card.read_bytes() != first_card
    shared = share.read_text(encoding="utf-8")
    assert shared.startswith(f"*[RALAT]* {NOTE}") and "Mulai Selasa, 8 September." in shared


def test_a_retraction_reprints_it_as_a_withdrawal_notice_at_the_same_files(tmp_path: Path) -> None:
    channel, first = first_poster(tmp_path)
    done = amend(channel, first, "retraction", REASON)
    assert done.action is Action.SENT  # a new notice, printed in place of the poster
    pdf, _thumbnail, _card, share = done.files
    text = page_text(pdf)
    assert "DICABUT" in text and "Siaran pers ini telah dicabut." in text
    assert f"Alasan: {REASON}" in text and "7 September 2026" in text
    assert "Pemkot Buka Layanan Adminduk Keliling" in text  # which release is withdrawn
    assert "12 kelurahan" not in text  # the withdrawn text is not printed again
    assert qr_of(pdf) == [URL]  # the page now shows the retraction notice
    shared = share.read_text(encoding="utf-8")
    assert shared.startswith("*[DICABUT]* Siaran pers ini telah dicabut.") and REASON in shared


def test_an_english_poster_says_correction_and_withdrawn(tmp_path: Path) -> None:
    channel, first = first_poster(tmp_path, language="en")
    corrected = page_text(amend(channel, first, "correction", "Starts on Tuesday.").files[0])
    assert "CORRECTION" in corrected and "Starts on Tuesday." in corrected
    withdrawn = page_text(amend(channel, first, "retraction", "Cancelled.").files[0])
    assert "WITHDRAWN" in withdrawn and "This press release has been withdrawn." in withdrawn
    assert "Reason: Cancelled." in withdrawn


@pytest.mark.parametrize("kind", ["correction", "retraction"])
def test_the_same_amendment_again_gives_the_same_bytes(tmp_path: Path, kind: str) -> None:
    channel, first = first_poster(tmp_path)
    once = amend(channel, first, kind, NOTE)
    pdf = once.files[0].read_bytes()
    card = once.files[2].read_bytes()
    again = amend(channel, first, kind, NOTE)  # a run that stopped midway, run again
    assert again.files[0].read_bytes() == pdf and again.files[2].read_bytes() == card


@pytest.mark.parametrize(
    ("size", "orientation"), [("A3", "landscape"), ("300x100", "landscape"), ("A4", "portrait")]
)
def test_every_layout_carries_the_stamp(tmp_path: Path, size: str, orientation: str) -> None:
    channel, first = first_poster(tmp_path, size=size, orientation=orientation)
    corrected = page_text(amend(channel, first, "correction", NOTE).files[0])
    assert "RALAT" in corrected and NOTE in corrected
    withdrawn = page_text(amend(channel, first, "retraction", REASON).files[0])
    assert "DICABUT" in withdrawn and REASON in withdrawn


def test_a_clarification_poster_can_be_corrected(tmp_path: Path) -> None:
    channel = poster(tmp_path)
    fields = {"kind": "clarification", "claim": "Vaksin berbahaya", "verdict": "Hoaks"}
    release = sample_release(tmp_path / "v1", date="2026-09-03", **fields)
    first = channel.publish(channel.preview(release, Links(canonical_url=URL)), key="k" * 64)
    text = page_text(amend(channel, first, "correction", NOTE, **fields).files[0])
    assert "RALAT" in text and NOTE in text and "HOAKS" in text
