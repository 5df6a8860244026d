"""Vector QR codes (segno) drawn as filled rectangles, so they print sharp at any size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chanpub.render.pdf.document import Box, Colour, fill_rect

if TYPE_CHECKING:
    from fpdf import FPDF

QUIET = 4  # modules of white border the QR standard asks for


def qr_modules(data: str) -> list[list[bool]]:
    """The dark/light modules of a regular (not micro) QR code, error correction M."""
    import segno

    code = segno.make(data, error="m", micro=False)
    return [[bool(value) for value in row] for row in code.matrix]


def draw_qr(
    pdf: FPDF, data: str, box: Box, dark: Colour = (0, 0, 0), light: Colour = (255, 255, 255)
) -> Box:
    """Draw the QR code of `data` as a square (quiet zone included) centred in `box`;
    returns the square it took."""
    modules = qr_modules(data)
    count = len(modules) + 2 * QUIET
    side = min(box.w, box.h)
    unit = side / count
    square = Box(box.x + (box.w - side) / 2, box.y + (box.h - side) / 2, side, side)
    fill_rect(pdf, square, light)
    pdf.set_fill_color(*dark)
    for row_index, row in enumerate(modules):
        y = square.y + (row_index + QUIET) * unit
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            # one rectangle per horizontal run: fewer seams and a smaller file
            pdf.rect(square.x + (start + QUIET) * unit, y, (column - start) * unit, unit, style="F")
    return square
