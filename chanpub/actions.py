"""The work behind each CLI command, as functions testable without the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from chanpub.approvals.record import Signer
from chanpub.config import Config, load_config
from chanpub.context import Observer, context_factory
from chanpub.contract import Preview
from chanpub.dispatch import Dispatcher, _quiet
from chanpub.errors import ChanpubError, InputError, StateError
from chanpub.handle import ChannelHandle
from chanpub.i18n import _, choose_language, set_language
from chanpub.ledger import UNSETTLED, Delivery, Ledger
from chanpub.lock import send_lock
from chanpub.outcomes import ReleaseResult, RunResult
from chanpub.plan import (
    InvalidRelease,
    ReleasePlan,
    check_approvals,
    check_config,
    load_releases,
    plan_releases,
    predicted_links,
    release_files,
)
from chanpub.release import Release, now_utc
from chanpub.status import Status

LEDGER_NAME = "ledger.sqlite3"


def open_ledger(config: Config, *, create: bool = True) -> Ledger | None:
    """The ledger in the state directory; None when it does not exist and create is off."""
    path = config.state_dir / LEDGER_NAME
    if not create and not path.exists():
        return None
    return Ledger(path)


def send(
    paths: Sequence[Path],
    config: Config,
    *,
    dry_run: bool = False,
    update: bool = False,
    now: datetime | None = None,
    observer: Observer = _quiet,
) -> RunResult:
    """Publish every approved, due release in `paths` to its channels, exactly once.

    Everything is validated before anything is sent; a run holds the send lock. A broken
    release found in a folder is held back (it comes back as an invalid result, exit 2)
    and the others still go out; a broken release named on the command line, or a broken
    config, stops the run before anything is sent."""
    warnings: list[str] = []
    invalid: list[InvalidRelease] = []
    check_config(config)
    releases = check_approvals(load_releases(paths, warnings, invalid), invalid, config.approvers)
    moment = now or now_utc()
    if dry_run:
        ledger = open_ledger(config, create=False)
        try:
            plans = plan_releases(
                releases, config, moment, context_factory(config, None), invalid, ledger, update
            )
            result = Dispatcher(config, ledger, dry_run=True, observer=observer).run(plans)
        finally:
            if ledger is not None:
                ledger.close()
        return _with_invalid(result, invalid, warnings, paths)
    with send_lock(config.state_dir):
        ledger = open_ledger(config)
        assert ledger is not None
        try:
            ledger.check_writable()
            make_context = context_factory(config, ledger, observer)
            plans = plan_releases(releases, config, moment, make_context, invalid, ledger, update)
            _record_signers(ledger, plans, config)
            result = Dispatcher(config, ledger, update=update, observer=observer).run(plans)
            return _with_invalid(result, invalid, warnings, paths)
        finally:
            ledger.close()
            _close_http()


def _record_signers(ledger: Ledger, plans: Sequence[ReleasePlan], config: Config) -> None:
    """Keep in the ledger who signed each release version that goes out now, so history
    can say who approved it even after the file changed."""
    if config.approvers is None:
        return
    from chanpub.approvals.verify import verify_release

    for plan in plans:
        if plan.skip_reason is None:
            signers = verify_release(plan.release, config.approvers).signers
            rows = [(s.name, s.kind, s.fingerprint, s.at) for s in signers]
            ledger.record_signers(plan.release.slug, plan.release.content_sha256, rows)


def approval_history(config: Config, slug: str | None = None) -> list[dict[str, str]]:
    """Who signed the approvals of the release versions that went out."""
    ledger = open_ledger(config, create=False)
    if ledger is None:
        return []
    try:
        return ledger.signers(slug)
    finally:
        ledger.close()


def approval_note(release: Release, config: Config) -> str:
    """What `check` says about the release's approval (signed or not, and by whom)."""
    from chanpub.approvals.verify import approval_note as note

    return note(release, config.approvers, config.path)


def _with_invalid(
    result: RunResult, invalid: list[InvalidRelease], warnings: list[str], paths: Sequence[Path]
) -> RunResult:
    """The run's results with the held-back releases among them, in file order."""
    if not invalid:
        return replace(result, warnings=tuple(warnings))
    held = [ReleaseResult(i.slug, i.title, i.path, (), error=i.error) for i in invalid]
    order = {path: number for number, (path, _explicit) in enumerate(release_files(paths))}
    releases = sorted((*result.releases, *held), key=lambda r: order.get(r.path, len(order)))
    return replace(result, releases=tuple(releases), warnings=tuple(warnings))


def _close_http() -> None:
    import sys

    if "chanpub.http" in sys.modules:
        sys.modules["chanpub.http"].close_shared_client()


@dataclass(frozen=True)
class ChannelCheck:
    """What `check` shows for one channel: the preview, or why there is none."""

    name: str
    type: str
    preview: Preview | None
    reason: str | None = None  # why it will not be sent (the preview may still be there)
    handle: ChannelHandle | None = None  # the adapter that made the preview


