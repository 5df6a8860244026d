"""The per-subscriber loop of the whatsapp channel: each subscriber exactly once.

Order per subscriber: `begin` (committed) -> POST -> `sent` with the wamid (committed). A
run stopped between the two leaves the subscriber 'in_progress'; the next run makes it
'unknown' and does not send to it again (no idempotency key, no look-up): `history` lists
it and a person decides with `chanpub resolve SLUG CHANNEL --resend` (or --published /
--not-published). Item states a run sends to: never tried, 'deferred', 'resend'.
The same loop sends a correction's or retraction's follow-up, journalled under its own key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.channels.whatsapp.cloud_api import CloudApi, SubscriberRefused, Template
from chanpub.channels.whatsapp.message import fill, message_body
from chanpub.channels.whatsapp.subscribers import Invalid, Subscriber
from chanpub.contract import Action, Amendment, ItemJournal, Receipt
from chanpub.errors import AmbiguousError, ChannelError, PartialFailure, RetryableError
from chanpub.i18n import _
from chanpub.pacing import Pacer

if TYPE_CHECKING:
    from chanpub.channels.whatsapp.channel import WhatsappChannel
    from chanpub.release import Release

SENDABLE = (None, "deferred", "resend")  # item states a run sends to
RETRY_ATTEMPTS = 5  # per subscriber, on 130429 / 131056
RETRY_TIMEOUT = 90.0  # seconds per subscriber
LOST_IN_A_ROW = 3  # lost answers in a row stop the run: the service is unwell


def mark_unknown(journal: ItemJournal, item: str, reason: str) -> None:
    """Record that nobody knows whether the message arrived: no run sends it again by
    itself; `chanpub resolve ... --resend` is a person's decision."""
    journal.unknown(item, reason)


class Sender:
    """Sends one template message (the release's, or a follow-up) to a stream of
    subscribers, journalled under `key`."""

    def __init__(
        self,
        channel: WhatsappChannel,
        api: CloudApi,
        journal: ItemJournal,
        *,
        key: str,
        values: Sequence[str],
        image: Path | None,
        template: Template,
    ) -> None:
        self.channel = channel
        self.options = channel.options
        self.api = api
        self.journal = journal
        self.key = key
        self.values = list(values)
        self.image = image
        self.template = template  # checked: exists, approved, matches `values`
        self.media_id: str | None = None
        self.pacer = Pacer(self.options.rate_per_second)
        self.failed_before = journal.counts().get("failed", 0)
        self.stopped: str | None = None  # why the run stopped before the end of the list
        self.unknown = 0  # subscribers this run found or left unknown

    def send(self, subscribers: Iterable[Subscriber]) -> None:
        """Message every subscriber whose state allows it, paced at `rate_per_second`."""
        lost = 0
        sent = 0
        for subscriber in subscribers:
            state = self.journal.status(subscriber.key)
            if state == "in_progress":
                self._unknown(
                    subscriber.key,
                    _(
                        "a run stopped while sending to this number: it may have received "
                        "the message; check before sending again"
                    ),
                )
                continue
            if state not in SENDABLE:
                continue  # sent, failed for good, unknown (a person decides), not chosen
            if self.image is not None and self.media_id is None:
                # Once per run, and only when someone is left to message.
                self.media_id = self.api.upload_media(self.options.phone_number_id, self.image)
            self.pacer.take()
            outcome = self._send_one(subscriber)
            if outcome == "stop":
                break
            lost = lost + 1 if outcome == "lost" else 0
            sent += outcome == "sent"
            self.channel.context.report("progress", sent=sent)
            if lost >= LOST_IN_A_ROW:
                self.stopped = _("{n} answers in a row were lost").format(n=lost)
                break

    def _unknown(self, item: str, reason: str) -> None:
        self.unknown += 1
        mark_unknown(self.journal, item, reason)

    def _send_one(self, subscriber: Subscriber) -> str:
        """'sent', 'refused', 'lost' or 'stop'; a channel-wide error is raised after the
        subscriber is recorded as not reached (nothing went out to it)."""
        body = message_body(
            subscriber.phone,
            self.template.name,
            self.template.language,
            self.values,
            media_id=self.media_id,
            callback=self.key,
        )
        self.journal.begin(subscriber.key)
        try:
            wamid = self._post(body)
        except SubscriberRefused as refused:
            self.journal.failed(subscriber.key, refused.message)
            return "refused"
        except RetryableError as error:  # still throttled after the bounded retries
            self.journal.failed(subscriber.key, error.message, permanent=False)
            self.stopped = error.message
            return "stop"
        except AmbiguousError as error:
            self._unknown(subscriber.key, error.message)
            return "lost"
        except ChannelError as error:  # token, template, account: the same for everyone
            self.journal.failed(subscriber.key, error.message, permanent=False)
            raise
        self.journal.sent(subscriber.key, wamid)
        return "sent"

    def _post(self, body: Mapping[str, object]) -> str:
        """POST the message; on a throughput or pair-rate limit, slow the whole run down
        and try again, a bounded number of times."""
        import stamina

        def slow_down(error: Exception) -> bool | float:
            if not isinstance(error, RetryableError):
                return False
            self.pacer.slow_down()
            self.channel.context.report("retrying", seconds=error.retry_after)
            return error.retry_after if error.retry_after is not None else True

        for attempt in stamina.retry_context(
            on=slow_down, attempts=RETRY_ATTEMPTS, timeout=RETRY_TIMEOUT, wait_initial=1.0
        ):
            with attempt:
                return self.api.send_template(self.options.phone_number_id, body)
        raise AssertionError("unreachable: retry_context either returns or raises")

    def problems(self, slug: str, totals: Mapping[str, int]) -> list[str]:
        """What the officer must hear about this run (empty: everyone was reached)."""
        problems: list[str] = []
        name = self.channel.name
        new_failures = totals["failed"] - self.failed_before
        not_reached = totals["failed"] + totals["deferred"]
        if self.stopped:
            problems.append(
                _("{channel}: stopped ({reason}): the next run sends to the rest").format(
                    channel=name, reason=self.stopped
                )
            )
        if totals["deferred"] or new_failures > 0:
            reached = sum(totals[s] for s in ("sent", "delivered", "read"))
            problems.append(
                _(
                    "{channel}: {failed} of {total} subscribers were not reached (see "
                    "'chanpub history')"
                ).format(channel=name, failed=not_reached, total=not_reached + reached)
            )
        unknown = max(totals["unknown"], self.unknown)
        if unknown:
            problems.append(
                _(
                    "{channel}: {count} subscriber(s) may or may not have received the "
                    "message (the answer was lost): check with them, then run 'chanpub "
                    "resolve {slug} {channel} --resend' (or --published / --not-published); "
                    "'chanpub history {slug}' lists them"
                ).format(channel=name, count=unknown, slug=slug)
            )
        return problems


