"""A batch job's own e-mail recipients, read without reading the whole lists: the e-mail
lists as chanpub.channels.list_parts reads them (where that module says how)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.channels.email.address_notes import validator_version
from chanpub.channels.email.recipients import (
    Columns,
    Invalid,
    Recipient,
    is_inline_address,
    iter_located,
    rows_of,
)
from chanpub.channels.list_files import RowsAgain
from chanpub.channels.list_parts import Located, PartReading
from chanpub.journal import Part

if TYPE_CHECKING:
    from chanpub.contract import Store

NAMESPACE = "email-list-parts"


def part_recipients(
    lists: Mapping[str, list[str]],
    base_dir: Path,
    invalid: list[Invalid],
    notes: Store | None,
    store: Store,
    part: Part,
    *,
    wanted: Callable[[str], bool] | None = None,
    known: Callable[[list[str]], None] | None = None,
) -> Iterator[Recipient]:
    """The recipients of one part of the lists (see PartReading.items); `notes` are the
    address checks of earlier readings, for a whole reading."""
    from chanpub import __version__

    kind = EmailLists(lists, base_dir, notes)
    paths = [str((base_dir / e).resolve()) for _n, e in kind.entries if not is_inline_address(e)]
    where = [str(base_dir.resolve()), lists]
    reading = PartReading(kind, store, part, where, paths, [__version__, validator_version()])
    return reading.items(invalid, wanted, known)


class EmailLists:
    """E-mail lists as list_parts reads them (a PartedList of Recipients)."""

    def __init__(self, lists: Mapping[str, list[str]], base_dir: Path, notes: Store | None) -> None:
        self.lists, self.base_dir, self.notes = lists, base_dir, notes
        self.entries = [(name, entry) for name, listed in lists.items() for entry in listed]

    def located(self, invalid: list[Any]) -> Iterator[Located[Recipient]]:
        return iter_located(self.lists, self.base_dir, invalid, self.notes)

    def rows_at(self, places: Sequence[tuple[int, int]]) -> Generator[tuple[str, Any]]:
        with RowsAgain(self.base_dir, Columns.of) as again:
            for entry, offset in places:
                list_name, source = self.entries[entry]
                if is_inline_address(source):
                    address, details, _s, _o = next(rows_of(source, self.base_dir, list_name))
                    yield address, details()
                    continue
                row, columns = again.row(source, offset)
                yield columns.address(row), columns.details(row)

    def make(self, text: str, row: Any, entry: int) -> Recipient:
        name, others = row
        return Recipient(text, name, self.entries[entry][0], others)

    def key(self, item: Recipient) -> str:
        return item.key

    def text(self, item: Recipient) -> str:
        return item.email

    def invalid_entry(self, fields: list[str]) -> Invalid:
        return Invalid(*fields)
