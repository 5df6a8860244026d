"""Release files: YAML front matter + Markdown body -> a validated `Release`.

The content hash that approval binds to is computed here, over the normalised body,
every front-matter field except the approval fields themselves, and the bytes of every
file the release pulls in (its image).

A release file is at most MAX_RELEASE_BYTES (1 MB) and must be a regular file: devices
and pipes are refused before anything is read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from chanpub.errors import ReleaseError
from chanpub.i18n import _
from chanpub.release_fields import (
    Problems,
    control_characters,
    date_field,
    image_field,
    kind_fields,
    language_field,
    publish_at_field,
    slug_field,
    status_fields,
    string_list,
    text_field,
    title_field,
)
from chanpub.release_fields import slugify as slugify  # chanpub.release.slugify, as before
from chanpub.yaml_load import YamlContentError, YamlSyntaxError, load_yaml

# `approvals`: signed approval records (chanpub.approvals), outside the hash they sign.
APPROVAL_FIELDS = ("status", "approved_by", "approved_at", "approved_sha256", "approvals")
KNOWN_FIELDS = frozenset(
    {
        "title", "summary", "date", "slug", "publish_at", "kind", "claim", "verdict",
        "image", "image_alt", "tags", "channels", "language", "source", "correction",
        "retraction", *APPROVAL_FIELDS,
    }
)  # fmt: skip
FILE_FIELDS = ("image",)  # fields naming a file whose bytes go out with the release
MAX_RELEASE_BYTES = 1_000_000  # a release is text; pictures are separate files
MAX_FILE_BYTES = 50_000_000  # a picture larger than this is no web or print picture
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
    correction: str | None = None  # what changed since the published version (a ralat)
    retraction: str | None = None  # why the release is withdrawn (a pencabutan)
    warnings: tuple[str, ...] = ()
    front_matter: Mapping[str, Any] = field(default_factory=dict, repr=False)
    summary_given: str | None = None  # the front matter's `summary`, if any
    lines: Mapping[str, int] = field(default_factory=dict, repr=False)  # field -> line

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
    def is_signed_off(self) -> bool:
        """Approved for sending: `approved`, or `retracted` for an approved retraction."""
        return self.status in ("approved", "retracted")

    @property
    def is_approved(self) -> bool:
        """Approved, and the content still matches what was approved."""
        return self.is_signed_off and self.approved_sha256 == self.content_sha256

    @property
    def amendment(self) -> str | None:
        """'retraction' or 'correction' when this version amends a published one."""
        if self.retraction:
            return "retraction"
        return "correction" if self.correction else None

    def is_due(self, now: datetime) -> bool:
        """Due when it has no `publish_at` or that moment has passed."""
        return self.publish_at is None or self.publish_at <= now

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of the content hash, for messages and keys."""
        return self.content_sha256[:12]


def read_text(path: Path) -> str:
    """Read a release as UTF-8, with errors an officer can act on.

    Only a regular file of at most MAX_RELEASE_BYTES is read: a FIFO would block until
    someone writes to it and /dev/zero never ends, so both are refused first."""
    with open_regular(path, MAX_RELEASE_BYTES, ReleaseError) as file:
        raw = file.read(MAX_RELEASE_BYTES + 1)
    if len(raw) > MAX_RELEASE_BYTES:  # it grew after the size check
        raise ReleaseError(_too_large(path, MAX_RELEASE_BYTES))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ReleaseError(
            _("{path}:{line}: is not UTF-8 text: save the file as UTF-8").format(
                path=path, line=line
            )
        ) from None


