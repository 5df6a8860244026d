"""Poster, banner and share-card layouts for a release or a hoax clarification.

Portrait pages stack header, title, summary, picture, body and footer; landscape pages
put the picture (or, for a clarification, the facts) in a second column; banners (at least
twice as wide as high) read from left to right: organisation, message, QR code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from chanpub.render.pdf.amended import Notice, notice_band, withdrawn
from chanpub.render.pdf.blocks import (
    Canvas,
    Part,
    Theme,
    claim_box,
    footer,
    header_band,
    stack,
    stamp,
)
from chanpub.render.pdf.document import Box, Metadata, fill_rect, new_document, output_bytes
from chanpub.render.pdf.images import Picture, place_image
from chanpub.render.pdf.qr import draw_qr
from chanpub.render.pdf.text import Measure, fill

CARD_SIDE = 1080 * 25.4 / 72  # 1080 pt: rendered at 72 dpi it is 1080 x 1080 pixels

LABELS = {
    "id": {
        "release": "SIARAN PERS",
        "clarification": "KLARIFIKASI HOAKS",
        "claim": "KLAIM YANG BEREDAR",
        "facts": "FAKTA",
        "more": "Baca selengkapnya: {url}",
        "scan": "PINDAI UNTUK SELENGKAPNYA",
        "source": "Sumber: {source}",
        "official": "Sumber resmi: {source}",
        "stamp": "Klarifikasi resmi {organisation}",
    },
    "en": {
        "release": "PRESS RELEASE",
        "clarification": "HOAX CLARIFICATION",
        "claim": "CLAIM IN CIRCULATION",
        "facts": "THE FACTS",
        "more": "Read the full article: {url}",
        "scan": "SCAN FOR THE FULL ARTICLE",
        "source": "Source: {source}",
        "official": "Official source: {source}",
        "stamp": "Official clarification by {organisation}",
    },
}


def labels_for(language: str) -> dict[str, str]:
    """The printed labels in `language` (Indonesian or English; others get English)."""
    return LABELS.get(language.split("-")[0].lower(), LABELS["en"])


@dataclass(frozen=True)
class PosterContent:
    """Everything a poster shows, already in plain text."""

    title: str
    summary: str
    body: str
    url: str
    organisation: str
    date_text: str
    source: str
    language: str = "id"
    logo: Picture | None = None
    image: Picture | None = None
    image_alt: str = ""
    clarification: bool = False
    verdict: str = ""
    claim: str = ""
    created: date | None = None
    notice: Notice | None = None  # a correction or retraction printed over the release


@dataclass(frozen=True)
class Layout:
    """Page size and margins in mm, and colours."""

    width: float
    height: float
    margin: float
    theme: Theme = field(default_factory=Theme)

    @property
    def scale(self) -> float:
        """Type and spacing grow with the page's short side (1.0 for A4)."""
        return min(self.width, self.height) / 210.0


def render_poster(content: PosterContent, layout: Layout) -> bytes:
    """The poster (or banner) as PDF bytes: one page, deterministic."""
    canvas, page, margins = _start(content, layout, layout.width, layout.height)
    if layout.width >= 2 * layout.height:
        _banner(canvas, page, margins, content)
    else:
        _poster(canvas, page, margins, content, columns=layout.width > layout.height * 1.05)
    return output_bytes(canvas.pdf)


def render_card(content: PosterContent, theme: Theme) -> bytes:
    """The square share card (title or verdict, organisation, short URL, QR) as PDF bytes."""
    side = CARD_SIDE
    canvas, page, margins = _start(content, Layout(side, side, 22.0, theme), side, side)
    s, labels = canvas.scale, labels_for(content.language)
    kicker = labels["clarification" if content.clarification else "release"]
    area = header_band(canvas, page, margins, content.organisation, kicker, content.logo, 30 * s)
    area = area.inset(0, 8 * s, 0, 0)
    qr_side = 78 * s
    message, bottom = area.take_bottom(qr_side, gap=8 * s)
    if content.notice is not None:
        height = min(message.h * 0.4, 34 * s)
        used = stamp(canvas, Box(message.x, message.y, message.w, height), *_stamped(content))
        message = message.take_top(used, gap=4 * s)[1]
    elif content.clarification:
        used = stamp(
            canvas,
            Box(message.x, message.y, message.w, min(message.h * 0.4, 34 * s)),
            content.verdict,
            labels["stamp"].format(organisation=content.organisation),
        )
        message = message.take_top(used, gap=4 * s)[1]
    canvas.text(
        content.title,
        message,
        canvas.style(30, bold=True, condensed=True, colour=canvas.theme.primary, leading=1.15),
        12,
        valign="middle",
    )
    text_box, qr_box = bottom.take_left(bottom.w - qr_side, gap=6 * s)
    draw_qr(canvas.pdf, content.url, qr_box)
    short = content.url.split("://", 1)[-1]
    label_box = Box(text_box.x, text_box.y + text_box.h * 0.35, text_box.w, 10 * s)
    canvas.text(
        labels["scan"],
        label_box,
        canvas.style(10, bold=True, colour=canvas.theme.accent),
        6,
        max_lines=1,
    )
    canvas.text(
        short,
        Box(
            text_box.x,
            text_box.y + text_box.h * 0.35 + 11 * s,
            text_box.w,
            text_box.h * 0.65 - 11 * s,
        ),
        canvas.style(15, bold=True, colour=canvas.theme.text, leading=1.25),
        7,
    )
    return output_bytes(canvas.pdf)