def check(path: Path, config: Config) -> tuple[Release, list[ChannelCheck]]:
    """Validate a release and the config; preview what every channel would publish."""
    from chanpub.context import channel_context

    releases = load_releases([path])
    release = releases[0][0]
    plan = plan_releases(releases, config, now_utc(), context_factory(config, None))[0]
    links = predicted_links(plan, None)
    checks: list[ChannelCheck] = []
    for channel in plan.channels:
        handle = channel.adapter
        if handle is None and channel.config.adapter and channel.config.options is not None:
            # Not going out (disabled, missing secret), but still shown as it would look.
            handle = ChannelHandle(
                channel.config.adapter(
                    channel.name,
                    channel.config.options,
                    channel_context(config, channel.config, release),
                )
            )
        if handle is None:
            checks.append(
                ChannelCheck(channel.name, channel.config.type, None, channel.skip_reason)
            )
            continue
        try:
            preview = handle.preview(release, links)
        except ChanpubError as error:
            checks.append(
                ChannelCheck(channel.name, channel.config.type, None, config.redact(error.message))
            )
            continue
        checks.append(
            ChannelCheck(channel.name, channel.config.type, preview, channel.skip_reason, handle)
        )
    return release, checks


@dataclass(frozen=True)
class ChannelStatus:
    """One configured channel and whether it can run."""

    name: str
    type: str
    readiness: str
    ready: bool
    canonical: bool
    verified: str | None = None  # 'ok' or what is wrong, with --verify


def channel_statuses(config: Config, *, verify: bool = False) -> list[ChannelStatus]:
    """Every configured channel with its readiness (and a live credentials check)."""
    from chanpub.context import channel_context

    statuses = []
    for channel in config.channels.values():
        verified = None
        if verify and channel.ready and channel.adapter is not None:
            facts: dict[str, Any] = {}

            def collect(
                event: str,
                _slug: str,
                _name: str,
                data: Mapping[str, Any],
                facts: dict[str, Any] = facts,
            ) -> None:
                if event == "verified":
                    facts.update(data)

            handle = ChannelHandle(
                channel.adapter(
                    channel.name,
                    channel.options,
                    channel_context(config, channel, observer=collect),
                )
            )
            verified = _verify(handle, config, facts)
        statuses.append(
            ChannelStatus(
                channel.name,
                channel.type,
                channel.readiness,
                channel.ready,
                channel.canonical,
                verified,
            )
        )
    _close_http()
    return statuses


WARN_DAYS = 14  # a token expiring sooner than this is flagged


def _verify(handle: ChannelHandle, config: Config, facts: Mapping[str, Any]) -> str:
    """'ok', 'ok (account, N days left)', or what is wrong and which variable to fix."""
    if not handle.can_verify:
        return _("no check available for this type")
    try:
        result = handle.verify()
    except ChanpubError as error:
        return config.redact(error.message)
    notes = [result] if result and result != "ok" else []
    if facts.get("account"):
        notes.append(str(facts["account"]))
    days = facts.get("days_left")
    if isinstance(days, int | float):
        note = _("token expires in {days} days").format(days=int(days))
        notes.append(note + (" — " + _("renew it soon") if days < WARN_DAYS else ""))
    return "ok" + (f" ({'; '.join(notes)})" if notes else "")


def history(config: Config, slug: str | None = None) -> list[Delivery]:
    """What went where and when, newest first."""
    ledger = open_ledger(config, create=False)
    if ledger is None:
        return []
    try:
        return ledger.history(slug)
    finally:
        ledger.close()


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
            _close_http()


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


def load(config_option: Path | None, *, language: str | None = None) -> Config:
    """Find and load the config (see config.find_config for the order) and choose the
    language of messages: `language` (from --lang), then the config's `language`, then
    the system's locale, then English."""
    from chanpub.config import find_config

    config = load_config(find_config(config_option))
    set_language(choose_language(language, config.language_setting))
    return config


def approve(
    path: Path, by: str, key: Path | None, config_option: Path | None
) -> tuple[Release, Signer | None]:
    """`chanpub approve`: signed by `by` when the config lists approvers, else the
    unsigned approval fields. With no config here (and none given), unsigned."""
    from chanpub.approval import approve as approve_unsigned
    from chanpub.approvals.sign import approve_signed
    from chanpub.config import find_config
    from chanpub.errors import ApprovalError, ConfigError

    approvers = None
    try:
        approvers = load_config(find_config(config_option), load_adapters=False).approvers
    except ConfigError:
        if config_option is not None:
            raise
    if approvers is not None:
        return approve_signed(path, by, key, approvers)
    if key is not None:
        raise ApprovalError(
            _(
                "--key: approvals are not signed here (no approvers: in channels.yaml): list "
                "approvers with their SSH keys there, or leave out --key"
            )
        )
    return approve_unsigned(path, by), None
