"""Corrections and retractions of letters already sent: a correction letter (surat ralat)
or a withdrawal letter (surat pencabutan) to each recipient of the original letter,
referring to its number and date.

Paper cannot be edited or deleted, so both are new letters (Action.SENT), numbered from the
same ledger sequence as every letter of the channel and journalled per recipient under the
amendment's delivery key, exactly as the first letters are: a re-run after a crash gives
each recipient the number it already had and writes the same letter again. The letters are
dated the day the new version was approved, so a re-run prints the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date
from typing import TYPE_CHECKING, Any

from chanpub.channels.letter_pdf.recipients import LetterRecipient, own_part, part_suffix
from chanpub.contract import Action, Amendment, Preview, Receipt
from chanpub.render.notices import notice_labels
from chanpub.render.pdf.amended import amended_at

if TYPE_CHECKING:
    from chanpub.channels.letter_pdf.channel import LetterPdfChannel

TEXTS = {
    "id": {
        "correction_subject": "Ralat: {title}",
        "retraction_subject": "Pencabutan: {title}",
        "correction": "Ralat atas surat nomor {number} tanggal {date} perihal {title}.",
        "retraction": "Dengan ini kami mencabut surat nomor {number} tanggal {date} perihal "
        "{title}.",
        "corrected": "Isi yang telah diperbaiki sebagai berikut:",
        "void": "Dengan demikian, surat tersebut dinyatakan tidak berlaku.",
    },
    "en": {
        "correction_subject": "Correction: {title}",
        "retraction_subject": "Withdrawal: {title}",
        "correction": "Correction to letter number {number} dated {date} regarding {title}.",
        "retraction": "We hereby withdraw letter number {number} dated {date} regarding {title}.",
        "corrected": "The corrected text reads as follows:",
        "void": "That letter is therefore no longer valid.",
    },
}


@dataclass(frozen=True)
class Original:
    """The letter a recipient got first: its number and date (ISO)."""

    number: str
    dated: str


def originals(previous: Receipt) -> dict[str, Original]:
    """Who got the original letter, with its number and date: carried by an amendment's
    receipt under "original", else the first publication's numbers and date."""
    carried = previous.details.get("original")
    if isinstance(carried, dict):
        return {who: Original(str(o["number"]), str(o["dated"])) for who, o in carried.items()}
    numbers = previous.details.get("numbers") or previous.numbers
    dated = str(previous.details.get("dated") or previous.published_at.date().isoformat())
    return {str(who): Original(str(number), dated) for who, number in dict(numbers).items()}


def recipients_of(
    current: list[LetterRecipient], sent: dict[str, Original]
) -> list[LetterRecipient]:
    """The recipients of the original, in its order, with their details from today's CSV;
    one since removed from the CSV is addressed by what the ledger knows (address or name)."""
    listed = {r.email.lower() or r.name: r for r in current}
    return [
        listed.get(who) or LetterRecipient(name=who, email=who if "@" in who else "")
        for who in sent
    ]


def amend_letters(
    channel: LetterPdfChannel, preview: Preview, amendment: Amendment, key: str
) -> Receipt:
    """Number, render and write the correction or withdrawal letters."""
    from chanpub.render.dates import day_month_year

    channel.check()
    release = preview.release
    language = channel.language(release)
    day = amended_at(release.approved_at, amendment.at).astimezone(UTC).date()
    sent = originals(amendment.previous)
    recipients = recipients_of(channel.recipients(), sent)
    numbers = channel.numbers(recipients, key, day)
    mine = own_part(recipients, numbers)  # all of them, unless the queue shares the list
    count = int(amendment.previous.details.get("amendments") or 0) + 1
    texts = TEXTS.get(language.split("-")[0].lower(), TEXTS["en"])
    letters = []
    for _place, recipient in mine:
        letter = channel.letter(release, preview.links, recipient, numbers[recipient.key], day)
        original = sent[recipient.email.lower() or recipient.name]
        dated = day_month_year(date.fromisoformat(original.dated), language)
        letters.append(_amended(letter, amendment, original.number, dated, texts, language))
    paths = channel.paths(release, f"-{amendment.kind}-{count}", part_suffix(mine, recipients))
    written = channel.write(paths, mine, letters, numbers)
    carried = {who: {"number": o.number, "dated": o.dated} for who, o in sent.items()}
    return Receipt(
        remote_id=amendment.previous.remote_id or written.remote_id,
        url=written.url,
        published_at=written.published_at,
        details={
            **written.details,
            "original": carried,
            "amendments": count,
            "amended": amendment.kind,
        },
        files=written.files,
        numbers=written.numbers,
        action=Action.SENT,
    )


def _amended(
    letter: Any,
    amendment: Amendment,
    number: str,
    dated: str,
    texts: dict[str, str],
    language: str,
) -> Any:
    """The recipient's letter turned into a correction or a withdrawal letter."""
    title = letter.subject
    opening = texts[amendment.kind].format(number=number, date=dated, title=title)
    note = amendment.note.strip()
    if amendment.retraction:
        reason = f"{notice_labels(language)['reason']}: {note}" if note else ""
        body = "\n\n".join(part for part in (opening, reason, texts["void"]) if part)
    else:
        body = "\n\n".join(
            part for part in (opening, note, texts["corrected"], letter.body) if part
        )
    subject = texts[f"{amendment.kind}_subject"].format(title=title)
    return replace(letter, subject=subject, body=body)
