"""Field validators for release front matter: each reads one field, records every problem
with its file, line and fix, and returns the clean value (or None)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from chanpub.i18n import _

KINDS = ("release", "clarification")
STATUSES = ("draft", "approved", "retracted")  # retracted: an approved retraction


@dataclass
class Problems:
    """Collects every problem in a file so the officer can fix them all at once."""

    path: Path
    lines: dict[str, int]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def _where(self, name: str | None, near: str | None = None) -> str:
        line = self.lines.get(name or "") or self.lines.get(near or "")
        return f"{self.path}:{line}" if line else str(self.path)

    def error(self, name: str | None, message: str, near: str | None = None) -> None:
        """Record an error at the field's line (or at the line of `near` when absent)."""
        where = self._where(name, near)
        self.errors.append(f"{where}: {name}: {message}" if name else f"{where}: {message}")

    def warn(self, name: str, message: str) -> None:
        """Record a warning at the field's line."""
        self.warnings.append(f"{self._where(name)}: {name}: {message}")


def text_field(
    data: Mapping[str, Any], name: str, problems: Problems, *, dates: bool = False
) -> str | None:
    """A one-line text field, stripped; None when absent or empty."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, date) and not dates:
        # YAML reads `2026-08-24` as a date: as text it would come back reformatted.
        problems.error(name, _("is a date or time, not text: put it in quotes"))
        return None
    if isinstance(value, bool | list | dict | set | bytes):
        problems.error(
            name,
            _("must be text, not {kind}: write it as one line").format(kind=type(value).__name__),
        )
        return None
    text = str(value).strip()
    return text or None


def choice_field(
    data: Mapping[str, Any],
    name: str,
    problems: Problems,
    *,
    default: str,
    allowed: Collection[str],
    refusal: str,
) -> str:
    """A field whose value is one of `allowed` (`default` when absent); any other value is
    refused with `refusal`, which names it as {value}."""
    value = text_field(data, name, problems) or default
    if value not in allowed:
        problems.error(name, refusal.format(value=value))
    return value


def string_list(data: Mapping[str, Any], name: str, problems: Problems) -> tuple[str, ...] | None:
    """A list of short texts (`[a, b]` or `a, b`); None when absent."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        problems.error(name, _("must be a list, e.g. [one, two]"))
        return None
    return tuple(str(v).strip() for v in value if str(v).strip())


def publish_at_field(data: Mapping[str, Any], problems: Problems) -> datetime | None:
    """The moment a release becomes due: aware, with its UTC offset."""
    value = data.get("publish_at")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            problems.error(
                "publish_at", _("is not an ISO 8601 time: write it like 2026-08-24T09:00:00+07:00")
            )
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        problems.error(
            "publish_at", _("needs a time and a UTC offset, e.g. 2026-08-24T09:00:00+07:00")
        )
        return None
    if not isinstance(value, datetime):
        problems.error("publish_at", _("is not a time: write it like 2026-08-24T09:00:00+07:00"))
        return None
    if value.tzinfo is None:
        problems.error(
            "publish_at", _("has no UTC offset: add one, e.g. 2026-08-24T09:00:00+07:00 for WIB")
        )
        return None
    return value


def date_field(data: Mapping[str, Any], problems: Problems) -> date | None:
    """The release's date, from a YAML date or ISO 8601 text."""
    value = data.get("date")
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        problems.error("date", _("is not a date: write it like 2026-08-24"))
        return None


def image_field(data: Mapping[str, Any], path: Path, problems: Problems) -> Path | None:
    """The image beside the release, resolved; it must stay inside the release's folder."""
    name = text_field(data, "image", problems)
    if name is None:
        return None
    folder = path.parent.resolve()
    image = (path.parent / name).resolve()
    if not image.is_relative_to(folder):
        problems.error(
            "image",
            _("{image} is outside the release's folder: put the image beside the release").format(
                image=name
            ),
        )
        return None
    if image.exists() and not image.is_file():
        problems.error(
            "image",
            _("{image} is not a regular file: name a JPEG, PNG, WebP or GIF picture").format(
                image=name
            ),
        )
        return None
    if not image.is_file():
        problems.error(
            "image",
            _("{image} does not exist: check the file name (relative to {folder})").format(
                image=name, folder=path.parent
            ),
        )
        return None
    if not text_field(data, "image_alt", problems):
        problems.error(
            "image_alt",
            _("is required with an image: describe the picture for people who cannot see it"),
            near="image",
        )
    return image


