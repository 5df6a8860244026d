"""A person's verdict on what a stopped run left open: deliveries that may or may not be
there, and recipients whose answer was lost (`chanpub resolve`, `--resend`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from chanpub.actions import close_http, open_ledger
from chanpub.config import Config
from chanpub.context import Observer, context_factory
from chanpub.dispatch import Dispatcher, _quiet
from chanpub.errors import InputError, StateError
from chanpub.i18n import _
from chanpub.intake import check_approvals, load_releases
from chanpub.ledger import UNSETTLED, Delivery, Ledger
from chanpub.lock import send_lock
from chanpub.outcomes import RunResult
from chanpub.plan import plan_releases
from chanpub.release import Release, now_utc
from chanpub.status import Status


def failed_items(config: Config, key: str) -> list[tuple[str, str]]:
    """The recipients (or other items) of a delivery that were not reached, with reasons."""
    ledger = open_ledger(config, create=False)
    if ledger is None:
        return []
    try:
        return [(item, config.redact(reason)) for item, reason in ledger.failed_items(key)]
    finally:
        ledger.close()


def _unsettled(config: Config, channel: str) -> tuple[str, ...]:
    """Item states a person must settle on `channel`: 'unknown'; for a channel that sends
    to recipients also 'in_progress' (a stopped run's mark; for other channels, such as a
    thread, a mark is the adapter's own business)."""
    found = config.channels.get(channel)
    adapter = found.adapter if found is not None else None
    if adapter is not None and adapter.capabilities.recipients:
        return UNSETTLED
    return (Status.UNKNOWN,)


def unknown_items(config: Config, key: str, channel: str) -> tuple[int, list[tuple[str, str]]]:
    """How many recipients of a delivery may or may not have received it (a lost reply, a
    stopped run), and the first of them with reasons: a person must settle them."""
    ledger = open_ledger(config, create=False)
    if ledger is None:
        return 0, []
    try:
        states = _unsettled(config, channel)
        counts = ledger.item_counts(key)
        total = sum(counts.get(state, 0) for state in states)
        items = ledger.unknown_items(key, states=states) if total else []
        return total, [(item, config.redact(reason)) for item, reason in items]
    finally:
        ledger.close()


def unknown_count(config: Config, slug: str, channel: str) -> int:
    """How many recipients of a release on a channel may or may not have received it."""
    ledger = open_ledger(config, create=False)
    if ledger is None:
        return 0
    try:
        return ledger.unknown_count(slug, channel, _unsettled(config, channel))
    finally:
        ledger.close()


def resolve(config: Config, slug: str, channel: str, *, published: bool, url: str | None) -> int:
    """Record a person's verdict on a delivery a stopped run left unresolved, and on its
    recipients whose outcome is unknown; returns how many entries changed."""
    ledger = open_ledger(config, create=False)
    if ledger is None:
        raise StateError(
            _("there is no ledger in {path} yet: nothing to resolve").format(path=config.state_dir)
        )
    with send_lock(config.state_dir):
        try:
            verdict = "published" if published else "not-published"
            states = _unsettled(config, channel)
            items = ledger.resolve_items(slug, channel, verdict, states=states)
            if states == UNSETTLED:  # recipients: the journal says who is left, not the row
                return items
            return ledger.resolve(slug, channel, published=published, url=url) + items
        finally:
            ledger.close()


def resend(config: Config, slug: str, channel: str, *, observer: Observer = _quiet) -> RunResult:
    """Send the release again to exactly the recipients whose outcome is unknown (they may
    get it twice: the caller asked a person first). Other channels are not touched, but
    the canonical one and the ones this channel attaches still give their links."""

    if open_ledger(config, create=False) is None:
        raise StateError(
            _("there is no ledger in {path} yet: nothing to resolve").format(path=config.state_dir)
        )
    with send_lock(config.state_dir):
        ledger = open_ledger(config)
        assert ledger is not None
        try:
            states = _unsettled(config, channel)
            row = _row_with_unknown(ledger, slug, channel, states)
            releases = load_releases([_release_file(row)])
            check_approvals(releases)
            if releases[0][0].content_sha256 != row.content_hash:
                raise InputError(
                    _(
                        "{path} changed since it was sent to {channel}: approve it again and "
                        "run 'chanpub send', or settle the recipients with '--published -' "
                        "or '--not-published'"
                    ).format(path=releases[0][0].path, channel=channel)
                )
            ledger.resolve_items(slug, channel, "resend", key=row.key, states=states)
            base = context_factory(config, ledger, observer)

            def make(release: Release, channel_config: Any) -> Any:
                context = base(release, channel_config)
                if channel_config.name != channel:
                    return context
                return replace(
                    context,
                    journal_factory=lambda key: ledger.journal(
                        key, config.redact, only=Status.RESEND
                    ),
                )

            plans = [
                _only(plan, channel) for plan in plan_releases(releases, config, now_utc(), make)
            ]
            return Dispatcher(config, ledger, observer=observer).run(plans)
        finally:
            ledger.close()
            close_http()


def _row_with_unknown(ledger: Ledger, slug: str, channel: str, states: tuple[str, ...]) -> Delivery:
    """The newest delivery of the release on the channel that has unknown recipients."""
    for row in ledger.history(slug):
        if row.channel == channel and ledger.unknown_items(row.key, limit=1, states=states):
            return row
    raise InputError(
        _(
            "nothing to resolve for {slug} on {channel}: no recipient is unknown; see "
            "'chanpub history {slug}'"
        ).format(slug=slug, channel=channel)
    )


def _release_file(row: Delivery) -> Path:
    """The release file that delivery was sent from."""
    recorded = row.details.get("release_file")
    path = Path(str(recorded)) if recorded else None
    if path is None or not path.is_file():
        raise InputError(
            _(
                "cannot find the release file of {slug} (last seen as {path}): put it back, or "
                "settle the recipients with '--published -' or '--not-published'"
            ).format(slug=row.slug, path=path or "?")
        )
    return path


def _only(plan: Any, channel: str) -> Any:
    """The plan with only `channel` and the channels it needs (canonical, attachments)."""
    target = next((c for c in plan.channels if c.name == channel), None)
    needed = {channel}
    if target is not None and hasattr(target.adapter, "depends_on"):
        needed |= set(target.adapter.depends_on())
    kept = tuple(
        c
        if c.name in needed or c.config.canonical
        else replace(c, config=replace(c.config, enabled=False))
        for c in plan.channels
    )
    return replace(plan, channels=kept)


def open_items(config: Config, rows: Sequence[Delivery]) -> list[str]:
    """Lines for `history`: per delivery, the recipients not reached and the ones nobody
    knows about (at most 20 of each), with the command that settles them."""
    from chanpub.journal import unknown_line

    lines = []
    for row in rows:
        lines += [f"  {row.channel}: {a}: {r}" for a, r in failed_items(config, row.key)[:20]]
        count, unknown = unknown_items(config, row.key, row.channel)
        if count:
            lines.append("  " + unknown_line(row.channel, row.slug, count))
        lines += [f"  {row.channel}: {a}: {r}" for a, r in unknown[:20]]
    return lines


def resend_after_asking(
    config: Config,
    slug: str,
    channel: str,
    *,
    ask: Callable[[str], bool],
    can_ask: bool,
    say: Callable[[str], None],
) -> RunResult | None:
    """`resolve --resend`: say how many recipients may get the message twice, ask (`ask`;
    without a person to ask, `can_ask` is False and nothing is sent: exit 2), then send to
    exactly them. None when the person said no."""
    count = unknown_count(config, slug, channel)
    if not count:
        raise InputError(
            _(
                "nothing to resolve for {slug} on {channel}: no recipient is unknown; see "
                "'chanpub history {slug}'"
            ).format(slug=slug, channel=channel)
        )
    say(
        _(
            "{count} recipient(s) of {slug} on {channel} may already have the message: "
            "sending again, they may get it twice"
        ).format(count=count, slug=slug, channel=channel)
    )
    if not can_ask:
        raise InputError(
            _("not sent: without a terminal to ask on, add --yes to send to them again")
        )
    if not ask(_("Send to them again?")):
        say(_("nothing was sent"))
        return None
    return resend(config, slug, channel)
