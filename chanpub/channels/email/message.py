"""One RFC 5322 message per recipient: plain text + HTML, headers, attachments."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
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


def render_bodies(
    release: Release, parts: MessageParts, recipient: Recipient, unsubscribe: str | None
) -> tuple[str, str]:
    """The plain-text and HTML bodies for one recipient."""
    from chanpub.render.templating import render_page, render_text

    labels = LABELS.get(parts.language, LABELS["en"])
    values = dict(
        greeting=greeting(recipient, parts.language), title=release.title,
        verdict=release.verdict if release.is_clarification else None,
        claim=release.claim if release.is_clarification else None,
        claim_label=labels["claim"], read_more=labels["read_more"], url=parts.url,
        organisation=parts.organisation, source=release.source, language=parts.language,
        unsubscribe=unsubscribe, unsubscribe_label=labels["unsubscribe"],
    )
    text = render_text("email.txt", body_text=parts.body_text, **values)
    html = render_page("email.html", body_html=parts.body_html, **values)
    return text.strip() + "\n", html


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
    """The complete message for one recipient."""
    text, html = render_bodies(release, parts, recipient, unsubscribe)
    message = EmailMessage()
    message["Subject"] = parts.subject
    message["From"] = parts.sender
    local, _at, domain = recipient.email.rpartition("@")
    message["To"] = Address(display_name=recipient.name, username=local, domain=domain)
    if parts.reply_to:
        message["Reply-To"] = parts.reply_to
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = message_id(key, recipient.email, parts.sender)
    message["Content-Language"] = parts.language
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        if unsubscribe.startswith("https://"):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for path in (*parts.attachments, *extra_attachments):
        attach_file(message, path)
    return message


def attach_file(message: EmailMessage, path: Path) -> None:
    """Attach a file with its guessed content type."""
    content_type, _encoding = mimetypes.guess_type(path.name)
    maintype, subtype = (content_type or "application/octet-stream").split("/", 1)
    message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype,
                           filename=path.name)
