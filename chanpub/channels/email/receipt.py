"""The receipt of one mailing (a release, or a correction or retraction notice) from
its journal's counts: what `history` shows and the next run needs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chanpub.channels.email.recipients import Invalid
from chanpub.contract import Action, Amendment, Receipt
from chanpub.errors import PartialFailure
from chanpub.i18n import _
from chanpub.journal import unknown_line
from chanpub.release import Release


def mailing_receipt(
    channel: str,
    key: str,
    counts: Mapping[str, int],
    invalid: list[Invalid],
    release: Release,
    folder: tuple[Path, ...],
    new_failures: int = 0,
    amends: tuple[Amendment, str] | None = None,
) -> Receipt:
    """The mailing's receipt; raises PartialFailure while recipients wait for a retry, or
    when this run met new permanent failures (reported once, then kept in history).
    A notice's receipt (`amends`: the amendment and the original mailing's key) keeps
    the original's id and records that key, for the next notice."""
    details: dict[str, Any] = {
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "deferred": counts.get("deferred", 0) + counts.get("resend", 0),
        "unknown": counts.get("unknown", 0) + counts.get("in_progress", 0),
        "invalid": len(invalid),
        "invalid_addresses": [f"{i.address}: {i.reason}" for i in invalid[:100]],
        "release_file": str(release.path.resolve()),  # for 'chanpub resolve --resend'
    }
    remote_id, action = f"{channel}:{key[:16]}", None
    if amends is not None:
        details["original"] = amends[1]
        remote_id = amends[0].previous.remote_id or remote_id
        action = Action.SENT if details["sent"] else Action.UNCHANGED
    receipt = Receipt(
        remote_id=remote_id,
        url=None,
        published_at=datetime.now(UTC),
        details=details,
        files=folder,
        counts={state: details[state] for state in ("sent", "failed", "deferred", "invalid")},
        action=action,
    )
    not_reached = details["failed"] + details["deferred"]
    problems: list[str] = []
    if details["deferred"] or new_failures:
        problems.append(
            _(
                "{channel}: {failed} of {total} recipients were not reached (see 'chanpub history')"
            ).format(
                channel=channel,
                failed=not_reached,
                total=not_reached + details["sent"] + details["unknown"],
            )
        )
    if details["unknown"]:
        problems.append(unknown_line(channel, release.slug, details["unknown"]))
    if problems:
        raise PartialFailure("\n".join(problems), receipt=receipt)
    return receipt