def _start(
    content: PosterContent, layout: Layout, width: float, height: float
) -> tuple[Canvas, Box, Box]:
    pdf = new_document(
        width,
        height,
        Metadata(
            title=_prefix(content) + content.title,
            author=content.organisation,
            subject=content.summary,
            language=content.language,
            created=content.created,
        ),
    )
    pdf.add_page()
    page = Box(0.0, 0.0, width, height)
    scale = min(width, height) / 210.0
    canvas = Canvas(pdf, Measure(pdf), scale, layout.theme)
    fill_rect(pdf, page, layout.theme.paper)
    return canvas, page, page.inset(layout.margin)


def _prefix(content: PosterContent) -> str:
    """What the document's title starts with: the notice's word, else the verdict."""
    if content.notice is not None:
        return f"{content.notice.stamp}: "
    return f"{content.verdict}: " if content.clarification else ""


def _stamped(content: PosterContent) -> tuple[str, str]:
    """The notice's stamp word and its caption (the date)."""
    assert content.notice is not None  # only called for an amended poster
    return content.notice.stamp, content.notice.day


def _footer(canvas: Canvas, area: Box, content: PosterContent, qr_side: float) -> Box:
    labels = labels_for(content.language)
    source = labels["official" if content.clarification else "source"].format(source=content.source)
    return footer(
        canvas,
        area,
        content.url,
        content.date_text,
        f"{source}\n{content.organisation}" if content.source != content.organisation else source,
        labels["scan"],
        qr_side,
    )


def _poster(canvas: Canvas, page: Box, margins: Box, content: PosterContent, columns: bool) -> None:
    s = canvas.scale
    labels = labels_for(content.language)
    kicker = labels["clarification" if content.clarification else "release"]
    area = header_band(canvas, page, margins, content.organisation, kicker, content.logo, 26 * s)
    area = _footer(canvas, area.inset(0, 7 * s, 0, 0), content, 36 * s)
    if content.notice is not None and content.notice.retraction:
        withdrawn(canvas, area, content.title, content.notice)
        return
    if content.notice is not None:
        area = notice_band(canvas, area, content.notice)
    if content.clarification:
        if columns:
            left, right = area.take_left(area.w * 0.44, gap=8 * s)
            _claim_column(canvas, left, content)
            _facts(canvas, right, content)
        else:
            _facts(canvas, _claim_column(canvas, area, content), content)
        return
    if columns and content.image is not None:
        left, right = area.take_left(area.w * 0.56, gap=8 * s)
        _article(canvas, left, content, with_image=False)
        place_image(
            canvas.pdf,
            content.image,
            right.take_top(right.h * 0.8)[0],
            content.image_alt,
            align="C",
        )
    else:
        _article(canvas, area, content, with_image=content.image is not None)


def _claim_column(canvas: Canvas, area: Box, content: PosterContent) -> Box:
    """Stamp and claim at the top of `area`; returns the space below them."""
    s = canvas.scale
    labels = labels_for(content.language)
    caption = labels["stamp"].format(organisation=content.organisation)
    used = stamp(
        canvas, Box(area.x, area.y, area.w, min(area.h * 0.3, 32 * s)), content.verdict, caption
    )
    rest = area.take_top(used, gap=5 * s)[1]
    claim_label = f"✗ {labels['claim']} — {content.verdict.upper()}"
    used = claim_box(canvas, Box(rest.x, rest.y, rest.w, rest.h * 0.42), claim_label, content.claim)
    return rest.take_top(used, gap=7 * s)[1]


def _facts(canvas: Canvas, area: Box, content: PosterContent) -> None:
    s, theme = canvas.scale, canvas.theme
    used = canvas.text(
        f"✓ {labels_for(content.language)['facts']}",
        area,
        canvas.style(12, bold=True, colour=(22, 122, 62)),
        7,
        max_lines=1,
    )
    _article(canvas, area.take_top(used, gap=2 * s)[1], content, with_image=False, title_size=26)
    del theme


