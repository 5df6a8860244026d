"""Official letters (surat dinas) in the layout Indonesian government offices use:
letterhead (kop surat) with a double rule, number, nature, attachments and subject, place
and date, the recipient block, the body, the closing, the signature block and copies to
(tembusan). A long body continues on further pages; the signature is never split off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from chanpub.render.pdf.blocks import Canvas, Theme
from chanpub.render.pdf.document import Box, Metadata, new_document, output_bytes, rule
from chanpub.render.pdf.fonts import FAMILY
from chanpub.render.pdf.images import Picture, place_image
from chanpub.render.pdf.text import GAP, Lines, Measure, Style, wrap

FACES = ((FAMILY, ""), (FAMILY, "B"), (FAMILY, "I"))
MARGINS = (25.0, 12.0, 20.0, 18.0)  # left (binding), top, right, bottom, in mm
BLACK = (0, 0, 0)

LABELS = {
    "id": {
        "number": "Nomor",
        "nature": "Sifat",
        "attachments": "Lampiran",
        "subject": "Perihal",
        "to": "Kepada",
        "dear": "Yth.",
        "at": "di",
        "here": "Tempat",
        "copies": "Tembusan:",
        "id": "NIP.",
        "nature_default": "Biasa",
        "closing": "Demikian disampaikan. Atas perhatian dan kerja sama Bapak/Ibu, kami "
        "ucapkan terima kasih.",
        "page": "- {page} -",
        "signed": "Ditandatangani secara elektronik",
    },
    "en": {
        "number": "Number",
        "nature": "Nature",
        "attachments": "Attachments",
        "subject": "Subject",
        "to": "To",
        "dear": "",
        "at": "",
        "here": "",
        "copies": "Copies to:",
        "id": "ID",
        "nature_default": "Ordinary",
        "closing": "Thank you for your attention and cooperation.",
        "page": "- {page} -",
        "signed": "Signed electronically",
    },
}


def letter_labels(language: str) -> dict[str, str]:
    """Printed labels of a letter in `language` (Indonesian or English)."""
    return LABELS.get(language.split("-")[0].lower(), LABELS["en"])


@dataclass(frozen=True)
class Addressee:
    """Who a letter is for."""

    name: str
    position: str = ""
    organisation: str = ""
    address: str = ""


@dataclass(frozen=True)
class Signatory:
    """Who signs: position, name, employee number (NIP), optional signature-and-stamp image."""

    position: str
    name: str
    id: str = ""
    signature: Picture | None = None
    electronic: str | None = None  # signed electronically: what the QR code states


@dataclass(frozen=True)
class LetterContent:
    """One letter, all in plain text."""

    number: str
    subject: str
    place_date: str
    addressee: Addressee
    body: str
    signatory: Signatory
    letterhead: tuple[str, ...]
    logo: Picture | None = None
    nature: str = ""
    attachments: str = "-"
    copies_to: tuple[str, ...] = ()
    closing: str = ""
    language: str = "id"
    organisation: str = ""
    created: date | None = None
    keywords: tuple[str, ...] = field(default_factory=tuple)


def render_letters(letters: list[LetterContent], size: tuple[float, float]) -> bytes:
    """One PDF holding every letter, each starting on a new page (for printing)."""
    return render_letters_marked(letters, size)[0]


def render_letters_marked(
    letters: list[LetterContent], size: tuple[float, float]
) -> tuple[bytes, list[tuple[int, Box]]]:
    """The PDF and, per letter, where its signature block is: (page index from 0, box
    in mm), for the field an electronic signature fills."""
    first = letters[0]
    pdf = new_document(
        size[0],
        size[1],
        Metadata(
            title=first.subject,
            author=first.organisation,
            language=first.language,
            keywords=", ".join(first.keywords),
            created=first.created,
        ),
        faces=FACES,
    )
    canvas = Canvas(pdf, Measure(pdf), 1.0, Theme(text=BLACK))
    spots = []
    for letter in letters:
        drawn = _Letter(canvas, size, letter)
        drawn.draw()
        spots.append(drawn.spot)
    return output_bytes(pdf), spots


class _Letter:
    """Draws one letter from the top of a new page, adding pages as the body needs."""

    def __init__(self, canvas: Canvas, size: tuple[float, float], letter: LetterContent) -> None:
        self.canvas = canvas
        self.letter = letter
        self.labels = letter_labels(letter.language)
        left, top, right, bottom = MARGINS
        self.frame = Box(left, top, size[0] - left - right, size[1] - top - bottom)
        self.y = top
        self.pages = 0
        self.spot = (0, Box(0, 0, 0, 0))  # where the signature block went
        self.body_style = Style(11.5, colour=BLACK, leading=1.5, align="J")
        self.plain = Style(11.5, colour=BLACK, leading=1.35)

    def draw(self) -> None:
        """The whole letter."""
        self._new_page()
        self._letterhead()
        self._heading()
        indent = 27.0
        self._flow(self.letter.body, indent, self.body_style, gap=2.5)
        if self.letter.closing:
            self._flow(self.letter.closing, indent, self.body_style, gap=2.5)
        self._signature()
        if self.letter.copies_to:
            self._copies()

    # --- pages ---------------------------------------------------------------------------

    def _new_page(self) -> None:
        self.canvas.pdf.add_page()
        self.pages += 1
        self.y = self.frame.y
        if self.pages > 1:
            number = self.labels["page"].format(page=self.pages)
            self.y += (
                self.canvas.text(
                    number,
                    Box(self.frame.x, self.y, self.frame.w, 6),
                    Style(10, colour=BLACK, align="C"),
                    8,
                    1,
                )
                + 6
            )

    def _room(self) -> float:
        return self.frame.bottom - self.y

    def _lines(self, text: str, width: float, style: Style) -> Lines:
        return wrap(self.canvas.measure, text, style, width)

    def _put(self, lines: Lines, x: float, width: float) -> None:
        """Draw lines at the current position, continuing on new pages when needed."""
        start = 0
        while start < len(lines.lines):
            end = start
            height = 0.0
            while end < len(lines.lines):
                step = lines.style.pitch * (0.5 if lines.lines[end] == GAP else 1.0)
                if height + step > self._room() + 1e-6:
                    break
                height += step
                end += 1
            if end == start:
                self._new_page()
                continue
            chunk = Lines(
                lines.lines[start:end],
                lines.style,
                paragraph_ends=frozenset(
                    i - start for i in lines.paragraph_ends if start <= i < end
                ),
            )
            self.canvas.draw(chunk, Box(x, self.y, width, chunk.height))
            self.y += chunk.height
            start = end
            if start < len(lines.lines):
                self._new_page()

    def _flow(self, text: str, indent: float, style: Style, gap: float) -> None:
        width = self.frame.w - indent
        self._put(self._lines(text, width, style), self.frame.x + indent, width)
        self.y += gap

    # --- parts ---------------------------------------------------------------------------

    def _letterhead(self) -> None:
        frame, canvas = self.frame, self.canvas
        height = 30.0
        area = Box(frame.x, self.y, frame.w, height)
        text_area = area
        if self.letter.logo is not None:
            logo_box = Box(frame.x, self.y + 1, 24, height - 2)
            place_image(
                canvas.pdf,
                self.letter.logo,
                logo_box,
                self.letter.organisation or self.letter.letterhead[0],
                align="C",
            )
            text_area = Box(frame.x + 26, self.y, frame.w - 26, height)
        lines = [line for line in self.letter.letterhead if line.strip()]
        headings = [
            line for line in lines if line.upper() == line and any(c.isalpha() for c in line)
        ]
        parts: list[tuple[str, Style]] = []
        for index, line in enumerate(lines):
            if line in headings:
                size = 16.0 if line == headings[-1] else 13.0
                parts.append((line, Style(size, bold=True, colour=BLACK, align="C", leading=1.18)))
            else:
                parts.append((line, Style(9.0, colour=BLACK, align="C", leading=1.25)))
            del index
        fitted = [
            canvas.fit(text, Box(text_area.x, 0, text_area.w, 40), style, 6, 2)
            for text, style in parts
        ]
        total = sum(item.height for item in fitted)
        scale = min(1.0, height / total) if total else 1.0
        if scale < 1.0:  # many address lines: shrink them all alike
            fitted = [
                canvas.fit(
                    text,
                    Box(text_area.x, 0, text_area.w, 40),
                    style.sized(style.size * scale),
                    5,
                    2,
                )
                for text, style in parts
            ]
            total = sum(item.height for item in fitted)
        y = self.y + max(0.0, (height - total) / 2)
        for item in fitted:
            canvas.draw(item, Box(text_area.x, y, text_area.w, item.height))
            y += item.height
        self.y += height + 2
        rule(canvas.pdf, frame.x, frame.right, self.y, 1.1, BLACK)
        rule(canvas.pdf, frame.x, frame.right, self.y + 1.4, 0.3, BLACK)
        self.y += 6

    def _heading(self) -> None:
        """Place and date; number, nature, attachments, subject; the recipient block."""
        frame, canvas, labels, letter = self.frame, self.canvas, self.labels, self.letter
        column = frame.x + frame.w * 0.56
        right = Box(column, self.y, frame.right - column, 8)
        self.y += canvas.text(letter.place_date, right, self.plain, 9, 1)
        self.y += 2
        top = self.y
        rows = [
            (labels["number"], letter.number),
            (labels["nature"], letter.nature or labels["nature_default"]),
            (labels["attachments"], letter.attachments or "-"),
            (labels["subject"], letter.subject),
        ]
        label_w, value_x = 22.0, frame.x + 26.0
        value_w = column - 6 - value_x
        y = top
        for label, value in rows:
            canvas.draw(self._lines(label, label_w, self.plain), Box(frame.x, y, label_w, 6))
            canvas.draw(self._lines(":", 3, self.plain), Box(frame.x + 22.5, y, 3, 6))
            value_style = (
                self.plain
                if label != labels["subject"]
                else Style(11.5, bold=True, colour=BLACK, leading=1.35)
            )
            lines = self._lines(value, value_w, value_style)
            y += canvas.draw(lines, Box(value_x, y, value_w, lines.height))
        addressee = letter.addressee
        block = [
            labels["to"],
            " ".join(filter(None, [labels["dear"], addressee.name])),
            addressee.position,
            addressee.organisation,
        ]
        if labels["at"]:
            block += [labels["at"], "      " + (addressee.address or labels["here"])]
        elif addressee.address:
            block.append(addressee.address)
        lines = self._lines("\n".join(line for line in block if line), right.w, self.plain)
        right_y = top + canvas.draw(lines, Box(column, top, right.w, lines.height))
        self.y = max(y, right_y) + 8

    def _signature(self) -> None:
        frame, canvas, signatory = self.frame, self.canvas, self.letter.signatory
        column = frame.x + frame.w * 0.52
        width = frame.right - column
        position = self._lines(
            signatory.position, width, Style(11.5, colour=BLACK, align="C", leading=1.3)
        )
        name_style = Style(11.5, bold=True, colour=BLACK, align="C", leading=1.3)
        name = self._lines(signatory.name, width, name_style)
        ident = self._lines(
            f"{self.labels['id']} {signatory.id}" if signatory.id else "",
            width,
            Style(11.5, colour=BLACK, align="C", leading=1.3),
        )
        space = 24.0
        height = position.height + space + name.height + (ident.height if signatory.id else 0)
        if height > self._room():
            self._new_page()
        self.y += 4
        self.y += canvas.draw(position, Box(column, self.y, width, position.height))
        self.spot = (canvas.pdf.page - 1, Box(column, self.y, width, space))
        if signatory.electronic is not None:
            self._electronic(Box(column, self.y, width, space), signatory.electronic)
        elif signatory.signature is not None:
            place_image(
                canvas.pdf,
                signatory.signature,
                Box(column + width * 0.15, self.y + 1, width * 0.7, space - 2),
                f"{signatory.position} {signatory.name}",
                align="C",
            )
        self.y += space
        self.y += canvas.draw(name, Box(column, self.y, width, name.height))
        underline = min(width, max(canvas.measure.width(line, name_style) for line in name.lines))
        rule(
            canvas.pdf,
            column + (width - underline) / 2,
            column + (width + underline) / 2,
            self.y - 0.9,
            0.25,
            BLACK,
        )
        if signatory.id:
            self.y += canvas.draw(ident, Box(column, self.y, width, ident.height))
        self.y += 8

    def _electronic(self, box: Box, statement: str) -> None:
        """The visible mark of an electronic signature: a QR code stating the certificate
        and 'signed electronically' beside it (the signature field lies over both)."""
        from chanpub.render.pdf.qr import draw_qr

        square = draw_qr(self.canvas.pdf, statement, Box(box.x, box.y + 1, box.h - 2, box.h - 2))
        text_box = Box(square.right + 2, box.y + 1, box.right - square.right - 2, box.h - 2)
        style = Style(9.0, colour=BLACK, leading=1.25)
        self.canvas.draw(self._lines(self.labels["signed"], text_box.w, style), text_box)

    def _copies(self) -> None:
        items = "\n".join(
            f"{index}. {name}" for index, name in enumerate(self.letter.copies_to, start=1)
        )
        style = Style(10, colour=BLACK, leading=1.3)
        lines = self._lines(f"{self.labels['copies']}\n{items}", self.frame.w * 0.6, style)
        if lines.height > self._room():
            self._new_page()
        self._put(lines, self.frame.x, self.frame.w * 0.6)
