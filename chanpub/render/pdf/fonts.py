"""The fonts embedded in every PDF: DejaVu Sans (Bitstream Vera licence, chanpub/fonts/).

DejaVu covers Latin (Indonesian, Javanese and Sundanese in Latin script, Vietnamese),
Greek, Cyrillic, Armenian, Georgian, Hebrew and basic Arabic. Characters outside it are
reported by `missing_glyphs` so that previews can warn before anything is printed.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIR = Path(__file__).resolve().parent.parent.parent / "fonts"
FAMILY = "DejaVu"
CONDENSED = "DejaVuCondensed"
FACES = {
    (FAMILY, ""): "DejaVuSans.ttf",
    (FAMILY, "B"): "DejaVuSans-Bold.ttf",
    (FAMILY, "I"): "DejaVuSans-Oblique.ttf",
    (CONDENSED, "B"): "DejaVuSansCondensed-Bold.ttf",
}
# Vertical metrics of DejaVu Sans (hhea), in em: where a PDF reader puts a text box.
ASCENT = 0.928
DESCENT = 0.236
LICENCE = FONT_DIR / "LICENSE-DejaVu.txt"


def register_fonts(pdf: FPDF, faces: tuple[tuple[str, str], ...] = tuple(FACES)) -> None:
    """Add the shipped faces to a document (embedded as subsets of the glyphs used).

    Reading a face's metrics takes ~50 ms, so they are read once per process and each
    document gets a copy with its own font file handle and subset (fpdf2 subsets the
    font file in place when it writes the PDF).
    """
    for family, style in faces:
        path = str(FONT_DIR / FACES[(family, style)])
        try:
            _add_copy(pdf, family, style, path)
        except (AttributeError, ImportError, TypeError):  # another fpdf2: the plain way
            pdf.add_font(family, style, path)


def _add_copy(pdf: FPDF, family: str, style: str, path: str) -> None:
    import copy

    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # no stubs
    from fpdf.fonts import SubsetMap

    prototype = _prototype(family, style, path)
    font = copy.copy(prototype)  # the cmap and glyph ids are only read: shared
    # writing a PDF numbers its objects (the descriptor) and may add widths: one per document
    font.desc = copy.copy(prototype.desc)
    font.cw = prototype.cw.copy()
    # from memory: no file handle is left open, and fpdf2 subsets this copy in place
    font.ttfont = TTFont(io.BytesIO(_font_bytes(path)), recalcTimestamp=False, lazy=True)
    font.i = len(pdf.fonts) + 1
    font.subset = SubsetMap(font)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    pdf.fonts[f"{family.lower()}{style}"] = font


@lru_cache(maxsize=8)
def _prototype(family: str, style: str, path: str) -> Any:
    from fpdf import FPDF

    scratch = FPDF()
    scratch.add_font(family, style, path)
    font: Any = scratch.fonts[f"{family.lower()}{style}"]
    font.ttfont.close()  # its metrics are read; each document opens its own copy
    return font


@lru_cache(maxsize=8)
def _font_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


@lru_cache(maxsize=4)
def _coverage(filename: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(FONT_DIR / filename), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(text: str, filename: str = FACES[(FAMILY, "")]) -> str:
    """The distinct characters of `text` the font cannot draw, in order of appearance."""
    covered = _coverage(filename)
    seen: dict[str, None] = {}
    for char in text:
        if char.isprintable() and not char.isspace() and ord(char) not in covered:
            seen.setdefault(char, None)
    return "".join(seen)
