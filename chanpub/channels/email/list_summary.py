"""What a preview says of an e-mail channel's lists (how many recipients, the first of
them, the invalid addresses), kept in the ledger with the stat of each list file.

Every job of a delivery previews it, and a delivery to a big list is shared among many
batch jobs (chanpub.batches): each of them used to read and check the whole list only to
count it, so a list of L addresses in parts of B cost L x L/B row readings on top of the
sending. The first reading of the lists now keeps its summary in the ledger's store, under
the lists as configured, with the stat of every list file (chanpub.file_stats); a later
preview, in any process on any host sharing the ledger, takes the summary as long as every
file still has that stat, and reads the lists again otherwise. A summary is only kept when
the files' timestamps had settled before they were read and were unchanged after, so an
edit is always noticed, as in the folder scan.

Only the preview is answered this way: the sending reads the list itself, every time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.channels.email.address_notes import validator_version
from chanpub.channels.email.recipients import Invalid, Recipient, is_inline_address
from chanpub.file_stats import Stat, file_stat, settled

if TYPE_CHECKING:
    from chanpub.contract import Store

NAMESPACE = "email-list-summaries"
SHOWN = 5  # invalid addresses a preview names
clock = time.time_ns  # the wall clock that file timestamps are compared with


@dataclass(frozen=True)
class ListSummary:
    """How many valid, distinct recipients the lists have, the first of them (whose name
    the preview's greeting shows), and the invalid addresses (how many, the first few)."""

    count: int
    first: Recipient | None
    invalid_count: int
    invalid: tuple[str, ...]


def summarise(recipients: Iterable[Recipient], invalid: list[Invalid]) -> ListSummary:
    """The summary of one full reading (`invalid` is filled as it is read)."""
    count, first = 0, None
    for recipient in recipients:
        count += 1
        first = first or recipient
    shown = tuple(i.address for i in invalid[:SHOWN])
    return ListSummary(count, first, len(invalid), shown)


def remembered(
    lists: Mapping[str, list[str]],
    base_dir: Path,
    store: Store,
    read: Callable[[], ListSummary],
) -> ListSummary:
    """The lists' summary: from the ledger while every list file has the stat it had when
    the summary was kept, else from `read()` (and kept, when the files had settled)."""
    files = [
        str((base_dir / entry).resolve())
        for entries in lists.values()
        for entry in entries
        if not is_inline_address(entry)
    ]
    key = json.dumps([str(base_dir.resolve()), lists], sort_keys=True, ensure_ascii=False)
    before = _stats(files)
    kept = _usable(store.get(key), before)
    if kept is not None:
        return kept
    summary = read()
    # Kept when the files had settled before the reading and were not written to during it.
    if before is not None and all(settled(s, clock()) for s in before) and _stats(files) == before:
        store.put(key, _note(summary, before))
    return summary


def _stats(files: list[str]) -> list[Stat] | None:
    stats = [file_stat(path) for path in files]
    return None if any(stat is None for stat in stats) else stats  # type: ignore[return-value]


def _note(summary: ListSummary, stats: list[Stat]) -> dict[str, Any]:
    first = asdict(summary.first) if summary.first else None
    if first is not None:
        first["fields"] = dict(first["fields"])
    return {
        "made_by": _made_by(),
        "stats": stats,
        "count": summary.count,
        "first": first,
        "invalid_count": summary.invalid_count,
        "invalid": list(summary.invalid),
    }


def _usable(note: Any, stats: list[Stat] | None) -> ListSummary | None:
    """The kept summary, when the files are as they were; None otherwise, or when the
    note is not one this version of chanpub wrote."""
    if stats is None or not isinstance(note, dict) or note.get("stats") != stats:
        return None
    if note.get("made_by") != _made_by():  # another reading of the lists, or of addresses
        return None
    try:
        first = Recipient(**note["first"]) if note["first"] else None
        return ListSummary(
            int(note["count"]), first, int(note["invalid_count"]), tuple(note["invalid"])
        )
    except (KeyError, TypeError, ValueError):
        return None


def _made_by() -> list[str]:
    from chanpub import __version__

    return [__version__, validator_version()]
