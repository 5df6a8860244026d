"""poster-pdf: the PDFs are opened again and checked by their page size, extracted text,
text positions and the QR code decoded from a rendering of the page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from pdf_pages import char_boxes, find_text, page_fonts, page_points, page_text
from PIL import Image
from pydantic import ValidationError
from pypdf import PdfReader

from chanpub.channels.poster_pdf import PosterPdfChannel, PosterPdfOptions
from chanpub.contract import Links, Receipt
from chanpub.errors import ConfigError, ReleaseError
from chanpub.release import Release
from chanpub.render.pdf.raster import page_png
from chanpub.testing import check_contract, check_receipt, make_context, sample_release

URL = "https://kominfo.example.go.id/siaran/layanan-adminduk-keliling.html"
MM = 72 / 25.4  # points per millimetre


def picture(path: Path, size: tuple[int, int] = (1200, 800), colour: str = "#4a7fb0") -> Path:
    """A small real picture file."""
    Image.new("RGB", size, colour).save(path)
    return path


def channel(tmp_path: Path, name: str = "poster", **options: Any) -> PosterPdfChannel:
    """A poster channel writing to tmp_path/posters."""
    model = PosterPdfOptions.model_validate({"out": "posters", **options})
    return PosterPdfChannel(name, model, make_context(tmp_path))


def publish(poster: PosterPdfChannel, release: Release, url: str | None = URL) -> Receipt:
    """Preview and publish as dispatch does."""
    preview = poster.preview(release, Links(canonical_url=url, predicted=False))
    return check_receipt(poster.publish(preview, key="k" * 64))


def page_mm(pdf: Path) -> tuple[float, float]:
    """The first page's width and height in millimetres."""
    width, height = page_points(pdf)
    return round(width / MM, 1), round(height / MM, 1)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a picture file."""
    with Image.open(path) as image:
        return image.size


def decode_qr(png: bytes) -> list[str]:
    """The texts of the QR codes found in a PNG."""
    with Image.open(io.BytesIO(png)) as image:
        return [
            result.text
            for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        ]


def qr_of(pdf: Path) -> list[str]:
    """Render the first page and decode its QR codes."""
    return decode_qr(page_png(pdf.read_bytes(), 1600))


def char_boxes_outside(pdf: Path, margin_mm: float) -> list[tuple[str, tuple[float, ...]]]:
    """Characters whose box reaches into the page margins."""
    width, height = page_points(pdf)
    inset = margin_mm * MM - 0.6  # 0.6 pt for rounding in the reader
    return [
        (text, box)
        for text, box in char_boxes(pdf)
        if text.strip()
        and not (
            box[0] >= inset
            and box[1] >= inset
            and box[2] <= width - inset
            and box[3] <= height - inset
        )
    ]


def alt_texts(pdf: Path) -> list[str]:
    """The /Alt texts of the figures in the PDF's structure tree."""
    found: list[str] = []

    def walk(node: Any) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, dict):
            if "/Alt" in node:
                found.append(str(node["/Alt"]))
            walk(node.get("/K"))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(PdfReader(pdf).trailer["/Root"]["/StructTreeRoot"])
    return found


def test_contract(tmp_path: Path) -> None:
    release = sample_release(tmp_path)
    preview = check_contract(PosterPdfChannel, {"out": "posters"}, release, make_context(tmp_path))
    assert preview.data["qr"] == "https://kominfo.example.go.id/siaran/contoh.html"
    assert "https://kominfo.example.go.id/siaran/contoh.html" in preview.text


def test_a4_poster_has_title_url_qr_and_the_files_other_channels_attach(tmp_path: Path) -> None:
    photo = picture(tmp_path / "foto.jpg")
    release = sample_release(
        tmp_path, image=photo.name, image_alt="Petugas melayani warga", date="2017-08-24"
    )
    receipt = publish(channel(tmp_path), release)

    pdf, thumbnail, card, share = receipt.files
    assert pdf.suffix == ".pdf" and pdf.parent == tmp_path / "posters"
    assert page_mm(pdf) == (210.0, 297.0)
    text = page_text(pdf)
    assert release.title in text
    assert URL in text.replace(" ", "")
    assert "Kamis, 24 Agustus 2017" in text
    assert qr_of(pdf) == [URL]
    assert alt_texts(pdf) == ["Petugas melayani warga"]
    assert png_size(thumbnail)[0] == 800
    assert png_size(card) == (1080, 1080)
    assert decode_qr(card.read_bytes()) == [URL]
    assert URL in share.read_text(encoding="utf-8")
    assert receipt.url == pdf.resolve().as_uri()
    assert len(receipt.remote_id) == 16


