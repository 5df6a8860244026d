"""Release files in, releases out: every `*.md` of a folder or the files named, loaded and
checked (front matter, picture, approval), with the broken ones held back and named."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chanpub.config import ChannelConfig
from chanpub.contract import ChannelContext
from chanpub.errors import ApprovalError, ChanpubError, InputError, ReleaseError
from chanpub.folder_stats import is_release_name, release_names
from chanpub.i18n import _
from chanpub.release import Release, load_release
from chanpub.release_image import check_image

if TYPE_CHECKING:
    from chanpub.approvals.record import Approvers

ContextFactory = Callable[[Release, ChannelConfig], ChannelContext]


@dataclass(frozen=True)
class InvalidRelease:
    """A release in a folder that cannot go out as it is: skipped, with what to fix."""

    path: Path
    slug: str  # its slug when the file says enough, else the file's name without .md
    title: str  # "" when the file cannot be read that far
    error: str  # file, field and what to do; one problem per line


def invalid_release(path: Path, error: str, release: Release | None = None) -> InvalidRelease:
    """An InvalidRelease named from the release, or as well as the broken file allows."""
    if release is not None:
        return InvalidRelease(path, release.slug, release.title, error)
    slug, title = _names(path)
    return InvalidRelease(path, slug, title, error)


def _names(path: Path) -> tuple[str, str]:
    """(slug, title) read from a file that does not load as a release, best effort."""
    from chanpub.release import parse_front_matter, read_text, slugify, split_front_matter

    try:
        front, _body, _line = split_front_matter(path, read_text(path))
        data, _lines = parse_front_matter(path, front)
    except (ChanpubError, ValueError, TypeError):
        return path.stem, ""
    title = data.get("title") if isinstance(data.get("title"), str) else ""
    slug = data.get("slug") if isinstance(data.get("slug"), str) else None
    return slug or slugify(title or "") or path.stem, title or ""


def release_files(paths: Sequence[Path]) -> list[tuple[Path, bool]]:
    """Release files from the arguments, with whether each was named explicitly.

    A folder contributes every `*.md` directly inside it, in name order.
    """
    found: list[tuple[Path, bool]] = []
    for path in distinct_paths(paths):
        if path.is_dir():
            found.extend((path / name, False) for name in folder_names(path))
        else:
            found.append((named_file(path), True))
    return found


def distinct_paths(paths: Sequence[Path]) -> list[Path]:
    """The folders and files of a command line, each once, in order: a folder given twice
    (`rilis/ ./rilis`), or a release named beside its own folder, is one release to read,
    not two that share a slug. A release file inside a folder that is also given is read
    as part of it."""
    folders = {os.path.realpath(path) for path in paths if path.is_dir()}
    seen: set[str] = set()
    distinct: list[Path] = []
    for path in paths:
        if path.is_dir():
            where = os.path.realpath(path)
        else:
            where = os.path.join(os.path.realpath(path.parent), path.name)  # its own link kept
            if is_release_name(path.name) and os.path.dirname(where) in folders:
                continue  # read as part of its folder
        if where not in seen:
            seen.add(where)
            distinct.append(path)
    return distinct


def named_file(path: Path) -> Path:
    """A release file named on the command line, which must exist."""
    if not path.exists():
        raise ReleaseError(_("{path}: no such file or folder: check the path").format(path=path))
    return path


def folder_names(folder: Path, *, files_only: bool = True) -> list[str]:
    """The names of the `*.md` files directly inside a folder (not hidden ones), in name
    order, from one directory read and no stat (the directory entry says what is a file).
    `files_only=False` leaves that check to the caller and lists names alone, which is
    cheaper still for a folder of tens of thousands."""
    if files_only:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if is_release_name(e.name) and e.is_file()]
        names.sort()
        return names
    return release_names(folder)


def load_releases(
    paths: Sequence[Path],
    warnings: list[str] | None = None,
    invalid: list[InvalidRelease] | None = None,
) -> list[tuple[Release, bool]]:
    """Load every release; report all broken files at once.

    Warnings (unknown fields, and files in a folder that are no release at all because
    they have no front matter, such as a README) are appended to `warnings`. With
    `invalid`, a broken file found in a folder is appended there and the others go on;
    a broken file named on the command line (or any, without `invalid`) stops the run.
    """
    return load_files(release_files(paths), warnings, invalid)


def load_files(
    files: Sequence[tuple[Path, bool]],
    warnings: list[str] | None = None,
    invalid: list[InvalidRelease] | None = None,
) -> list[tuple[Release, bool]]:
    """load_releases for files already listed, each with whether it was named explicitly."""
    releases: list[tuple[Release, bool]] = []
    problems: list[str] = []
    notes = warnings if warnings is not None else []
    for path, explicit in files:
        if not explicit and not has_front_matter(path):
            notes.append(
                _("{path}: no front matter, so not a release: left alone").format(path=path)
            )
            continue
        try:
            release = load_release(path)
            if explicit or release.is_signed_off:
                check_image(release)  # opens the picture only of a release that can go out
        except InputError as error:
            if explicit or invalid is None:
                problems.append(error.message)
            else:
                invalid.append(invalid_release(path, error.message))
            continue
        releases.append((release, explicit))
        notes.extend(release.warnings)
    if problems:
        raise ReleaseError("\n".join(problems))
    return _distinct_slugs(releases, invalid)


def _distinct_slugs(
    releases: list[tuple[Release, bool]], invalid: list[InvalidRelease] | None
) -> list[tuple[Release, bool]]:
    """Releases sharing a slug would overwrite each other: all of them are held back."""
    by_slug: dict[str, list[tuple[Release, bool]]] = {}
    for item in releases:
        by_slug.setdefault(item[0].slug, []).append(item)
    problems: list[str] = []
    clashing: set[Path] = set()
    for slug, group in by_slug.items():
        if len(group) < 2:
            continue
        for release, _explicit in group:
            others = ", ".join(str(r.path) for r, _e in group if r is not release)
            message = _(
                "{path}: slug '{slug}' is also used by {other}: give one of them its own 'slug:'"
            ).format(path=release.path, slug=slug, other=others)
            if invalid is None or any(explicit for _r, explicit in group):
                problems.append(message)
            else:
                invalid.append(invalid_release(release.path, message, release))
                clashing.add(release.path)
    if problems:
        raise ReleaseError("\n".join(problems))
    return [item for item in releases if item[0].path not in clashing]


def has_front_matter(path: Path) -> bool:
    """Whether a file starts with a '---' line, as every release does."""
    try:
        with path.open("rb") as file:
            return file.readline().lstrip(b"\xef\xbb\xbf").rstrip() == b"---"
    except OSError:
        return True  # let loading report why it cannot be read


def approval_problem(release: Release, approvers: Approvers | None = None) -> str | None:
    """Why an approved-looking release may not go out, or None when it may. With
    `approvers` (channels.yaml lists them), only signatures by them count."""
    if not release.is_signed_off:
        return None
    if approvers is not None:
        from chanpub.approvals.verify import verify_release

        return verify_release(release, approvers).problem
    if release.approved_sha256 != release.content_sha256:
        return _(
            "{path}: changed after it was approved by {by} at {at}: check the changes "
            "and approve it again (chanpub approve {path} --by NAME)"
        ).format(path=release.path, by=release.approved_by or "?", at=release.approved_at or "?")
    return None


def check_approvals(
    releases: Iterable[tuple[Release, bool]],
    invalid: list[InvalidRelease] | None = None,
    approvers: Approvers | None = None,
) -> list[tuple[Release, bool]]:
    """The releases whose approval holds. A release named on the command line that changed
    after approval, whose signatures do not hold (with `approvers`) or is not approved
    refuses the whole run; one found in a folder that changed goes to `invalid` when it
    is given (a draft there is only skipped later)."""
    problems = []
    kept = []
    for release, explicit in releases:
        problem = approval_problem(release, approvers)
        if problem and not explicit and invalid is not None:
            invalid.append(invalid_release(release.path, problem, release))
            continue
        kept.append((release, explicit))
        if problem:
            problems.append(problem)
        elif explicit and not release.is_signed_off:
            problems.append(
                _(
                    "{path}: is a draft, not approved: approve it first "
                    "(chanpub approve {path} --by NAME)"
                ).format(path=release.path)
            )
    if problems:
        raise ApprovalError("\n".join(problems))
    return kept
