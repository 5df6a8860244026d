"""Page sizes, boxes, colours and deterministic fpdf2 documents.

A document made here has no timestamp or random id of its own: its creation date comes
from the release and its file id is a hash of its content, so the same input gives the
same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

# Paper sizes in millimetres, portrait. F4 (folio) is common in Indonesian offices.
PAPER = {
    "A5": (148.0, 210.0),
    "A4": (210.0, 297.0),
    "A3": (297.0, 420.0),
    "A2": (420.0, 594.0),
    "F4": (215.0, 330.0),
}
MIN_CM = 10.0  # smaller than a postcard is not a poster
MAX_CM = 500.0  # PDF pages end at 508 cm; print shops print wider banners in parts
MAX_ASPECT = 12.0
PT = 25.4 / 72  # one point in millimetres
_CUSTOM = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*[x×X*]\s*(\d+(?:[.,]\d+)?)\s*(cm)?\s*$")
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")

Colour = tuple[int, int, int]


def page_size(size: str, orientation: str = "portrait") -> tuple[float, float]:
    """Width and height in mm of a named paper size or of `WIDTHxHEIGHT` in centimetres.

    Raises ValueError with what to write instead.
    """
    name = size.strip().upper()
    if name in PAPER:
        width, height = PAPER[name]
        return (height, width) if orientation == "landscape" else (width, height)
    match = _CUSTOM.match(size)
    if not match:
        raise ValueError(
            f"unknown size '{size}': write one of {', '.join(PAPER)}, or WIDTHxHEIGHT in "
            "centimetres such as 300x100"
        )
    width_cm, height_cm = (float(group.replace(",", ".")) for group in match.group(1, 2))
    for side in (width_cm, height_cm):
        if not MIN_CM <= side <= MAX_CM:
            raise ValueError(f"size {size}: each side must be between {MIN_CM:g} and {MAX_CM:g} cm")
    if max(width_cm, height_cm) / min(width_cm, height_cm) > MAX_ASPECT:
        raise ValueError(
            f"size {size}: at most {MAX_ASPECT:g} times as wide as high (or high as wide)"
        )
    return width_cm * 10, height_cm * 10


def parse_colour(value: str) -> Colour:
    """'#RRGGBB' -> (r, g, b); raises ValueError otherwise."""
    match = _HEX.match(value.strip())
    if not match:
        raise ValueError(f"'{value}' is not a colour: write it as #RRGGBB, e.g. #0B3D6E")
    digits = match.group(1)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


@dataclass(frozen=True)
class Box:
    """A rectangle on the page in millimetres, from its top-left corner."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        """The x of the right edge."""
        return self.x + self.w

    @property
    def bottom(self) -> float:
        """The y of the bottom edge."""
        return self.y + self.h

    def inset(
        self,
        left: float,
        top: float | None = None,
        right: float | None = None,
        bottom: float | None = None,
    ) -> Box:
        """The box shrunk on each side (CSS order of defaults: one value for all)."""
        top = left if top is None else top
        right = left if right is None else right
        bottom = top if bottom is None else bottom
        return Box(
            self.x + left,
            self.y + top,
            max(0.0, self.w - left - right),
            max(0.0, self.h - top - bottom),
        )

    def take_top(self, height: float, gap: float = 0.0) -> tuple[Box, Box]:
        """Split into a top box of `height` and the rest below it (after `gap`)."""
        height = min(height, self.h)
        rest = min(self.h, height + gap)
        return Box(self.x, self.y, self.w, height), Box(
            self.x, self.y + rest, self.w, self.h - rest
        )

    def take_bottom(self, height: float, gap: float = 0.0) -> tuple[Box, Box]:
        """Split into the rest above (before `gap`) and a bottom box of `height`."""
        height = min(height, self.h)
        rest = max(0.0, self.h - height - gap)
        return Box(self.x, self.y, self.w, rest), Box(self.x, self.bottom - height, self.w, height)

    def take_left(self, width: float, gap: float = 0.0) -> tuple[Box, Box]:
        """Split into a left box of `width` and the rest to its right (after `gap`)."""
        width = min(width, self.w)
        rest = min(self.w, width + gap)
        return Box(self.x, self.y, width, self.h), Box(self.x + rest, self.y, self.w - rest, self.h)


@dataclass(frozen=True)
class Metadata:
    """What the PDF says about itself (document properties)."""

    title: str
    author: str
    subject: str = ""
    keywords: str = ""
    language: str = "id"
    created: date | datetime | None = None


def fixed_time(value: date | datetime | None) -> datetime:
    """The creation date written into the PDF: the release's, never the clock's."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    return datetime(2000, 1, 1, tzinfo=UTC)


def new_document(
    width: float, height: float, meta: Metadata, faces: tuple[tuple[str, str], ...] | None = None
) -> FPDF:
    """An empty fpdf2 document in millimetres with the shipped fonts (all, or `faces`)
    and fixed metadata."""
    from fpdf import FPDF

    from chanpub.render.pdf.fonts import register_fonts

    pdf = FPDF(unit="mm", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creation_date(fixed_time(meta.created))
    pdf.set_producer("chanpub")
    pdf.set_creator("chanpub")
    pdf.set_title(meta.title)
    pdf.set_author(meta.author)
    if meta.subject:
        pdf.set_subject(meta.subject)
    if meta.keywords:
        pdf.set_keywords(meta.keywords)
    pdf.set_lang(meta.language)
    pdf.set_display_mode("fullpage")
    if faces is None:
        register_fonts(pdf)
    else:
        register_fonts(pdf, faces)
    return pdf


def output_bytes(pdf: FPDF) -> bytes:
    """The finished PDF (its /ID is a hash of the content and the fixed creation date)."""
    import logging

    # Missing glyphs are reported by the preview; fpdf2 would also log each one.
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    return bytes(pdf.output())


def fill_rect(pdf: FPDF, box: Box, colour: Colour) -> None:
    """A filled rectangle without outline."""
    pdf.set_fill_color(*colour)
    pdf.rect(box.x, box.y, box.w, box.h, style="F")


def rule(pdf: FPDF, x1: float, x2: float, y: float, width: float, colour: Colour) -> None:
    """A horizontal line of `width` mm."""
    pdf.set_draw_color(*colour)
    pdf.set_line_width(width)
    pdf.line(x1, y, x2, y)
