"""Recipient list files named in channels.yaml (e-mail addresses, WhatsApp numbers,
letter recipients): the checks every list gets before anything is sent, whatever its
columns, and the column separator each is read with."""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, Generic, TextIO, TypeVar

from chanpub.errors import ConfigError
from chanpub.i18n import _


def require_list_file(path: Path, where: str, column: str) -> None:
    """Fail, naming the setting, on a list that is missing or no file at all (a folder, or
    a FIFO that a read would wait on forever); `column` is the one the list must have."""
    if path.exists() and not path.is_file():
        raise ConfigError(
            _(
                "{where}: {path} is not a file (a folder, pipe or device): give a CSV file "
                "with the column '{column}'"
            ).format(where=where, path=path, column=column)
        )
    if not path.is_file():
        raise ConfigError(
            _(
                "{where}: list file {path} does not exist: check the path "
                "(relative to channels.yaml)"
            ).format(where=where, path=path)
        )


def separator(file: TextIO) -> str:
    """The column separator of a list file, from its header line (the file is left at its
    start): ',' or, as spreadsheets save "CSV" where the decimal mark is a comma (Excel
    and LibreOffice with Indonesian settings, as in most of Europe), ';', or a tab. The
    header decides: data rows may hold the other character ("Budi Santoso, S.Kom")."""
    header = file.readline()
    file.seek(0)
    return separator_of(header)


def separator_of(header: str) -> str:
    """The column separator that a list's header line shows (see `separator`)."""
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:  # one column: nothing separates
        return ","


def last_place(header: list[str], column: str) -> int:
    """Where a column is: its last place when the header repeats it (csv.DictReader keeps
    a repeated header's last value)."""
    return len(header) - 1 - header[::-1].index(column)


BOM = b"\xef\xbb\xbf"  # what a spreadsheet's "CSV UTF-8" starts with (utf-8-sig)


class OffsetLines:
    """A list file's lines as text, for csv.reader, read from its bytes so that `offset`
    always says where the next line starts: read before each record, it is where that
    record starts (csv.reader takes lines only as a record needs them, one or, with a
    quoted line break, more). Lines end as text mode with newline="" ends them (at
    \\n, \\r\\n or a lone \\r), and the BOM at the file's start is left out, as utf-8-sig
    does. `seek` goes to a record whose offset an earlier reading noted."""

    def __init__(self, file: BinaryIO, chunk: int = io.DEFAULT_BUFFER_SIZE) -> None:
        self.file, self.chunk = file, chunk
        self.offset = 0
        self._lines: deque[bytes] = deque()
        self._tail = b""

    def seek(self, offset: int) -> None:
        self.file.seek(offset)
        self.offset, self._tail = offset, b""
        self._lines.clear()

    def __iter__(self) -> OffsetLines:
        return self

    def __next__(self) -> str:
        if not self._lines:
            self._fill()
            if not self._lines:
                raise StopIteration
        line = self._lines.popleft()
        start, self.offset = self.offset, self.offset + len(line)
        if start == 0 and line.startswith(BOM):
            line = line[len(BOM) :]
        return line.decode("utf-8")  # a line break never falls inside a UTF-8 character

    def _fill(self) -> None:
        while not self._lines:
            chunk = self.file.read(self.chunk)
            if not chunk:
                if self._tail:
                    self._lines.append(self._tail)
                    self._tail = b""
                return
            lines = (self._tail + chunk).splitlines(keepends=True)
            # The last line may go on in the next chunk (a "\\r" may be half of "\\r\\n").
            self._tail = lines.pop() if not lines[-1].endswith(b"\n") else b""
            self._lines.extend(lines)


Columns = TypeVar("Columns")  # what a kind of list makes of its header (where each column is)
ColumnsOf = Callable[[list[str], Path], Columns]  # makes it; raises ConfigError without one
SEEK_CHUNK = 4096  # bytes read at each noted row: a part's rows lie far apart in the file


def list_reader(
    lines: OffsetLines, path: Path, columns_of: ColumnsOf[Columns]
) -> tuple[Iterator[list[str]], Columns]:
    """A CSV reader of a list file's lines, past its header, and what the header says."""
    delimiter = separator_of(next(lines, ""))  # the header line decides (`separator`)
    lines.seek(0)
    reader = csv.reader(lines, delimiter=delimiter)
    return reader, columns_of(next(reader, []), path)


def located_rows(
    path: Path, columns_of: ColumnsOf[Columns]
) -> Iterator[tuple[int, list[str], Columns]]:
    """(offset, row, columns) for each row of a list file: where the row starts, for a
    batch job to read it again without the rest (chanpub.channels.list_parts). A blank
    line is no row (as csv.DictReader has it)."""
    with path.open("rb") as file:
        lines = OffsetLines(file)
        reader, columns = list_reader(lines, path, columns_of)
        while True:
            offset = lines.offset
            row = next(reader, None)
            if row is None:
                return
            if row:
                yield offset, row, columns


class RowsAgain(Generic[Columns]):
    """Rows of list files read again at offsets an earlier reading noted, each file opened
    once (a context manager: the files close with it)."""

    def __init__(self, base_dir: Path, columns_of: ColumnsOf[Columns]) -> None:
        self.base_dir, self.columns_of = base_dir, columns_of
        self.files = ExitStack()
        self.readers: dict[str, tuple[OffsetLines, Iterator[list[str]], Columns]] = {}

    def __enter__(self) -> RowsAgain[Columns]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.files.close()

    def row(self, entry: str, offset: int) -> tuple[list[str], Columns]:
        """The row of the list file `entry` that starts at `offset`, and its columns."""
        if entry not in self.readers:
            path = self.base_dir / entry
            lines = OffsetLines(self.files.enter_context(path.open("rb")), SEEK_CHUNK)
            self.readers[entry] = (lines, *list_reader(lines, path, self.columns_of))
        lines, reader, columns = self.readers[entry]
        lines.seek(offset)
        return next(reader), columns
