"""Building blocks of printed pages: a canvas with its scale and colours, the organisation
header band, the footer with date, source and QR code, the verdict stamp and the claim box."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chanpub.render.pdf.document import Box, Colour, fill_rect, rule
from chanpub.render.pdf.images import Picture, place_image
from chanpub.render.pdf.qr import draw_qr
from chanpub.render.pdf.text import Lines, Measure, Style, draw, fit

if TYPE_CHECKING:
    from fpdf import FPDF


@dataclass(frozen=True)
class Theme:
    """The colours of a printed page."""

    primary: Colour = (11, 61, 110)  # navy: header band, headings
    accent: Colour = (200, 16, 46)  # red: stamp, rules, the claim's marker
    text: Colour = (26, 26, 26)
    muted: Colour = (90, 90, 90)
    paper: Colour = (255, 255, 255)
    tint: Colour = (241, 242, 244)  # background of the claim box


@dataclass
class Canvas:
    """One document being drawn: fpdf2 object, text measure, scale (1.0 = A4) and colours."""

    pdf: FPDF
    measure: Measure
    scale: float
    theme: Theme

    def style(self, size: float, **values: object) -> Style:
        """A style at `size` pt times the page scale, in the theme's text colour."""
        values.setdefault("colour", self.theme.text)
        return Style(size=size * self.scale, **values)  # type: ignore[arg-type]  # Style fields

    def fit(
        self, text: str, box: Box, style: Style, min_size: float, max_lines: int | None = None
    ) -> Lines:
        """Fit text into the box, never below `min_size` pt times the scale."""
        return fit(self.measure, text, box, style, min_size * self.scale, max_lines)

    def draw(self, lines: Lines, box: Box, valign: str = "top") -> float:
        """Draw wrapped lines in the box; returns the height used."""
        return draw(self.pdf, self.measure, lines, box, valign)

    def text(
        self,
        text: str,
        box: Box,
        style: Style,
        min_size: float,
        max_lines: int | None = None,
        valign: str = "top",
    ) -> float:
        """Fit and draw in one step; returns the height used."""
        return self.draw(self.fit(text, box, style, min_size, max_lines), box, valign)


@dataclass(frozen=True)
class Part:
    """One text of a vertical stack: its style, smallest size (pt, unscaled), line limit
    and the share of the stack's height it may take."""

    text: str
    style: Style
    min_size: float
    max_lines: int | None = None
    share: float = 1.0


def stack(canvas: Canvas, box: Box, parts: list[Part], gap: float, valign: str = "middle") -> float:
    """Fit the parts one under the other and draw them as a group aligned in the box;
    returns the height used."""
    fitted: list[Lines] = []
    remaining = box.h
    for part in parts:
        if not part.text.strip():
            continue
        limit = max(0.0, min(remaining, box.h * part.share))
        lines = canvas.fit(
            part.text, Box(box.x, box.y, box.w, limit), part.style, part.min_size, part.max_lines
        )
        fitted.append(lines)
        remaining -= lines.height + gap
    total = sum(lines.height for lines in fitted) + gap * max(0, len(fitted) - 1)
    y = box.y + {"middle": max(0.0, (box.h - total) / 2), "bottom": max(0.0, box.h - total)}.get(
        valign, 0.0
    )
    for lines in fitted:
        canvas.draw(lines, Box(box.x, y, box.w, lines.height))
        y += lines.height + gap
    return total


def header_band(
    canvas: Canvas,
    page: Box,
    margins: Box,
    organisation: str,
    kicker: str,
    logo: Picture | None,
    height: float,
) -> Box:
    """A band in the primary colour across the top: logo, organisation, kind of notice.

    Returns the area of the page below the band's accent stripe.
    """
    s, theme = canvas.scale, canvas.theme
    band = Box(page.x, page.y, page.w, margins.y - page.y + height)
    fill_rect(canvas.pdf, band, theme.primary)
    fill_rect(canvas.pdf, Box(page.x, band.bottom, page.w, 2.2 * s), theme.accent)
    inner = Box(margins.x, margins.y, margins.w, height - 3 * s)
    if logo is not None:
        logo_box, inner = inner.take_left(inner.h, gap=5 * s)
        place_image(canvas.pdf, logo, logo_box, alt_text=organisation, align="L")
    canvas.text(
        organisation.upper(),
        Box(inner.x, inner.y, inner.w, inner.h * 0.68),
        canvas.style(19, bold=True, colour=theme.paper, leading=1.18),
        8,
        max_lines=2,
        valign="middle",
    )
    canvas.text(
        kicker,
        Box(inner.x, inner.y + inner.h * 0.7, inner.w, inner.h * 0.3),
        canvas.style(10.5, colour=(214, 226, 240), leading=1.2),
        6,
        max_lines=1,
    )
    top = band.bottom + 2.2 * s
    return Box(margins.x, top, margins.w, margins.bottom - top)


