"""Recipient batches: one delivery to a large list shared among workers as several jobs.

With `database:`, a delivery of an e-mail, WhatsApp or letter-pdf channel to more than
`queue: batch:` recipients is queued as ceil(recipients / batch) jobs. Every job runs the whole
delivery under the SAME delivery key, with a journal that shows it only its part of the
list (a recipient's part is a hash of its address, so the parts never overlap and need
no list order); the others' recipients look "not selected" and are skipped. So each
recipient's in-progress mark is still the one exactly-once guard, whichever worker runs
whichever part, and a killed worker's part is retried by another.

The delivery's ledger row is finished once, by the job that ends the last part: each job
ends in one transaction that locks the delivery's row (`SELECT ... FOR UPDATE`), records
its part as done, counts the parts done and, when it has the last one, writes the row's
outcome (published, or failed when any part failed) with the whole list's counts (and
what each part's receipt lists per item, joined: letter numbers, files). The
row lock serialises the jobs ending at the same moment, so exactly one sees every part
done; and since the part's mark and the row's outcome commit together, no crash leaves
one without the other. procrastinate has no "join" of jobs; this counter is it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

from chanpub.journal import HIDDEN, LedgerJournal, part_of
from chanpub.ledger import Ledger
from chanpub.ledger.schema import UNSETTLED
from chanpub.status import Status

BATCHED = ("email", "whatsapp", "letter-pdf")  # adapters that skip items a journal hides
NAMESPACE = "batches"  # the parts done, in the ledger's store table: key:part/parts
WORST = (Status.NEEDS_CHECK, Status.FAILED, Status.PUBLISHED)  # the row takes the first met


def parts_for(recipients: int | None, batch: int) -> int:
    """How many jobs share a list of `recipients` (1: the delivery is one job)."""
    return max(1, math.ceil((recipients or 0) / batch))


def clear_parts(db: Any, key: str) -> None:
    """Forget the parts done of a delivery that is not running (a new attempt starts),
    in the caller's transaction; an interrupted one keeps them, so only its unfinished
    parts send anything."""
    db.execute(
        "DELETE FROM store WHERE namespace = %s AND starts_with(key, %s) AND NOT EXISTS "
        "(SELECT 1 FROM deliveries WHERE delivery_key = %s AND status = %s)",
        (NAMESPACE, f"{key}:", key, Status.IN_PROGRESS),
    )


class PartJournal(LedgerJournal):
    """The journal of one delivery as one part sees it: the other parts' items hidden.

    Told its part's items (`narrow`: the part's rows of the list, which list_parts reads
    without the rest), it reads only their states, not the whole delivery's: a job's
    reading costs its part's size, not the list's."""

    def __init__(
        self,
        ledger: Ledger,
        key: str,
        redact: Callable[[str], str] | None,
        *,
        only: str | None,
        part: tuple[int, int],
    ) -> None:
        super().__init__(ledger, key, redact, only=only)
        self.part = part
        self._narrowed: set[str] | None = None  # the items told of, when told

    def narrow(self, items: Collection[str]) -> None:
        """Read the states of these items of the part only (before any is asked about)."""
        if self._states is None:
            self._narrowed = set(items)
            self._states = self.ledger.item_states(self.key, self._narrowed)

    def status(self, item: str) -> Status | None:
        """HIDDEN for another part's item (no database read), else as the ledger has it."""
        index, parts = self.part
        if part_of(item, parts) != index:
            return HIDDEN
        if self._narrowed is not None and item not in self._narrowed:  # not expected: ask
            self._narrowed.add(item)
            found = self.ledger.item_status(self.key, item)
            if found is not None and self._states is not None:
                self._states[item] = found
        return super().status(item)

    def counts(self) -> dict[str, int]:
        """This part's items in each state (the others' in-flight marks are theirs), from
        the one read of the delivery's states that this journal keeps up to date: only
        this part's job writes this part's items (it holds the part's claim). Narrowed,
        the part's items no longer on the list are left out: the last part counts the
        whole delivery (one of them in doubt still makes it need a check: `finish`)."""
        if self._states is None:
            self._states = self.ledger.item_states(self.key)
        index, parts = self.part
        totals: dict[str, int] = {}
        for item, status in self._states.items():
            if part_of(item, parts) == index:
                totals[str(status)] = totals.get(str(status), 0) + 1
        return totals


