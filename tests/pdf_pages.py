"""Reading PDFs back in tests: text, text positions, pictures and fonts of a page.

Built on pypdfium2 (the renderer chanpub itself uses) and pypdf. Boxes are (x0, y0, x1, y1)
in points with the origin at the page's top left, y growing downwards, as a reader sees it.
"""

from __future__ import annotations

import ctypes
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pypdfium2
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader

Box = tuple[float, float, float, float]


@contextmanager
def opened(pdf: Path | bytes) -> Iterator[pypdfium2.PdfDocument]:
    """The PDF (a file or its bytes) open for reading, closed afterwards."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        yield document
    finally:
        document.close()


def pages_text(pdf: Path | bytes) -> list[str]:
    """The text of each page, words joined by single spaces."""
    with opened(pdf) as document:
        return [" ".join(page.get_textpage().get_text_range().split()) for page in document]


def page_text(pdf: Path | bytes, index: int = 0) -> str:
    """The text of one page, words joined by single spaces."""
    return pages_text(pdf)[index]


def page_points(pdf: Path | bytes, index: int = 0) -> tuple[float, float]:
    """Width and height of a page in points."""
    with opened(pdf) as document:
        return document[index].get_size()


def _top_left(height: float, left: float, bottom: float, right: float, top: float) -> Box:
    return (left, height - top, right, height - bottom)


def char_boxes(pdf: Path | bytes, index: int = 0) -> list[tuple[str, Box]]:
    """Each visible character on the page with its box, measured from where the layout put
    it: the left edge is the glyph's origin (the ink of a J may overhang to the left of it,
    which is the font's design, not the layout's), the rest is PDFium's loose box."""
    with opened(pdf) as document:
        page = document[index]
        height = page.get_height()
        textpage = page.get_textpage()
        found = []
        for number in range(textpage.count_chars()):
            char = textpage.get_text_range(number, 1)
            if char.strip():
                _left, bottom, right, top = textpage.get_charbox(number, loose=True)
                origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
                pdfium_c.FPDFText_GetCharOrigin(textpage.raw, number, origin_x, origin_y)
                found.append((char, _top_left(height, origin_x.value, bottom, right, top)))
        return found


def find_text(pdf: Path | bytes, needle: str, index: int = 0) -> list[Box]:
    """The box of each place where `needle` is written on the page."""
    with opened(pdf) as document:
        page = document[index]
        height = page.get_height()
        textpage = page.get_textpage()
        searcher = textpage.search(needle)
        found = []
        while (hit := searcher.get_next()) is not None:
            start, count = hit
            boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
            found.append(
                _top_left(
                    height,
                    min(b[0] for b in boxes),
                    min(b[1] for b in boxes),
                    max(b[2] for b in boxes),
                    max(b[3] for b in boxes),
                )
            )
        return found


def picture_boxes(pdf: Path | bytes, index: int = 0) -> list[Box]:
    """Where each raster picture is drawn on the page (vector drawings are not pictures)."""
    with opened(pdf) as document:
        page = document[index]
        height = page.get_height()
        return [
            _top_left(height, *image.get_bounds())
            for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])
        ]


def page_fonts(pdf: Path | bytes, index: int = 0) -> list[tuple[str, str]]:
    """(base font name, embedded font file key) of each font the page uses; the key is
    /FontFile2 for an embedded TrueType font and "" for a font that is not embedded."""
    source = pdf if isinstance(pdf, Path) else io.BytesIO(pdf)
    resources: Any = PdfReader(source).pages[index]["/Resources"]
    fonts = []
    for reference in resources["/Font"].values():
        font = reference.get_object()
        descendant = (
            font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        )
        descriptor = descendant["/FontDescriptor"].get_object()
        embedded = next(
            (k for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in descriptor), ""
        )
        fonts.append((str(font["/BaseFont"]), embedded))
    return fonts