def test_fonts_are_embedded_and_text_is_searchable(tmp_path: Path) -> None:
    receipt = publish(channel(tmp_path), sample_release(tmp_path))
    fonts = page_fonts(receipt.files[0])
    assert fonts and all(file == "/FontFile2" and "+DejaVu" in name for name, file in fonts)
    assert find_text(receipt.files[0], "Layanan Adminduk")


def test_same_input_gives_byte_identical_pdf(tmp_path: Path) -> None:
    release = sample_release(tmp_path, date="2017-08-24")
    first = publish(channel(tmp_path, out="one"), release).files[0].read_bytes()
    second = publish(channel(tmp_path, out="two"), release).files[0].read_bytes()
    assert first == second
    assert b"CreationDate (D:20170824000000Z" in first


def test_configured_url_is_used_when_no_canonical_channel_ran(tmp_path: Path) -> None:
    poster = channel(tmp_path, url="https://tomohon.example.go.id/berita")
    receipt = publish(poster, sample_release(tmp_path), url=None)
    assert qr_of(receipt.files[0]) == ["https://tomohon.example.go.id/berita"]


def test_clarification_shows_verdict_claim_and_facts(tmp_path: Path) -> None:
    release = sample_release(
        tmp_path,
        title="KTP Elektronik Lama Tetap Berlaku",
        kind="clarification",
        verdict="HOAKS",
        claim="KTP elektronik lama tidak berlaku mulai September",
        source="Dinas Dukcapil Kota Contoh",
    )
    receipt = publish(channel(tmp_path), release)
    text = page_text(receipt.files[0])
    assert "HOAKS" in text
    assert "KLAIM YANG BEREDAR" in text
    assert "“KTP elektronik lama tidak berlaku mulai September”" in text
    assert (
        text.index("HOAKS") < text.index("KLAIM") < text.index("FAKTA") < text.index(release.title)
    )
    assert "Sumber resmi: Dinas Dukcapil Kota Contoh" in text
    assert qr_of(receipt.files[0]) == [URL]
    share = receipt.files[3].read_text(encoding="utf-8")
    assert share.startswith("*[HOAKS]*") and URL in share


@pytest.mark.parametrize(
    ("options", "expected_mm"),
    [
        ({"size": "A3"}, (297.0, 420.0)),
        ({"size": "A4", "orientation": "landscape"}, (297.0, 210.0)),
        ({"size": "300x100"}, (3000.0, 1000.0)),
    ],
)
def test_sizes(tmp_path: Path, options: dict[str, Any], expected_mm: tuple[float, float]) -> None:
    receipt = publish(channel(tmp_path, **options), sample_release(tmp_path))
    assert page_mm(receipt.files[0]) == expected_mm
    assert release_title_in(receipt.files[0])
    assert qr_of(receipt.files[0]) == [URL]


def release_title_in(pdf: Path) -> bool:
    return "Pemkot Buka Layanan Adminduk Keliling" in page_text(pdf)


LONG_TITLE = (
    "Pemerintah Kota Contoh Mengimbau Seluruh Warga Agar Segera Melakukan Perekaman "
    "KTP Elektronik Sebelum Batas Waktu Akhir Tahun Demi Kelancaran Pelayanan Publik "
    "Dan Pemilihan Umum Serentak Yang Akan Datang Di Seluruh Kelurahan "
) * 2


