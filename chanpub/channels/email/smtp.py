"""The smtp transport of the email channel: one message per recipient over SMTP.

Service: any SMTP submission server (the office's own, Google Workspace, Microsoft 365, SES).
Docs: RFC 5321, RFC 3207 (STARTTLS), RFC 8314 (implicit TLS), Python `smtplib`.
Auth: SMTP AUTH with `username` and `password` (from ${VAR}), only over TLS unless the
channel says `security: none` (a local relay). Limits: set by the provider (e.g. Microsoft
365 30 messages/minute): `rate_per_minute` paces sending, `connections` opens parallel
sessions. SMTP has no idempotency: each recipient's outcome is journalled. The in-progress mark
is committed just before the end of DATA, so a run stopped earlier leaves the recipient to
the next run; a reply lost after the end of DATA makes the recipient 'unknown', listed for
a person (`chanpub resolve`) and never resent by itself.
"""

from __future__ import annotations

import itertools
import queue
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar

from chanpub import shutdown
from chanpub.channels.email.connection import (
    ConnectionLost,
    Outcome,
    Outgoing,
    SmtpConnection,
)
from chanpub.channels.email.replies import about_the_address
from chanpub.channels.email.transport import Job, Report, Stopped
from chanpub.contract import ChannelContext, ItemJournal
from chanpub.errors import ChannelError, RetryableError
from chanpub.i18n import _
from chanpub.pacing import Pacer
from chanpub.render.pictures import byte_label

if TYPE_CHECKING:
    from chanpub.channels.email.options import EmailOptions

RECONNECT_ATTEMPTS = 4  # per message, when a session breaks before the message is complete
RECONNECT_TIMEOUT = 60.0
RETRY_ROUNDS = 4  # rounds for recipients the server answered with 4xx
RETRY_WAIT_INITIAL = 5.0  # seconds before the first round
RETRY_WAIT_MAX = 60.0
RETRY_TIMEOUT = 180.0  # seconds in all, so a cron run ends; the rest waits for the next run
RETRY_KEEP = 1000  # deferred messages kept in memory for this run's rounds
LIMIT_WAIT = 3600.0  # seconds: an account's sending limit lasts hours (Gmail: 24 h)
# Messages refused in a row with the same words, not about their addresses, after which the
# run stops: at most this many of a list are lost to what is the account's or the message's.
REFUSAL_STREAK = 10
PREFETCH = 8  # messages built ahead of the senders
_DONE = object()


class _StillDeferred(Exception):
    """Some recipients were answered with 4xx again (stamina retries the round)."""


def outgoing(job: Job) -> Outgoing:
    """What the sending threads need of a job."""
    composed = job.composed
    return Outgoing(
        item=job.item,
        sender=composed.sender,
        recipient=job.recipient.email,
        data=composed.data,
        message_id=composed.message_id,
        utf8=composed.utf8,
    )


class SmtpTransport:
    """Delivers jobs over `connections` SMTP sessions, each recipient's outcome journalled."""

    idempotent: ClassVar[bool] = False  # a resend after a lost reply could deliver twice

    def __init__(self, channel: str, options: EmailOptions, context: ChannelContext) -> None:
        self.channel = channel
        self.options = options
        self.context = context
        self.bucket = Pacer.per_minute(options.rate_per_minute)
        self._local_hostname: str | None = None

    def connection(self) -> SmtpConnection:
        """A new, not yet opened session with this channel's settings."""
        if self._local_hostname is None:
            self._local_hostname = socket.getfqdn()
        return SmtpConnection(
            self.channel,
            self.options,
            password_variable=self.context.variable_for("password"),
            username_variable=self.context.variable_for("username"),
            local_hostname=self._local_hostname,
        )

    def verify(self) -> None:
        """Connect, secure and log in, then say NOOP and QUIT; nothing is sent. Reports
        the largest message the server takes, which the attachments must stay under."""
        connection = self.connection()
        connection.open()
        try:
            limit = connection.noop()
        finally:
            connection.close()
        if limit is not None:
            self.context.report(
                "verified", account=_("messages up to {size}").format(size=byte_label(limit))
            )

    def deliver(self, jobs: Iterator[Job], journal: ItemJournal, report: Report) -> None:
        """Send every job; 4xx answers get a few rounds with back-off, then wait for the
        next run; 5xx answers fail that recipient only."""
        first = next(jobs, None)
        if first is None:  # everyone was reached before: no need for the server at all
            return
        run = _Run(self, journal, report)
        deferred = run.pool(outgoing(job) for job in itertools.chain([first], jobs))
        if deferred:
            run.retry(deferred)