class PartLedger(Ledger):
    """The ledger as one part's job uses it: the same database connection, lock and rows,
    but the delivery's journal shows only this part, and the delivery's outcome is
    recorded as this part's end (the row itself only by the last part)."""

    def __init__(self, ledger: Ledger, key: str, part: int, parts: int) -> None:
        super().__init__(ledger.path, backend=ledger.backend)
        self._lock = ledger._lock  # one connection: one lock, whichever Ledger uses it
        self.key, self.part, self.parts = key, part, parts
        self.finished = False  # set when this job ended the last part

    @property
    def mark(self) -> str:
        """This part's name in the store: the delivery key, the part and the parts."""
        return f"{self.key}:{self.part}/{self.parts}"

    def journal(
        self, key: str, redact: Callable[[str], str] | None = None, *, only: str | None = None
    ) -> LedgerJournal:
        """This part's view of the delivery's journal; other deliveries' as they are."""
        if key != self.key:
            return super().journal(key, redact, only=only)
        return PartJournal(self, key, redact, only=only, part=(self.part, self.parts))

    def begin(self, **fields: Any) -> None:
        """Mark the delivery in progress, unless this part ended already (a stalled job
        run again must not reopen a row the last part finished)."""
        if self.stored(NAMESPACE, self.mark) is None:
            super().begin(**fields)

    def finish(
        self,
        *,
        slug: str,
        content_hash: str,
        channel: str,
        status: str,
        remote_id: str | None = None,
        url: str | None = None,
        error: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """End this part; the job ending the last part writes the delivery's outcome."""
        where = (slug, content_hash, channel)
        with self.connection() as db:
            db.execute(
                "SELECT status FROM deliveries WHERE slug = %s AND content_hash = %s "
                "AND channel = %s FOR UPDATE",
                where,
            )
            ended = {"status": str(status), "error": error, "details": dict(details or {})}
            inserted = db.execute(
                "INSERT INTO store (namespace, key, value, updated_at) VALUES "
                "(%s, %s, %s, now()::text) ON CONFLICT DO NOTHING",
                (NAMESPACE, self.mark, json.dumps(ended, default=str)),
            ).rowcount
            if not inserted:  # this part ended before; its end is recorded already
                return
            rows = db.execute(
                "SELECT value FROM store WHERE namespace = %s AND starts_with(key, %s) "
                "AND key LIKE %s",
                (NAMESPACE, f"{self.key}:", f"%/{self.parts}"),
            ).fetchall()
            if len(rows) < self.parts:
                return
            ends = [json.loads(row["value"]) for row in rows]
            counts = _counts(db, self.key)
            statuses = {e["status"] for e in ends}
            overall = next((s for s in WORST if s in statuses), Status.PUBLISHED)
            if overall == Status.PUBLISHED and any(counts.get(s) for s in UNSETTLED):
                overall = Status.NEEDS_CHECK  # in doubt, though on no part's list now
            errors = list(dict.fromkeys(e["error"] for e in ends if e["error"]))
            totals = _totals(counts, details or {})
            merged = {**dict(details or {}), **_joined(ends), **totals, "batches": self.parts}
            db.execute(
                "UPDATE deliveries SET status = %s, remote_id = %s, url = %s, error = %s, "
                "details = %s, finished_at = now()::text WHERE slug = %s "
                "AND content_hash = %s AND channel = %s",
                (
                    overall,
                    remote_id,
                    url,
                    "\n".join(errors[-5:]) or None,
                    json.dumps(merged, default=str),
                    *where,
                ),
            )
            self.finished = True


def _counts(db: Any, key: str) -> dict[str, int]:
    rows = db.execute(
        "SELECT status, count(*) AS n FROM items WHERE delivery_key = %s GROUP BY status",
        (key,),
    ).fetchall()
    return {str(row["status"]): int(row["n"]) for row in rows}


def _joined(ends: list[dict[str, Any]]) -> dict[str, Any]:
    """What the parts' receipts list of their own items, joined for the whole list: the
    mappings merged (a letter's number and file per recipient), the lists of names put
    together without repeats (the files written). Other values are the last part's."""
    joined: dict[str, Any] = {}
    for end in ends:
        for name, value in end["details"].items():
            if isinstance(value, dict):
                joined[name] = {**joined.get(name, {}), **value}
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                joined[name] = list(dict.fromkeys([*joined.get(name, []), *value]))
    return joined


def _totals(counts: Mapping[str, int], details: Mapping[str, Any]) -> dict[str, int]:
    """The whole list's counts, in the keys the last part's receipt has (e-mail and
    WhatsApp receipts count sent, failed, deferred and unknown the same way; a letter
    is journalled sent once numbered)."""
    sent = counts.get("sent", 0)
    totals = {
        "letters": sent,
        "sent": sent + counts.get("delivered", 0) + counts.get("read", 0),
        "failed": counts.get("failed", 0),
        "deferred": counts.get("deferred", 0) + counts.get("resend", 0),
        "unknown": counts.get("unknown", 0) + counts.get("in_progress", 0),
    }
    return {name: value for name, value in totals.items() if name in details}
