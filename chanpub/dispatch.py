"""Due releases -> the canonical channel first -> the rest concurrently -> Outcomes.

For every delivery the ledger gets an in-progress mark (with the delivery key) before the
adapter is called and the outcome right after, each committed on its own. Retryable
failures are retried here with a bounded wait; ambiguous ones are looked up, never blindly
repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chanpub import shutdown
from chanpub.channels.base import ChannelContext, Links, Receipt
from chanpub.config import ChannelConfig, Config
from chanpub.errors import (
    AmbiguousError,
    ChannelError,
    DuplicateError,
    ExitCode,
    PartialFailure,
    RetryableError,
)
from chanpub.i18n import _
from chanpub.ledger import FAILED, IN_PROGRESS, NEEDS_CHECK, PUBLISHED, Delivery, Ledger
from chanpub.plan import ChannelPlan, ReleasePlan, delivery_key
from chanpub.release import Release

MAX_RETRY_WAIT = 60.0  # seconds; a longer Retry-After makes the channel failed-for-now
RETRY_ATTEMPTS = 4
RETRY_TIMEOUT = 120.0

PUBLISHED_STATUS = "published"
ALREADY = "already-published"
SKIPPED = "skipped"
FAILED_STATUS = "failed"

Observer = Callable[[str, str, str, Mapping[str, Any]], None]  # event, slug, channel, data


@dataclass(frozen=True)
class Outcome:
    """What happened to one release on one channel."""

    channel: str
    type: str
    status: str  # published | already-published | skipped | failed
    url: str | None = None
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReleaseResult:
    """One release and the outcome on each of its channels."""

    slug: str
    title: str
    path: Path
    outcomes: tuple[Outcome, ...]


@dataclass(frozen=True)
class RunResult:
    """Everything a send did; the exit code follows from it."""

    releases: tuple[ReleaseResult, ...]
    warnings: tuple[str, ...] = ()  # for stderr: unknown fields, files that are no release

    @property
    def exit_code(self) -> ExitCode:
        """1 when any channel failed, else 0."""
        failed = any(o.status == FAILED_STATUS for r in self.releases for o in r.outcomes)
        return ExitCode.CHANNEL_FAILED if failed else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        """The `--json` document (its keys are a contract; see tests/test_json_contract)."""
        return {
            "releases": [
                {
                    "slug": r.slug,
                    "title": r.title,
                    "channels": [
                        {
                            "channel": o.channel,
                            "type": o.type,
                            "status": o.status,
                            "url": o.url,
                            "error": o.error,
                        }
                        for o in r.outcomes
                    ],
                }
                for r in self.releases
            ]
        }


def _quiet(event: str, slug: str, channel: str, data: Mapping[str, Any]) -> None:
    """An observer that ignores everything."""


@dataclass
class Dispatcher:
    """Publishes planned releases; one instance per run."""

    config: Config
    ledger: Ledger | None  # read for what already went out; None when there is none yet
    dry_run: bool = False  # render and report, record and send nothing
    update: bool = False
    observer: Observer = _quiet

    def run(self, plans: Sequence[ReleasePlan]) -> RunResult:
        """Publish every plan in order; one failing channel never stops the others."""
        return RunResult(tuple(self._release(plan) for plan in plans))

    # --- one release --------------------------------------------------------------------

    def _release(self, plan: ReleasePlan) -> ReleaseResult:
        release = plan.release
        if plan.skip_reason is not None:
            outcomes = tuple(
                self._skip(c, plan.skip_reason) for c in plan.channels if c.config.enabled
            )
            return ReleaseResult(release.slug, release.title, release.path, outcomes)
        results: dict[str, Outcome] = {}
        outputs: dict[str, Receipt] = {}
        for channel in plan.channels:
            if not channel.config.enabled:
                continue  # switched off in channels.yaml: a setting, not an outcome
            if channel.adapter is None:
                results[channel.name] = self._skip(channel, channel.skip_reason or "")
            else:
                self.observer("waiting", release.slug, channel.name, {})
        runnable = [c for c in plan.channels if c.adapter is not None]
        canonical = next((c for c in runnable if c.config.canonical), None)
        links = Links(canonical_url=self._predicted_url(canonical, release))
        if canonical is not None:
            outcome, receipt = self._deliver(release, canonical, links)
            results[canonical.name] = outcome
            if receipt is not None:
                outputs[canonical.name] = receipt
            if outcome.status in (PUBLISHED_STATUS, ALREADY) and outcome.url:
                links = Links(canonical_url=outcome.url, predicted=False)
            elif links.canonical_url is None:
                reason = _(
                    "waiting for the canonical channel '{name}', which did not publish: "
                    "the next run retries"
                ).format(name=canonical.name)
                for channel in runnable:
                    if channel is not canonical:
                        results[channel.name] = self._fail(channel, reason)
                return self._result(release, plan, results)
        pending = [c for c in runnable if c is not canonical and c.name not in results]
        self._run_waves(release, pending, links, outputs, results)
        return self._result(release, plan, results)

    def _result(
        self, release: Release, plan: ReleasePlan, results: dict[str, Outcome]
    ) -> ReleaseResult:
        ordered = tuple(results[c.name] for c in plan.channels if c.name in results)
        return ReleaseResult(release.slug, release.title, release.path, ordered)

    def _run_waves(
        self,
        release: Release,
        pending: list[ChannelPlan],
        links: Links,
        outputs: dict[str, Receipt],
        results: dict[str, Outcome],
    ) -> None:
        """Channels whose dependencies (e.g. an attached poster) are done run together."""
        while pending:
            done = set(results)
            wave = [
                c
                for c in pending
                if set(_depends_on(c)) <= done
                or not set(_depends_on(c)) & {p.name for p in pending}
            ]
            if not wave:  # a cycle: run the rest anyway, each will say what it misses
                wave = list(pending)
            wave_links = Links(links.canonical_url, links.predicted, dict(outputs))
            with ThreadPoolExecutor(max_workers=min(16, len(wave))) as pool:
                futures = {c.name: pool.submit(self._deliver, release, c, wave_links) for c in wave}
                for name, future in futures.items():
                    outcome, receipt = future.result()
                    results[name] = outcome
                    if receipt is not None:
                        outputs[name] = receipt
            pending = [c for c in pending if c not in wave]

    def _predicted_url(self, canonical: ChannelPlan | None, release: Release) -> str | None:
        if canonical is not None and self.ledger is not None:  # published in an earlier run
            row = self.ledger.get(release.slug, release.content_sha256, canonical.name)
            if row is not None and row.status == PUBLISHED and row.url:
                return row.url
        if canonical is not None and hasattr(canonical.adapter, "canonical_url"):
            return str(canonical.adapter.canonical_url(release))
        return None

    # --- one channel ----------------------------------------------------------------------

    def _skip(self, channel: ChannelPlan, reason: str) -> Outcome:
        self.observer("skipped", "", channel.name, {"reason": reason})
        return Outcome(channel.name, channel.config.type, SKIPPED, error=reason)

    def _fail(self, channel: ChannelPlan, reason: str) -> Outcome:
        return Outcome(channel.name, channel.config.type, FAILED_STATUS, error=reason)

    def _deliver(
        self, release: Release, channel: ChannelPlan, links: Links
    ) -> tuple[Outcome, Receipt | None]:
        """Deliver one release to one channel, guarded so an adapter bug stays local."""
        if shutdown.requested():  # SIGTERM: what is in flight finishes, nothing new starts
            return self._fail(
                channel,
                _(
                    "{channel}: not started: chanpub was stopped (SIGTERM); the next run sends it"
                ).format(channel=channel.name),
            ), None
        try:
            return self._deliver_guarded(release, channel, links)
        except ChannelError as error:
            return self._fail(channel, self.config.redact(error.message)), None
        except Exception as error:  # a bug in one adapter must not stop the others
            message = _(
                "{channel}: internal error in the '{type}' adapter ({error}): report "
                "this; check the channel before sending again"
            ).format(
                channel=channel.name,
                type=channel.config.type,
                error=f"{type(error).__name__}: {error}",
            )
            self._record(release, channel, NEEDS_CHECK, error=message)
            return self._fail(channel, self.config.redact(message)), None

    def _deliver_guarded(
        self, release: Release, channel: ChannelPlan, links: Links
    ) -> tuple[Outcome, Receipt | None]:
        adapter = channel.adapter
        key = delivery_key(release, channel.name)
        row = (
            self.ledger.get(release.slug, release.content_sha256, channel.name)
            if self.ledger
            else None
        )
        if row is not None and row.status == PUBLISHED:
            self.observer("done", release.slug, channel.name, {"status": ALREADY, "url": row.url})
            return (
                Outcome(channel.name, channel.config.type, ALREADY, url=row.url),
                _receipt_from(row),
            )
        if row is None and self.ledger is not None:
            older = [
                d
                for d in self.ledger.published_versions(release.slug, channel.name)
                if d.content_hash != release.content_sha256
            ]
            if older:
                return self._new_version(release, channel, links, key, older[-1])
        preview = adapter.preview(release, links)
        if preview.over_limit:
            return self._fail(
                channel,
                _(
                    "{channel}: the text is {length} {unit}, over the limit of {limit}, and cannot "
                    "be shortened: shorten the template or the title"
                ).format(
                    channel=channel.name,
                    length=preview.length,
                    unit=preview.unit,
                    limit=preview.limit,
                ),
            ), None
        if self.dry_run or self.ledger is None:
            return Outcome(
                channel.name,
                channel.config.type,
                SKIPPED,
                url=links.canonical_url if channel.config.canonical else None,
                error=_("dry run: nothing sent"),
            ), None
        if row is not None and row.status in (IN_PROGRESS, NEEDS_CHECK):
            found = self._resolve_interrupted(release, channel, row)
            if found is not None:
                return found
        self.ledger.begin(
            slug=release.slug,
            content_hash=release.content_sha256,
            channel=channel.name,
            channel_type=channel.config.type,
            title=release.title,
            key=key,
        )
        self.observer(
            "publishing",
            release.slug,
            channel.name,
            {"total": preview.recipients} if preview.recipients else {},
        )
        return self._publish(release, channel, preview, key)

    def _resolve_interrupted(
        self, release: Release, channel: ChannelPlan, row: Delivery
    ) -> tuple[Outcome, Receipt | None] | None:
        """An earlier run stopped between the remote call and its record."""
        adapter = channel.adapter
        if hasattr(adapter, "lookup"):
            receipt = adapter.lookup(row.key)
            if receipt is not None:
                self._record(release, channel, PUBLISHED, receipt=receipt)
                return self._published(release, channel, receipt), receipt
            return None  # looked up: nothing there, so publishing is safe
        if adapter.capabilities.idempotent:
            return None
        if adapter.capabilities.recipients:
            # Per-recipient journal: publish skips the recipients already sent and flags
            # the one(s) in flight for a person; the rest of the list still goes out.
            return None
        message = _(
            "{channel}: a run stopped while publishing this release (at {at}); it may or may "
            "not be there. Check the channel, then run 'chanpub resolve {slug} {channel} "
            "--published URL' or '--not-published'"
        ).format(channel=channel.name, at=row.started_at, slug=release.slug)
        self._record(release, channel, NEEDS_CHECK, error=message)
        return self._fail(channel, message), None

    def _new_version(
        self, release: Release, channel: ChannelPlan, links: Links, key: str, previous: Delivery
    ) -> tuple[Outcome, Receipt | None]:
        adapter = channel.adapter
        if not self.update:
            return Outcome(
                channel.name,
                channel.config.type,
                SKIPPED,
                url=previous.url,
                error=_(
                    "an earlier version of this release was published on {when}; this is a new "
                    "version: send with --update to edit it in place"
                ).format(when=(previous.finished_at or previous.started_at)[:16]),
            ), None
        if not hasattr(adapter, "update") or not adapter.capabilities.edit:
            return self._fail(
                channel,
                _(
                    "{channel}: a '{type}' channel cannot edit a published post in place; the "
                    "earlier version stays as it is"
                ).format(channel=channel.name, type=channel.config.type),
            ), None
        preview = adapter.preview(release, links)
        assert self.ledger is not None
        self.ledger.begin(
            slug=release.slug,
            content_hash=release.content_sha256,
            channel=channel.name,
            channel_type=channel.config.type,
            title=release.title,
            key=key,
        )
        old = _receipt_from(previous)
        return self._call(release, channel, lambda: adapter.update(preview, old))

    def _publish(
        self, release: Release, channel: ChannelPlan, preview: Any, key: str
    ) -> tuple[Outcome, Receipt | None]:
        return self._call(release, channel, lambda: channel.adapter.publish(preview, key), key)

    def _call(
        self,
        release: Release,
        channel: ChannelPlan,
        action: Callable[[], Receipt],
        key: str | None = None,
    ) -> tuple[Outcome, Receipt | None]:
        adapter = channel.adapter
        try:
            receipt = self._with_retries(release, channel, action)
        except DuplicateError:
            self._record(release, channel, PUBLISHED)
            return Outcome(channel.name, channel.config.type, ALREADY), None
        except PartialFailure as error:
            receipt = error.receipt  # type: ignore[assignment]
            self._record(release, channel, FAILED, receipt=receipt, error=error.message)
            return self._fail(channel, self.config.redact(error.message)), None
        except AmbiguousError as error:
            if key is not None and hasattr(adapter, "lookup"):
                found = adapter.lookup(key)
                if found is not None:
                    self._record(release, channel, PUBLISHED, receipt=found)
                    return self._published(release, channel, found), found
                self._record(release, channel, FAILED, error=error.message)
            elif adapter.capabilities.idempotent:
                self._record(release, channel, FAILED, error=error.message)
            else:
                self._record(release, channel, NEEDS_CHECK, error=error.message)
            return self._fail(channel, self.config.redact(error.message)), None
        except ChannelError as error:
            self._record(release, channel, FAILED, error=error.message)
            self.observer(
                "done",
                release.slug,
                channel.name,
                {"status": FAILED_STATUS, "error": error.message},
            )
            return self._fail(channel, self.config.redact(error.message)), None
        self._record(release, channel, PUBLISHED, receipt=receipt)
        return self._published(release, channel, receipt), receipt

    def _published(self, release: Release, channel: ChannelPlan, receipt: Receipt) -> Outcome:
        self.observer(
            "done", release.slug, channel.name, {"status": PUBLISHED_STATUS, "url": receipt.url}
        )
        return Outcome(
            channel.name,
            channel.config.type,
            PUBLISHED_STATUS,
            url=receipt.url,
            details=dict(receipt.details),
        )

    def _with_retries(
        self, release: Release, channel: ChannelPlan, action: Callable[[], Receipt]
    ) -> Receipt:
        import stamina

        def backoff(error: Exception) -> bool | float:
            if not isinstance(error, RetryableError) or shutdown.requested():
                return False
            if error.retry_after is None:
                self.observer("retrying", release.slug, channel.name, {"seconds": None})
                return True
            if error.retry_after > MAX_RETRY_WAIT:
                return False  # failed for now; the next run tries again
            self.observer("retrying", release.slug, channel.name, {"seconds": error.retry_after})
            return error.retry_after

        for attempt in stamina.retry_context(
            on=backoff, attempts=RETRY_ATTEMPTS, timeout=RETRY_TIMEOUT, wait_max=MAX_RETRY_WAIT
        ):
            with attempt:
                return action()
        raise AssertionError("unreachable: retry_context either returns or raises")

    def _record(
        self,
        release: Release,
        channel: ChannelPlan,
        status: str,
        *,
        receipt: Receipt | None = None,
        error: str | None = None,
    ) -> None:
        if self.ledger is None or self.dry_run:
            return
        details: dict[str, Any] = dict(receipt.details) if receipt else {}
        if receipt is not None and receipt.files:
            details["files"] = [str(path) for path in receipt.files]
        self.ledger.finish(
            slug=release.slug,
            content_hash=release.content_sha256,
            channel=channel.name,
            status=status,
            remote_id=receipt.remote_id if receipt else None,
            url=receipt.url if receipt else None,
            error=self.config.redact(error) if error else None,
            details=details,
        )


def _depends_on(channel: ChannelPlan) -> tuple[str, ...]:
    if hasattr(channel.adapter, "depends_on"):
        return tuple(channel.adapter.depends_on())
    return ()


def _receipt_from(row: Delivery) -> Receipt:
    """A receipt rebuilt from the ledger (for outputs and --update)."""
    details = dict(row.details)
    files = tuple(Path(p) for p in details.get("files", []))
    published = datetime.fromisoformat(row.finished_at) if row.finished_at else datetime.now(UTC)
    return Receipt(
        remote_id=row.remote_id or "",
        url=row.url,
        published_at=published,
        details={**details, "key": row.key},
        files=files,
    )


def context_factory(
    config: Config, ledger: Ledger | None, observer: Observer = _quiet
) -> Callable[[Release, ChannelConfig], ChannelContext]:
    """Builds the ChannelContext each adapter gets for one release."""
    from chanpub.journal import MemoryJournal

    def make(release: Release, channel: ChannelConfig) -> ChannelContext:
        def progress(event: str, data: Mapping[str, Any]) -> None:
            observer(event, release.slug, channel.name, data)

        return ChannelContext(
            organisation=config.organisation,
            language=release.language or config.language,
            base_dir=config.base_dir,
            state_dir=config.state_dir,
            journal_factory=(lambda key: ledger.journal(key, config.redact))
            if ledger
            else (lambda key: MemoryJournal()),
            sequence=ledger,
            progress=progress,
            secrets=channel.secrets,
        )

    return make