@pytest.mark.parametrize(
    "case",
    [
        "long title",
        "long body",
        "no image",
        "huge image",
        "non-Latin name",
        "banner",
        "landscape clarification",
    ],
)
def test_no_text_lies_in_the_margins(tmp_path: Path, case: str) -> None:
    fields: dict[str, Any] = {}
    options: dict[str, Any] = {"margin_mm": 12}
    if case == "long title":
        fields["title"] = LONG_TITLE
    if case == "long body":
        fields["body"] = ("Warga diminta datang lebih awal ke kantor kelurahan. " * 40 + "\n\n") * 8
    if case in ("long body", "long title"):
        fields.update(image=picture(tmp_path / "a.png").name, image_alt="Suasana pelayanan")
    if case == "huge image":
        fields.update(
            image=picture(tmp_path / "big.jpg", (6000, 4000)).name, image_alt="Foto resolusi tinggi"
        )
    if case == "non-Latin name":
        options["organisation"] = "Управление связи · Υπηρεσία Ενημέρωσης · وزارة الاتصالات"
        fields["title"] = "Nguyễn Thị Hương Dan Ζωή Παπαδοπούλου Hadiri Forum Kota"
    if case == "banner":
        options.update(size="300x100", margin_mm=40)
        fields["title"] = LONG_TITLE
    if case == "landscape clarification":
        options.update(orientation="landscape")
        fields.update(kind="clarification", verdict="DISINFORMASI", claim=LONG_TITLE)
    release = sample_release(tmp_path, **fields)
    receipt = publish(channel(tmp_path, **options), release)
    assert char_boxes_outside(receipt.files[0], options["margin_mm"]) == []
    text = page_text(receipt.files[0])
    if case == "non-Latin name":
        assert "Υπηρεσία Ενημέρωσης".upper() in text.upper() and "Nguyễn Thị Hương" in text
    if case == "long body":
        assert "Baca selengkapnya:" in text  # the cut body points to the full article
    if case == "huge image":
        assert receipt.files[0].stat().st_size < 3_000_000  # scaled to print resolution


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": "B7"}, "unknown size 'B7'"),
        ({"size": "0x100"}, "between 10 and 500 cm"),
        ({"size": "900x100"}, "between 10 and 500 cm"),
        ({"size": "400x12"}, "at most 12 times as wide"),
        ({"margin_mm": 60}, "leaves no room"),
        ({"colors": {"primary": "navy"}}, "is not a colour"),
        ({"url": "ftp://example.org"}, "must be a web address"),
        ({"orientation": "sideways"}, "portrait"),
    ],
)
def test_bad_options_are_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PosterPdfOptions.model_validate({"out": "posters", **options})


@pytest.mark.parametrize(
    ("logo", "message"),
    [
        ("missing.png", "does not exist"),
        ("not-a-picture.png", "not a picture this program can read"),
    ],
)
def test_check_rejects_a_bad_logo(tmp_path: Path, logo: str, message: str) -> None:
    (tmp_path / "not-a-picture.png").write_text("hello", encoding="utf-8")
    poster = channel(tmp_path, logo=logo)
    with pytest.raises(ConfigError, match=message) as error:
        poster.check()
    assert str(error.value).startswith("channels.poster.logo: ")


def test_unreadable_release_image_stops_before_any_file_is_written(tmp_path: Path) -> None:
    broken = tmp_path / "foto.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"broken" * 10)
    release = sample_release(tmp_path, image=broken.name, image_alt="Foto")
    poster = channel(tmp_path)
    with pytest.raises(ReleaseError, match=r"image: .*foto\.png"):
        poster.preview(release, Links(canonical_url=URL))
    assert not (tmp_path / "posters").exists()


def test_logo_is_drawn_with_the_organisation_as_alt_text(tmp_path: Path) -> None:
    picture(tmp_path / "logo.png", (300, 360), "#f5c518")
    receipt = publish(channel(tmp_path, logo="logo.png"), sample_release(tmp_path))
    assert "Dinas Kominfo Kota Contoh" in alt_texts(receipt.files[0])


def test_verify_proves_the_output_folder_can_be_written(tmp_path: Path) -> None:
    from chanpub.errors import PermanentError

    channel(tmp_path).verify()
    assert (tmp_path / "posters").is_dir() and list((tmp_path / "posters").iterdir()) == []
    (tmp_path / "taken").write_text("a file where the folder should be")
    with pytest.raises(PermanentError, match=r"poster: cannot write to .*taken"):
        channel(tmp_path, out="taken").verify()
