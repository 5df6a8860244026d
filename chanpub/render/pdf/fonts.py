"""The fonts embedded in every PDF: DejaVu Sans (Bitstream Vera licence, chanpub/fonts/).

DejaVu covers Latin (Indonesian, Javanese and Sundanese in Latin script, Vietnamese),
Greek, Cyrillic, Armenian, Georgian, Hebrew and basic Arabic. Characters outside it are
reported by `missing_glyphs` so that previews can warn before anything is printed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

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


def register_fonts(pdf: FPDF) -> None:
    """Add the shipped faces to a document (embedded as subsets of the glyphs used)."""
    for (family, style), filename in FACES.items():
        pdf.add_font(family, style, str(FONT_DIR / filename))


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
