"""Corrections (ralat) and retractions (pencabutan) on printed pages: a stamp ("RALAT",
"DICABUT") and the note on a tinted ground, in the release's language (the labels are
chanpub.render.notices'), for the poster, the banner and the share card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chanpub.render.notices import notice_labels, notice_time
from chanpub.render.pdf.blocks import Canvas, stamp
from chanpub.render.pdf.document import Box, fill_rect


@dataclass(frozen=True)
class Notice:
    """A correction or a retraction as printed: the stamp's word and date, the heading
    with the time, and the note (for a retraction: the notice sentence and the reason)."""

    retraction: bool
    stamp: str  # "RALAT" / "DICABUT"
    day: str  # "7 September 2026", the stamp's caption
    heading: str  # "Diralat pada 7 September 2026 09.30 UTC"
    text: str


def print_notice(kind: str, note: str, when: datetime, language: str) -> Notice:
    """The printed notice of a `kind` ("correction" or "retraction") made at `when`."""
    from chanpub.render.dates import day_month_year

    labels = notice_labels(language)
    retraction = kind == "retraction"
    moment = notice_time(when, language)
    day = day_month_year(when.astimezone(UTC).date(), language)
    if retraction:
        text = labels["retracted_notice"]
        if note.strip():
            text += f"\n{labels['reason']}: {note.strip()}"
        heading = labels["retracted_on"].format(when=moment)
        return Notice(True, labels["retraction"].upper(), day, heading, text)
    heading = labels["corrected_on"].format(when=moment)
    return Notice(False, labels["correction"].upper(), day, heading, note.strip())


def amended_at(approved_at: str | None, sent_at: datetime) -> datetime:
    """When the amendment was made, as printed: the approval of the new version, so that
    every run prints the same bytes for it (a re-run after a crash included); `sent_at`
    (the time of sending) when the release carries no approval time."""
    if approved_at:
        try:
            moment = datetime.fromisoformat(approved_at.replace("Z", "+00:00"))
        except ValueError:
            return sent_at
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return sent_at


def note_box(
    canvas: Canvas, box: Box, heading: str, text: str, size: float = 13, grow: float = 1.0
) -> float:
    """The heading and the note on a tinted ground with an accent marker, at the top of
    `box` (type `grow` times larger, for banners); returns the height used."""
    s, theme = canvas.scale, canvas.theme
    pad = 4 * s
    inner = box.inset(pad + 2.5 * s, pad, pad, pad)
    head = canvas.fit(heading, inner, canvas.style(9 * grow, bold=True, colour=theme.accent), 5, 2)
    text_box = Box(inner.x, inner.y + head.height + 1.5 * s, inner.w, inner.h - head.height)
    lines = canvas.fit(text, text_box, canvas.style(size * grow, colour=theme.text, leading=1.3), 6)
    height = min(box.h, head.height + 1.5 * s + lines.height + 2 * pad)
    fill_rect(canvas.pdf, Box(box.x, box.y, box.w, height), theme.tint)
    fill_rect(canvas.pdf, Box(box.x, box.y, 2.5 * s, height), theme.accent)
    canvas.draw(head, inner)
    canvas.draw(lines, text_box)
    return height


def notice_band(
    canvas: Canvas, area: Box, notice: Notice, share: float = 0.22, grow: float = 1.0
) -> Box:
    """The stamp and the note side by side across the top of `area` (at most `share` of
    it); returns the space left below them."""
    s = canvas.scale
    band = Box(area.x, area.y, area.w, min(area.h * share, 44 * s))
    left, right = band.take_left(band.w * 0.36, gap=4 * s)
    stamp(canvas, Box(left.x, left.y, left.w, min(left.h, left.w / 2.4)), notice.stamp, notice.day)
    used = note_box(canvas, right, notice.heading, notice.text, grow=grow)
    return area.take_top(max(used, min(left.h, left.w / 2.4)), gap=6 * s)[1]


def withdrawn(canvas: Canvas, area: Box, title: str, notice: Notice) -> None:
    """A retraction notice filling `area`: the stamp, which release it was, and why."""
    s, theme = canvas.scale, canvas.theme
    stamp_box, rest = area.take_top(min(area.h * 0.32, 62 * s), gap=8 * s)
    stamp(canvas, stamp_box, notice.stamp, notice.day)
    used = canvas.text(
        title,
        Box(rest.x, rest.y, rest.w, rest.h * 0.35),
        canvas.style(26, bold=True, condensed=True, colour=theme.muted, leading=1.12),
        11,
        max_lines=5,
    )
    rest = rest.take_top(used, gap=6 * s)[1]
    note_box(canvas, rest, notice.heading, notice.text, size=17)
