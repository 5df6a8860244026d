"""What an e-mail transport does: deliver a stream of per-recipient messages, recording
each recipient's outcome in the delivery's item journal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import ClassVar, Protocol

from chanpub.channels.email.message import Composed
from chanpub.channels.email.recipients import Recipient
from chanpub.contract import ItemJournal
from chanpub.errors import ChannelError
from chanpub.i18n import _


@dataclass(frozen=True)
class Job:
    """One message for one recipient."""

    recipient: Recipient
    composed: Composed

    @property
    def item(self) -> str:
        """The journal key of this job."""
        return self.recipient.key

    @property
    def message(self) -> EmailMessage:
        """The message parsed back (for inspection; transports send `composed.data`)."""
        return self.composed.message


Report = Callable[[str, dict[str, int]], None]
SENDABLE = (None, "deferred", "resend")  # item states a run sends to


class Stopped(ChannelError):
    """A stop was asked for (SIGTERM): the message in flight was finished and recorded,
    the remaining recipients wait for the next run."""

    def __init__(self, channel: str) -> None:
        super().__init__(
            _(
                "{channel}: stopped on request (SIGTERM) before every recipient was reached: "
                "the next run sends to the rest"
            ).format(channel=channel)
        )


class Transport(Protocol):
    """Delivers jobs; for each: `journal.begin(item)` just before the point after which
    the message may arrive, then `journal.sent(item, id)`, `journal.failed(item, reason,
    permanent=...)` or `journal.unknown(item, reason)`. Between jobs it checks
    `chanpub.shutdown.requested()` and raises `Stopped` when a stop was asked for."""

    idempotent: ClassVar[bool]  # sending a job again cannot make a duplicate

    def deliver(self, jobs: Iterator[Job], journal: ItemJournal, report: Report) -> None:
        """Send every job; a failure of one recipient never stops the others."""
        ...

    def verify(self) -> None:
        """Check the connection and login without sending."""
        ...


def due(journal: ItemJournal, item: str, transport: Transport) -> bool:
    """Whether this run sends to `item`: never tried, deferred, or chosen for a resend.

    A mark a stopped run left in progress is sent again only by a transport that cannot
    make a duplicate (the outbox); over SMTP it means the whole message went out before
    the server's reply, so the item becomes unknown, for a person to settle."""
    state = journal.status(item)
    if state == "in_progress":
        if transport.idempotent:
            return True
        journal.unknown(
            item,
            _(
                "a run stopped after the whole message was sent to this address, "
                "before the server's reply: it may have received it"
            ),
        )
        return False
    return state in SENDABLE  # not: sent, failed for good, unknown, or not chosen
