"""Which releases go where: release files -> validated, approved, due releases, each with
the channels it goes to. Everything that can be wrong with the input is found here,
before anything is sent."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from chanpub.config import ChannelConfig, Config
from chanpub.errors import ApprovalError, ChanpubError, InputError, ReleaseError
from chanpub.i18n import _
from chanpub.release import Release, load_release
from chanpub.release_image import check_image


@dataclass(frozen=True)
class ChannelPlan:
    """One configured channel for one release: the adapter, or why it is left out."""

    config: ChannelConfig
    adapter: Any  # an instance of the channel's adapter class; None when left out
    skip_reason: str | None = None

    @property
    def name(self) -> str:
        """The channel's name in channels.yaml."""
        return self.config.name


@dataclass(frozen=True)
class ReleasePlan:
    """One release and its channels; `skip_reason` when it is not sent now."""

    release: Release
    channels: tuple[ChannelPlan, ...]
    skip_reason: str | None = None


def delivery_key(release: Release, channel: str) -> str:
    """The stable key of one delivery: the same on every retry and every run."""
    return hashlib.sha256(f"{release.slug}:{release.content_sha256}:{channel}".encode()).hexdigest()


def release_files(paths: Sequence[Path]) -> list[tuple[Path, bool]]:
    """Release files from the arguments, with whether each was named explicitly.

    A folder contributes every `*.md` directly inside it, in name order.
    """
    found: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            found.extend((file, False) for file in sorted(path.glob("*.md")) if file.is_file())
        elif path.exists():
            found.append((path, True))
        else:
            raise ReleaseError(
                _("{path}: no such file or folder: check the path").format(path=path)
            )
    return found


def load_releases(
    paths: Sequence[Path], warnings: list[str] | None = None
) -> list[tuple[Release, bool]]:
    """Load every release; report all broken files at once.

    Warnings (unknown fields, and files in a folder that are no release at all because
    they have no front matter, such as a README) are appended to `warnings`.
    """
    releases: list[tuple[Release, bool]] = []
    problems: list[str] = []
    notes = warnings if warnings is not None else []
    for path, explicit in release_files(paths):
        if not explicit and not has_front_matter(path):
            notes.append(
                _("{path}: no front matter, so not a release: left alone").format(path=path)
            )
            continue
        try:
            release = load_release(path)
            if explicit or release.status == "approved":
                check_image(release)  # opens the picture only of a release that can go out
        except InputError as error:
            problems.append(error.message)
            continue
        releases.append((release, explicit))
        notes.extend(release.warnings)
    if problems:
        raise ReleaseError("\n".join(problems))
    slugs: dict[str, Path] = {}
    for release, _explicit in releases:
        if release.slug in slugs:
            problems.append(
                _(
                    "{path}: slug '{slug}' is also used by {other}: give one of them "
                    "its own 'slug:'"
                ).format(path=release.path, slug=release.slug, other=slugs[release.slug])
            )
        slugs[release.slug] = release.path
    if problems:
        raise ReleaseError("\n".join(problems))
    return releases


def has_front_matter(path: Path) -> bool:
    """Whether a file starts with a '---' line, as every release does."""
    try:
        with path.open("rb") as file:
            return file.readline().lstrip(b"\xef\xbb\xbf").rstrip() == b"---"
    except OSError:
        return True  # let loading report why it cannot be read


def approval_problem(release: Release) -> str | None:
    """Why an approved-looking release may not go out, or None when it may."""
    if release.status != "approved":
        return None
    if release.approved_sha256 != release.content_sha256:
        return _(
            "{path}: changed after it was approved by {by} at {at}: check the changes "
            "and approve it again (chanpub approve {path} --by NAME)"
        ).format(path=release.path, by=release.approved_by or "?", at=release.approved_at or "?")
    return None


def check_approvals(releases: Iterable[tuple[Release, bool]]) -> None:
    """Refuse the whole run when a release changed after approval, or a release named on
    the command line is not approved."""
    problems = []
    for release, explicit in releases:
        problem = approval_problem(release)
        if problem:
            problems.append(problem)
        elif explicit and release.status != "approved":
            problems.append(
                _(
                    "{path}: is a draft, not approved: approve it first "
                    "(chanpub approve {path} --by NAME)"
                ).format(path=release.path)
            )
    if problems:
        raise ApprovalError("\n".join(problems))


def _instantiate(config: Config, channel: ChannelConfig, context: Any) -> Any:
    assert channel.adapter is not None and channel.options is not None
    return channel.adapter(channel.name, channel.options, context)


def plan_releases(
    releases: Sequence[tuple[Release, bool]],
    config: Config,
    now: datetime,
    make_context: Any,
) -> list[ReleasePlan]:
    """Each release with its channels; checks the channel names a release asks for and
    runs every used adapter's own check() before anything is sent."""
    problems: list[str] = []
    plans: list[ReleasePlan] = []
    checked: set[str] = set()
    for release, _explicit in releases:
        if release.channels is not None:
            unknown = [n for n in release.channels if n not in config.channels]
            if unknown:
                problems.append(
                    _(
                        "{path}: channels: unknown channel(s) {names}: use names "
                        "from {config} ({known})"
                    ).format(
                        path=release.path,
                        names=", ".join(unknown),
                        config=config.path,
                        known=", ".join(config.channels),
                    )
                )
                continue
        wanted = [
            c
            for c in config.channels.values()
            if release.channels is None or c.name in release.channels
        ]
        channel_plans = []
        for channel in wanted:
            if not channel.ready:
                channel_plans.append(ChannelPlan(channel, None, channel.readiness))
                continue
            adapter = _instantiate(config, channel, make_context(release, channel))
            if channel.name not in checked and hasattr(adapter, "check"):
                checked.add(channel.name)
                try:
                    adapter.check()
                except ChanpubError as error:
                    problems.append(error.message)
            channel_plans.append(ChannelPlan(channel, adapter))
        skip = None
        if release.status != "approved":
            skip = _("draft: not approved yet")
        elif not release.is_due(now):
            assert release.publish_at is not None
            skip = _("scheduled for {when}").format(when=release.publish_at.isoformat())
        plans.append(ReleasePlan(release, tuple(channel_plans), skip))
    if problems:
        raise InputError("\n".join(problems))
    return plans
