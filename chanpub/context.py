"""The one place a ChannelContext is made: for a send (with the ledger's journals and the
live view), for a check or preview (journals that forget), and for `channels --verify`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chanpub.config import ChannelConfig, Config
from chanpub.contract import ChannelContext

if TYPE_CHECKING:
    from chanpub.ledger import Ledger
    from chanpub.release import Release

Observer = Callable[[str, str, str, Mapping[str, Any]], None]  # event, slug, channel, data


def listens(observer: Observer, event: str) -> bool:
    """Whether an observer wants `event`. One may name the only events it wants in an
    `events` attribute; it is not called for the others, which spares a cron run over a
    folder of thousands of remembered releases a call for each."""
    events = getattr(observer, "events", None)
    return events is None or event in events


def channel_context(
    config: Config,
    channel: ChannelConfig,
    release: Release | None = None,
    *,
    ledger: Ledger | None = None,
    observer: Observer | None = None,
) -> ChannelContext:
    """What one adapter gets for one release (or for no release: `channels --verify`).

    The language is the release's, else the config's. With a ledger, item journals and
    letter numbers are kept in it; without one (check, preview, dry run) they are kept in
    memory and forgotten. Progress events go to `observer`, tagged with the slug and the
    channel's name."""
    from chanpub.journal import MemoryJournal

    slug = release.slug if release is not None else ""

    def progress(event: str, data: Mapping[str, Any]) -> None:
        if observer is not None:
            observer(event, slug, channel.name, data)

    language = (release.language if release is not None else None) or config.language
    return ChannelContext(
        organisation=config.organisation,
        language=language,
        base_dir=config.base_dir,
        state_dir=config.state_dir,
        journal_factory=(lambda key: ledger.journal(key, config.redact))
        if ledger is not None
        else (lambda key: MemoryJournal()),
        sequence=ledger,
        store_factory=ledger.store if ledger is not None else None,
        delivered_reader=ledger.delivered_items if ledger is not None else None,
        progress=progress,
        secrets=channel.secrets,
    )


def context_factory(
    config: Config, ledger: Ledger | None, observer: Observer | None = None
) -> Callable[[Release, ChannelConfig], ChannelContext]:
    """`channel_context` bound to one run's config, ledger and observer."""

    def make(release: Release, channel: ChannelConfig) -> ChannelContext:
        return channel_context(config, channel, release, ledger=ledger, observer=observer)

    return make
