"""Due releases -> the canonical channel first -> the rest concurrently -> Outcomes.

For every delivery the ledger gets an in-progress mark (with the delivery key) before the
adapter is called and the outcome right after, each committed on its own. Retryable
failures are retried (chanpub.retry) with a bounded wait; ambiguous ones are looked up,
never blindly repeated. Adapters are reached only through their ChannelHandle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from chanpub import shutdown
from chanpub.channel_joined import JoinedChannels
from chanpub.config import Config
from chanpub.context import Observer
from chanpub.contract import Action, Amendment, Links, Preview, Receipt
from chanpub.errors import AmbiguousError, ChannelError, DuplicateError, PartialFailure
from chanpub.handle import ChannelHandle
from chanpub.i18n import _
from chanpub.ledger import Delivery, Ledger
from chanpub.outcomes import Outcome, ReleaseResult, RunResult
from chanpub.plan import ChannelPlan, ReleasePlan, delivery_key, predicted_links, release_source
from chanpub.receipts import earlier_version, ledger_details, receipt_from
from chanpub.release import Release, now_utc
from chanpub.retry import with_retries
from chanpub.status import Status

# An item's states worth a count in the history (in_progress is only ever transient).
SETTLED_ITEMS = (Status.SENT, Status.DELIVERED, Status.READ, Status.FAILED, Status.DEFERRED,
                 Status.UNKNOWN)  # fmt: skip

Delivered = tuple[Outcome, Receipt | None]  # the outcome, and the receipt for later channels


class _Quiet:
    """An observer that ignores everything."""

    events: frozenset[str] = frozenset()  # chanpub.context.listens

    def __call__(self, event: str, slug: str, channel: str, data: Mapping[str, Any]) -> None:
        pass


_quiet = _Quiet()


@dataclass
class Dispatcher:
    """Publishes planned releases; one instance per run."""

    config: Config
    ledger: Ledger | None  # read for what already went out; None when there is none yet
    dry_run: bool = False  # render and report, record and send nothing
    update: bool = False
    observer: Observer = _quiet

    def __post_init__(self) -> None:
        self.joined = JoinedChannels(self.config, self.ledger, record=not self.dry_run)

    def run(self, plans: Sequence[ReleasePlan]) -> RunResult:
        """Publish every plan in order; one failing channel never stops the others."""
        return RunResult(tuple(self._release(plan) for plan in plans))

    def deliver_one(self, plan: ReleasePlan, name: str) -> Outcome:
        """One delivery as a queued job does it (chanpub.queue): the canonical channel's
        first; another's once the canonical one is done, linking to it where the ledger
        says it went, with the outputs of the channels it depends on from the ledger."""
        release = plan.release
        channel = next(c for c in plan.channels if c.name == name)
        if channel.adapter is None:
            return self._skip(release, channel, channel.skip_reason or "")
        links = predicted_links(plan, self.ledger)
        canonical = plan.canonical
        if (
            canonical is not None
            and channel is not canonical
            and links.predicted
            and _handle(channel).capabilities.links_canonical
        ):
            reason = _(
                "waiting for the canonical channel '{name}', which did not publish: "
                "the next run retries"
            ).format(name=canonical.name)
            return self._done(release, channel, Status.FAILED, error=reason)
        outputs: dict[str, Receipt] = {}
        for other in _handle(channel).depends_on():
            ledger = self.ledger
            row = ledger.get(release.slug, release.content_sha256, other) if ledger else None
            if row is not None and row.status == Status.PUBLISHED:
                outputs[other] = receipt_from(row)
        links = Links(links.canonical_url, links.predicted, outputs)
        return self._deliver(release, channel, links)[0]

    # --- one release --------------------------------------------------------------------

    def _release(self, plan: ReleasePlan) -> ReleaseResult:
        release = plan.release
        enabled = [c for c in plan.channels if c.config.enabled]  # off: a setting, no outcome
        if plan.skip_reason is not None:
            skipped = (self._skip(release, c, plan.skip_reason) for c in enabled)
            return ReleaseResult(release.slug, release.title, str(release.path), tuple(skipped))
        results: dict[str, Outcome] = {}
        for channel in enabled:
            if channel.adapter is None:
                results[channel.name] = self._skip(release, channel, channel.skip_reason or "")
            else:
                self.observer("waiting", release.slug, channel.name, {})
        runnable = [c for c in plan.channels if c.adapter is not None]
        canonical = plan.canonical
        links = predicted_links(plan, self.ledger)
        outputs: dict[str, Receipt] = {}
        if canonical is not None:
            outcome, receipt = self._deliver(release, canonical, links)
            results[canonical.name] = outcome
            if receipt is not None:
                outputs[canonical.name] = receipt
            if outcome.status in (Status.PUBLISHED, Status.ALREADY_PUBLISHED) and outcome.url:
                links = Links(canonical_url=outcome.url, predicted=False)
            elif links.predicted and (outcome.status == Status.FAILED or not links.canonical_url):
                # Nothing may link to a page that does not exist: whatever carries the
                # link waits for the next run, which publishes the page first.
                reason = _(
                    "waiting for the canonical channel '{name}', which did not publish: "
                    "the next run retries"
                ).format(name=canonical.name)
                for channel in runnable:
                    if channel is not canonical and _handle(channel).capabilities.links_canonical:
                        results[channel.name] = self._done(
                            release, channel, Status.FAILED, error=reason
                        )
        pending = [c for c in runnable if c is not canonical and c.name not in results]
        self._run_waves(release, pending, links, outputs, results)
        return self._result(release, plan, results)

    def _result(
        self, release: Release, plan: ReleasePlan, results: dict[str, Outcome]
    ) -> ReleaseResult:
        ordered = tuple(results[c.name] for c in plan.channels if c.name in results)
        return ReleaseResult(release.slug, release.title, str(release.path), ordered)

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
            waiting_for = {p.name for p in pending}
            wave = [
                c
                for c in pending
                if set(_handle(c).depends_on()) <= done
                or not set(_handle(c).depends_on()) & waiting_for
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

    # --- one channel: the one exit point --------------------------------------------------

    def _skip(self, release: Release, channel: ChannelPlan, reason: str) -> Outcome:
        return self._done(release, channel, Status.SKIPPED, error=reason)

    def _done(
        self,
        release: Release,
        channel: ChannelPlan,
        status: Status,
        *,
        url: str | None = None,
        error: str | None = None,
        details: Mapping[str, Any] | None = None,
        action: Action | None = None,
    ) -> Outcome:
        """Every outcome ends here: the observer hears it once, secrets masked."""
        error = self.config.redact(error) if error else None
        self.observer(
            "done", release.slug, channel.name, {"status": status, "url": url, "error": error}
        )
        return Outcome(
            channel.name,
            channel.config.type,
            status,
            url=url,
            error=error,
            details=details or {},
            action=action,
        )

    def _deliver(self, release: Release, channel: ChannelPlan, links: Links) -> Delivered:
        """Deliver one release to one channel, guarded so an adapter bug stays local."""
        if shutdown.requested():  # SIGTERM: what is in flight finishes, nothing new starts
            message = _(
                "{channel}: not started: chanpub was stopped (SIGTERM); the next run sends it"
            ).format(channel=channel.name)
            return self._done(release, channel, Status.FAILED, error=message), None
        try:
            return self._deliver_guarded(release, channel, links)
        except ChannelError as error:
            return self._done(release, channel, Status.FAILED, error=error.message), None
        except Exception as error:  # a bug in one adapter must not stop the others
            message = _(
                "{channel}: internal error in the '{type}' adapter ({error}): report "
                "this; check the channel before sending again"
            ).format(
                channel=channel.name,
                type=channel.config.type,
                error=f"{type(error).__name__}: {error}",
            )
            self._record(release, channel, Status.NEEDS_CHECK, error=message)
            return self._done(release, channel, Status.FAILED, error=message), None

    def _deliver_guarded(self, release: Release, channel: ChannelPlan, links: Links) -> Delivered:
        handle = _handle(channel)
        key = delivery_key(release, channel.name)
        row = self._row(release, channel)
        if row is not None and row.status == Status.PUBLISHED:
            outcome = self._done(release, channel, Status.ALREADY_PUBLISHED, url=row.url)
            return outcome, receipt_from(row)
        older = self._earlier_version(release, channel)  # row: not published
        if older is not None:
            return self._new_version(release, channel, links, key, older)
        if release.retraction:  # never published here: there is nothing to withdraw
            reason = _("withdrawn before it was published here: nothing to do")
            return self._done(release, channel, Status.SKIPPED, error=reason), None
        before = self.joined.reason(release, channel.config) if row is None else None
        if before is not None:  # the channel was added since: not the archive at once
            return self._skip(release, channel, before), None
        preview = handle.preview(release, links)
        if preview.over_limit:
            return self._over_limit(release, channel, preview), None
        if self.dry_run or self.ledger is None:
            url = links.canonical_url if channel.config.canonical else None
            return self._done(
                release, channel, Status.SKIPPED, url=url, error=_("dry run: nothing sent")
            ), None
        if row is not None and row.status in (Status.IN_PROGRESS, Status.NEEDS_CHECK):
            found = self._resolve_interrupted(release, channel, row)
            if found is not None:
                return found
        self._begin(release, channel, key)
        total = {"total": preview.recipients} if preview.recipients else {}
        self.observer("publishing", release.slug, channel.name, total)
        return self._call(release, channel, lambda: handle.publish(preview, key), key)

    def _row(self, release: Release, channel: ChannelPlan) -> Delivery | None:
        if self.ledger is None:
            return None
        return self.ledger.get(release.slug, release.content_sha256, channel.name)

    def _begin(self, release: Release, channel: ChannelPlan, key: str) -> None:
        assert self.ledger is not None  # only called when sending for real
        self.ledger.begin(
            slug=release.slug,
            content_hash=release.content_sha256,
            channel=channel.name,
            channel_type=channel.config.type,
            title=release.title,
            key=key,
            source=release_source(release),
            version=(release.amendment or "release", release.approved_by, release.approved_at),
        )

    def _over_limit(self, release: Release, channel: ChannelPlan, preview: Preview) -> Outcome:
        message = _(
            "{channel}: the text is {length} {unit}, over the limit of {limit}, and cannot "
            "be shortened: shorten the template or the title"
        ).format(
            channel=channel.name, length=preview.length, unit=_(preview.unit), limit=preview.limit
        )
        return self._done(release, channel, Status.FAILED, error=message)

    def _resolve_interrupted(
        self, release: Release, channel: ChannelPlan, row: Delivery
    ) -> Delivered | None:
        """An earlier run stopped between the remote call and its record."""
        handle = _handle(channel)
        if handle.can_look_up:
            receipt = handle.lookup(row.key)
            if receipt is not None:
                return self._published(release, channel, receipt)
            return None  # looked up: nothing there, so publishing is safe
        if handle.capabilities.idempotent:
            return None
        if handle.capabilities.recipients:
            # Per-recipient journal: publish skips the recipients already sent and flags
            # the one(s) in flight for a person; the rest of the list still goes out.
            return None
        message = _(
            "{channel}: a run stopped while publishing this release (at {at}); it may or may "
            "not be there. Check the channel, then run 'chanpub resolve {slug} {channel} "
            "--published URL' or '--not-published'"
        ).format(channel=channel.name, at=row.started_at, slug=release.slug)
        self._record(release, channel, Status.NEEDS_CHECK, error=message)
        return self._done(release, channel, Status.FAILED, error=message), None

    def _earlier_version(self, release: Release, channel: ChannelPlan) -> Delivery | None:
        """The version of this release the channel shows now, when it is another one."""
        if self.ledger is None:
            return None
        recipients = _handle(channel).capabilities.recipients
        return earlier_version(self.ledger, release, channel.name, recipients=recipients)

    def _new_version(
        self, release: Release, channel: ChannelPlan, links: Links, key: str, previous: Delivery
    ) -> Delivered:
        handle = _handle(channel)
        if release.amendment is not None:
            return self._amend(release, channel, links, key, previous)
        if not self.update:
            reason = _(
                "an earlier version of this release was published on {when}; this is a new "
                "version: send with --update to edit it in place"
            ).format(when=(previous.finished_at or previous.started_at)[:16])
            return self._done(
                release, channel, Status.SKIPPED, url=previous.url, error=reason
            ), None
        if not handle.can_update:
            reason = _(
                "{channel}: a '{type}' channel cannot edit a published post in place; the "
                "earlier version stays as it is"
            ).format(channel=channel.name, type=channel.config.type)
            return self._done(release, channel, Status.FAILED, error=reason), None
        preview = handle.preview(release, links)
        self._begin(release, channel, key)
        old = receipt_from(previous)
        return self._call(release, channel, lambda: handle.update(preview, old))

    def _amend(
        self, release: Release, channel: ChannelPlan, links: Links, key: str, previous: Delivery
    ) -> Delivered:
        """Carry a correction or a retraction to where an earlier version went."""
        handle = _handle(channel)
        kind = release.amendment
        assert kind is not None  # only called for an amendment
        preview = handle.preview(release, links)
        if self.dry_run:
            return self._done(
                release, channel, Status.SKIPPED, url=previous.url, error=_("dry run: nothing sent")
            ), None
        if not handle.can_amend:
            message = _(
                "{channel}: a '{type}' channel cannot carry a {kind} by itself: make it there "
                "by hand, then run 'chanpub resolve {slug} {channel} --published URL'"
            ).format(channel=channel.name, type=channel.config.type, kind=kind, slug=release.slug)
            self._begin(release, channel, key)
            self._record(release, channel, Status.NEEDS_CHECK, error=message)
            return self._done(release, channel, Status.FAILED, error=message), None
        note = (release.retraction if kind == "retraction" else release.correction) or ""
        amendment = Amendment(kind, note, now_utc(), receipt_from(previous))
        self._begin(release, channel, key)
        self.observer("publishing", release.slug, channel.name, {})
        # An amend journals its own steps under `key`, so a failure of any kind is retried
        # by the next run without doubling anything.
        return self._call(
            release, channel, lambda: handle.amend(preview, amendment, key), retry_safe=True
        )

    def _call(
        self,
        release: Release,
        channel: ChannelPlan,
        action: Callable[[], Receipt],
        key: str | None = None,
        *,
        retry_safe: bool = False,
    ) -> Delivered:
        handle = _handle(channel)
        try:
            receipt = with_retries(
                action, lambda seconds: self._retrying(release, channel, seconds)
            )
        except DuplicateError:
            self._record(release, channel, Status.PUBLISHED)
            return self._done(release, channel, Status.ALREADY_PUBLISHED), None
        except PartialFailure as error:
            partial: Receipt = error.receipt  # type: ignore[assignment]  # set by the adapter
            self._record(release, channel, Status.FAILED, receipt=partial, error=error.message)
            return self._done(release, channel, Status.FAILED, error=error.message), None
        except AmbiguousError as error:
            if key is not None and handle.can_look_up:
                found = handle.lookup(key)
                if found is not None:
                    return self._published(release, channel, found)
                self._record(release, channel, Status.FAILED, error=error.message)
            elif handle.capabilities.idempotent or retry_safe:
                self._record(release, channel, Status.FAILED, error=error.message)
            else:  # the platform cannot be asked: a person looks, then says what is there
                message = _(
                    "{message}. It cannot be asked whether it arrived: look in the channel, "
                    "then run 'chanpub resolve {slug} {channel} --published URL' or "
                    "'chanpub resolve {slug} {channel} --not-published'"
                ).format(message=error.message, slug=release.slug, channel=channel.name)
                self._record(release, channel, Status.NEEDS_CHECK, error=message)
                return self._done(release, channel, Status.FAILED, error=message), None
            return self._done(release, channel, Status.FAILED, error=error.message), None
        except ChannelError as error:
            reached = self._items_so_far(key)  # a list stopped midway: how far it went
            self._record(release, channel, Status.FAILED, error=error.message, details=reached)
            return self._done(release, channel, Status.FAILED, error=error.message), None
        return self._published(release, channel, receipt)

    def _items_so_far(self, key: str | None) -> dict[str, int]:
        """The delivery's items by state (sent 2,000, deferred 1), for the history of a
        channel that failed partway through a list; empty for one without items."""
        if key is None or self.ledger is None or self.dry_run:
            return {}
        counts = self.ledger.item_counts(key)
        return {state: counts[state] for state in SETTLED_ITEMS if counts.get(state)}

    def _retrying(self, release: Release, channel: ChannelPlan, seconds: float | None) -> None:
        self.observer("retrying", release.slug, channel.name, {"seconds": seconds})

    def _published(self, release: Release, channel: ChannelPlan, receipt: Receipt) -> Delivered:
        self._record(release, channel, Status.PUBLISHED, receipt=receipt)
        outcome = self._done(
            release,
            channel,
            Status.PUBLISHED,
            url=receipt.url,
            details=ledger_details(receipt),
            action=receipt.action,
        )
        return outcome, receipt

    def _record(
        self,
        release: Release,
        channel: ChannelPlan,
        status: Status,
        *,
        receipt: Receipt | None = None,
        error: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        if self.ledger is None or self.dry_run:
            return
        self.ledger.finish(
            slug=release.slug,
            content_hash=release.content_sha256,
            channel=channel.name,
            status=status,
            remote_id=receipt.remote_id if receipt else None,
            url=receipt.url if receipt else None,
            error=self.config.redact(error) if error else None,
            details=ledger_details(receipt) if receipt else details,
        )


def _handle(channel: ChannelPlan) -> ChannelHandle:
    assert channel.adapter is not None  # only runnable channels are delivered
    return channel.adapter
