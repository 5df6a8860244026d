"""Text in boxes: wrap to a width, shrink a title until it fits, fill a box with as much of
a body as fits and end it cleanly, and draw the lines as real (searchable) PDF text.

Every line drawn here lies inside its box, including the ascent and descent that PDF
readers use for a text's bounding box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from chanpub.render.pdf.document import PT, Box, Colour
from chanpub.render.pdf.fonts import ASCENT, CONDENSED, DESCENT, FAMILY

if TYPE_CHECKING:
    from fpdf import FPDF

GAP = ""  # a line that stands for the space between two paragraphs
GAP_SHARE = 0.5  # a paragraph gap is half a line
ELLIPSIS = "…"
_URL_BREAKS = "/.-?&=_"
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?=\s|$)")


@dataclass(frozen=True)
class Style:
    """Font, size (pt), colour, line pitch and alignment of a run of lines."""

    size: float
    bold: bool = False
    italic: bool = False
    condensed: bool = False
    colour: Colour = (0, 0, 0)
    leading: float = 1.25
    align: str = "L"  # L, C, R or J (justified; a paragraph's last line stays left)

    @property
    def family(self) -> str:
        """The registered font family."""
        return CONDENSED if self.condensed and self.bold else FAMILY

    @property
    def face(self) -> str:
        """fpdf2's style letters."""
        if self.condensed and self.bold:
            return "B"
        return ("B" if self.bold else "") + ("I" if self.italic and not self.bold else "")

    @property
    def pitch(self) -> float:
        """Distance between two baselines, in mm (never less than the font's box)."""
        return self.size * max(self.leading, ASCENT + DESCENT + 0.01) * PT

    def sized(self, size: float) -> Style:
        """The same style at another size."""
        return replace(self, size=size)


@dataclass(frozen=True)
class Lines:
    """Wrapped lines in one style; GAP entries are paragraph gaps."""

    lines: tuple[str, ...]
    style: Style
    truncated: bool = False
    paragraph_ends: frozenset[int] = field(default_factory=frozenset)

    @property
    def height(self) -> float:
        """The height the lines take, in mm."""
        return _height(self.lines, self.style)

    @property
    def text(self) -> str:
        """The lines joined, paragraphs separated by blank lines."""
        return "\n".join(self.lines)


def _height(lines: tuple[str, ...] | list[str], style: Style) -> float:
    return sum(style.pitch * (GAP_SHARE if line == GAP else 1.0) for line in lines)


class Measure:
    """Text widths in mm for one document, cached per font (one per render)."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self._cache: dict[tuple[str, str, str], float] = {}

    def width(self, text: str, style: Style) -> float:
        """The width of `text` in mm at the style's size."""
        key = (style.family, style.face, text)
        unit = self._cache.get(key)
        if unit is None:
            pdf = self.pdf
            previous = (pdf.font_family, pdf.font_style, pdf.font_size_pt)
            pdf.set_font(style.family, style.face, 100)
            unit = pdf.get_string_width(text) / 100
            self._cache[key] = unit
            if previous[0]:
                pdf.set_font(*previous)
        return unit * style.size


def wrap(measure: Measure, text: str, style: Style, width: float) -> Lines:
    """Break text into lines no wider than `width`; blank lines separate paragraphs."""
    lines: list[str] = []
    ends: set[int] = set()
    space = measure.width(" ", style)
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    for number, paragraph in enumerate(paragraphs):
        if number:
            lines.append(GAP)
        for hard_line in paragraph.split("\n"):
            current = ""
            current_width = 0.0
            for word in hard_line.split():
                for piece in _pieces(measure, word, style, width):
                    piece_width = measure.width(piece, style)
                    if current and current_width + space + piece_width <= width:
                        current += " " + piece
                        current_width += space + piece_width
                    else:
                        if current:
                            lines.append(current)
                        current, current_width = piece, piece_width
            lines.append(current)
            ends.add(len(lines) - 1)
    return Lines(tuple(lines), style, paragraph_ends=frozenset(ends))


def _pieces(measure: Measure, word: str, style: Style, width: float) -> list[str]:
    """A word wider than the line, cut into pieces that fit (long URLs, long names);
    a URL is cut after '/', '.', '-', '?' or '&' where it can be."""
    pieces: list[str] = []
    rest = word
    while rest and measure.width(rest, style) > width:
        count = 1
        while count < len(rest) and measure.width(rest[: count + 1], style) <= width:
            count += 1
        breaks = [i + 1 for i in range(count) if rest[i] in _URL_BREAKS]
        if breaks and breaks[-1] >= count // 3:
            count = breaks[-1]
        pieces.append(rest[:count])
        rest = rest[count:]
    return [*pieces, rest] if rest else pieces


