"""PDF pages as PNG pictures: exact width, white background, the same bytes every time."""

from __future__ import annotations

import io

from PIL import Image

from chanpub.render.pdf.document import Box, Metadata, new_document, output_bytes
from chanpub.render.pdf.raster import page_png
from chanpub.render.pdf.text import Measure, Style, draw, wrap


def square_page(side_mm: float) -> bytes:
    """A square page with one line of text, as the share card is."""
    pdf = new_document(side_mm, side_mm, Metadata(title="t", author="a"))
    pdf.add_page()
    measure = Measure(pdf)
    draw(pdf, measure, wrap(measure, "Kartu berbagi", Style(14), side_mm - 20), Box(10, 10, 80, 20))
    return output_bytes(pdf)


def test_the_picture_is_exactly_as_wide_as_asked() -> None:
    # At 61.9 mm for 800 px and 94.1 mm for 1200 px, width / page width is a zoom whose
    # float error makes PDFium round the bitmap up by one pixel.
    for side_mm, width in ((100, 1080), (61.9, 800), (94.1, 1200), (381, 1080)):
        with Image.open(io.BytesIO(page_png(square_page(side_mm), width))) as image:
            assert image.size == (width, width), side_mm


def test_the_same_pdf_gives_byte_identical_pngs() -> None:
    page = square_page(100)
    assert page_png(page, 1080) == page_png(page, 1080)


def test_the_background_is_opaque_white_and_the_text_is_drawn() -> None:
    with Image.open(io.BytesIO(page_png(square_page(100), 400))) as image:
        assert image.mode == "RGB"
        assert image.getpixel((399, 399)) == (255, 255, 255)
        assert image.convert("L").getextrema()[0] < 100  # dark text pixels
