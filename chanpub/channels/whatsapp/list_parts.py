"""A batch job's own WhatsApp subscribers, read without reading the whole lists: the
subscriber lists as chanpub.channels.list_parts reads them (where that module says how).
The opt-out lists are read whole by every job, as before (they are short), and their
files are among those whose stat a note is kept with: an opt-out added since makes the
job read the lists whole."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.channels.list_files import RowsAgain
from chanpub.channels.list_parts import Located, PartReading
from chanpub.channels.whatsapp.subscribers import (
    Columns,
    Invalid,
    Subscriber,
    is_inline_number,
    iter_located,
)
from chanpub.journal import Part

if TYPE_CHECKING:
    from chanpub.contract import Store

NAMESPACE = "whatsapp-list-parts"


def part_subscribers(
    lists: Mapping[str, list[str]],
    opt_out: tuple[list[str], set[str]],
    base_dir: Path,
    invalid: list[Invalid],
    store: Store,
    part: Part,
    *,
    wanted: Callable[[str], bool] | None = None,
    known: Callable[[list[str]], None] | None = None,
) -> Iterator[Subscriber]:
    """The subscribers of one part of the lists, opt-outs left out (see
    PartReading.items); `opt_out` is the opt-out entries and the numbers they hold."""
    import phonenumbers

    from chanpub import __version__

    entries, numbers = opt_out
    kind = SubscriberLists(lists, base_dir, numbers)
    files = [e for _n, e in kind.entries] + entries
    paths = [str((base_dir / e).resolve()) for e in files if not is_inline_number(e)]
    where = [str(base_dir.resolve()), lists, entries]
    made_by = [__version__, phonenumbers.__version__]
    reading = PartReading(kind, store, part, where, paths, made_by)

    def allowed(key: str) -> bool:  # an opt-out is honoured whatever a note says
        return key not in numbers and (wanted is None or wanted(key))

    return reading.items(invalid, allowed, known)


class SubscriberLists:
    """Subscriber lists as list_parts reads them (a PartedList of Subscribers)."""

    def __init__(self, lists: Mapping[str, list[str]], base_dir: Path, opt_out: set[str]) -> None:
        self.lists, self.base_dir, self.opt_out = lists, base_dir, opt_out
        self.entries = [(name, entry) for name, listed in lists.items() for entry in listed]

    def located(self, invalid: list[Any]) -> Iterator[Located[Subscriber]]:
        return iter_located(self.lists, self.base_dir, invalid, self.opt_out)

    def rows_at(self, places: Sequence[tuple[int, int]]) -> Generator[tuple[str, Any]]:
        with RowsAgain(self.base_dir, Columns.of) as again:
            for entry, offset in places:
                source = self.entries[entry][1]
                if is_inline_number(source):
                    yield source, ""
                    continue
                row, columns = again.row(source, offset)
                yield columns.number(row), columns.name(row)

    def make(self, text: str, row: Any, entry: int) -> Subscriber:
        return Subscriber(text, str(row), self.entries[entry][0])

    def key(self, item: Subscriber) -> str:
        return item.key

    def text(self, item: Subscriber) -> str:
        return item.phone

    def invalid_entry(self, fields: list[str]) -> Invalid:
        return Invalid(*fields)
