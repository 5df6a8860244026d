"""When each channel joined the office's channels, and the releases from before it.

An office that adds a channel to a working channels.yaml (a new Mastodon account, the
WhatsApp number it finally got) means the releases approved from then on. Without this,
cron's next `chanpub send releases/` would find every approved release of the folder not
yet on that channel and publish the whole archive there at once: a year of posts, or every
old release to every WhatsApp subscriber.

So the ledger keeps, per channel name, when a run first found the channel ready (store
namespace `channels-joined`; the first writer wins, on any host), and a release that had
gone out somewhere before that is not sent to it: skipped, saying why and how to ask for
it (`backfill: true` on the channel). A channel that was ready once and then lacked its
secret for a while still catches up, since only its first readiness counts; one switched
off on purpose (`enabled: false`) while releases went out joins again when switched back
on, so what went out meanwhile is not sent there; a channel renamed is a new channel. An
earlier version already on the channel is not affected: the rule applies only where no
version of the release went. The canonical channel is not held back: it carries the
official article every other channel links to, so a new official website gets the archive
(and a channel waiting for it is never left waiting).
"""

from __future__ import annotations

from threading import Lock
from typing import TYPE_CHECKING

from chanpub.i18n import _

if TYPE_CHECKING:
    from chanpub.config import ChannelConfig, Config
    from chanpub.ledger import Ledger
    from chanpub.release import Release

NAMESPACE = "channels-joined"


class JoinedChannels:
    """The channels' joining times, read (and, for a run that sends, recorded) once, at
    the run's first delivery: before anything of the run went out."""

    def __init__(self, config: Config, ledger: Ledger | None, *, record: bool) -> None:
        self.config, self.ledger, self.record = config, ledger, record
        self._times: dict[str, str] | None = None
        self._lock = Lock()  # a run's first deliveries may start together, in threads

    def times(self) -> dict[str, str]:
        """Each ready channel's joining time, as the ledger writes times."""
        with self._lock:
            if self._times is None:
                self._times = self._read()
            return self._times

    def _read(self) -> dict[str, str]:
        from chanpub.ledger.schema import now

        assert self.ledger is not None
        known = dict(self.ledger.stored_items(NAMESPACE))
        moment = now()
        times: dict[str, str] = {}
        for channel in self.config.channels.values():
            if not channel.enabled and channel.name in known and self.record:
                # switched off on purpose: switched on again, it starts from then
                self.ledger.set_stored(NAMESPACE, channel.name, None)
            if not channel.ready:
                continue
            if channel.name in known:
                times[channel.name] = str(known[channel.name])
            elif self.record:
                times[channel.name] = str(self.ledger.stored_once(NAMESPACE, channel.name, moment))
            else:  # a dry run records nothing, and shows what a run now would do
                times[channel.name] = moment
        return times

    def reason(self, release: Release, channel: ChannelConfig) -> str | None:
        """Why `release`, which no version of went to `channel`, is not sent there now;
        None when it may be."""
        if self.ledger is None:
            return None
        joined = self.times().get(channel.name)  # first: before anything of the run goes out
        if joined is None or channel.backfill or channel.canonical:
            return None  # canonical: the official article, which every channel links to
        went_out = self.ledger.first_published(release.slug)
        if went_out is None or went_out >= joined:
            return None
        return _(
            "{channel} was added after this release went out ({when}), so it is not sent "
            "there: to send such earlier releases to it too, set "
            "channels.{channel}.backfill: true in channels.yaml"
        ).format(channel=channel.name, when=went_out[:16].replace("T", " "))
