"""Correction (ralat) and retraction (pencabutan) notices: a short message to exactly the
recipients who got the release, threaded under the message each of them got.

Threading follows RFC 5322 section 3.6.4 (`In-Reply-To` and `References` name the
original's Message-ID): https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4
The texts are in the release's language, like the message they follow up.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import replace

from chanpub.channels.email.message import MessageParts
from chanpub.channels.email.recipients import Recipient
from chanpub.contract import Amendment

TEMPLATES = ("email_notice.txt", "email_notice.html")
LABELS = {
    "id": {
        "correction": "Ralat",
        "retraction": "Pencabutan",
        "about_correction": "Ralat atas siaran pers yang kami kirimkan sebelumnya.",
        "about_retraction": "Siaran pers yang kami kirimkan sebelumnya dicabut.",
        "note_correction": "Yang diralat",
        "note_retraction": "Alasan",
        "corrected": "Teks yang telah diralat",
    },
    "en": {
        "correction": "Correction",
        "retraction": "Withdrawn",
        "about_correction": "A correction to the release we sent you.",
        "about_retraction": "The release we sent you has been withdrawn.",
        "note_correction": "What changed",
        "note_retraction": "Reason",
        "corrected": "The corrected text",
    },
}


def labels(language: str) -> dict[str, str]:
    """The notice's words in `language` (English for a language without them)."""
    return LABELS.get(language, LABELS["en"])


def notice_parts(parts: MessageParts, kind: str) -> MessageParts:
    """The release's message parts made a notice: "[Ralat] <subject>"; a retraction
    carries no text (the withdrawn text is not sent again) and no attachments."""
    label = labels(parts.language)[kind]
    withdrawn = kind == "retraction"
    return replace(
        parts,
        subject=f"[{label}] {parts.subject}",
        body_text="" if withdrawn else parts.body_text,
        body_html="" if withdrawn else parts.body_html,
        attachments=(),
    )


def notice_values(amendment: Amendment, language: str) -> dict[str, object]:
    """The template values a notice adds to the release's own."""
    words = labels(language)
    return {
        "label": words[amendment.kind],
        "about": words[f"about_{amendment.kind}"],
        "note_label": words[f"note_{amendment.kind}"],
        "note": amendment.note,
        "corrected_label": words["corrected"],
    }


def original_key(amendment: Amendment) -> str:
    """The delivery key of the first mailing: the previous delivery's, or, when that was
    itself a notice, the one it recorded (every notice goes to the original's recipients)."""
    details = amendment.previous.details
    return str(details.get("original") or details["key"])


def folder_name(kind: str, key: str) -> str:
    """The outbox sub-folder of one notice mailing (beside the release's own .eml files)."""
    return f"{kind}-{key[:12]}"


def named(recipients: Iterable[Recipient], wanted: Set[str]) -> dict[str, Recipient]:
    """The recipients in `wanted` as the lists know them today (name, spelling, list);
    someone no longer on a list still gets the notice, greeted without a name."""
    return {r.key: r for r in recipients if r.key in wanted}