class _Run:
    """One delivery: sessions, the shared job stream, counters and deferred messages."""

    def __init__(self, transport: SmtpTransport, journal: ItemJournal, report: Report) -> None:
        self.transport = transport
        self.journal = journal
        self.report = report
        self.lock = threading.Lock()
        self.sent = 0
        self.streak: tuple[str, int] = ("", 0)  # the last refusal's words, how often in a row
        self.connections: list[SmtpConnection] = []
        self.stopped = False  # a stop was asked for while recipients were left

    def _open_sessions(self) -> list[SmtpConnection]:
        """The first session must open (or the channel fails, naming host:port); further
        ones are a bonus, since servers often cap sessions per client."""
        while len(self.connections) < self.transport.options.connections:
            connection = self.transport.connection()
            try:
                connection.open()
            except ChannelError:
                if not self.connections:
                    raise
                break
            self.connections.append(connection)
        return self.connections

    def pool(self, messages: Iterable[Outgoing]) -> list[Outgoing]:
        """Send `messages` over the sessions; return the ones deferred (4xx)."""
        sessions = self._open_sessions()
        feed: queue.Queue[object] = queue.Queue(maxsize=PREFETCH * len(sessions))
        stop = threading.Event()
        problems: list[BaseException] = []
        deferred: list[Outgoing] = []

        def produce() -> None:
            try:
                for message in messages:
                    if not _put(feed, message, stop):
                        return
                for _session in sessions:
                    _put(feed, _DONE, stop)
            except BaseException as error:  # a list or template problem: stop, report it
                problems.append(error)
                stop.set()

        def consume(session: SmtpConnection) -> None:
            try:
                while not stop.is_set():
                    try:
                        item = feed.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    if item is _DONE:
                        return
                    if shutdown.requested():  # between recipients: the last one is recorded
                        self.stopped = True
                        stop.set()
                        return
                    assert isinstance(item, Outgoing)
                    if self._send(session, item) == "deferred":
                        with self.lock:
                            if len(deferred) < RETRY_KEEP:
                                deferred.append(item)
            except BaseException as error:  # the server is gone or refused us: stop all
                problems.append(error)
                stop.set()

        threads = [threading.Thread(target=produce, name=f"{self.transport.channel}-build")]
        threads += [
            threading.Thread(
                target=consume, args=(session,), name=f"{self.transport.channel}-smtp-{n}"
            )
            for n, session in enumerate(sessions)
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        except BaseException:  # Ctrl-C: let each session finish (and journal) its message
            stop.set()
            for thread in threads:
                thread.join()
            raise
        finally:
            self._close()
        if problems:
            raise problems[0]
        if self.stopped:
            raise Stopped(self.transport.channel)
        return deferred

    def _close(self) -> None:
        for session in self.connections:
            session.close()
        self.connections = []

    def _send(self, session: SmtpConnection, message: Outgoing) -> str:
        """Send one message, reconnecting with back-off as needed; journal the outcome."""
        import stamina

        try:
            for attempt in stamina.retry_context(
                on=_unless_stopping((ConnectionLost, RetryableError)),
                attempts=RECONNECT_ATTEMPTS,
                timeout=RECONNECT_TIMEOUT,
                wait_initial=1.0,
                wait_max=10.0,
            ):
                with attempt:
                    outcome = self._attempt(session, message)
        except ConnectionLost as lost:
            raise RetryableError(
                _(
                    "{channel}: the SMTP server {address} keeps dropping the connection "
                    "({reason}): the remaining recipients are sent on the next try"
                ).format(channel=self.transport.channel, address=session.address, reason=lost)
            ) from None
        self._record(message, outcome)
        self._stop_on_a_streak(session, outcome)
        if outcome.verdict == "halted":  # the account's limit: no later recipient would go
            raise RetryableError(
                _(
                    "{channel}: the SMTP server {address} stopped taking messages from this "
                    "account after {sent} in this run ({reply}): the recipients not reached "
                    "yet are sent by the next run, once its sending limit allows (Gmail "
                    "counts a rolling 24 hours)"
                ).format(
                    channel=self.transport.channel,
                    address=session.address,
                    sent=self.sent,
                    reply=outcome.reason,
                ),
                retry_after=LIMIT_WAIT,  # longer than a run waits: not tried again in this one
            )
        return outcome.verdict

    def _stop_on_a_streak(self, session: SmtpConnection, outcome: Outcome) -> None:
        """Stop the run once REFUSAL_STREAK messages in a row were refused with the same
        words, none of them about the address (RFC 3463 X.1, X.2): a provider's filter
        refusing the message, or a relay refusing the account, would refuse the whole list
        the same way and record every recipient as refused for good. A message sent ends a
        streak; one refused for its address, deferred or unknown leaves it as it was."""
        counted = outcome.verdict == "failed" and not about_the_address(outcome.reason)
        with self.lock:
            words, count = self.streak
            if counted:
                count = count + 1 if outcome.reason == words else 1
                self.streak = (outcome.reason, count)
            elif outcome.verdict == "sent":
                self.streak = ("", 0)
        if not counted or count < REFUSAL_STREAK:
            return
        raise RetryableError(
            _(
                "{channel}: the SMTP server {address} refused {count} messages in a row with "
                "the same answer ({reply}), which is not about their addresses: chanpub "
                "stopped so that the rest of the list is not refused the same way. If the "
                "answer is about the account or the message, settle that with the mail "
                "administrator; the next run goes on with the recipients not reached yet"
            ).format(
                channel=self.transport.channel,
                address=session.address,
                count=count,
                reply=outcome.reason,
            ),
            retry_after=LIMIT_WAIT,  # the same answer would come again within this run
        )

    def _attempt(self, session: SmtpConnection, message: Outgoing) -> Outcome:
        if not session.is_open:
            session.open()
        self.transport.bucket.take()
        marked = False

        def mark() -> None:  # the one committed write before the reply, as late as it can be
            nonlocal marked
            self.journal.begin(message.item)
            marked = True

        try:
            return session.send(message, before_end=mark)
        except ConnectionLost as lost:
            if marked:  # a 421 answered the end of DATA: the server did not take it
                self.journal.failed(
                    message.item,
                    _("the server closed the session instead of taking it ({reason})").format(
                        reason=lost
                    ),
                    permanent=False,
                )
            raise

    def _record(self, message: Outgoing, outcome: Outcome) -> None:
        if outcome.verdict == "sent":
            self.journal.sent(message.item, message.message_id)
            with self.lock:
                self.sent += 1
                sent = self.sent
            self.report("progress", {"sent": sent})
        elif outcome.verdict in ("deferred", "halted"):  # not taken: the next run sends it
            self.journal.failed(
                message.item,
                _("the server said try later: {reply}").format(reply=outcome.reason),
                permanent=False,
            )
        elif outcome.verdict == "failed":
            self.journal.failed(message.item, _("refused: {reply}").format(reply=outcome.reason))
        else:  # ambiguous: unknown, so no run sends it again by itself
            self.journal.unknown(message.item, outcome.reason)

    def retry(self, deferred: list[Outgoing]) -> None:
        """Rounds with back-off for recipients answered with 4xx; the ones still deferred
        stay 'deferred' in the journal, and the next run tries them again."""
        import stamina

        pending = deferred[:RETRY_KEEP]
        try:
            for attempt in stamina.retry_context(
                on=_StillDeferred,
                attempts=RETRY_ROUNDS,
                timeout=RETRY_TIMEOUT,
                wait_initial=RETRY_WAIT_INITIAL,
                wait_max=RETRY_WAIT_MAX,
            ):
                with attempt:
                    if shutdown.requested():
                        raise Stopped(self.transport.channel)
                    if attempt.num > 1:
                        self.report("retrying", {"recipients": len(pending)})
                    pending = self.pool(pending)
                    if pending:
                        raise _StillDeferred
        except _StillDeferred:
            pass  # journalled as deferred by the last round


def _unless_stopping(
    errors: tuple[type[Exception], ...],
) -> Callable[[Exception], bool]:
    """A stamina `on=` that retries `errors`, unless a stop was asked for (no new tries)."""

    def retry(error: Exception) -> bool:
        return isinstance(error, errors) and not shutdown.requested()

    return retry


def _put(feed: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    """Put `item`, unless everything stops first (then nobody would take it)."""
    while not stop.is_set():
        try:
            feed.put(item, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False
