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


class Transport(Protocol):
    """Delivers jobs; for each: `journal.begin(item)` just before sending, then
    `journal.sent(item, id)` or `journal.failed(item, reason, permanent=...)`."""

    idempotent: ClassVar[bool]  # sending a job again cannot make a duplicate

    def deliver(self, jobs: Iterator[Job], journal: ItemJournal, report: Report) -> None:
        """Send every job; a failure of one recipient never stops the others."""
        ...

    def verify(self) -> None:
        """Check the connection and login without sending."""
        ...