def run_receipt(
    sender: Sender,
    invalid: list[Invalid],
    release: Release,
    amends: tuple[Amendment, str] | None = None,
) -> Receipt:
    """The run's receipt; raises PartialFailure while subscribers wait for a retry, are
    unknown, or met new permanent failures (reported once, then kept in history). A
    follow-up's receipt (`amends`: the amendment and the release's delivery key) keeps
    the release's id and records that key, so the next follow-up reaches the same people."""
    counts = dict(sender.journal.counts())
    states = ("sent", "delivered", "read", "failed", "deferred", "unknown")
    totals = {state: counts.get(state, 0) for state in states}
    totals["deferred"] += counts.get("resend", 0)
    totals["unknown"] += counts.get("in_progress", 0)
    totals["invalid"] = len(invalid)
    details: dict[str, Any] = {
        **totals,
        "template": sender.template.name,
        "message": fill(sender.template.body, sender.values),  # as subscribers read it
        "invalid_numbers": [f"{i.number}: {i.reason}" for i in invalid[:100]],
        "release_file": str(release.path.resolve()),  # for 'chanpub resolve --resend'
    }
    remote_id, action = f"{sender.channel.name}:{sender.key[:16]}", None
    if amends is not None:
        amendment, details["original"] = amends
        remote_id = amendment.previous.remote_id or remote_id
        reached = sum(totals[state] for state in ("sent", "delivered", "read"))
        action = Action.SENT if reached else Action.UNCHANGED  # nobody had it: nothing to say
    receipt = Receipt(
        remote_id=remote_id,
        url=None,
        published_at=datetime.now(UTC),
        details=details,
        counts=totals,
        action=action,
    )
    problems = sender.problems(release.slug, totals)
    if problems:
        raise PartialFailure("\n".join(problems), receipt=receipt)
    return receipt
