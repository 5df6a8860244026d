"""What a preview says of a WhatsApp channel's lists (how many subscribers, which numbers
are invalid), kept in the ledger with the stat of each list and opt-out file, as the
e-mail channel keeps its lists' (chanpub.channels.email.list_summary): the batch jobs of a
big list each previewed it, and each read the whole list only to count it. A later
preview takes the kept summary while every file still has the stat it had then
(chanpub.file_stats.kept_reading); the sending reads the lists itself, every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.channels.whatsapp.subscribers import Invalid, Subscriber, is_inline_number
from chanpub.file_stats import kept_reading

if TYPE_CHECKING:
    from chanpub.contract import Store

NAMESPACE = "whatsapp-list-summaries"
SHOWN = 5  # invalid numbers a preview names


@dataclass(frozen=True)
class ListSummary:
    """How many distinct subscribers get the message (opt-outs left out), and the
    invalid numbers: how many, and the first few."""

    count: int
    invalid_count: int
    invalid: tuple[str, ...]


def summarise(subscribers: Iterable[Subscriber], invalid: list[Invalid]) -> ListSummary:
    """The summary of one full reading (`invalid` is filled as it is read)."""
    count = sum(1 for _subscriber in subscribers)
    return ListSummary(count, len(invalid), tuple(i.number for i in invalid[:SHOWN]))


def remembered(
    lists: Mapping[str, list[str]],
    opt_out: list[str],
    base_dir: Path,
    store: Store | None,
    read: Callable[[], ListSummary],
) -> ListSummary:
    """The lists' summary: from the ledger while every list and opt-out file has the stat
    it had when the summary was kept, else from `read()`."""
    import phonenumbers

    from chanpub import __version__

    entries = [entry for sources in lists.values() for entry in sources] + opt_out
    files = [base_dir / e for e in entries if not is_inline_number(e)]
    # What else a count depends on: chanpub's reading, phonenumbers' (its numbering plans
    # change), and the lists' setting.
    depends_on = [__version__, phonenumbers.__version__, str(base_dir.resolve()), lists, opt_out]
    return kept_reading(files, depends_on, store, read, asdict, _load)


def _load(value: Any) -> ListSummary | None:
    try:
        count, invalid_count = int(value["count"]), int(value["invalid_count"])
        return ListSummary(count, invalid_count, tuple(value["invalid"]))
    except (KeyError, TypeError, ValueError):
        return None
