"""The one outcome vocabulary: every state a delivery, an item or an outcome can be in.

It sits below everything else (the ledger stores it, the contract hands it to adapters,
dispatch, output and `--json` print it), so it imports nothing of chanpub's."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Every state a delivery, an item or an outcome can be in (values are a contract:
    they are stored in the ledger and printed in `--json`)."""

    PUBLISHED = "published"
    ALREADY_PUBLISHED = "already-published"
    SKIPPED = "skipped"
    FAILED = "failed"
    INVALID = "invalid"  # a broken release in a folder: held back, the others went out
    IN_PROGRESS = "in_progress"  # marked before the remote call; left by a stopped run
    NEEDS_CHECK = "needs_check"  # a person must look: see `chanpub resolve`
    SENT = "sent"  # one item (a recipient) delivered
    DEFERRED = "deferred"  # one item refused for now: the next run retries it
    UNKNOWN = "unknown"  # one item whose outcome nobody knows: it may have arrived
    RESEND = "resend"  # an unknown item a person chose to send again (`resolve --resend`)
    DELIVERED = "delivered"  # one item the platform reported delivered (WhatsApp webhook)
    READ = "read"  # one item the platform reported read (WhatsApp webhook)
    NOT_SELECTED = "not-selected"  # never stored: a journal limited to some items says it
    # of the others (`resolve --resend` touches the unknown recipients alone)
