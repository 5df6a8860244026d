"""A batch job's own recipients, read without reading the whole lists.

A delivery to a big list (e-mail addresses, WhatsApp numbers) is shared among batch jobs by
a hash of each recipient's key (chanpub.batches, chanpub.journal.part_of). Each job used to
read, check and hash every row of every list only to find its part: L x L/B rows for a
list of L in parts of B, which at the scale batches are for (500,000 addresses in parts of
250: a billion rows for half a million messages) costs more than the sending.

The first job that reads the lists whole notes in the ledger's store, for every part,
where that part's rows start (the entry of `lists:` and the byte offset in its file), the
invalid entries, and, where the check changed a row's text (an address's case, a number
written 0812-...), the text it made. The note is kept under the lists as configured, with
each file's stat, on the rules of chanpub.file_stats (only once the files had settled, and
not when one was written to during the reading), and with what else the reading depends
on (chanpub's version, the checker's, the number of parts): a new note of the same lists
replaces it. A later job, in any process on any host sharing the ledger, reads only its
own rows while every file still has that stat. Each row it reads must hold a recipient of
its part; one that does not (or a file that cannot be read) makes it read the lists whole,
as before, so a note can save a reading but never change what is sent. The rows are the
first of each recipient across all the lists (after opt-outs), so the first row still
wins.

What a kind of list must say to be read this way is `PartedList`; the e-mail lists
(email/recipients.py) and WhatsApp subscribers (whatsapp/subscribers.py) say it.
"""

from __future__ import annotations

import csv
import json
from array import array
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import astuple
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

from chanpub.file_stats import keepable, stats_of
from chanpub.journal import Part, part_of

if TYPE_CHECKING:
    from chanpub.contract import Store

T = TypeVar("T")


class Located(NamedTuple, Generic[T]):
    """A recipient of a whole reading and where its row is: the entry of `lists:`
    (counted across all the lists, in order), the row's offset in that file, and the
    recipient's text as the row has it."""

    item: T
    entry: int
    offset: int
    written: str


class PartedList(Protocol[T]):
    """A kind of recipient list, as list_parts reads it."""

    def located(self, invalid: list[Any]) -> Iterator[Located[T]]:
        """The whole reading: each valid, distinct recipient in list order with where its
        row is; invalid rows go to `invalid`."""
        ...

    def rows_at(self, places: Sequence[tuple[int, int]]) -> Generator[tuple[str, Any]]:
        """Each noted row again: the recipient's text as written, and the row (as
        `make` takes it); raises OSError, csv.Error or ValueError when a row cannot be."""
        ...

    def make(self, text: str, row: Any, entry: int) -> T:
        """The recipient of a row read again, its text as the check made it."""
        ...

    def key(self, item: T) -> str:
        """The journal key of a recipient (what its part is a hash of)."""
        ...

    def text(self, item: T) -> str:
        """A recipient's text as the check made it (compared with the row's)."""
        ...

    def invalid_entry(self, fields: list[str]) -> Any:
        """An invalid row again (a dataclass), from its fields as noted."""
        ...


class PartReading(Generic[T]):
    """One part of some lists, and the note of where each part's rows are."""

    def __init__(
        self,
        kind: PartedList[T],
        store: Store,
        part: Part,
        where: list[Any],
        paths: list[str],
        made_by: list[Any],
    ) -> None:
        """`where` names the lists (the note's key), `paths` are every file the reading
        depends on, and `made_by` what else it depends on (versions)."""
        self.kind, self.store, self.part, self.paths = kind, store, part, paths
        self.key = json.dumps([*where, paths], sort_keys=True, ensure_ascii=False)
        self.made_by = [*made_by, part[1]]

    def items(
        self,
        invalid: list[Any],
        wanted: Callable[[str], bool] | None = None,
        known: Callable[[list[str]], None] | None = None,
    ) -> Iterator[T]:
        """The part's recipients (those `wanted`, by key), in list order; every invalid
        row of the lists goes to `invalid`, as a whole reading gives them. Read from the
        note, the part's rows are read at once, and `known` is told their keys before any
        is given to `wanted` (a batch job's journal then reads only their states)."""
        noted = self.noted()
        if noted is None:
            return self.whole(invalid, wanted)
        items, invalid_noted = noted
        invalid.extend(invalid_noted)
        keys = [self.kind.key(item) for item in items]
        if known is not None:
            known(keys)
        return (
            item for item, key in zip(items, keys, strict=True) if wanted is None or wanted(key)
        )

    def noted(self) -> tuple[list[T], list[Any]] | None:
        """This part's recipients and the lists' invalid rows, read from the rows the note
        names; None when there is no note made as this reading would make it (from files
        with the stats they have now) or a row is not what it says."""
        stats = stats_of(self.paths)
        if stats is None:
            return None
        made = [stats, *self.made_by]
        rows = self.store.get(f"{self.key}#{self.part[0]}")
        invalid = self.store.get(f"{self.key}#invalid")
        if not (_current(rows, made) and _current(invalid, made)):
            return None
        try:
            items = self._read_rows(rows["rows"], rows["changed"])
            invalid_noted = [self.kind.invalid_entry(list(map(str, f))) for f in invalid["invalid"]]
        except (OSError, UnicodeDecodeError, csv.Error, ValueError, TypeError, KeyError):
            return None  # the whole reading says what is wrong with a list, if anything is
        return (items, invalid_noted) if items is not None else None

    def whole(self, invalid: list[Any], wanted: Callable[[str], bool] | None) -> Iterator[T]:
        """Read the lists whole, yield this part's recipients as they come, and note every
        part's rows for the jobs after this one."""
        index, parts = self.part
        before = stats_of(self.paths)
        places = [array("q") for _ in range(parts)]  # entry, offset, entry, offset, ...
        changed: list[dict[str, str]] = [{} for _ in range(parts)]
        for located in self.kind.located(invalid):
            key, text = self.kind.key(located.item), self.kind.text(located.item)
            its = part_of(key, parts)
            if text != located.written:
                changed[its][str(len(places[its]) // 2)] = text
            places[its].extend((located.entry, located.offset))
            if its == index and (wanted is None or wanted(key)):
                yield located.item
        if not keepable(self.paths, before):
            return
        made = [before, *self.made_by]
        for number, rows in enumerate(places):
            note = {"made": made, "rows": rows.tolist(), "changed": changed[number]}
            self.store.put(f"{self.key}#{number}", note)
        fields = [[str(value) for value in astuple(entry)] for entry in invalid]
        self.store.put(f"{self.key}#invalid", {"made": made, "invalid": fields})

    def _read_rows(self, flat: list[int], changed: dict[str, str]) -> list[T] | None:
        """The recipients at the noted places; None at the first row that is not of this
        part (a file changed without its stat changing)."""
        places = [(flat[n], flat[n + 1]) for n in range(0, len(flat), 2)]
        items = []
        with closing(self.kind.rows_at(places)) as rows:  # its files closed, whatever comes
            for number, ((written, row), (entry, _offset)) in enumerate(
                zip(rows, places, strict=True)  # a row short: ValueError, read whole
            ):
                item = self.kind.make(changed.get(str(number), written), row, entry)
                if not written or part_of(self.kind.key(item), self.part[1]) != self.part[0]:
                    return None
                items.append(item)
        return items


def _current(note: Any, made: list[Any]) -> bool:
    return isinstance(note, dict) and note.get("made") == made