def fit(
    measure: Measure,
    text: str,
    box: Box,
    style: Style,
    min_size: float,
    max_lines: int | None = None,
) -> Lines:
    """The largest size from style.size down to min_size at which text fits the box.

    Below min_size the text is cut at a word and ends with an ellipsis (truncated=True).
    """

    def fits(lines: Lines) -> bool:
        count = sum(1 for line in lines.lines if line != GAP)
        return lines.height <= box.h + 1e-6 and (max_lines is None or count <= max_lines)

    best = wrap(measure, text, style, box.w)
    if fits(best):
        return best
    low, high = min_size, style.size
    found: Lines | None = None
    for _step in range(12):  # bisect to ~0.05 pt on typical ranges
        middle = (low + high) / 2
        attempt = wrap(measure, text, style.sized(middle), box.w)
        if fits(attempt):
            found, low = attempt, middle
        else:
            high = middle
    if found is not None:
        return found
    smallest = wrap(measure, text, style.sized(min_size), box.w)
    if fits(smallest):
        return smallest
    room = max_lines if max_lines is not None else len(smallest.lines)
    return _cut(measure, smallest, box, room, tail=None)


def fill(measure: Measure, text: str, box: Box, style: Style, tail: str | None = None) -> Lines:
    """As much of `text` as fits the box at the style's size, ending at a sentence where
    possible, followed by `tail` (e.g. a pointer to the full article) when it was cut."""
    lines = wrap(measure, text, style, box.w)
    if lines.height <= box.h + 1e-6:
        return lines
    return _cut(measure, lines, box, len(lines.lines), tail)


def _cut(measure: Measure, lines: Lines, box: Box, max_lines: int, tail: str | None) -> Lines:
    style = lines.style
    tail_lines = wrap(measure, tail, style, box.w).lines if tail else ()
    room = box.h - (_height(tail_lines, style) + style.pitch * GAP_SHARE if tail_lines else 0.0)
    kept: list[str] = []
    for line in lines.lines[:max_lines]:
        if _height([*kept, line], style) > room + 1e-6:
            break
        kept.append(line)
    while kept and kept[-1] == GAP:
        kept.pop()
    if not kept:
        return Lines(
            tuple(tail_lines) if _height(tail_lines, style) <= box.h else (), style, truncated=True
        )
    ends = {i for i in lines.paragraph_ends if i < len(kept)}
    last = len(kept) - 1
    if last not in ends:
        kept, ends = _end_cleanly(measure, kept, ends, style, box.w)
    result = kept + ([GAP, *tail_lines] if tail_lines else [])
    ends.update(range(len(kept), len(result)))
    return Lines(tuple(result), style, truncated=True, paragraph_ends=frozenset(ends))


def _end_cleanly(
    measure: Measure, kept: list[str], ends: set[int], style: Style, width: float
) -> tuple[list[str], set[int]]:
    """Cut at the last sentence end of the unfinished paragraph; failing that, drop the
    unfinished paragraph when a whole one precedes it; else end with an ellipsis."""
    start = len(kept) - 1
    while start > 0 and kept[start - 1] != GAP and (start - 1) not in ends:
        start -= 1
    for index in range(len(kept) - 1, start - 1, -1):
        matches = list(_SENTENCE_END.finditer(kept[index]))
        if matches:
            kept = [*kept[:index], kept[index][: matches[-1].end()]]
            return kept, {*ends, index}
    if start > 0:
        kept = kept[:start]
        while kept and kept[-1] == GAP:
            kept.pop()
        return kept, ends
    line = kept[-1]
    words = line.split(" ")
    while len(words) > 1 and measure.width(" ".join(words) + ELLIPSIS, style) > width:
        words.pop()
    text = " ".join(words).rstrip(",;:–—-") + ELLIPSIS
    while len(text) > 1 and measure.width(text, style) > width:
        text = text[:-2] + ELLIPSIS
    kept[-1] = text
    return kept, {*ends, len(kept) - 1}


def draw(pdf: FPDF, measure: Measure, lines: Lines, box: Box, valign: str = "top") -> float:
    """Draw the lines inside the box; returns the height used (mm)."""
    style = lines.style
    pdf.set_font(style.family, style.face, style.size)
    pdf.set_text_color(*style.colour)
    height = lines.height
    y = box.y
    if valign == "middle":
        y += max(0.0, (box.h - height) / 2)
    elif valign == "bottom":
        y += max(0.0, box.h - height)
    size_mm = style.size * PT
    inner = (style.pitch - (ASCENT + DESCENT) * size_mm) / 2
    for index, line in enumerate(lines.lines):
        if line == GAP:
            y += style.pitch * GAP_SHARE
            continue
        baseline = y + inner + ASCENT * size_mm
        _draw_line(
            pdf,
            measure,
            line,
            style,
            box,
            baseline,
            justify=style.align == "J" and index not in lines.paragraph_ends,
        )
        y += style.pitch
    return height


def _draw_line(
    pdf: FPDF, measure: Measure, line: str, style: Style, box: Box, baseline: float, justify: bool
) -> None:
    words = line.split(" ")
    if justify and len(words) > 1:
        widths = [measure.width(word, style) for word in words]
        spacing = (box.w - sum(widths)) / (len(words) - 1)
        if spacing <= measure.width(" ", style) * 8:
            x = box.x
            for word, word_width in zip(words, widths, strict=True):
                pdf.text(x, baseline, word)
                x += word_width + spacing
            return
    width = measure.width(line, style)
    x = box.x
    if style.align == "C":
        x += (box.w - width) / 2
    elif style.align == "R":
        x += box.w - width
    pdf.text(x, baseline, line)