def _too_large(path: Path, limit: int) -> str:
    return _(
        "{path}: is larger than {megabytes} MB ({limit} bytes): a release is text; put "
        "pictures beside it as separate files"
    ).format(path=path, megabytes=limit // 1_000_000, limit=f"{limit:,}")


def open_regular(path: Path, limit: int, error: type[ReleaseError]) -> io.BufferedReader:
    """Open a regular file of at most `limit` bytes for reading, refusing anything else
    before reading a byte (O_NONBLOCK: opening a FIFO must not wait for a writer)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise error(_("{path}: no such file: check the path").format(path=path)) from None
    except OSError as problem:
        raise error(
            _("{path}: cannot be read ({reason})").format(path=path, reason=problem.strerror)
        ) from None
    info = os.fstat(fd)  # checked before fdopen, which refuses a folder with an OSError
    refusal = _not_readable(path, info, limit)
    if refusal is not None:
        os.close(fd)
        raise error(refusal)
    return os.fdopen(fd, "rb")


def _not_readable(path: Path, info: os.stat_result, limit: int) -> str | None:
    """Why the file with this stat is not to be read as a release, or None."""
    if stat.S_ISDIR(info.st_mode):
        return _(
            "{path}: is a folder, not a release file: give one release file, e.g. "
            "releases/banjir.md"
        ).format(path=path)
    if not stat.S_ISREG(info.st_mode):
        return _(
            "{path}: is not a regular file (a device, pipe or socket): give the path "
            "of a release file"
        ).format(path=path)
    if info.st_size > limit:
        return _too_large(path, limit)
    return None


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
    # One parse gives both the values and each key's line, with libyaml's parser (a cron
    # run reads the front matter of every release in the folder, due or not).
    try:
        data, lines = load_yaml(front, str(path), first_line=2)  # +1 for the '---' fence
    except YamlSyntaxError as error:
        line = f":{error.line}" if error.line else ""
        raise ReleaseError(
            _("{path}{line}: front matter is not valid YAML ({problem}): fix the syntax").format(
                path=path, line=line, problem=error.problem
            )
        ) from None
    except YamlContentError as error:
        raise ReleaseError("\n".join(error.problems)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ReleaseError(
            _("{path}:2: front matter must be 'field: value' lines").format(path=path)
        )
    return data, lines


def normalise_body(body: str) -> str:
    """Normalise what does not change meaning: line endings, trailing blanks, NFC."""
    lines = [line.rstrip() for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return unicodedata.normalize("NFC", "\n".join(lines).strip("\n")) + "\n"


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def content_sha256(
    front_matter: Mapping[str, Any], body: str, files: Mapping[str, str] | None = None
) -> str:
    """SHA-256 of every front-matter field except the approval fields, plus the body, plus
    `files`: the SHA-256 of each file the release pulls in, by field (see file_digests).

    Without files the hash is what it always was, so ledgers keep their releases."""
    content = {k: v for k, v in front_matter.items() if k not in APPROVAL_FIELDS}
    canonical = json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
    )
    digest = hashlib.sha256()
    digest.update(unicodedata.normalize("NFC", canonical).encode("utf-8"))
    digest.update(b"\n---\n")
    digest.update(normalise_body(body).encode("utf-8"))
    if files:  # swapping the picture after approval must change the hash
        digest.update(b"\n---files\n")
        digest.update(json.dumps(dict(sorted(files.items())), separators=(",", ":")).encode())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file the release pulls in (a regular file of at most MAX_FILE_BYTES)."""
    with open_regular(path, MAX_FILE_BYTES, ReleaseError) as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def file_digests(folder: Path, front_matter: Mapping[str, Any]) -> dict[str, str]:
    """The SHA-256 of each existing file named by the front matter, relative to `folder`
    (for content_sha256; load_release checks the names themselves)."""
    return {
        name: file_sha256(folder / value)
        for name in FILE_FIELDS
        if isinstance(value := front_matter.get(name), str) and (folder / value).is_file()
    }


def load_release(path: Path | str) -> Release:
    """Read and validate a release file; raises ReleaseError listing every problem."""
    path = Path(path)
    text = read_text(path)
    front, body, body_line = split_front_matter(path, text)
    data, lines = parse_front_matter(path, front)
    problems = Problems(path, lines)
    control_characters(data, body, body_line, problems)
    return _build(path, data, body, problems)


def _build(path: Path, data: dict[str, Any], body: str, problems: Problems) -> Release:
    for key in data:
        if key not in KNOWN_FIELDS:
            problems.warn(key, _("unknown field, ignored: check the spelling"))
    title = title_field(data, problems)
    if not body.strip():
        problems.errors.append(
            _("{path}: the release has no text after the front matter: write the body").format(
                path=path
            )
        )
    kind, claim, verdict = kind_fields(data, problems)
    status, correction, retraction = status_fields(data, problems)
    slug = slug_field(data, problems)
    language = language_field(data, problems)
    summary = text_field(data, "summary", problems)
    result = dict(
        date=date_field(data, problems),
        publish_at=publish_at_field(data, problems),
        image=image_field(data, path, problems),
        image_alt=text_field(data, "image_alt", problems),
        tags=string_list(data, "tags", problems) or (),
        channels=string_list(data, "channels", problems),
        source=text_field(data, "source", problems),
        approved_by=text_field(data, "approved_by", problems),
        approved_at=text_field(data, "approved_at", problems, dates=True),
        approved_sha256=text_field(data, "approved_sha256", problems),
    )
    image = result["image"]
    files: dict[str, str] = {}
    if isinstance(image, Path):
        try:
            files["image"] = file_sha256(image)
        except ReleaseError as error:  # too large, or replaced by a pipe meanwhile
            problems.error("image", error.message)
    if problems.errors:
        raise ReleaseError("\n".join(problems.errors))
    assert title is not None  # checked above; narrows the type
    return Release(
        path=path,
        title=title,
        body=normalise_body(body),
        slug=slug or slugify(title),
        summary_given=summary,
        content_sha256=content_sha256(data, body, files),
        status=status,
        correction=correction,
        retraction=retraction,
        kind=kind,
        claim=claim,
        verdict=verdict,
        language=language,
        warnings=tuple(problems.warnings),
        front_matter=data,
        lines=problems.lines,
        **result,  # type: ignore[arg-type]  # keys and types fixed above
    )


def _summary_from(body: str) -> str:
    """The first paragraph of the body as plain text, for posts that need a summary."""
    from chanpub.markdown import first_paragraph

    return first_paragraph(body)


def now_utc() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
