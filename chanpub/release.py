"""Release files: YAML front matter + Markdown body -> a validated `Release`.

The content hash that approval binds to is computed here, over the normalised body and
every front-matter field except the approval fields themselves.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from chanpub.errors import ReleaseError
from chanpub.i18n import _

# `approvals`: signed approval records (chanpub.approvals), outside the hash they sign.
APPROVAL_FIELDS = ("status", "approved_by", "approved_at", "approved_sha256", "approvals")
KNOWN_FIELDS = frozenset(
    {
        "title", "summary", "date", "slug", "publish_at", "kind", "claim", "verdict",
        "image", "image_alt", "tags", "channels", "language", "source", *APPROVAL_FIELDS,
    }
)  # fmt: skip
KINDS = ("release", "clarification")
STATUSES = ("draft", "approved")
FENCE = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Release:
    """One release as written by the office, validated and ready to render."""

    path: Path
    title: str
    body: str
    slug: str
    content_sha256: str
    date: date | None = None
    publish_at: datetime | None = None
    status: str = "draft"
    approved_by: str | None = None
    approved_at: str | None = None
    approved_sha256: str | None = None
    kind: str = "release"
    claim: str | None = None
    verdict: str | None = None
    image: Path | None = None
    image_alt: str | None = None
    tags: tuple[str, ...] = ()
    channels: tuple[str, ...] | None = None
    language: str | None = None
    source: str | None = None
    warnings: tuple[str, ...] = ()
    front_matter: Mapping[str, Any] = field(default_factory=dict, repr=False)
    summary_given: str | None = None  # the front matter's `summary`, if any

    @cached_property
    def summary(self) -> str:
        """`summary` from the front matter, else the first paragraph of the body (rendered
        on first use only: a folder scan skips it for releases that are not due)."""
        return self.summary_given or _summary_from(self.body)

    @property
    def is_clarification(self) -> bool:
        """True for a hoax clarification (it carries a claim and a verdict)."""
        return self.kind == "clarification"

    @property
    def is_approved(self) -> bool:
        """Approved, and the content still matches what was approved."""
        return self.status == "approved" and self.approved_sha256 == self.content_sha256

    def is_due(self, now: datetime) -> bool:
        """Due when it has no `publish_at` or that moment has passed."""
        return self.publish_at is None or self.publish_at <= now

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of the content hash, for messages and keys."""
        return self.content_sha256[:12]


@dataclass
class _Problems:
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
        self.warnings.append(f"{self._where(name)}: {name}: {message}")


def read_text(path: Path) -> str:
    """Read a release as UTF-8, with errors an officer can act on."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReleaseError(_("{path}: no such file: check the path").format(path=path)) from None
    except IsADirectoryError:
        raise ReleaseError(_("{path}: is a folder, not a release file").format(path=path)) from None
    except OSError as error:
        raise ReleaseError(
            _("{path}: cannot be read ({reason})").format(path=path, reason=error.strerror)
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ReleaseError(
            _("{path}:{line}: is not UTF-8 text: save the file as UTF-8").format(
                path=path, line=line
            )
        ) from None


def split_front_matter(path: Path, text: str) -> tuple[str, str, int]:
    """Split a release into (front matter, body, line number where the body starts)."""
    match = FENCE.match(text)
    if not match:
        raise ReleaseError(
            _(
                "{path}:1: no front matter: start the file with a line '---', the fields "
                "(title: ...), and another line '---' before the text"
            ).format(path=path)
        )
    front = match.group(1) or ""
    body_line = text[: match.end()].count("\n") + 1
    return front, text[match.end() :], body_line


def parse_front_matter(path: Path, front: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse the YAML front matter; returns the mapping and the line of each key."""
    # One parse gives both the values and each key's line; libyaml's parser when present
    # (a cron run reads the front matter of every release in the folder, due or not).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(front)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 2}" if mark else ""
        raise ReleaseError(
            _("{path}{line}: front matter is not valid YAML ({problem}): fix the syntax").format(
                path=path, line=line, problem=error.problem or error.context
            )
        ) from None
    except yaml.YAMLError as error:
        raise ReleaseError(
            _("{path}: front matter is not valid YAML ({problem})").format(path=path, problem=error)
        ) from None
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode | type(None)):
        raise ReleaseError(
            _("{path}:2: front matter must be 'field: value' lines").format(path=path)
        )
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _value in node.value:
            lines[str(key_node.value)] = key_node.start_mark.line + 2  # +1 fence, +1 base
    return {str(key): value for key, value in data.items()}, lines


def normalise_body(body: str) -> str:
    """Normalise what does not change meaning: line endings, trailing blanks, NFC."""
    lines = [line.rstrip() for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return unicodedata.normalize("NFC", "\n".join(lines).strip("\n")) + "\n"


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def content_sha256(front_matter: Mapping[str, Any], body: str) -> str:
    """SHA-256 of every front-matter field except the approval fields, plus the body."""
    content = {k: v for k, v in front_matter.items() if k not in APPROVAL_FIELDS}
    canonical = json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
    )
    digest = hashlib.sha256()
    digest.update(unicodedata.normalize("NFC", canonical).encode("utf-8"))
    digest.update(b"\n---\n")
    digest.update(normalise_body(body).encode("utf-8"))
    return digest.hexdigest()


