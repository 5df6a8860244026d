"""One RFC 5322 message per recipient: plain text + HTML, headers, attachments.

What every recipient shares (templates, headers, attachments) is rendered and encoded once
per delivery by `Composer`; each recipient costs a few string replacements and one folded
`To:` header, so building keeps up with SMTP on one core.
"""

from __future__ import annotations

import binascii
import email
import hashlib
import mimetypes
import secrets
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
# cannot come out of the templates' own text, an escaped value or a quoted URL.
_GREETING = "\x1fgreeting\x1f"
_UNSUBSCRIBE = "\x1funsubscribe\x1f"


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


def _text_part(subtype: str, text: str) -> bytes:
    """A text/* part in UTF-8, quoted-printable (7-bit safe, lines under 77)."""
    plain = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    body = binascii.b2a_qp(plain, istext=True).replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode() + body


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
        self._templates: dict[bool, tuple[str, str]] = {}
        for with_link in (False, True):
            values = _values(release, parts, _GREETING, _UNSUBSCRIBE if with_link else None)
            values.update(extra or {})
            self._templates[with_link] = (
                render_text(text_template, body_text=parts.body_text, **values),
                render_page(html_template, body_html=parts.body_html, **values),
            )
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
        if unsubscribe:
            text = text.replace(_UNSUBSCRIBE, unsubscribe)
            html = html.replace(_UNSUBSCRIBE, str(self._escape(unsubscribe)))
        text = text.replace(_GREETING, named).strip() + "\n"
        html = html.replace(_GREETING, str(self._escape(named)))
        local, _at, domain = recipient.email.rpartition("@")
        identifier = message_id(self.key, recipient.email, self.parts.sender)
        head = [
            self._head[utf8],
            _fold("To", Address(display_name=recipient.name, username=local, domain=domain), utf8),
            self._tail[utf8],
            f"Date: {format_datetime(now or datetime.now(UTC))}\r\n".encode(),
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
        body = _multipart(
            "alternative", self._alternative, [_text_part("plain", text), _text_part("html", html)]
        )
        files = self._attachments + [attachment_part(path) for path in extra_attachments]
        if files:
            body = _multipart("mixed", self._mixed, [body, *files])
        return Composed(b"".join(head) + body, identifier, self.sender, utf8)


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
