"""One RFC 5322 message per recipient: plain text + HTML, headers, attachments.

What every recipient shares (templates, headers, attachments, every body line without a
greeting or an unsubscribe link) is rendered and encoded once per delivery by `Composer`;
each recipient costs the quoted-printable encoding of the few lines that differ, a plain
`To:` line (the email package folds the names and addresses that need quoting, encoding or
folding), a Message-ID and a date, so building stays far below the cost of SMTP itself.
"""

from __future__ import annotations

import binascii
import email
import hashlib
import mimetypes
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, parseaddr
from pathlib import Path

from chanpub.channels.email.recipients import Recipient
from chanpub.release import Release

GREETINGS = {"id": ("Yth. {name},", "Yth. Bapak/Ibu,"), "en": ("Dear {name},", "Hello,")}
LABELS = {
    "id": {"read_more": "Baca selengkapnya", "claim": "Klaim",
           "unsubscribe": "Berhenti berlangganan"},
    "en": {"read_more": "Read the full release", "claim": "Claim", "unsubscribe": "Unsubscribe"},
}  # fmt: skip
TEMPLATES = ("email.txt", "email.html")  # the release itself: plain text and HTML
WIRE = policy.SMTP  # CRLF line ends, non-ASCII headers RFC 2047-encoded
WIRE_UTF8 = policy.SMTP.clone(utf8=True)  # for SMTPUTF8 (addresses outside ASCII)
# Stand-ins put through the templates once, then replaced per recipient. Control characters
# cannot come out of the templates' own text, an escaped value or a quoted URL; \x01 is not
# whitespace to str.strip() (\x1c-\x1f are), so the template can be stripped before filling.
_GREETING = "\x01greeting\x01"
_UNSUBSCRIBE = "\x01unsubscribe\x01"
# A `To:` the email package would write unchanged: a phrase of plain words (no quoting, no
# RFC 2047 look-alikes such as =?..?=), a dot-atom address, one line under the fold limit.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
)
_FOLD_AT = 76  # below policy.SMTP's max_line_length (78), so no fold can be due


@dataclass(frozen=True)
class MessageParts:
    """What every recipient's message shares, rendered once per delivery."""

    subject: str
    sender: str
    reply_to: str | None
    body_text: str
    body_html: str
    url: str
    language: str
    organisation: str
    attachments: tuple[Path, ...] = ()


def subject_for(release: Release, prefix: str | None) -> str:
    """Subject from the title, with the channel's prefix and a clarification's verdict."""
    title = f"[{release.verdict}] {release.title}" if release.is_clarification else release.title
    return f"{prefix} {title}" if prefix else title


