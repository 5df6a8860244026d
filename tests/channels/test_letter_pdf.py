"""letter-pdf: letters are opened again and checked by their text; numbers come from a
real ledger; the e-mail channel delivers each recipient's own letter over real SMTP."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pdf_pages import find_text, page_points, page_text, pages_text, picture_boxes
from PIL import Image
from pydantic import ValidationError

from chanpub.batches import PartLedger
from chanpub.channels.letter_pdf import LetterPdfChannel, LetterPdfOptions
from chanpub.contract import Links, Receipt
from chanpub.errors import ConfigError
from chanpub.ledger import Ledger
from chanpub.release import Release
from chanpub.testing import check_contract, check_receipt, make_context, sample_release

sys.path.insert(0, str(Path(__file__).parent / "email"))  # the real SMTP server helpers
from smtp_servers import RecordingHandler, SmtpServer, run_server  # the path above

URL = "https://kominfo.example.go.id/siaran/layanan-adminduk-keliling.html"
MM = 72 / 25.4
RECIPIENTS = [
    ("Budi Santoso", "Pemimpin Redaksi", "Harian Contoh", "Jl. Merdeka 1", "Budi@Harian.example"),
    ("Siti Rahma", "Kepala Desa", "Desa Sukamaju", "", "siti@desa.example"),
    ("Lurah Kolongan", "", "Kelurahan Kolongan", "", ""),
]


def recipients_csv(
    folder: Path,
    rows: list[tuple[str, ...]] = RECIPIENTS,
    header: str = "name,position,organisation,address,email",
) -> Path:
    """A recipients list as officers keep it."""
    path = folder / "penerima.csv"
    lines = [header] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def options(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Options like the ones in channels.yaml (recipients CSV written to tmp_path)."""
    recipients_csv(tmp_path)
    return {
        "out": "letters",
        "size": "A4",
        "place": "Kota Contoh",
        "letterhead": {
            "lines": [
                "PEMERINTAH KOTA CONTOH",
                "DINAS KOMUNIKASI DAN INFORMATIKA",
                "Jl. Balai Kota No. 1 · Telepon (0431) 123456",
                "kominfo.example.go.id · diskominfo@example.go.id",
            ]
        },
        "number_pattern": "{seq:03d}/DISKOMINFO/{month_roman}/{year}",
        "signatory": {
            "position": "Kepala Dinas Komunikasi dan Informatika",
            "name": "Dra. Maria Wenas, M.Si.",
            "id": "19700101 199503 2 001",
        },
        "recipients": "penerima.csv",
        "copies_to": ["Wali Kota Contoh"],
        **overrides,
    }


