"""Which releases go where: release files -> validated, approved, due releases, each with
the channels it goes to. Everything that can be wrong with the input is found here,
before anything is sent."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chanpub.config import ChannelConfig, Config
from chanpub.contract import ChannelContext, Links
from chanpub.errors import ChanpubError, ConfigError, InputError
from chanpub.handle import ChannelHandle
from chanpub.i18n import _
from chanpub.intake import InvalidRelease, invalid_release
from chanpub.release import Release
from chanpub.status import Status

if TYPE_CHECKING:
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


def release_source(release: Release) -> str:
    """The release file as the ledger keeps it: the same whatever the working folder."""
    return str(release.path.resolve())


def delivery_key(release: Release, channel: str) -> str:
    """The stable key of one delivery: the same on every retry and every run."""
    return hashlib.sha256(f"{release.slug}:{release.content_sha256}:{channel}".encode()).hexdigest()


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
        going_out = skip is None or explicit  # a draft in a folder is not opened
        unusable = _release_problems(release, channel_plans) if going_out else []
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
    return skip_text(release.is_signed_off, release.publish_at, now)


def skip_text(signed_off: bool, publish_at: datetime | None, now: datetime) -> str | None:
    """Why a release with this approval state and `publish_at` is not sent at `now`."""
    if not signed_off:
        return _("draft: not approved yet")
    if publish_at is not None and publish_at > now:
        return _("scheduled for {when}").format(when=publish_at.isoformat())
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