def _article(
    canvas: Canvas, area: Box, content: PosterContent, with_image: bool, title_size: float = 34
) -> None:
    """Title, accent rule, summary, picture and as much body as fits, top to bottom."""
    s, theme = canvas.scale, canvas.theme
    used = canvas.text(
        content.title,
        Box(area.x, area.y, area.w, area.h * 0.3),
        canvas.style(title_size, bold=True, condensed=True, colour=theme.primary, leading=1.12),
        13,
        max_lines=6,
    )
    rest = area.take_top(used, gap=3 * s)[1]
    fill_rect(canvas.pdf, Box(rest.x, rest.y, 28 * s, 1.3 * s), theme.accent)
    rest = rest.take_top(1.3 * s, gap=4 * s)[1]
    used = canvas.text(
        content.summary,
        Box(rest.x, rest.y, rest.w, rest.h * 0.28),
        canvas.style(14, colour=theme.text, leading=1.32),
        9,
        max_lines=8,
    )
    rest = rest.take_top(used, gap=5 * s)[1]
    if with_image and content.image is not None:
        height = min(rest.h * 0.5, rest.w / content.image.aspect)
        image_box, rest = rest.take_top(height, gap=5 * s)
        place_image(canvas.pdf, content.image, image_box, content.image_alt, align="C")
    body = _body_without_summary(content.body, content.summary)
    if body and rest.h > 8 * s:
        more = labels_for(content.language)["more"].format(url=content.url)
        lines = fill(
            canvas.measure,
            body,
            rest,
            canvas.style(10.5, colour=theme.text, leading=1.42, align="J"),
            tail=more,
        )
        canvas.draw(lines, rest)


def _body_without_summary(body: str, summary: str) -> str:
    """The body, minus its first paragraph when that is the summary already shown."""
    paragraphs = [p.strip() for p in body.strip().split("\n\n") if p.strip()]
    if paragraphs and " ".join(paragraphs[0].split()) == " ".join(summary.split()):
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs)


def _banner(canvas: Canvas, page: Box, margins: Box, content: PosterContent) -> None:
    """Organisation panel, message, QR code: readable from across the street."""
    theme, labels = canvas.theme, labels_for(content.language)
    u = margins.h / 100  # one hundredth of the printable height, in mm
    big = 1.9  # type on a banner is larger than the page scale alone would make it
    panel_w = margins.h * 0.9 + (margins.x - page.x)
    fill_rect(canvas.pdf, Box(page.x, page.y, panel_w, page.h), theme.primary)
    fill_rect(canvas.pdf, Box(page.x + panel_w, page.y, 2.5 * u, page.h), theme.accent)
    panel = Box(margins.x, margins.y, panel_w - (margins.x - page.x) - 5 * u, margins.h)
    if content.logo is not None:
        logo_box, panel = panel.take_top(panel.h * 0.42, gap=6 * u)
        place_image(canvas.pdf, content.logo, logo_box, content.organisation, align="C")
    kicker = labels["clarification" if content.clarification else "release"]
    stack(
        canvas,
        panel,
        [
            Part(
                content.organisation.upper(),
                canvas.style(16 * big, bold=True, colour=theme.paper, align="C", leading=1.2),
                4,
                share=0.75,
            ),
            Part(kicker, canvas.style(9 * big, colour=(214, 226, 240), align="C"), 3, 1),
        ],
        gap=3 * u,
        valign="top" if content.logo is not None else "middle",
    )
    qr_side = margins.h * 0.74
    qr_column = Box(margins.right - qr_side, margins.y, qr_side, margins.h)
    draw_qr(canvas.pdf, content.url, Box(qr_column.x, qr_column.y, qr_side, qr_side))
    canvas.text(
        content.url,
        Box(qr_column.x, qr_column.y + qr_side + 2 * u, qr_side, margins.h - qr_side - 2 * u),
        canvas.style(8 * big, align="C", leading=1.2),
        2,
        max_lines=3,
    )
    left = page.x + panel_w + 10 * u
    middle = Box(left, margins.y, qr_column.x - 10 * u - left, margins.h)
    if content.notice is not None:
        middle = notice_band(canvas, middle, content.notice, share=0.42, grow=big)
    elif content.clarification:
        used = stamp(
            canvas,
            Box(middle.x, middle.y, middle.w * 0.62, middle.h * 0.36),
            content.verdict,
            labels["stamp"].format(organisation=content.organisation),
        )
        rest = middle.take_top(used, gap=3 * u)[1]
        used = claim_box(
            canvas,
            Box(rest.x, rest.y, rest.w, rest.h * 0.36),
            f"✗ {labels['claim']}",
            content.claim,
            max_size=13 * big,
        )
        middle = rest.take_top(used, gap=4 * u)[1]
    stack(
        canvas,
        middle,
        [
            Part(
                content.title,
                canvas.style(
                    44 * big, bold=True, condensed=True, colour=theme.primary, leading=1.12
                ),
                6,
                share=0.68,
            ),
            Part(
                "" if content.notice and content.notice.retraction else content.summary,
                canvas.style(15 * big, colour=theme.text, leading=1.3),
                4,
                max_lines=3,
                share=0.3,
            ),
            Part(content.date_text, canvas.style(11 * big, bold=True, colour=theme.accent), 3, 1),
        ],
        gap=3 * u,
        valign="top" if content.clarification or content.notice else "middle",
    )
