"""What a preview says of an e-mail channel's lists (how many recipients, the first of
them, the invalid addresses), kept in the ledger with the stat of each list file.

Every job of a delivery previews it, and a delivery to a big list is shared among many
batch jobs (chanpub.batches): each of them used to read and check the whole list only to
count it, so a list of L addresses in parts of B cost L x L/B row readings on top of the
sending. The first reading of the lists now keeps its summary in the ledger's store, under
the lists as configured, and a later preview, in any process on any host sharing the
ledger, takes it while every list file still has the stat it had then
(chanpub.file_stats.kept_reading: an edit is always noticed, as in the folder scan).

The sending reads the list itself: a batch job only its own rows, once a job has noted
where each part's rows are (list_parts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.channels.email.address_notes import validator_version
from chanpub.channels.email.recipients import Invalid, Recipient, is_inline_address
from chanpub.file_stats import kept_reading

if TYPE_CHECKING:
    from chanpub.contract import Store

NAMESPACE = "email-list-summaries"
SHOWN = 5  # invalid addresses a preview names


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
    store: Store | None,
    read: Callable[[], ListSummary],
) -> ListSummary:
    """The lists' summary: from the ledger while every list file has the stat it had when
    the summary was kept, else from `read()`."""
    from chanpub import __version__

    files = [
        base_dir / e for entries in lists.values() for e in entries if not is_inline_address(e)
    ]
    # What else a count depends on: chanpub's reading, email_validator's, the lists' setting.
    depends_on = [__version__, validator_version(), str(base_dir.resolve()), lists]
    return kept_reading(files, depends_on, store, read, _dump, _load)


def _dump(summary: ListSummary) -> dict[str, Any]:
    value = asdict(summary)
    if summary.first is not None:
        value["first"]["fields"] = dict(summary.first.fields)
    return value


def _load(value: Any) -> ListSummary | None:
    try:
        first = Recipient(**value["first"]) if value["first"] else None
        count, invalid_count = int(value["count"]), int(value["invalid_count"])
        return ListSummary(count, first, invalid_count, tuple(value["invalid"]))
    except (KeyError, TypeError, ValueError):
        return None
