"""Which releases go where: release files -> validated, approved, due releases, each with
the channels it goes to. Everything that can be wrong with the input is found here,
before anything is sent."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from chanpub.config import ChannelConfig, Config
from chanpub.contract import ChannelContext, Links
from chanpub.errors import ApprovalError, ChanpubError, ConfigError, InputError, ReleaseError
from chanpub.handle import ChannelHandle
from chanpub.i18n import _
from chanpub.release import Release, load_release
from chanpub.release_image import check_image
from chanpub.status import Status

if TYPE_CHECKING:
    from chanpub.approvals.record import Approvers
    from chanpub.ledger import Ledger

ContextFactory = Callable[[Release, ChannelConfig], ChannelContext]


@dataclass(frozen=True)
class ChannelPlan:
    """One configured channel for one release: the adapter, or why it is left out."""

    config: ChannelConfig
    adapter: ChannelHandle | None  # None when the channel is left out
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

    @property
    def canonical(self) -> ChannelPlan | None:
        """The channel that publishes the official article, when it runs."""
        return next((c for c in self.channels if c.adapter and c.config.canonical), None)


def predicted_links(plan: ReleasePlan, ledger: Ledger | None) -> Links:
    """The canonical URL the other channels will link to, before the canonical channel
    runs: where an earlier run published it (from the ledger), else where the canonical
    adapter says it will publish it."""
    canonical = plan.canonical
    if canonical is None or canonical.adapter is None:
        return Links()
    release = plan.release
    if ledger is not None:
        row = ledger.get(release.slug, release.content_sha256, canonical.name)
        if row is not None and row.status == Status.PUBLISHED and row.url:
            return Links(canonical_url=row.url, predicted=False)
        earlier = [d for d in ledger.published_versions(release.slug, canonical.name) if d.url]
        if earlier:  # a corrected release keeps its page's address
            return Links(canonical_url=earlier[-1].url, predicted=False)
    return Links(canonical_url=canonical.adapter.canonical_url(release))


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


def release_source(release: Release) -> str:
    """The release file as the ledger keeps it: the same whatever the working folder."""
    return str(release.path.resolve())


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


def _instantiate(channel: ChannelConfig, context: ChannelContext) -> ChannelHandle:
    assert channel.adapter is not None and channel.options is not None
    return ChannelHandle(channel.adapter(channel.name, channel.options, context))


def check_config(config: Config) -> None:
    """Refuse a config with nothing to send to, before the ledger or the lock is touched."""
    if not config.channels:
        raise ConfigError(
            _(
                "{path}: channels: no channel is configured: add at least one (for example "
                "a 'static-site' website; see 'chanpub init')"
            ).format(path=config.path)
        )


def plan_releases(
    releases: Sequence[tuple[Release, bool]],
    config: Config,
    now: datetime,
    make_context: ContextFactory,
    invalid: list[InvalidRelease] | None = None,
    ledger: Ledger | None = None,
    update: bool = False,
) -> list[ReleasePlan]:
    """Each release with its channels, checked before anything is sent.

    Problems of the configuration (an adapter's own check(), which sees no release; a
    channel named in another's options that does not exist) stop the run. Problems of one
    release (a `channels:` name that is not configured; a default slug already published
    from another file, looked up in `ledger`) stop the run for a release named on the
    command line, and only hold that release back when it was found in a folder and
    `invalid` is given.
    """
    check_config(config)
    problems: list[str] = []
    plans: list[ReleasePlan] = []
    checked: set[str] = set()
    for release, explicit in releases:
        problem = _unknown_channels(release, config)
        skip = _skip_reason(release, now)
        if problem is None and skip is None and ledger is not None:
            problem = _slug_taken(release, ledger) or _unannounced_change(release, ledger, update)
        if problem is not None:
            if explicit or invalid is None:
                problems.append(problem)
            else:
                invalid.append(invalid_release(release.path, problem, release))
            continue
        channel_plans = []
        for channel in config.channels.values():
            if release.channels is not None and channel.name not in release.channels:
                continue
            if not channel.ready:
                channel_plans.append(ChannelPlan(channel, None, channel.readiness))
                continue
            adapter = _instantiate(channel, make_context(release, channel))
            if channel.name not in checked:
                checked.add(channel.name)
                problems.extend(_check_adapter(adapter, channel, config))
            channel_plans.append(ChannelPlan(channel, adapter))
        unusable = _release_problems(release, channel_plans)
        if unusable:  # e.g. a picture no channel can carry: held back like a broken file
            if explicit or invalid is None:
                problems.extend(p for p in unusable if p not in problems)
            else:
                invalid.append(invalid_release(release.path, "\n".join(unusable), release))
            continue
        plans.append(ReleasePlan(release, tuple(channel_plans), skip))
    if problems:
        raise InputError("\n".join(problems))
    return plans


def _release_problems(release: Release, channels: Sequence[ChannelPlan]) -> list[str]:
    """What the channels' own check_release() find wrong with this release, once each."""
    problems: list[str] = []
    for channel in channels:
        if channel.adapter is None:
            continue
        try:
            channel.adapter.check_release(release)
        except ChanpubError as error:
            if error.message not in problems:  # one unreadable image, one line
                problems.append(error.message)
    return problems


def _skip_reason(release: Release, now: datetime) -> str | None:
    """Why a valid release is not sent now: a draft, or not due yet."""
    if not release.is_signed_off:
        return _("draft: not approved yet")
    if not release.is_due(now):
        assert release.publish_at is not None
        return _("scheduled for {when}").format(when=release.publish_at.isoformat())
    return None


def _unknown_channels(release: Release, config: Config) -> str | None:
    """The release's `channels:` names that channels.yaml does not have."""
    if release.channels is None:
        return None
    unknown = [n for n in release.channels if n not in config.channels]
    if not unknown:
        return None
    return _(
        "{path}: channels: unknown channel(s) {names}: use names from {config} ({known})"
    ).format(
        path=release.path,
        names=", ".join(unknown),
        config=config.path,
        known=", ".join(config.channels),
    )


def _slug_taken(release: Release, ledger: Ledger) -> str | None:
    """A slug made from the title that another file already published under.

    An explicit `slug:` is the officer's word that this is the same release (a file that
    was moved or renamed), so only the default slug is checked.
    """
    if "slug" in release.front_matter:
        return None
    others = ledger.published_sources(release.slug) - {release_source(release)}
    if not others:
        return None
    return _(
        "{path}: title: gives the slug '{slug}', already published from {other}: give this "
        "release its own 'slug:' and approve it again (if it is that release, moved here, "
        "write 'slug: {slug}' in it and approve it again)"
    ).format(path=release.path, slug=release.slug, other=", ".join(sorted(others)))


def _unannounced_change(release: Release, ledger: Ledger, update: bool) -> str | None:
    """A published release changed without a `correction:` note (or `--update`): what
    changed must be said where it went, or it must become a new release."""
    if release.amendment is not None or update:
        return None
    published = ledger.published_hashes(release.slug)
    if not published or release.content_sha256 in published:
        return None
    return _(
        "{path}: this release was already published and has changed since: add a line "
        "'correction: ...' saying what changed (it goes out with the new version everywhere "
        "the release went), or give it a new 'slug:' to publish it as a new release"
    ).format(path=release.path)


def _check_adapter(adapter: ChannelHandle, channel: ChannelConfig, config: Config) -> list[str]:
    """The adapter's own check(), and the channels it needs that do not exist."""
    problems = []
    try:
        adapter.check()
    except ChanpubError as error:
        problems.append(error.message)
    for name in adapter.depends_on():
        if name not in config.channels:
            problems.append(
                _(
                    "{path}: channels.{channel}: uses the output of '{name}' (named in its "
                    "options, such as attach:), which is not a channel in this file: use one "
                    "of {known}, or remove it"
                ).format(
                    path=config.path,
                    channel=channel.name,
                    name=name,
                    known=", ".join(config.channels),
                )
            )
    return problems
