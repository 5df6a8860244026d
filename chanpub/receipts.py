"""Receipts and the ledger: what a delivery's row keeps of a Receipt, and the Receipt a row
gives back (to later channels, to `--update`, and to an amendment as what is there now)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chanpub.contract import Receipt
from chanpub.ledger import Delivery, Ledger
from chanpub.release import Release
from chanpub.status import Status


def ledger_details(receipt: Receipt) -> dict[str, Any]:
    """What the ledger keeps of a receipt: the adapter's details, then the contract's
    counts, numbers and files under their own keys (history reads those)."""
    details: dict[str, Any] = {**receipt.details, **receipt.counts}
    if receipt.numbers:
        details["numbers"] = dict(receipt.numbers)
    if receipt.files:
        details["files"] = [str(path) for path in receipt.files]
    if receipt.action is not None:
        details["action"] = str(receipt.action)
    return details


def receipt_from(row: Delivery) -> Receipt:
    """A receipt rebuilt from the ledger (for outputs and --update)."""
    details = dict(row.details)
    files = tuple(Path(p) for p in details.get("files", []))
    published = datetime.fromisoformat(row.finished_at) if row.finished_at else datetime.now(UTC)
    return Receipt(
        remote_id=row.remote_id or "",
        url=row.url,
        published_at=published,
        details={**details, "key": row.key},
        files=files,
    )


def earlier_version(
    ledger: Ledger, release: Release, channel: str, *, recipients: bool
) -> Delivery | None:
    """The delivery of another version of `release` that `channel` shows now: the last
    one published, or for a many-recipient channel (`recipients`) one that reached part
    of its list (recorded failed until its last recipient is settled, yet those it
    reached got that version, and a correction must follow them)."""
    versions = ledger.published_versions(release.slug, channel)
    older = [d for d in versions if d.content_hash != release.content_sha256]
    if older or not recipients:
        return older[-1] if older else None
    reached = (
        d
        for d in ledger.history(release.slug)
        if d.channel == channel
        and d.content_hash != release.content_sha256
        and ledger.item_counts(d.key).get(Status.SENT)
    )
    return next(reached, None)
