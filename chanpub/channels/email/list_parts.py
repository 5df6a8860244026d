"""A batch job's own recipients, read without reading the whole lists.

A delivery to a big list is shared among batch jobs by a hash of each address
(chanpub.batches, chanpub.journal.part_of). Each job used to read, check and hash every
row of every list only to find its part: L x L/B rows for a list of L addresses in parts
of B, which at the scale batches are for (500,000 addresses in parts of 250: a billion
rows for half a million messages) costs more than the sending.

The first job that reads the lists whole notes in the ledger's store, for every part,
where that part's rows start (the entry of `lists:` and the byte offset in its file), the
invalid addresses, and, where the address check changed an address's text, the text it
made. The note is kept under the lists as configured and the number of parts, with each
list file's stat, on the rules of chanpub.file_stats (only once the files had settled,
and not when one was written to during the reading). A later job of any delivery to the
same lists in as many parts, in any process on any host sharing the ledger, reads only
its own rows while every file still has that stat. Each row it reads must hold an address
of its part; one that does not (or a file that cannot be read) makes it read the lists
whole, as before, so a note can save a reading but never change what is sent. The rows
are the first of each address across all the lists, so the first row still wins.
"""

from __future__ import annotations

import csv
import json
from array import array
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.channels.email.address_notes import validator_version
from chanpub.channels.email.recipients import (
    Invalid,
    Recipient,
    is_inline_address,
    iter_located,
    list_reader,
    rows_of,
)
from chanpub.channels.list_files import OffsetLines
from chanpub.file_stats import keepable, stats_of
from chanpub.journal import Part, part_of

if TYPE_CHECKING:
    from chanpub.contract import Store

NAMESPACE = "email-list-parts"
SEEK_CHUNK = 4096  # bytes read at each noted row: a part's rows lie far apart in the file


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
    """The recipients of one part of the lists (those `wanted`, by key), in list order;
    every invalid address of the lists goes to `invalid`, as a whole reading gives them.
    Read from the note, the part's rows are read at once, and `known` is told their keys
    before any is given to `wanted` (a batch job's journal then reads only their states)."""
    reading = _PartReading(lists, base_dir, store, part)
    noted = reading.noted()
    if noted is None:
        return reading.whole(invalid, notes, wanted)
    recipients, invalid_noted = noted
    invalid.extend(invalid_noted)
    if known is not None:
        known([r.key for r in recipients])
    return (r for r in recipients if wanted is None or wanted(r.key))


class _PartReading:
    """One part of some lists, and the note of where each part's rows are. The note's key
    names the lists; what else it depends on (the files' stats, chanpub's and
    email_validator's versions, the number of parts) is in it: a new note of the same
    lists, edited or in another number of parts, replaces it."""

    def __init__(
        self, lists: Mapping[str, list[str]], base_dir: Path, store: Store, part: Part
    ) -> None:
        from chanpub import __version__

        self.lists, self.base_dir, self.store, self.part = lists, base_dir, store, part
        self.entries = [(name, entry) for name, listed in lists.items() for entry in listed]
        self.paths = [
            str((base_dir / e).resolve()) for _n, e in self.entries if not is_inline_address(e)
        ]
        where = [str(base_dir.resolve()), lists, self.paths]
        self.key = json.dumps(where, sort_keys=True, ensure_ascii=False)
        self.made_by = [__version__, validator_version(), part[1]]

    def noted(self) -> tuple[list[Recipient], list[Invalid]] | None:
        """This part's recipients and the lists' invalid addresses, read from the rows the
        note names; None when there is no note made as this reading would make it (from
        files with the stats they have now) or a row is not what it says."""
        stats = stats_of(self.paths)
        if stats is None:
            return None
        made = [stats, *self.made_by]
        rows = self.store.get(f"{self.key}#{self.part[0]}")
        invalid = self.store.get(f"{self.key}#invalid")
        if not (_current(rows, made) and _current(invalid, made)):
            return None
        try:
            recipients = self._read_rows(rows["rows"], rows["changed"])
            invalid_noted = [Invalid(*map(str, fields)) for fields in invalid["invalid"]]
        except (OSError, UnicodeDecodeError, csv.Error, ValueError, TypeError, KeyError):
            return None  # the whole reading says what is wrong with a list, if anything is
        return (recipients, invalid_noted) if recipients is not None else None

    def whole(
        self, invalid: list[Invalid], notes: Store | None, wanted: Callable[[str], bool] | None
    ) -> Iterator[Recipient]:
        """Read the lists whole, yield this part's recipients as they come, and note every
        part's rows for the jobs after this one."""
        index, parts = self.part
        before = stats_of(self.paths)
        places = [array("q") for _ in range(parts)]  # entry, offset, entry, offset, ...
        changed: list[dict[str, str]] = [{} for _ in range(parts)]
        for located in iter_located(self.lists, self.base_dir, invalid, notes):
            recipient = located.recipient
            its = part_of(recipient.key, parts)
            if recipient.email != located.written:
                changed[its][str(len(places[its]) // 2)] = recipient.email
            places[its].extend((located.entry, located.offset))
            if its == index and (wanted is None or wanted(recipient.key)):
                yield recipient
        if not keepable(self.paths, before):
            return
        made = [before, *self.made_by]
        for number, rows in enumerate(places):
            note = {"made": made, "rows": rows.tolist(), "changed": changed[number]}
            self.store.put(f"{self.key}#{number}", note)
        invalid_fields = [[i.address, i.reason, i.source] for i in invalid]
        self.store.put(f"{self.key}#invalid", {"made": made, "invalid": invalid_fields})

    def _read_rows(self, places: list[int], changed: dict[str, str]) -> list[Recipient] | None:
        """The recipients at the noted places; None at the first row that is not of this
        part (a file changed without its stat changing)."""
        recipients = []
        with ExitStack() as files:
            readers: dict[int, tuple[OffsetLines, Iterator[list[str]], Any]] = {}
            for number in range(len(places) // 2):
                entry, offset = places[2 * number], places[2 * number + 1]
                list_name, source = self.entries[entry]
                if is_inline_address(source):
                    address, details, _s, _o = next(rows_of(source, self.base_dir, list_name))
                else:
                    if entry not in readers:
                        path = self.base_dir / source
                        lines = OffsetLines(files.enter_context(path.open("rb")), SEEK_CHUNK)
                        readers[entry] = (lines, *list_reader(lines, path))
                    lines, reader, columns = readers[entry]
                    lines.seek(offset)
                    row = next(reader)
                    address, details = columns.address(row), partial(columns.details, row)
                email = changed.get(str(number), address)
                if not address or part_of(email.lower(), self.part[1]) != self.part[0]:
                    return None
                name, others = details()
                recipients.append(Recipient(email, name, list_name, others))
        return recipients


def _current(note: Any, made: list[Any]) -> bool:
    return isinstance(note, dict) and note.get("made") == made
