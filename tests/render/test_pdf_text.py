"""The shared PDF machinery: page sizes, text fitting, body filling, QR codes, fonts."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from pdf_pages import char_boxes, page_text, picture_boxes
from PIL import Image

from chanpub.render.pdf.document import Box, Metadata, new_document, output_bytes, page_size
from chanpub.render.pdf.fonts import missing_glyphs
from chanpub.render.pdf.qr import draw_qr
from chanpub.render.pdf.raster import page_png
from chanpub.render.pdf.text import GAP, Measure, Style, draw, fill, fit, wrap


@pytest.fixture
def measure() -> Measure:
    """A measure on a fresh A4 document."""
    pdf = new_document(210, 297, Metadata(title="t", author="a"))
    pdf.add_page()
    return Measure(pdf)


@pytest.mark.parametrize(
    ("size", "orientation", "expected"),
    [
        ("A4", "portrait", (210.0, 297.0)),
        ("a4", "landscape", (297.0, 210.0)),
        ("A3", "portrait", (297.0, 420.0)),
        ("F4", "portrait", (215.0, 330.0)),
        ("300x100", "portrait", (3000.0, 1000.0)),
        ("300 x 100 cm", "landscape", (3000.0, 1000.0)),  # a banner's sides are given as is
        ("42,5x60", "portrait", (425.0, 600.0)),
    ],
)
def test_page_sizes(size: str, orientation: str, expected: tuple[float, float]) -> None:
    assert page_size(size, orientation) == expected


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("Letter", "unknown size"),
        ("0x100", "between"),
        ("600x100", "between"),
        ("300x20", "at most 12 times"),
        ("x100", "unknown size"),
    ],
)
def test_bad_page_sizes(size: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        page_size(size)


def test_wrap_keeps_every_line_inside_the_width(measure: Measure) -> None:
    style = Style(12)
    text = "Pemerintah Kota Contoh https://kominfo.example.go.id/siaran/2026/09/sangat-panjang.html"
    lines = wrap(measure, text, style, 40)
    assert all(measure.width(line, style) <= 40 + 1e-6 for line in lines.lines)
    assert "".join(lines.lines).replace(" ", "") == text.replace(" ", "")
    url_lines = [line for line in lines.lines if "/" in line]
    assert all(line.endswith(("/", ".")) for line in url_lines[:-1])  # cut after / or .


def test_fit_shrinks_a_long_title_until_it_fits(measure: Measure) -> None:
    box = Box(10, 10, 100, 30)
    short = fit(measure, "Layanan Keliling", box, Style(30, bold=True), min_size=10)
    long = fit(
        measure,
        "Layanan Administrasi Kependudukan Keliling di Dua Belas Kelurahan Mulai Senin Depan",
        box,
        Style(30, bold=True),
        min_size=10,
    )
    assert short.style.size == 30
    assert 10 <= long.style.size < 30 and not long.truncated
    assert long.height <= box.h


def test_fit_cuts_with_an_ellipsis_only_below_the_smallest_size(measure: Measure) -> None:
    box = Box(0, 0, 60, 12)
    lines = fit(measure, "kata " * 200, box, Style(20), min_size=9, max_lines=2)
    assert lines.truncated and lines.style.size == 9
    assert len(lines.lines) == 2 and lines.lines[-1].endswith("…")


def test_fill_ends_at_a_sentence_and_points_to_the_article(measure: Measure) -> None:
    body = "Kalimat pertama cukup panjang untuk satu baris. " * 30
    box = Box(0, 0, 120, 40)
    lines = fill(measure, body, box, Style(11), tail="Baca selengkapnya: https://x.example/a")
    assert lines.truncated and lines.height <= box.h + 1e-6
    text_lines = [line for line in lines.lines if line != GAP]
    assert text_lines[-1] == "Baca selengkapnya: https://x.example/a"
    assert text_lines[-2].endswith("baris.")


def test_fill_keeps_a_short_body_whole(measure: Measure) -> None:
    lines = fill(measure, "Satu.\n\nDua.", Box(0, 0, 100, 100), Style(11), tail="lagi")
    assert lines.lines == ("Satu.", GAP, "Dua.") and not lines.truncated


def test_drawn_text_stays_in_its_box_and_is_extractable() -> None:
    pdf = new_document(100, 100, Metadata(title="t", author="a"))
    pdf.add_page()
    measure = Measure(pdf)
    box = Box(20, 20, 60, 60)
    lines = fit(measure, "Teks yang dapat dicari dan dipilih " * 4, box, Style(18, align="J"), 6)
    draw(pdf, measure, lines, box)
    data = output_bytes(pdf)
    runs = [where for text, where in char_boxes(data) if text.strip()]
    low, high = 20 * 72 / 25.4 - 0.3, 80 * 72 / 25.4 + 0.3  # 0.3 pt rounding
    assert runs and all(low <= edge <= high for where in runs for edge in where)
    assert "Teks yang dapat dicari" in page_text(data)


def test_qr_code_is_vector_and_decodes() -> None:
    pdf = new_document(60, 60, Metadata(title="t", author="a"))
    pdf.add_page()
    draw_qr(pdf, "https://kominfo.example.go.id/siaran/a.html", Box(5, 5, 50, 50))
    data = output_bytes(pdf)
    assert picture_boxes(data) == []  # drawn with rectangles, not a picture
    with Image.open(io.BytesIO(page_png(data, 600))) as image:
        assert [
            r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        ] == ["https://kominfo.example.go.id/siaran/a.html"]


def test_same_document_twice_gives_the_same_bytes() -> None:
    def make() -> bytes:
        pdf = new_document(50, 50, Metadata(title="Sama", author="Kominfo"))
        pdf.add_page()
        measure = Measure(pdf)
        draw(pdf, measure, wrap(measure, "Halo", Style(12), 40), Box(5, 5, 40, 40))
        return output_bytes(pdf)

    assert make() == make()


def test_missing_glyphs_are_reported_once_each() -> None:
    assert missing_glyphs("Nguyễn Παπαδόπουλος Шевченко") == ""
    assert missing_glyphs("王小明 王") == "王小明"