def channel(tmp_path: Path, ledger: Ledger, **overrides: Any) -> LetterPdfChannel:
    """A letter channel numbering from `ledger`."""
    model = LetterPdfOptions.model_validate(options(tmp_path, **overrides))
    context = make_context(tmp_path, sequence=ledger, journal_factory=ledger.journal)
    return LetterPdfChannel("letters", model, context)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A real ledger file."""
    opened = Ledger(tmp_path / "ledger.sqlite3")
    yield opened
    opened.close()


def publish(letters: LetterPdfChannel, release: Release, key: str = "a" * 64) -> Receipt:
    """Preview and publish as dispatch does."""
    preview = letters.preview(release, Links(canonical_url=URL, predicted=False))
    return check_receipt(letters.publish(preview, key))


def pdf_text(path: Path) -> list[str]:
    """The text of each page, words joined by single spaces."""
    return pages_text(path)


def release_of(
    tmp_path: Path, title: str = "Pemberitahuan Layanan Adminduk Keliling", **fields: Any
) -> Release:
    """An approved release dated 3 September 2026."""
    return sample_release(
        tmp_path / title[:12].replace(" ", "_"), title=title, date="2026-09-03", **fields
    )


def test_contract(tmp_path: Path) -> None:
    recipients_csv(tmp_path)
    preview = check_contract(
        LetterPdfChannel, options(tmp_path), release_of(tmp_path), make_context(tmp_path)
    )
    assert preview.recipients == 3
    assert preview.data["number"] == "…/DISKOMINFO/IX/2026"  # drawn only when sending


def test_each_letter_has_its_recipient_number_and_signatory(tmp_path: Path, ledger: Ledger) -> None:
    receipt = publish(channel(tmp_path, ledger), release_of(tmp_path))
    combined, thumbnail, *letters = receipt.files
    assert combined.suffix == ".pdf" and thumbnail.suffix == ".png"
    assert len(letters) == 3
    for letter, (name, _position, organisation, _address, _email), seq in zip(
        letters, RECIPIENTS, (1, 2, 3), strict=True
    ):
        text = " ".join(pdf_text(letter))
        assert f"Yth. {name}" in text and organisation in text
        assert f"{seq:03d}/DISKOMINFO/IX/2026" in text
        assert "Dra. Maria Wenas, M.Si." in text and "NIP. 19700101 199503 2 001" in text
        assert "Kota Contoh, 3 September 2026" in text
        assert "Perihal : Pemberitahuan Layanan Adminduk Keliling" in text
        assert "Tembusan: 1. Wali Kota Contoh" in text
    assert receipt.details["numbers"] == {
        "budi@harian.example": "001/DISKOMINFO/IX/2026",
        "siti@desa.example": "002/DISKOMINFO/IX/2026",
        "Lurah Kolongan": "003/DISKOMINFO/IX/2026",
    }
    assert receipt.details["per_recipient"] == {
        "budi@harian.example": str(letters[0]),
        "siti@desa.example": str(letters[1]),
    }


def test_the_combined_pdf_has_one_letter_per_recipient(tmp_path: Path, ledger: Ledger) -> None:
    receipt = publish(channel(tmp_path, ledger), release_of(tmp_path))
    pages = pdf_text(receipt.files[0])
    assert len(pages) == 3
    assert [page.count("Yth.") for page in pages] == [1, 1, 1]
    assert all(name in page for page, (name, *_rest) in zip(pages, RECIPIENTS, strict=True))


def test_a_long_body_continues_on_a_second_page(tmp_path: Path, ledger: Ledger) -> None:
    body = (
        "Warga diminta datang lebih awal ke kantor kelurahan dengan membawa dokumen. " * 12 + "\n\n"
    ) * 6
    receipt = publish(channel(tmp_path, ledger), release_of(tmp_path, body=body))
    pages = pdf_text(receipt.files[2])
    assert len(pages) > 1
    assert all(page.startswith(f"- {n} -") for n, page in enumerate(pages[1:], start=2))
    signed = [page for page in pages if "Dra. Maria Wenas, M.Si." in page]
    assert len(signed) == 1 and "Kepala Dinas Komunikasi" in signed[0]  # never split
    assert len(pdf_text(receipt.files[0])) == 3 * len(pages)


def test_f4_folio_size(tmp_path: Path, ledger: Ledger) -> None:
    receipt = publish(channel(tmp_path, ledger, size="F4"), release_of(tmp_path))
    width, height = page_points(receipt.files[0])
    assert (round(width / MM), round(height / MM)) == (215, 330)


def test_numbers_continue_across_releases_and_never_repeat(tmp_path: Path, ledger: Ledger) -> None:
    first = publish(channel(tmp_path, ledger), release_of(tmp_path, "Siaran Satu"), "1" * 64)
    second = publish(channel(tmp_path, ledger), release_of(tmp_path, "Siaran Dua"), "2" * 64)
    numbers = [*first.details["numbers"].values(), *second.details["numbers"].values()]
    assert [n.split("/")[0] for n in numbers] == ["001", "002", "003", "004", "005", "006"]


def test_the_same_delivery_again_reuses_its_numbers_and_bytes(
    tmp_path: Path, ledger: Ledger
) -> None:
    release = release_of(tmp_path)
    first = publish(channel(tmp_path, ledger), release)
    pdf = first.files[0].read_bytes()
    second = publish(channel(tmp_path, ledger), release)
    assert second.details["numbers"] == first.details["numbers"]
    assert second.files[0].read_bytes() == pdf


class Killed(BaseException):
    """Stands for the process being killed (not an Exception: nothing catches it)."""


def test_a_run_killed_while_writing_letters_keeps_the_numbers_given(
    tmp_path: Path, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chanpub.channels.letter_pdf.channel as module

    release = release_of(tmp_path)
    real_write = module.write_atomically
    written: list[Path] = []

    def write_then_die(path: Path, content: str | bytes) -> None:
        if len(written) == 1:
            raise Killed
        real_write(path, content)
        written.append(path)

    monkeypatch.setattr(module, "write_atomically", write_then_die)
    with pytest.raises(Killed):
        publish(channel(tmp_path, ledger), release)
    monkeypatch.setattr(module, "write_atomically", real_write)

    again = publish(channel(tmp_path, ledger), release)
    assert [n[:3] for n in again.details["numbers"].values()] == ["001", "002", "003"]
    assert pdf_text(written[0]) == pdf_text(again.files[2])
    later = publish(channel(tmp_path, ledger), release_of(tmp_path, "Siaran Berikut"), "b" * 64)
    assert [n[:3] for n in later.details["numbers"].values()] == ["004", "005", "006"]


def test_a_run_killed_between_drawing_and_recording_a_number_never_reuses_it(
    tmp_path: Path, ledger: Ledger
) -> None:
    class DiesAfterSecondNumber:
        calls = 0

        def next(self, name: str, scope: str) -> int:
            number = ledger.next(name, scope)  # committed
            self.calls += 1
            if self.calls == 2:
                raise Killed
            return number

    model = LetterPdfOptions.model_validate(options(tmp_path))
    dying = LetterPdfChannel(
        "letters",
        model,
        make_context(tmp_path, sequence=DiesAfterSecondNumber(), journal_factory=ledger.journal),
    )
    release = release_of(tmp_path)
    with pytest.raises(Killed):
        publish(dying, release)
    again = publish(channel(tmp_path, ledger), release)
    assert [n[:3] for n in again.details["numbers"].values()] == ["001", "003", "004"]


def test_two_runs_at_once_never_share_a_number(tmp_path: Path, ledger: Ledger) -> None:
    releases = [release_of(tmp_path, f"Siaran {n}") for n in range(2)]
    # Both channels are set up (their files written) before the runs race each other.
    channels = [channel(tmp_path, ledger, out=f"out{index}") for index in range(2)]
    receipts: list[Receipt] = []

    def run(index: int) -> None:
        receipts.append(publish(channels[index], releases[index], str(index) * 64))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbers = [n for r in receipts for n in r.details["numbers"].values()]
    assert len(receipts) == 2
    assert sorted(int(n[:3]) for n in numbers) == list(range(1, 7))


def test_a_list_shared_among_jobs_gives_each_its_own_letters_and_numbers(
    tmp_path: Path, ledger: Ledger
) -> None:
    # With `database:` and `queue: batch:`, each job sees only its part of the list
    # (chanpub.batches): here Siti is part 0, Budi and the Lurah part 1, run in that order.
    release, key = release_of(tmp_path), "a" * 64
    receipts = []
    for part in (0, 1):
        journal = PartLedger(ledger, key, part, 2).journal
        context = make_context(tmp_path, sequence=ledger, journal_factory=journal)
        model = LetterPdfOptions.model_validate(options(tmp_path))
        receipts.append(publish(LetterPdfChannel("letters", model, context), release, key))

    assert [r.details["numbers"] for r in receipts] == [
        {"siti@desa.example": "001/DISKOMINFO/IX/2026"},
        {
            "budi@harian.example": "002/DISKOMINFO/IX/2026",
            "Lurah Kolongan": "003/DISKOMINFO/IX/2026",
        },
    ]
    folder = tmp_path / "letters"
    singles = sorted((folder / f"{release.slug}-letters").glob("*.pdf"))
    assert [path.name[:4] for path in singles] == ["001-", "002-", "003-"]  # place in the list
    assert "001/DISKOMINFO/IX/2026" in pdf_text(singles[1])[0]  # Siti: second in the CSV
    assert "Yth. Siti Rahma" in pdf_text(singles[1])[0]
    assert [r.files[0].name for r in receipts] == [
        f"{release.slug}-letters-002.pdf",  # one combined PDF per part, after its first
        f"{release.slug}-letters-001.pdf",
    ]
    assert [len(pdf_text(r.files[0])) for r in receipts] == [1, 2]


def test_a_part_of_a_shared_list_with_nobody_in_it_writes_nothing(
    tmp_path: Path, ledger: Ledger
) -> None:
    # In 3 parts, the 3 recipients fall in parts 0 and 2: part 1's job has no letter.
    journal = PartLedger(ledger, "a" * 64, 1, 3).journal
    context = make_context(tmp_path, sequence=ledger, journal_factory=journal)
    model = LetterPdfOptions.model_validate(options(tmp_path))
    receipt = publish(LetterPdfChannel("letters", model, context), release_of(tmp_path))
    assert (receipt.details["letters"], receipt.details["numbers"], receipt.files) == (0, {}, ())
    assert not list((tmp_path / "letters").rglob("*.pdf"))
    assert ledger.next("letter-pdf:letters", "2026") == 1  # no number drawn


def test_each_recipient_receives_exactly_their_own_letter_by_smtp(
    tmp_path: Path, ledger: Ledger
) -> None:
    from chanpub.channels.email.channel import EmailChannel, EmailOptions

    letters = publish(channel(tmp_path, ledger), release_of(tmp_path))
    server_gen = run_server(RecordingHandler(), auth_required=False, auth_require_tls=True)
    server: SmtpServer = next(server_gen)
    try:
        email = EmailChannel(
            "press",
            EmailOptions.model_validate(
                server.options(security="none", lists=["penerima.csv"], attach=["letters"])
            ),
            make_context(tmp_path),
        )
        release = release_of(tmp_path)
        links = Links(canonical_url=URL, predicted=False, outputs={"letters": letters})
        email.publish(email.preview(release, links), "e" * 64)
    finally:
        server_gen.close()
    received = {m.rcpt_tos[0].lower(): m.message for m in server.handler.received}
    assert sorted(received) == ["budi@harian.example", "siti@desa.example"]
    for address, (name, *_rest) in (
        ("budi@harian.example", RECIPIENTS[0]),
        ("siti@desa.example", RECIPIENTS[1]),
    ):
        pdfs = [
            part
            for part in received[address].iter_attachments()
            if part.get_content_type() == "application/pdf"
        ]
        assert len(pdfs) == 1
        text = page_text(pdfs[0].get_content())
        assert f"Yth. {name}" in text
        others = [other for other, *_r in RECIPIENTS if other != name]
        assert not any(f"Yth. {other}" in text for other in others)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("{nomor}/DISKOMINFO/{year}", "unknown field {nomor}"),
        ("DISKOMINFO/{year}", "needs {seq}"),
        ("{seq:xyz}/{year}", "cannot be filled in"),
    ],
)
def test_bad_number_patterns_are_rejected(tmp_path: Path, pattern: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LetterPdfOptions.model_validate(options(tmp_path, number_pattern=pattern))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"recipients": "tanpa-nama.csv"}, "channels.letters.recipients: .* has no 'name' column"),
        ({"recipients": "hilang.csv"}, "channels.letters.recipients: .* does not exist"),
        (
            {"letterhead": {"logo": "logo.png", "lines": ["PEMKOT"]}},
            "channels.letters.letterhead.logo: .* does not exist",
        ),
        (
            {"signatory": {"position": "Kepala", "name": "X", "signature_image": "ttd.png"}},
            "channels.letters.signatory.signature_image: .* does not exist",
        ),
    ],
)
def test_bad_input_fails_in_check_before_anything_is_written(
    tmp_path: Path, ledger: Ledger, overrides: dict[str, Any], message: str
) -> None:
    (tmp_path / "tanpa-nama.csv").write_text(
        "email,organisation\na@b.example,X\n", encoding="utf-8"
    )
    letters = channel(tmp_path, ledger, **overrides)
    with pytest.raises(ConfigError, match=message):
        letters.check()
    with pytest.raises(ConfigError):
        publish(letters, release_of(tmp_path))
    assert not (tmp_path / "letters").exists()


def test_signature_image_is_printed_above_the_name(tmp_path: Path, ledger: Ledger) -> None:
    Image.new("RGBA", (600, 240), (20, 20, 90, 200)).save(tmp_path / "ttd.png")
    signatory = {
        "position": "Kepala Dinas",
        "name": "Dra. Maria Wenas, M.Si.",
        "signature_image": "ttd.png",
    }
    receipt = publish(channel(tmp_path, ledger, signatory=signatory), release_of(tmp_path))
    images = picture_boxes(receipt.files[2])
    name = find_text(receipt.files[2], "Dra. Maria Wenas")[0]
    assert len(images) == 1 and images[0][3] <= name[1] + 0.5


def test_verify_proves_the_output_folder_can_be_written(tmp_path: Path, ledger: Ledger) -> None:
    from chanpub.errors import PermanentError

    channel(tmp_path, ledger).verify()
    (tmp_path / "taken").write_text("a file where the folder should be")
    with pytest.raises(PermanentError, match=r"letters: cannot write to .*taken"):
        channel(tmp_path, ledger, out="taken").verify()
