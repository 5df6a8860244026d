"""Deliveries as jobs on procrastinate, a task queue in the same PostgreSQL database as
the ledger (`database:`), so any number of `chanpub worker` processes, on any host,
share the work.

One job is one delivery (a release version on one channel). `send` queues the canonical
channel's job (or, without one, the jobs of the channels that depend on nothing); each
job, once done, queues the jobs that waited for it, so the canonical channel still goes
first. A job runs the same dispatch code as a single-host run (in-progress marks,
lookups, per-recipient journals), so exactly once holds however many workers there are.
Each job's `queueing_lock` and `lock` are its delivery key: a delivery is never waiting
twice in the queue. A worker killed mid-job stops sending heartbeats; after STALLED_AFTER
seconds another worker puts its job back in the queue, and the per-recipient journal skips
whoever already got the message.
See https://procrastinate.readthedocs.io/en/stable/howto/advanced/retry_stalled_jobs.html

A missed heartbeat is no proof of death, though: a worker starved of CPU looks the same.
So a job first claims its delivery (or part) with a PostgreSQL session-level advisory
lock on a connection of its own, held until the job ends; the server frees it the moment
that connection closes, so a killed worker's claim goes with it, while a slow worker's
stays. A job that finds the claim taken sends nothing and is retried later (`Claimed`).
See https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.batches import BATCHED, PartLedger, clear_parts, parts_for
from chanpub.channel_joined import JoinedChannels
from chanpub.config import Config
from chanpub.context import Observer, context_factory
from chanpub.dispatch import Dispatcher, _quiet
from chanpub.errors import ChanpubError
from chanpub.i18n import _
from chanpub.intake import load_releases
from chanpub.ledger import Ledger
from chanpub.outcomes import Outcome, ReleaseResult, RunResult
from chanpub.plan import (
    ChannelPlan,
    ReleasePlan,
    delivery_key,
    plan_releases,
    predicted_links,
    release_source,
)
from chanpub.receipts import earlier_version
from chanpub.release import Release, now_utc
from chanpub.status import Status

if TYPE_CHECKING:
    from procrastinate import App

QUEUE = "chanpub"
TASK = "chanpub.deliver"
HEARTBEAT = 2.0  # seconds between a worker's heartbeats
STALLED_AFTER = 10.0  # a worker silent this long is taken for dead; its jobs go to others
POLL = 0.5  # seconds between looks at the queue while other workers hold its last jobs
CLAIMS = 0x63686E70  # "chnp": the advisory-lock namespace of the jobs' claims
CLAIM_RETRY = 1  # seconds before a job whose claim another worker holds is tried again

Key = tuple[str, str, str]  # slug, content hash, channel


@dataclass
class Work:
    """What the jobs run in this process need: the config, the ledger, who listens, and
    the outcomes of the jobs run here (for `send`'s report)."""

    config: Config
    ledger: Ledger
    observer: Observer = _quiet
    outcomes: dict[Key, Outcome] = field(default_factory=dict)
    errors: list[ChanpubError] = field(default_factory=list)  # jobs stopped by these


_work: Work | None = None  # set by `send` and `worker` before they run jobs


class Claimed(Exception):
    """Another live worker runs this delivery (or part) now: the job is retried later
    (procrastinate's retry), and sends nothing meanwhile."""


@contextmanager
def claim(url: str, name: str) -> Iterator[bool]:
    """Hold the claim `name` for the block (True), unless another session holds it
    (False). A connection of the job's own: a session lock is reentrant, so two jobs on
    one connection would both get it; and closing it frees the claim at once."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (CLAIMS, name))
        yield bool(row.fetchone()[0])  # type: ignore[index]


def deliver(
    release: str,
    content_hash: str,
    channel: str,
    update: bool = False,
    part: int = 0,
    parts: int = 1,
) -> None:
    """The task: one delivery (or one part of its recipients, see chanpub.batches), then,
    once the delivery is finished, queue the deliveries that waited for it."""
    work = _work
    assert work is not None, "chanpub.queue.run_jobs sets the work first"
    assert work.config.database is not None
    name = f"{release}|{content_hash}|{channel}|{part}/{parts}"
    with claim(work.config.database, name) as mine:
        if not mine:
            raise Claimed(name)
        _deliver(work, release, content_hash, channel, update, part, parts)


def _deliver(
    work: Work, release: str, content_hash: str, channel: str, update: bool, part: int, parts: int
) -> None:
    """The delivery (or part) `deliver` claimed."""
    try:
        found = _release(Path(release), content_hash)
        if found is None:  # the file changed since it was queued: the next send queues it
            return
        ledger = work.ledger
        if parts > 1:
            ledger = PartLedger(ledger, delivery_key(found[0], channel), part, parts)
        plan = _plan(work, ledger, found, update)
        if plan is None:
            return
        dispatcher = Dispatcher(work.config, ledger, update=update, observer=work.observer)
        outcome = dispatcher.deliver_one(plan, channel)
        if isinstance(ledger, PartLedger):
            if not ledger.finished:
                return  # other parts still run: the last one queues what waits for it
        else:  # a part's outcome is not the delivery's: `send` reads that from the ledger
            work.outcomes[(plan.release.slug, content_hash, channel)] = outcome
        enqueue(work.ledger, [plan], update, after=channel, batch=work.config.batch)
    except ChanpubError as error:  # e.g. the database went away: said once, by chanpub
        work.errors.append(error)
        work.observer("error", Path(release).stem, channel, {"error": error.message})
        raise


def _release(path: Path, content_hash: str) -> tuple[Release, bool] | None:
    """The release at `path`, when it is still the queued version."""
    found = [r for r in load_releases([path]) if r[0].content_sha256 == content_hash]
    return found[0] if found else None


def _plan(
    work: Work, ledger: Ledger, release: tuple[Release, bool], update: bool
) -> ReleasePlan | None:
    """The release planned again here, with `ledger` (a part's view, for a batch)."""
    make_context = context_factory(work.config, ledger, work.observer)
    plans = plan_releases([release], work.config, now_utc(), make_context, [], ledger, update)
    return plans[0] if plans and plans[0].skip_reason is None else None


def next_channels(
    plan: ReleasePlan, after: str | None, done: Collection[str] = ()
) -> list[ChannelPlan]:
    """The channels to queue once `after` is done (None: when the run starts, with the
    channels in `done` settled before it, published or skipped: those are not queued, and
    the channels waiting only for them are queued at once)."""
    runnable = [c for c in plan.channels if c.adapter is not None]
    canonical = plan.canonical
    if canonical is not None and after is None and canonical.name not in done:
        return [canonical]
    others = [c for c in runnable if c is not canonical]
    names = {c.name for c in others}

    def waits_for(channel: ChannelPlan) -> set[str]:
        assert channel.adapter is not None
        return set(channel.adapter.depends_on()) & names

    if after is None:
        return [c for c in others if c.name not in done and waits_for(c) <= set(done)]
    if canonical is not None and after == canonical.name:
        return [c for c in others if not waits_for(c)]
    return [c for c in others if after in waits_for(c)]


def not_due(work: Work, plans: Sequence[ReleasePlan]) -> dict[Key, Outcome]:
    """The deliveries of due versions a run does not queue: those already made, and those
    to a channel added after the release went out (chanpub.channel_joined). Cron's every
    run would otherwise queue a job for each, and one per part of each long list."""
    ledger = work.ledger
    joined = JoinedChannels(work.config, ledger, record=True)
    found: dict[Key, Outcome] = {}
    for plan in plans:
        if plan.skip_reason is not None:
            continue
        release = plan.release
        for channel in plan.channels:
            if channel.adapter is None:
                continue
            key = (release.slug, release.content_sha256, channel.name)
            kind = channel.config.type
            row = ledger.get(*key)
            if row is not None and row.status == Status.PUBLISHED:
                found[key] = Outcome(channel.name, kind, Status.ALREADY_PUBLISHED, url=row.url)
            elif row is None and not release.retraction:
                recipients = channel.adapter.capabilities.recipients
                older = earlier_version(ledger, release, channel.name, recipients=recipients)
                reason = None if older else joined.reason(release, channel.config)
                if reason is not None:
                    found[key] = Outcome(channel.name, kind, Status.SKIPPED, error=reason)
    return found


def enqueue(
    ledger: Ledger,
    plans: Sequence[ReleasePlan],
    update: bool,
    after: str | None = None,
    batch: int | None = None,
    settled: Mapping[Key, Outcome] | None = None,
) -> int:
    """Queue the deliveries due now (or after the channel `after`), in one transaction
    of the ledger's connection; a list of more than `batch` recipients as several jobs
    (chanpub.batches); none of `settled` (see `not_due`). Returns how many jobs were
    queued."""
    from procrastinate import exceptions

    app = _defer_app()
    queued = 0
    # Counted before the transaction: a preview may read the ledger, which it holds.
    due = [
        (plan, channel, _parts(ledger, plan, channel, batch))
        for plan in plans
        if plan.skip_reason is None
        for channel in next_channels(plan, after, _settled_of(plan, settled or {}))
        if (plan.release.slug, plan.release.content_sha256, channel.name) not in (settled or {})
    ]
    with ledger.connection() as db:
        for plan, channel, parts in due:
            release = plan.release
            key = delivery_key(release, channel.name)
            if parts > 1:
                clear_parts(db, key)
            for part in range(parts):
                lock = f"{key}:{part}/{parts}" if parts > 1 else key
                job = app.configure_task(
                    TASK, queue=QUEUE, lock=lock, queueing_lock=lock, connection=db
                )
                try:
                    with db.transaction():  # a savepoint: a duplicate leaves the rest
                        job.defer(
                            release=release_source(release),
                            content_hash=release.content_sha256,
                            channel=channel.name,
                            update=update,
                            **({"part": part, "parts": parts} if parts > 1 else {}),
                        )
                    queued += 1
                except exceptions.AlreadyEnqueued:
                    pass  # waiting in the queue already: once is enough
    return queued


def _settled_of(plan: ReleasePlan, settled: Mapping[Key, Outcome]) -> set[str]:
    """The channels of this version settled before the run (published before, or skipped:
    neither runs, so what waits for them may go)."""
    slug, content_hash = plan.release.slug, plan.release.content_sha256
    return {c.name for c in plan.channels if (slug, content_hash, c.name) in settled}


def _parts(ledger: Ledger, plan: ReleasePlan, channel: ChannelPlan, batch: int | None) -> int:
    """How many jobs share this delivery's recipients (1 for other channels)."""
    adapter = channel.adapter
    if batch is None or adapter is None or channel.config.type not in BATCHED:
        return 1
    if not adapter.capabilities.recipients:
        return 1
    return parts_for(adapter.preview(plan.release, predicted_links(plan, ledger)).recipients, batch)


def _defer_app() -> App:
    """An app that only writes jobs, through the connection it is given."""
    from procrastinate import App, SyncPsycopgConnector

    app = App(connector=SyncPsycopgConnector())
    _register(app)
    return app


def worker_app(url: str, concurrency: int) -> App:
    """The app that works the queue."""
    from procrastinate import App, PsycopgConnector

    app = App(
        connector=PsycopgConnector(conninfo=url, min_size=1, max_size=concurrency + 3),
        worker_defaults={
            "queues": [QUEUE],
            "concurrency": concurrency,
            "update_heartbeat_interval": HEARTBEAT,
            "stalled_worker_timeout": STALLED_AFTER,
            "fetch_job_polling_interval": POLL,
            "delete_jobs": "always",
        },
    )
    _register(app)
    return app


def _register(app: App) -> None:
    """The task, retried (without end) only while another worker holds its claim."""
    from procrastinate import RetryStrategy

    retry = RetryStrategy(wait=CLAIM_RETRY, retry_exceptions=[Claimed])
    app.task(name=TASK, queue=QUEUE, retry=retry)(deliver)


def run_jobs(work: Work, *, concurrency: int, until_empty: bool, signals: bool) -> None:
    """Work the queue: until no job is left (waiting or running anywhere), or until
    stopped by a signal."""
    global _work
    _work = work
    # Failed jobs are reported by chanpub itself (work.errors), not as raw tracebacks.
    logging.getLogger("procrastinate").setLevel(logging.CRITICAL)
    assert work.config.database is not None
    app = worker_app(work.config.database, concurrency)
    asyncio.run(_run(app, until_empty=until_empty, signals=signals))


async def _run(app: App, *, until_empty: bool, signals: bool) -> None:
    async with app.open_async():
        if not until_empty:
            reaper = asyncio.create_task(_reap_forever(app))
            try:
                await app.run_worker_async(install_signal_handlers=signals)
            finally:
                reaper.cancel()
            return
        while True:
            await retry_stalled(app)
            # A worker starts only when there is a job to take: one waiting for the jobs
            # that other workers still run only looks (two queries every POLL seconds),
            # rather than starting, registering and listening anew each time, which cost
            # a waiting process more CPU than the jobs left to the busy ones.
            if await pending(app, due_only=True):
                await app.run_worker_async(wait=False, install_signal_handlers=signals)
            if not await pending(app):
                return
            await asyncio.sleep(POLL)


async def _reap_forever(app: App) -> None:
    while True:
        await retry_stalled(app)
        await asyncio.sleep(STALLED_AFTER / 2)


async def retry_stalled(app: App) -> int:
    """Put back in the queue the jobs of workers that stopped sending heartbeats."""
    from procrastinate import exceptions

    stalled = await app.job_manager.get_stalled_jobs(
        queue=QUEUE, seconds_since_heartbeat=STALLED_AFTER
    )
    retried = 0
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
            retried += 1
        except exceptions.ConnectorException:
            pass  # another worker put it back first
    return retried


async def pending(app: App, *, due_only: bool = False) -> int:
    """How many jobs wait or run (`due_only`: how many wait and may be taken now)."""
    where = (
        "status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())"
        if due_only
        else "status IN ('todo', 'doing')"
    )
    row: dict[str, Any] = await app.connector.execute_query_one_async(
        f"SELECT count(*) AS n FROM procrastinate_jobs WHERE queue_name = %(queue)s AND {where}",
        queue=QUEUE,
    )
    return int(row["n"])


QUEUE_LOCK = 0x63686E70_0003  # "chnp" + 3: one queue schema change at a time


def install_schema(ledger: Ledger) -> bool:
    """Install procrastinate's schema once (it cannot be applied twice); True when it
    was installed now."""
    from procrastinate.schema import SchemaManager

    with ledger.connection() as db:
        db.execute("SELECT pg_advisory_xact_lock(%s)", (QUEUE_LOCK,))
        present = db.execute("SELECT to_regclass('procrastinate_jobs') AS t").fetchone()
        if present and present["t"]:
            return False
        db.execute(SchemaManager.get_schema())
    return True


def send_queued(
    work: Work, plans: Sequence[ReleasePlan], *, update: bool, enqueue_only: bool, concurrency: int
) -> RunResult:
    """`send` with `database:`: queue the due deliveries, then (unless `enqueue_only`)
    work the queue until no job is left, and report what the run's deliveries came to."""
    install_schema(work.ledger)
    settled = not_due(work, plans)
    work.outcomes.update(settled)
    enqueue(work.ledger, plans, update, batch=work.config.batch, settled=settled)
    if not enqueue_only:
        run_jobs(work, concurrency=concurrency, until_empty=True, signals=False)
        if work.errors:
            raise work.errors[0]
    return RunResult(tuple(_release_result(work, plan, enqueue_only) for plan in plans))


def _release_result(work: Work, plan: ReleasePlan, enqueue_only: bool) -> ReleaseResult:
    release = plan.release
    outcomes = []
    for channel in plan.channels:
        if not channel.config.enabled:  # off: a setting, no outcome
            continue
        key = (release.slug, release.content_sha256, channel.name)
        reason = plan.skip_reason or (channel.skip_reason if channel.adapter is None else None)
        if reason is None and key in work.outcomes:
            outcomes.append(work.outcomes[key])
            continue
        if reason is not None or enqueue_only:
            skipped = reason if reason is not None else _("queued")
            outcomes.append(
                Outcome(channel.name, channel.config.type, Status.SKIPPED, error=skipped)
            )
            continue
        outcomes.append(_from_ledger(work, plan, channel))
    return ReleaseResult(release.slug, release.title, str(release.path), tuple(outcomes))


def _from_ledger(work: Work, plan: ReleasePlan, channel: ChannelPlan) -> Outcome:
    """The outcome of a delivery another worker ran, as the ledger has it."""
    release = plan.release
    row = work.ledger.get(release.slug, release.content_sha256, channel.name)
    kind = channel.config.type
    if row is not None and row.status == Status.PUBLISHED:
        return Outcome(channel.name, kind, Status.PUBLISHED, url=row.url, details=row.details)
    if row is not None and row.status in (Status.FAILED, Status.NEEDS_CHECK):
        return Outcome(channel.name, kind, Status.FAILED, error=row.error)
    message = _(
        "{channel}: not finished: its job is still queued or its worker stopped; a "
        "'chanpub worker' or the next 'chanpub send' finishes it"
    ).format(channel=channel.name)
    return Outcome(channel.name, kind, Status.FAILED, error=message)
