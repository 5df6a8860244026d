"""The work behind each CLI command, as functions testable without the CLI."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from chanpub.approvals.record import Signer
from chanpub.channel_joined import JoinedChannels
from chanpub.config import Config, load_config
from chanpub.context import Observer, context_factory
from chanpub.contract import Mechanism, Preview
from chanpub.dispatch import Dispatcher, _quiet
from chanpub.errors import ChanpubError, ConfigError, ReleaseError, StateError
from chanpub.handle import ChannelHandle
from chanpub.i18n import _, choose_language, set_language
from chanpub.intake import (
    InvalidRelease,
    check_approvals,
    load_files,
    load_releases,
)
from chanpub.ledger import Delivery, Ledger
from chanpub.lock import send_lock
from chanpub.outcomes import ReleaseResult, RunResult
from chanpub.plan import ReleasePlan, check_config, plan_releases, predicted_links
from chanpub.receipts import earlier_version
from chanpub.release import Release, now_utc
from chanpub.scan import FolderScan, Survey

LEDGER_NAME = "ledger.sqlite3"


def open_ledger(config: Config, *, create: bool = True) -> Ledger | None:
    """The ledger: the database of `database:` when set, else the file in the state
    directory (None when that does not exist and create is off)."""
    if config.database:
        return Ledger(config.database)
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
    enqueue_only: bool = False,
) -> RunResult:
    """Publish every approved, due release in `paths` to its channels, exactly once.

    Everything is validated before anything is sent; a run holds the send lock. A broken
    release found in a folder is held back (it comes back as an invalid result, exit 2)
    and the others still go out; a broken release named on the command line, or a broken
    config, stops the run before anything is sent. With `database:` the deliveries go
    through the task queue (chanpub.queue); `enqueue_only` leaves them to workers."""
    if enqueue_only and not config.database:
        raise ConfigError(
            _(
                "--enqueue-only: {path} has no 'database:', so there is no queue for workers: "
                "set 'database: ${{CHANPUB_DATABASE_URL}}', or leave out --enqueue-only"
            ).format(path=config.path)
        )
    warnings: list[str] = []
    invalid: list[InvalidRelease] = []
    check_config(config)
    moment = now or now_utc()
    scan, survey = _survey(config, paths, moment)
    releases = check_approvals(
        load_files(survey.to_read, warnings, invalid), invalid, config.approvers
    )
    if scan.clashes(survey, releases, invalid):  # rare: decide on a full read
        warnings, invalid = [], []
        survey = scan.survey(paths, moment, remember=False)
        releases = check_approvals(
            load_files(survey.to_read, warnings, invalid), invalid, config.approvers
        )
    survey.report(observer)
    warnings.extend(survey.warnings)
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
        return _with_invalid(result, invalid, warnings, survey)
    with _held_ledger(config) as ledger:
        try:
            ledger.check_writable()
            make_context = context_factory(config, ledger, observer)
            plans = plan_releases(releases, config, moment, make_context, invalid, ledger, update)
            _record_signers(ledger, plans, config)
            if config.database:
                from chanpub import queue

                work = queue.Work(config, ledger, observer)
                result = queue.send_queued(
                    work, plans, update=update, enqueue_only=enqueue_only, concurrency=4
                )
            else:
                result = Dispatcher(config, ledger, update=update, observer=observer).run(plans)
            scan.learn(plans)
            scan.save(ledger)
            return _with_invalid(result, invalid, warnings, survey)
        finally:
            close_http()


@contextmanager
def _held_ledger(config: Config) -> Iterator[Ledger]:
    """The ledger, open, with the send lock held: a lock in the database when the ledger
    is shared (`database:`), else the file lock in the state directory."""
    if config.database:
        ledger = Ledger(config.database)
        try:
            with ledger.claim_run():
                yield ledger
        finally:
            ledger.close()
        return
    with send_lock(config.state_dir):
        ledger = Ledger(config.state_dir / LEDGER_NAME)
        try:
            yield ledger
        finally:
            ledger.close()


def _survey(config: Config, paths: Sequence[Path], moment: datetime) -> tuple[FolderScan, Survey]:
    """What earlier runs made of the folders' files, and so the files this run reads (done
    before the send lock is taken, so that a broken release is still reported first)."""
    try:
        ledger = open_ledger(config, create=False)
    except StateError:  # unreadable: nothing remembered; the send lock says what is wrong
        ledger = None
    try:
        scan = FolderScan(config)
        return scan, scan.survey(paths, moment, ledger)
    finally:
        if ledger is not None:
            ledger.close()


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
    result: RunResult, invalid: list[InvalidRelease], warnings: list[str], survey: Survey
) -> RunResult:
    """The run's results with the held-back and the remembered releases among them, in
    file order."""
    if not invalid and not survey.held:
        return replace(result, warnings=tuple(warnings))
    held = [ReleaseResult(i.slug, i.title, str(i.path), (), error=i.error) for i in invalid]
    releases = survey.in_file_order([*result.releases, *held])
    return replace(result, releases=tuple(releases), warnings=tuple(warnings))


def close_http() -> None:
    """Close the shared HTTP client, if a channel opened it."""
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
    amends: str | None = None  # for a correction or retraction: what it will do here


def check(path: Path, config: Config) -> tuple[Release, list[ChannelCheck]]:
    """Validate a release and the config; preview what every channel would publish."""
    from chanpub.context import channel_context

    if path.is_dir():  # load_releases would take the folder's releases: one is wanted here
        raise ReleaseError(
            _(
                "{path}: is a folder, not a release file: give one release file, e.g. "
                "releases/banjir.md; to check every release in it, run 'chanpub send "
                "{path} --dry-run'"
            ).format(path=path)
        )
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
        amends = _amends(config, release, handle, preview)
        checks.append(
            ChannelCheck(
                channel.name, channel.config.type, preview, channel.skip_reason, handle, amends
            )
        )
    return release, checks


def amendment_effect(handle: ChannelHandle, release: Release, recipients: int | None) -> str | None:
    """What a correction or retraction will do on a channel, in words; None when the
    release amends nothing. `recipients`: how many a notice goes to."""
    kind = release.amendment
    if kind is None:
        return None
    mechanism = handle.amends_by(kind)
    if mechanism == Mechanism.EDIT:
        return _("will be edited")
    if mechanism == Mechanism.REPLY:
        return _("a reply will be posted")
    if mechanism == Mechanism.DELETE:
        return _("will be deleted")
    if mechanism == Mechanism.NOTICE:
        return _("a notice goes to {n} recipient(s)").format(n=recipients or 0)
    if kind == "retraction":
        return _("cannot be withdrawn automatically: do it by hand")
    return _("cannot be corrected automatically: do it by hand")


def _amends(
    config: Config, release: Release, handle: ChannelHandle, preview: Preview
) -> str | None:
    """What a correction or retraction will do on this channel, as `send` will do it: the
    ledger read once for the version the channel shows and the recipients it reached (a
    notice goes to them; before anything went out, to the list as it is)."""
    if release.amendment is None:
        return None
    listed = preview.recipients or 0
    ledger = open_ledger(config, create=False)
    if ledger is None:
        return amendment_effect(handle, release, listed)
    try:
        recipients = handle.capabilities.recipients
        shown = earlier_version(ledger, release, handle.name, recipients=recipients)
        if shown is None and release.retraction:
            return _("withdrawn before it was published here: nothing to do")
        if shown is None:  # no version went here: a channel added since is left out
            joined = JoinedChannels(config, ledger, record=False)
            reason = joined.reason(release, config.channels[handle.name])
            if reason is not None:
                return reason
        reached = len(ledger.delivered_items(shown.key)) if shown and recipients else listed
        return amendment_effect(handle, release, reached)
    finally:
        ledger.close()


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
    close_http()
    return statuses


WARN_DAYS = 7  # a token expiring sooner than this is flagged (issue 14: a week ahead)


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


def load(config_option: Path | None, *, language: str | None = None) -> Config:
    """Find and load the config (see config.find_config for the order) and choose the
    language of messages: `language` (from --lang), then the config's `language`, then
    the system's locale, then English."""
    from chanpub.config import find_config

    config = load_config(find_config(config_option))
    set_language(choose_language(language, config.language_setting))
    return config


def approve(
    path: Path,
    by: str,
    key: Path | None,
    config_option: Path | None,
    *,
    language: str | None = None,
) -> tuple[Release, Signer | None]:
    """`chanpub approve`: signed by `by` when the config lists approvers, else the
    unsigned approval fields. With no config here (and none given), unsigned. Messages
    are in the language `load` would choose."""
    from chanpub.approval import approve as approve_unsigned
    from chanpub.approvals.sign import approve_signed
    from chanpub.config import find_config
    from chanpub.errors import ApprovalError, ConfigError

    approvers = None
    try:
        config = load_config(find_config(config_option), load_adapters=False)
    except ConfigError:
        if config_option is not None:
            raise
    else:
        set_language(choose_language(language, config.language_setting))
        approvers = config.approvers
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
