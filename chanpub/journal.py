"""Item journals: the per-item outcomes inside one delivery (e-mail recipients, thread
posts, letters), kept in the ledger or, for previews and tests, in memory."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from chanpub.i18n import _
from chanpub.status import Status

if TYPE_CHECKING:
    from chanpub.ledger import Ledger

HIDDEN = Status.NOT_SELECTED  # what a journal restricted with `only` says of other items
Part = tuple[int, int]  # one job's part of a delivery's items: its index and how many


def part_of(item: str, parts: int) -> int:
    """The part an item belongs to (chanpub.batches): stable across runs, hosts and list
    order."""
    return zlib.crc32(item.encode("utf-8")) % parts


def journal_part(journal: object) -> Part | None:
    """The part of the list a journal shows (a batch job's), None when it shows all."""
    part = getattr(journal, "part", None)
    return part if isinstance(part, tuple) else None


def unknown_line(channel: str, slug: str, count: int) -> str:
    """The line `send` and `history` print while recipients are unknown."""
    return _(
        "{channel}: {count} recipient(s) may or may not have received the message (the "
        "server's reply was lost): check with them, then run 'chanpub resolve {slug} "
        "{channel} --resend' (or '--published -' / '--not-published'); 'chanpub history "
        "{slug}' lists them"
    ).format(channel=channel, count=count, slug=slug)


class LedgerJournal:
    """Per-item outcomes of one delivery, each state committed at once."""

    def __init__(
        self,
        ledger: Ledger,
        key: str,
        redact: Callable[[str], str] | None = None,
        *,
        only: str | None = None,
    ) -> None:
        self.ledger = ledger
        self.key = key
        self.redact = redact or (lambda text: text)
        self.only = only
        # The delivery's item states, read once when first asked and kept up to date by this
        # journal's own writes: one read per delivery instead of one per recipient. A
        # journal lives for one publish call; the items it sends are only written by it
        # (one run at a time holds the send lock; a batch job owns its part of the list).
        self._states: dict[str, Status] | None = None

    def status(self, item: str) -> Status | None:
        """'in_progress', 'sent', 'failed', 'deferred', 'unknown', 'resend' or None."""
        if self._states is None:
            self._states = self.ledger.item_states(self.key)
        status = self._states.get(item)
        if self.only is not None and status != self.only:
            return HIDDEN
        return status

    def _set(
        self, item: str, status: Status, remote_id: str | None = None, error: str | None = None
    ) -> None:
        # An outcome need not be waited for: the ledger commits it before its next
        # statement, while the next message is on its way (the hot path of a big list).
        wait = status == Status.IN_PROGRESS
        self.ledger.set_item(self.key, item, status, remote_id, error, wait=wait)
        if self._states is not None:  # after the commit: what the ledger says now
            self._states[item] = status

    def begin(self, item: str) -> None:
        """Mark the item in progress: from here until its outcome is recorded, a stopped
        run leaves it unknown."""
        self._set(item, Status.IN_PROGRESS)

    def sent(self, item: str, remote_id: str = "") -> None:
        """Record the item as delivered."""
        self._set(item, Status.SENT, remote_id)

    def failed(self, item: str, error: str, *, permanent: bool = True) -> None:
        """Record the item as failed, or deferred to the next run when not permanent."""
        status = Status.FAILED if permanent else Status.DEFERRED
        self._set(item, status, error=self.redact(error))

    def unknown(self, item: str, reason: str) -> None:
        """Record that nobody knows whether the item arrived: no run sends it again by
        itself; a person settles it with `chanpub resolve`."""
        self._set(item, Status.UNKNOWN, error=self.redact(reason))

    def remote_id(self, item: str) -> str | None:
        """The remote id recorded when the item was sent."""
        return self.ledger.item_remote_id(self.key, item)

    def counts(self) -> dict[str, int]:
        """How many items are in each state."""
        return self.ledger.item_counts(self.key)


class MemoryJournal:
    """An item journal that forgets: for previews, dry runs and unit tests."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[Status, str]] = {}

    def status(self, item: str) -> Status | None:
        """'in_progress', 'sent', 'failed', 'deferred', 'unknown' or None."""
        return self._items[item][0] if item in self._items else None

    def begin(self, item: str) -> None:
        """Mark the item in progress."""
        self._items[item] = (Status.IN_PROGRESS, "")

    def sent(self, item: str, remote_id: str = "") -> None:
        """Record the item as delivered."""
        self._items[item] = (Status.SENT, remote_id)

    def failed(self, item: str, error: str, *, permanent: bool = True) -> None:
        """Record the item as failed, or deferred when not permanent."""
        self._items[item] = (Status.FAILED if permanent else Status.DEFERRED, error)

    def unknown(self, item: str, reason: str) -> None:
        """Record that nobody knows whether the item arrived."""
        self._items[item] = (Status.UNKNOWN, reason)

    def remote_id(self, item: str) -> str | None:
        """The remote id recorded when the item was sent."""
        status, detail = self._items.get(item, ("", ""))
        return detail or None if status == Status.SENT else None

    def counts(self) -> dict[str, int]:
        """How many items are in each state."""
        totals: dict[str, int] = {}
        for status, _detail in self._items.values():
            totals[status] = totals.get(status, 0) + 1
        return totals