def slugify(text: str) -> str:
    """A stable, URL-safe id from a title: ASCII, lower case, words joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or "release"


def _text(data: Mapping[str, Any], name: str, problems: _Problems) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool | list | dict):
        problems.error(
            name,
            _("must be text, not {kind}: write it as one line").format(kind=type(value).__name__),
        )
        return None
    text = str(value).strip()
    return text or None


def _string_list(data: Mapping[str, Any], name: str, problems: _Problems) -> tuple[str, ...] | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        problems.error(name, _("must be a list, e.g. [one, two]"))
        return None
    return tuple(str(v).strip() for v in value if str(v).strip())


def _publish_at(data: Mapping[str, Any], problems: _Problems) -> datetime | None:
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


def _date(data: Mapping[str, Any], problems: _Problems) -> date | None:
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


def _image(data: Mapping[str, Any], path: Path, problems: _Problems) -> Path | None:
    name = _text(data, "image", problems)
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
    if not image.is_file():
        problems.error(
            "image",
            _("{image} does not exist: check the file name (relative to {folder})").format(
                image=name, folder=path.parent
            ),
        )
        return None
    if not _text(data, "image_alt", problems):
        problems.error(
            "image_alt",
            _("is required with an image: describe the picture for people who cannot see it"),
            near="image",
        )
    return image


def load_release(path: Path | str) -> Release:
    """Read and validate a release file; raises ReleaseError listing every problem."""
    path = Path(path)
    text = read_text(path)
    front, body, body_line = split_front_matter(path, text)
    data, lines = parse_front_matter(path, front)
    problems = _Problems(path, lines)
    _control_characters(data, body, body_line, problems)
    return _build(path, data, body, problems)


# Invisible characters that no channel can carry (XML, and so feeds and WordPress, refuse
# them) and that an officer cannot see in an editor: refused with their place.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _control_characters(
    data: Mapping[str, Any], body: str, body_line: int, problems: _Problems
) -> None:
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


def _build(path: Path, data: dict[str, Any], body: str, problems: _Problems) -> Release:
    for key in data:
        if key not in KNOWN_FIELDS:
            problems.warn(key, _("unknown field, ignored: check the spelling"))
    title = _text(data, "title", problems)
    if data.get("title") is None or not str(data["title"]).strip():
        problems.error("title", _("is missing: add a line 'title: ...' to the front matter"))
    if not body.strip():
        problems.errors.append(
            _("{path}: the release has no text after the front matter: write the body").format(
                path=path
            )
        )
    kind = _text(data, "kind", problems) or "release"
    if kind not in KINDS:
        problems.error(
            "kind", _("must be 'release' or 'clarification', not '{value}'").format(value=kind)
        )
    claim = _text(data, "claim", problems)
    verdict = _text(data, "verdict", problems)
    if kind == "clarification":
        if not claim:
            problems.error(
                "claim",
                _("a clarification needs the false statement it answers: add 'claim: ...'"),
                near="kind",
            )
        if not verdict:
            problems.error(
                "verdict",
                _("a clarification needs a verdict: add e.g. 'verdict: HOAKS'"),
                near="kind",
            )
    status = _text(data, "status", problems) or "draft"
    if status not in STATUSES:
        problems.error(
            "status",
            _("must be 'draft' or 'approved', not '{value}': use chanpub approve").format(
                value=status
            ),
        )
    slug = _text(data, "slug", problems)
    if slug is not None and slug != slugify(slug):
        problems.error(
            "slug",
            _("may hold only a-z, 0-9 and '-': write e.g. '{example}'").format(
                example=slugify(slug)
            ),
        )
    language = _text(data, "language", problems)
    if language is not None and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", language):
        problems.error("language", _("is not a language code: write e.g. 'id' or 'en'"))
    summary = _text(data, "summary", problems)
    result = dict(
        date=_date(data, problems),
        publish_at=_publish_at(data, problems),
        image=_image(data, path, problems),
        image_alt=_text(data, "image_alt", problems),
        tags=_string_list(data, "tags", problems) or (),
        channels=_string_list(data, "channels", problems),
        source=_text(data, "source", problems),
        approved_by=_text(data, "approved_by", problems),
        approved_at=_text(data, "approved_at", problems),
        approved_sha256=_text(data, "approved_sha256", problems),
    )
    if problems.errors:
        raise ReleaseError("\n".join(problems.errors))
    assert title is not None  # checked above; narrows the type
    return Release(
        path=path,
        title=title,
        body=normalise_body(body),
        slug=slug or slugify(title),
        summary_given=summary,
        content_sha256=content_sha256(data, body),
        status=status,
        kind=kind,
        claim=claim,
        verdict=verdict,
        language=language,
        warnings=tuple(problems.warnings),
        front_matter=data,
        **result,  # type: ignore[arg-type]  # keys and types fixed above
    )


def _summary_from(body: str) -> str:
    """The first paragraph of the body as plain text, for posts that need a summary."""
    from chanpub.render.markdown import first_paragraph

    return first_paragraph(body)


def now_utc() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
