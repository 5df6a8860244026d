"""The versions of a release as `history` shows them: each content hash with its kind
(release, correction, retraction), who approved it and when, and what each channel did."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chanpub.i18n import _
from chanpub.ledger import Delivery

if TYPE_CHECKING:
    from rich.console import Console

KINDS = ("release", "correction", "retraction")


@dataclass(frozen=True)
class Version:
    """One approved version of a release and its deliveries, one per channel."""

    slug: str
    content_hash: str
    kind: str  # release, correction or retraction
    approved_by: str | None
    approved_at: str | None
    deliveries: tuple[Delivery, ...]

    def to_json(self) -> dict[str, Any]:
        """The version in `history --json` (`action`: edited, replied, deleted, sent,
        unchanged, or null for a first publication)."""
        return {
            "slug": self.slug,
            "content_hash": self.content_hash,
            "kind": self.kind,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at,
            "channels": [
                {"channel": d.channel, "status": d.status, "action": action_of(d)}
                for d in self.deliveries
            ],
        }


def action_of(row: Delivery) -> str | None:
    """What a channel did with an amendment (None for a first publication)."""
    action = row.details.get("action")
    return str(action) if action else None


def versions(rows: Iterable[Delivery]) -> list[Version]:
    """The deliveries grouped by release version, oldest first (rows from before the
    kind was kept count as releases)."""
    groups: dict[tuple[str, str], list[Delivery]] = {}
    # Within one second (started_at's precision), a release goes before its amendments.
    for row in sorted(rows, key=lambda r: (r.started_at, KINDS.index(r.kind or "release"))):
        groups.setdefault((row.slug, row.content_hash), []).append(row)
    found = []
    for (slug, content_hash), group in groups.items():
        first = group[0]
        found.append(
            Version(
                slug,
                content_hash,
                first.kind or "release",
                first.approved_by,
                first.approved_at,
                tuple(sorted(group, key=lambda r: r.channel)),
            )
        )
    return found


def print_versions(rows: Iterable[Delivery], console: Console) -> None:
    """Each version (release, correction, retraction): who approved it, and per channel
    the outcome and what was done (edited, replied, deleted, sent, unchanged)."""
    for version in versions(rows):
        console.print(
            _("{slug}: {kind} {hash}, approved by {name} at {at}").format(
                slug=version.slug,
                kind=version.kind,
                hash=version.content_hash[:12],
                name=version.approved_by or "?",
                at=(version.approved_at or "?").replace("T", " ")[:16],
            ),
            markup=False,
            soft_wrap=True,  # one line per version, whatever the terminal's width
        )
        for row in version.deliveries:
            action = action_of(row)
            done = f"{row.status} ({action})" if action else row.status
            console.print(f"  {row.channel}: {done}", markup=False, soft_wrap=True)
