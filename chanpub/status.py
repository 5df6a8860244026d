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