def message_id(key: str, recipient: str, sender: str) -> str:
    """A Message-ID stable for this delivery and recipient (a resend is recognisable)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "chanpub.invalid"
    digest = hashlib.sha256(f"{key}:{recipient.lower()}".encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def greeting(recipient: Recipient, language: str) -> str:
    """'Yth. Budi,' when the name is known, a polite general greeting otherwise."""
    named, general = GREETINGS.get(language, GREETINGS["en"])
    return named.format(name=recipient.name) if recipient.name else general


def _values(
    release: Release, parts: MessageParts, greeting_text: str, unsubscribe: str | None
) -> dict[str, object]:
    labels = LABELS.get(parts.language, LABELS["en"])
    return dict(
        greeting=greeting_text,
        title=release.title,
        verdict=release.verdict if release.is_clarification else None,
        claim=release.claim if release.is_clarification else None,
        claim_label=labels["claim"],
        read_more=labels["read_more"],
        url=parts.url,
        organisation=parts.organisation,
        source=release.source,
        language=parts.language,
        unsubscribe=unsubscribe,
        unsubscribe_label=labels["unsubscribe"],
    )


def render_bodies(
    release: Release, parts: MessageParts, recipient: Recipient, unsubscribe: str | None
) -> tuple[str, str]:
    """The plain-text and HTML bodies for one recipient."""
    from chanpub.render.templating import render_page, render_text

    values = _values(release, parts, greeting(recipient, parts.language), unsubscribe)
    text = render_text("email.txt", body_text=parts.body_text, **values)
    html = render_page("email.html", body_html=parts.body_html, **values)
    return text.strip() + "\n", html


def _fold(name: str, value: object, utf8: bool = False) -> bytes:
    """One header line, folded and encoded as the wire wants it."""
    wire = WIRE_UTF8 if utf8 else WIRE
    line = str(wire.header_factory(name, value).fold(policy=wire))
    return line.encode("utf-8" if utf8 else "ascii")


def to_header(name: str, address: str, utf8: bool = False) -> bytes:
    """The folded `To:` line; a plain name and address are written directly, which is
    what the email package would write for them (a test holds the two together)."""
    line = f"To: {name} <{address}>\r\n" if name else f"To: {address}\r\n"
    if (
        len(line) <= _FOLD_AT
        and (not name or _PLAIN_NAME.fullmatch(name))
        and _PLAIN_ADDRESS.fullmatch(address)
    ):
        return line.encode("ascii")
    local, _at, domain = address.rpartition("@")
    return _fold("To", Address(display_name=name, username=local, domain=domain), utf8)


def _qp(text: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends (7-bit safe, lines under 77)."""
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def _normalised(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _text_head(subtype: str) -> bytes:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode()


def text_part(subtype: str, text: str) -> bytes:
    """A text/* part in UTF-8, quoted-printable (7-bit safe, lines under 77)."""
    body = _qp(_normalised(text))
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return _text_head(subtype) + body


class TextTemplate:
    """A text part whose lines without stand-ins are encoded once: quoted-printable
    encodes each line on its own, so a recipient's part is those bytes plus the encoding
    of the lines holding the stand-ins (the same bytes `text_part` gives for the whole)."""

    def __init__(self, subtype: str, template: str, stand_ins: Sequence[str]) -> None:
        self.subtype = subtype
        self.template = _normalised(template)
        self.stand_ins = tuple(stand_ins)
        self._head = _text_head(subtype)
        self._pieces: list[bytes | str] = []  # encoded lines, or lines to fill and encode
        lines = self.template.split("\n")
        for number, line in enumerate(lines):
            if number < len(lines) - 1:
                line += "\n"
            if any(stand_in in line for stand_in in self.stand_ins):
                self._pieces.append(line)
            elif self._pieces and isinstance(self._pieces[-1], bytes):
                self._pieces[-1] += _qp(line)
            else:
                self._pieces.append(_qp(line))

    def fill(self, values: Sequence[str]) -> bytes:
        """The part with each stand-in replaced by its value (same order)."""
        if any("\r" in value for value in values):  # a CR would join with the template's LF
            return text_part(self.subtype, self._filled(self.template, values))
        encoded = [
            piece if isinstance(piece, bytes) else _qp(self._filled(piece, values))
            for piece in self._pieces
        ]
        body = b"".join(encoded)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        return self._head + body

    def _filled(self, text: str, values: Sequence[str]) -> str:
        for stand_in, value in zip(self.stand_ins, values, strict=True):
            text = text.replace(stand_in, value)
        return text


def attachment_part(path: Path) -> bytes:
    """A file as a MIME part (headers and base64 body), encoded once and reused."""
    content_type, _encoding = mimetypes.guess_type(path.name)
    maintype, subtype = (content_type or "application/octet-stream").split("/", 1)
    part = MIMEPart(policy=WIRE)
    part.set_content(
        path.read_bytes(),
        maintype=maintype,
        subtype=subtype,
        disposition="attachment",
        filename=path.name,
    )
    return part.as_bytes(policy=WIRE)


def _multipart(subtype: str, boundary: str, parts: Sequence[bytes]) -> bytes:
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
    delimiter = f"--{boundary}\r\n".encode()
    return (
        head
        + b"".join(delimiter + part + b"\r\n" for part in parts)
        + f"--{boundary}--\r\n".encode()
    )


@dataclass(frozen=True)
class Composed:
    """One recipient's message on the wire: RFC 5322 bytes with CRLF line ends."""

    data: bytes
    message_id: str
    sender: str  # the envelope sender: the bare address of From
    utf8: bool  # an address outside ASCII: needs SMTPUTF8

    @property
    def message(self) -> EmailMessage:
        """The message parsed back (for tests and inspection)."""
        parsed = email.message_from_bytes(self.data.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Composer:
    """Builds each recipient's message of one delivery from parts rendered once."""

    def __init__(
        self,
        release: Release,
        parts: MessageParts,
        *,
        key: str,
        templates: tuple[str, str] = TEMPLATES,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        """`templates` are the plain-text and HTML templates (a correction notice has its
        own), `extra` values they need beyond the release's."""
        from markupsafe import escape

        from chanpub.render.templating import render_page, render_text

        text_template, html_template = templates
        self.parts = parts
        self.key = key
        self._escape = escape
        self.sender = parseaddr(parts.sender)[1]
        self._utf8_sender = not self.sender.isascii()
        self._domain = self.sender.rpartition("@")[2] or "chanpub.invalid"
        stand_ins = (_GREETING, _UNSUBSCRIBE)
        self._templates: dict[bool, tuple[TextTemplate, TextTemplate]] = {}
        for with_link in (False, True):
            values = _values(release, parts, _GREETING, _UNSUBSCRIBE if with_link else None)
            values.update(extra or {})
            text = render_text(text_template, body_text=parts.body_text, **values)
            html = render_page(html_template, body_html=parts.body_html, **values)
            self._templates[with_link] = (
                TextTemplate("plain", text.strip() + "\n", stand_ins),
                TextTemplate("html", html, stand_ins),
            )
        self._date = (-1, b"")  # (second, Date line): one formatting per second
        shared = [("Subject", parts.subject), ("From", parts.sender)]
        self._head = {
            utf8: b"".join(_fold(name, value, utf8) for name, value in shared)
            for utf8 in (False, True)
        }
        self._tail = {
            utf8: (_fold("Reply-To", parts.reply_to, utf8) if parts.reply_to else b"")
            for utf8 in (False, True)
        }
        self._language = f"Content-Language: {parts.language}\r\n".encode()
        token = secrets.token_hex(12)
        self._mixed, self._alternative = f"==chanpub-m-{token}", f"==chanpub-a-{token}"
        self._attachments = [attachment_part(path) for path in parts.attachments]

    def compose(
        self,
        recipient: Recipient,
        *,
        unsubscribe: str | None = None,
        extra_attachments: Sequence[Path] = (),
        now: datetime | None = None,
        replying_to: str | None = None,
    ) -> Composed:
        """The complete message for one recipient; `replying_to` is the Message-ID of the
        message this one follows up (a correction notice threads under the release)."""
        utf8 = self._utf8_sender or not recipient.email.isascii()
        text, html = self._templates[bool(unsubscribe)]
        named = greeting(recipient, self.parts.language)
        link = unsubscribe or ""
        identifier = self._message_id(recipient.email)
        head = [
            self._head[utf8],
            to_header(recipient.name, recipient.email, utf8),
            self._tail[utf8],
            self._date_line(now),
            f"Message-ID: {identifier}\r\n".encode(),
            self._language,
        ]
        if replying_to:  # RFC 5322 section 3.6.4: the thread a mail client shows it in
            head.append(f"In-Reply-To: {replying_to}\r\nReferences: {replying_to}\r\n".encode())
        if unsubscribe:
            head.append(_fold("List-Unsubscribe", f"<{unsubscribe}>", utf8))
            if unsubscribe.startswith("https://"):
                head.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
        head.append(b"MIME-Version: 1.0\r\n")
        if all(value and value == value.strip() for value in (named, link or "-")):
            plain = text.fill((named, link))
        else:  # the stripped template would not be the stripped message: strip it whole
            filled = text.template.replace(_GREETING, named).replace(_UNSUBSCRIBE, link)
            plain = text_part("plain", filled.strip() + "\n")
        escape = self._escape
        body = _multipart(
            "alternative",
            self._alternative,
            [plain, html.fill((str(escape(named)), str(escape(link))))],
        )
        files = self._attachments + [attachment_part(path) for path in extra_attachments]
        if files:
            body = _multipart("mixed", self._mixed, [body, *files])
        return Composed(b"".join(head) + body, identifier, self.sender, utf8)

    def _message_id(self, recipient: str) -> str:
        """`message_id`, with the sender's domain worked out once."""
        digest = hashlib.sha256(f"{self.key}:{recipient.lower()}".encode()).hexdigest()[:32]
        return f"<{digest}@{self._domain}>"

    def _date_line(self, now: datetime | None) -> bytes:
        if now is not None:
            return f"Date: {format_datetime(now)}\r\n".encode()
        second = int(time.time())
        if second != self._date[0]:
            moment = datetime.fromtimestamp(second, UTC)
            self._date = (second, f"Date: {format_datetime(moment)}\r\n".encode())
        return self._date[1]


def build_message(
    release: Release,
    parts: MessageParts,
    recipient: Recipient,
    *,
    key: str,
    unsubscribe: str | None = None,
    extra_attachments: Sequence[Path] = (),
    now: datetime | None = None,
) -> EmailMessage:
    """The complete message for one recipient (one-off; a delivery uses one Composer)."""
    return (
        Composer(release, parts, key=key)
        .compose(
            recipient,
            unsubscribe=unsubscribe,
            extra_attachments=extra_attachments,
            now=now,
        )
        .message
    )


def attach_file(message: EmailMessage, path: Path) -> None:
    """Attach a file with its guessed content type."""
    content_type, _encoding = mimetypes.guess_type(path.name)
    maintype, subtype = (content_type or "application/octet-stream").split("/", 1)
    message.add_attachment(
        path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
    )
