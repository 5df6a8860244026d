"""A WhatsApp template message: its parameters from the release, the Cloud API body, and
the preview as WhatsApp shows it (`*bold*`, `_italic_`, `~strike~`, ```` ```mono``` ````).

Docs: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
(template object) and https://faq.whatsapp.com/539178204879377 (text formatting).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from chanpub.contract import Links
from chanpub.release import Release

PARAM_FIELDS = ("title", "url", "summary", "date", "organisation", "claim", "verdict")
FOLLOW_UP_FIELDS = (*PARAM_FIELDS, "note")  # note: the correction, or why it is withdrawn
PARAM_LIMIT = 1024  # characters of one body parameter (the whole body is at most 1024)

_MARKUP = (
    (re.compile(r"```(.+?)```", re.S), "code"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?!\s)(.+?)(?<!\s)~(?![\w~])"), "s"),
)


def param_values(
    release: Release, links: Links, organisation: str, fields: Sequence[str], note: str = ""
) -> list[str]:
    """The body parameters, in order, each on one line: the API refuses newlines, tabs and
    runs of more than four spaces inside a parameter (error 132018). `note` is a
    correction's or retraction's note (follow-up templates only)."""
    values = {
        "title": release.title,
        "url": links.canonical_url or "",
        "summary": release.summary,
        "date": release.date.isoformat() if release.date else "",
        "organisation": organisation,
        "claim": release.claim or "",
        "verdict": release.verdict or "",
        "note": note,
    }
    return [" ".join(values[name].split())[:PARAM_LIMIT] for name in fields]


def fill(body: str, values: Sequence[str]) -> str:
    """The template's body text with {{1}}, {{2}}... (or named ones, in order) replaced."""
    names: list[str] = []
    for name in re.findall(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", body):
        if name not in names:
            names.append(name)
    by_name = dict(zip(names, values, strict=False))

    def value(match: re.Match[str]) -> str:
        return by_name.get(match.group(1), match.group(0))

    return re.sub(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", value, body)


def markup_html(text: str) -> str:
    """WhatsApp's markup as HTML: escaped first, then bold, italic, strike, monospace."""
    result = html.escape(text)
    for pattern, tag in _MARKUP:
        result = pattern.sub(rf"<{tag}>\1</{tag}>", result)
    return result.replace("\n", "<br>")


def bubble_html(template: str, language: str, values: Sequence[str], header: str | None) -> str:
    """The preview card: the header image's place, then the parameters as WhatsApp would
    show them (the template's own text is known only to verify and publish)."""
    rows = "".join(
        f"<p><small>{{{{{number}}}}}</small> {markup_html(value)}</p>"
        for number, value in enumerate(values, start=1)
    )
    top = f"<p><em>[{html.escape(header)}]</em></p>" if header else ""
    return (
        '<div class="whatsapp-message">'
        f"<p><small>{html.escape(template)} ({html.escape(language)})</small></p>"
        f"{top}{rows}</div>"
    )


def message_body(
    to: str,
    template: str,
    language: str,
    values: Sequence[str],
    *,
    media_id: str | None,
    callback: str,
) -> Mapping[str, Any]:
    """The JSON of POST /{phone-number-id}/messages for one subscriber. `callback`
    (biz_opaque_callback_data) comes back in every status webhook of this message, so a
    receipt is matched to its delivery even when the send's own answer was lost."""
    components: list[dict[str, Any]] = []
    if media_id is not None:
        components.append(
            {"type": "header", "parameters": [{"type": "image", "image": {"id": media_id}}]}
        )
    if values:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}
        )
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {"name": template, "language": {"code": language}, "components": components},
        "biz_opaque_callback_data": callback,
    }