def footer(
    canvas: Canvas,
    area: Box,
    url: str,
    date_text: str,
    source_line: str,
    scan_label: str,
    qr_side: float,
) -> Box:
    """Date, source and a QR code of the canonical URL with the URL beneath it.

    Takes the bottom of `area`; returns what is left above it.
    """
    s, theme = canvas.scale, canvas.theme
    url_height = 9 * s
    label_height = 5 * s
    height = qr_side + url_height + label_height
    rest, box = area.take_bottom(height, gap=6 * s)
    rule(canvas.pdf, box.x, box.right, box.y - 3 * s, 0.6 * s, theme.primary)
    info, qr_column = box.take_left(box.w - max(qr_side, 62 * s), gap=4 * s)
    qr_box = Box(qr_column.right - qr_side, box.y + label_height, qr_side, qr_side)
    canvas.text(
        scan_label,
        Box(qr_column.x, box.y, qr_column.w, label_height),
        canvas.style(8, bold=True, colour=theme.primary, align="R"),
        5,
        max_lines=1,
    )
    draw_qr(canvas.pdf, url, qr_box)
    canvas.text(
        url,
        Box(qr_column.x, qr_box.bottom + 0.8 * s, qr_column.w, url_height - 0.8 * s),
        canvas.style(8, colour=theme.text, align="R", leading=1.2),
        4.5,
        max_lines=3,
    )
    used = canvas.text(
        date_text,
        Box(info.x, info.y + label_height, info.w, 8 * s),
        canvas.style(12, bold=True, colour=theme.primary),
        7,
        max_lines=1,
    )
    canvas.text(
        source_line,
        Box(
            info.x,
            info.y + label_height + used + 2 * s,
            info.w,
            info.h - label_height - used - 2 * s,
        ),
        canvas.style(10, colour=theme.muted, leading=1.35),
        6,
        max_lines=5,
    )
    return rest


def stamp(canvas: Canvas, box: Box, verdict: str, caption: str) -> float:
    """The verdict as a rubber stamp: bold letters in a double frame, slightly turned.

    Drawn centred in `box`; returns the height it took.
    """
    s, theme, pdf = canvas.scale, canvas.theme, canvas.pdf
    height = box.h
    width = min(box.w * 0.78, max(height * 3.2, 0))
    frame = Box(box.x + (box.w - width) / 2, box.y + 2 * s, width, height - 4 * s)
    with pdf.rotation(angle=4, x=frame.x + frame.w / 2, y=frame.y + frame.h / 2):
        pdf.set_draw_color(*theme.accent)
        pdf.set_line_width(1.6 * s)
        pdf.rect(frame.x, frame.y, frame.w, frame.h)
        pdf.set_line_width(0.5 * s)
        inner = frame.inset(2.4 * s)
        pdf.rect(inner.x, inner.y, inner.w, inner.h)
        text_box = inner.inset(3 * s, 1.5 * s)
        verdict_box, caption_box = text_box.take_bottom(text_box.h * 0.22)
        canvas.text(
            verdict.upper(),
            verdict_box,
            canvas.style(
                60, bold=True, condensed=True, colour=theme.accent, align="C", leading=1.17
            ),
            8,
            max_lines=1,
            valign="middle",
        )
        canvas.text(
            caption.upper(),
            caption_box,
            canvas.style(9, bold=True, colour=theme.accent, align="C"),
            4,
            max_lines=1,
            valign="middle",
        )
    return height


def claim_box(canvas: Canvas, box: Box, label: str, claim: str, max_size: float = 15) -> float:
    """The false claim, quoted, on a tinted ground with a red marker: shown as a claim,
    never as a headline. Returns the height used."""
    s, theme = canvas.scale, canvas.theme
    pad = 4 * s
    inner = box.inset(pad + 2.5 * s, pad, pad, pad)
    label_style = canvas.style(9, bold=True, colour=theme.accent)
    label_lines = canvas.fit(label, inner, label_style, 6, max_lines=2)
    text_box = Box(
        inner.x,
        inner.y + label_lines.height + 1.5 * s,
        inner.w,
        inner.h - label_lines.height - 1.5 * s,
    )
    claim_lines = canvas.fit(
        f"“{claim}”",
        text_box,
        canvas.style(max_size, italic=True, colour=theme.muted, leading=1.3),
        7,
    )
    height = min(box.h, label_lines.height + 1.5 * s + claim_lines.height + 2 * pad)
    fill_rect(canvas.pdf, Box(box.x, box.y, box.w, height), theme.tint)
    fill_rect(canvas.pdf, Box(box.x, box.y, 2.5 * s, height), theme.accent)
    canvas.draw(label_lines, inner)
    canvas.draw(claim_lines, text_box)
    return height