# Invisible characters that no channel can carry (XML, and so feeds and WordPress, refuse
# them) and that an officer cannot see in an editor: refused with their place.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def control_characters(
    data: Mapping[str, Any], body: str, body_line: int, problems: Problems
) -> None:
    """Refuse control characters in any field and in the body, with their place."""

    def strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list | tuple):
            return [s for item in value for s in strings(item)]
        if isinstance(value, dict):
            return [s for item in value.values() for s in strings(item)]
        return []

    for name, value in data.items():
        found = next((m for s in strings(value) for m in [CONTROL.search(s)] if m), None)
        if found:
            problems.error(
                name,
                _(
                    "contains the invisible control character U+{code:04X}: "
                    "delete it and type the text again"
                ).format(code=ord(found.group())),
            )
    found = CONTROL.search(body)
    if found:
        problems.errors.append(
            _(
                "{path}:{line}: the text contains the invisible control character U+{code:04X}: "
                "delete it and type the text again"
            ).format(
                path=problems.path,
                line=body_line + body[: found.start()].count("\n"),
                code=ord(found.group()),
            )
        )


# Characters that make text display in another order than it is stored ("Trojan source",
# https://trojansource.codes/): a title is shown in subjects, feeds and file names, where a
# reader cannot tell. Unicode TR9: https://www.unicode.org/reports/tr9/#Explicit_Directional_Embeddings
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Format, control, separator and combining characters show nothing on their own; the Hangul
# fillers and the blank Braille pattern are letters or symbols that render as blank space.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def title_problems(title: str, problems: Problems) -> None:
    """Refuse a title that reorders its text on screen or that shows nothing at all."""
    found = BIDI_CONTROLS.search(title)
    if found:
        problems.error(
            "title",
            _(
                "contains the bidirectional control character U+{code:04X}, which can show "
                "the text in another order than it is written: delete it and type the "
                "title again"
            ).format(code=ord(found.group())),
        )
    elif not any(
        unicodedata.category(c) not in INVISIBLE_CATEGORIES and c not in BLANK_LOOKING
        for c in title
    ):
        problems.error(
            "title", _("has no visible characters: write the title in words people can read")
        )


def title_field(data: Mapping[str, Any], problems: Problems) -> str | None:
    """The title: required, one line, and short enough to stand as a headline."""
    title = text_field(data, "title", problems)
    if data.get("title") is None or not str(data["title"]).strip():
        problems.error("title", _("is missing: add a line 'title: ...' to the front matter"))
    elif title is not None:
        title_problems(title, problems)
    return title


def kind_fields(data: Mapping[str, Any], problems: Problems) -> tuple[str, str | None, str | None]:
    """kind, claim and verdict: a clarification names the false statement it answers
    and its verdict."""
    kind = choice_field(
        data,
        "kind",
        problems,
        default="release",
        allowed=KINDS,
        refusal=_("must be 'release' or 'clarification', not '{value}'"),
    )
    claim = text_field(data, "claim", problems)
    verdict = text_field(data, "verdict", problems)
    if kind == "clarification" and not claim:
        problems.error(
            "claim",
            _("a clarification needs the false statement it answers: add 'claim: ...'"),
            near="kind",
        )
    if kind == "clarification" and not verdict:
        problems.error(
            "verdict", _("a clarification needs a verdict: add e.g. 'verdict: HOAKS'"), near="kind"
        )
    return kind, claim, verdict


def status_fields(
    data: Mapping[str, Any], problems: Problems
) -> tuple[str, str | None, str | None]:
    """status, correction and retraction: a withdrawn release says why."""
    status = choice_field(
        data,
        "status",
        problems,
        default="draft",
        allowed=STATUSES,
        refusal=_(
            "must be 'draft', 'approved' (chanpub approve sets it) or 'retracted' (with "
            "'retraction: <the reason>'), not '{value}'"
        ),
    )
    correction = text_field(data, "correction", problems)
    retraction = text_field(data, "retraction", problems)
    if status == "retracted" and not retraction:
        problems.error(
            "retraction",
            _("a withdrawn release needs the reason: add 'retraction: ...' and approve it again"),
            near="status",
        )
    return status, correction, retraction


def slug_field(data: Mapping[str, Any], problems: Problems) -> str | None:
    """An explicit slug, already in the form slugify gives (it becomes a URL path)."""
    slug = text_field(data, "slug", problems)
    if slug is not None and slug != slugify(slug):
        problems.error(
            "slug",
            _("may hold only a-z, 0-9 and '-': write e.g. '{example}'").format(
                example=slugify(slug)
            ),
        )
    return slug


def language_field(data: Mapping[str, Any], problems: Problems) -> str | None:
    """A BCP 47 language tag such as 'id' or 'en-GB'."""
    language = text_field(data, "language", problems)
    if language is not None and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", language):
        problems.error("language", _("is not a language code: write e.g. 'id' or 'en'"))
    return language


def slugify(text: str) -> str:
    """A stable, URL-safe id from a title: ASCII, lower case, words joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or "release"
