"""Labels of a correction (ralat) or a retraction (pencabutan), in the release's language.

Published text carries them in the release's language, not the interface's: a web page,
a post or a letter in Indonesian says "Ralat" whatever language the officer's terminal
uses. Indonesian and English; other languages get English.
"""

from __future__ import annotations

from datetime import UTC, datetime

LABELS = {
    "id": {
        "correction": "Ralat",
        "retraction": "Dicabut",
        "corrected_on": "Diralat pada {when}",
        "retracted_on": "Dicabut pada {when}",
        "retracted_notice": "Siaran pers ini telah dicabut.",
        "reason": "Alasan",
    },
    "en": {
        "correction": "Correction",
        "retraction": "Withdrawn",
        "corrected_on": "Corrected on {when}",
        "retracted_on": "Withdrawn on {when}",
        "retracted_notice": "This press release has been withdrawn.",
        "reason": "Reason",
    },
}


def notice_labels(language: str) -> dict[str, str]:
    """The labels in `language` (Indonesian or English; others get English)."""
    return LABELS.get(language.split("-")[0].split("_")[0].lower(), LABELS["en"])


def amendment_label(kind: str, language: str) -> str:
    """'Ralat' / 'Correction' for a correction, 'Dicabut' / 'Withdrawn' for a retraction,
    in the release's language (Indonesian or English; others get English)."""
    labels = notice_labels(language)
    return labels["retraction" if kind == "retraction" else "correction"]


def labelled_note(kind: str, note: str, language: str) -> str:
    """'Ralat: <note>' (or the label alone when there is no note)."""
    label = amendment_label(kind, language)
    return f"{label}: {note.strip()}" if note.strip() else label


def notice_time(moment: datetime, language: str) -> str:
    """When the amendment was made, as a reader sees it: '8 September 2026 14.30 UTC'."""
    from chanpub.render.dates import day_month_year

    moment = moment.astimezone(UTC)
    clock = moment.strftime("%H.%M" if language.startswith("id") else "%H:%M")
    return f"{day_month_year(moment.date(), language)} {clock} UTC"
