"""Recipients from inline addresses and CSV files: streamed, checked and de-duplicated."""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chanpub.channels.email.address_notes import ListNotes
from chanpub.channels.list_files import last_place, located_rows, require_list_file, separator
from chanpub.channels.list_parts import Located
from chanpub.errors import ConfigError
from chanpub.i18n import _

if TYPE_CHECKING:
    from chanpub.contract import Store

EMAIL_COLUMNS = ("email", "e-mail", "mail", "surel")
NAME_COLUMNS = ("name", "nama")


@dataclass(frozen=True)
class Recipient:
    """One address to send to, with its name and the other CSV columns."""

    email: str
    name: str = ""
    list_name: str = "default"
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The journal key: the address in lower case."""
        return self.email.lower()


@dataclass(frozen=True)
class Invalid:
    """An address that failed the syntax check, and why."""

    address: str
    reason: str
    source: str


def is_inline_address(entry: str) -> bool:
    """An entry of `lists:` that is an address rather than a file."""
    return "@" in entry and not entry.lower().endswith(".csv") and "/" not in entry


def check_source(entry: str, base_dir: Path, where: str) -> None:
    """Fail before sending on a list file that is missing or has no email column."""
    if is_inline_address(entry):
        return
    path = base_dir / entry
    require_list_file(path, where, "email")
    _check_utf8(path, where)
    with path.open(encoding="utf-8-sig", newline="") as file:
        header = next(csv.reader(file, delimiter=separator(file)), [])
    if _column(header, EMAIL_COLUMNS) is None:
        raise ConfigError(
            _(
                "{where}: {path} has no 'email' column: add a header line with email (and name)"
            ).format(where=where, path=path)
        )


def _check_utf8(path: Path, where: str) -> None:
    """Fail before sending on a list that is not UTF-8 (a spreadsheet's "CSV" in the
    system's code page): found halfway through a send, it would stop the list there."""
    # Line by line: a newline byte never occurs inside a UTF-8 character, so each line
    # decodes on its own, and the officer learns which line to look at.
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                raise ConfigError(
                    _(
                        "{where}: {path}:{line}: is not UTF-8 text: save the list as "
                        "'CSV UTF-8' (in a spreadsheet: Save as, CSV UTF-8)"
                    ).format(where=where, path=path, line=number)
                ) from None


def _column(header: list[str], names: tuple[str, ...]) -> str | None:
    for column in header:
        if column.strip().lower() in names:
            return column
    return None


# Each address's check, remembered for the process: a worker reads a large list once
# per batch job and once per preview, and the check (email_validator, ~40 µs) was most
# of that reading's cost. The check is a pure function of the text, so a remembered
# answer is the same answer; lru_cache is safe between threads and bounded, so a
# long-running worker does not grow.
@functools.lru_cache(maxsize=200_000)
def _check(address: str) -> str | ValueError:
    """The address normalised by email_validator, or why it is not an address."""
    import email_validator

    try:
        checked = email_validator.validate_email(address, check_deliverability=False)
        normalised = str(checked.normalized)
    except email_validator.EmailNotValidError as error:
        return ValueError(str(error))
    return address if normalised == address else normalised  # one string kept, not two


Details = Callable[[], tuple[str, dict[str, str]]]  # a row's name and other columns
Row = tuple[str, Details, str, int]  # address, its details, source, where the row starts


def rows_of(entry: str, base_dir: Path, list_name: str) -> Iterator[Row]:
    """(address, its row's details, source, offset) for each row of an entry of `lists:`:
    the offset is where the row starts in the file (0 for an inline address), for a batch
    job to read its rows again without the rest (list_parts). The details are made only
    when asked for: a batch job skips most rows of a list."""
    if is_inline_address(entry):
        name, _sep, address = entry.rpartition("<")
        if _sep:
            yield address.rstrip(">").strip(), lambda: (name.strip().strip('"'), {}), list_name, 0
        else:
            yield entry.strip(), lambda: ("", {}), list_name, 0
        return
    source = f"{list_name}:{entry}"
    for offset, row, columns in located_rows(base_dir / entry, Columns.of):
        yield columns.address(row), functools.partial(columns.details, row), source, offset


@dataclass(frozen=True)
class Columns:
    """A list file's header: which column is the address, which the name."""

    names: list[str]
    email: int
    name: int | None

    @classmethod
    def of(cls, header: list[str], path: Path) -> Columns:
        email_column = _column(header, EMAIL_COLUMNS)
        if email_column is None:
            raise ConfigError(_("{path} has no 'email' column").format(path=path))
        name_column = _column(header, NAME_COLUMNS)
        name = None if name_column is None else last_place(header, name_column)
        return cls(header, last_place(header, email_column), name)

    def address(self, row: list[str]) -> str:
        return row[self.email].strip() if self.email < len(row) else ""

    def details(self, row: list[str]) -> tuple[str, dict[str, str]]:
        """The name and the other columns by header (missing ones empty, extra ones left
        out, a repeated header's last value), as csv.DictReader gives them."""
        name = row[self.name].strip() if self.name is not None and self.name < len(row) else ""
        email = self.names[self.email]
        values = dict(zip(self.names, row, strict=False))
        others = {k: values.get(k, "") for k in self.names if k != email}
        return name, others


def iter_recipients(
    lists: Mapping[str, list[str]],
    base_dir: Path,
    invalid: list[Invalid],
    notes: Store | None = None,
    *,
    wanted: Callable[[str], bool] | None = None,
) -> Iterator[Recipient]:
    """Every valid, distinct recipient, in list order; invalid ones go to `invalid`.

    Streams the files: only the set of addresses seen is held in memory. With `notes` (the
    ledger's store of address_notes.NAMESPACE), a list file's addresses are answered from
    what an earlier reading of it noted, and only new ones are checked. With `wanted`, a
    filter on the recipient's key (its address in lower case), other rows are skipped
    before anything is made of them: a batch job that reads the whole list to find its
    part (list_parts) still takes the first row of each address of its part.
    """
    for located in iter_located(lists, base_dir, invalid, notes, wanted=wanted):
        yield located.item


def iter_located(
    lists: Mapping[str, list[str]],
    base_dir: Path,
    invalid: list[Invalid],
    notes: Store | None = None,
    *,
    wanted: Callable[[str], bool] | None = None,
) -> Iterator[Located[Recipient]]:
    """iter_recipients, each recipient with where its row is (list_parts.Located)."""
    seen: set[str] = set()
    entry_number = -1
    for list_name, entries in lists.items():
        for entry in entries:
            entry_number += 1
            reading = None
            if notes is not None and not is_inline_address(entry):
                reading = ListNotes(base_dir / entry, notes, _check)
            check = reading.check if reading is not None else _check
            for address, details, source, offset in rows_of(entry, base_dir, list_name):
                if not address:
                    continue
                normalised = check(address)
                if isinstance(normalised, ValueError):
                    invalid.append(Invalid(address, str(normalised), source))
                    continue
                folded = normalised.lower()
                if folded in seen or (wanted is not None and not wanted(folded)):
                    continue
                seen.add(folded)
                name, others = details()
                recipient = Recipient(normalised, name, list_name, others)
                yield Located(recipient, entry_number, offset, address)
            if reading is not None:
                reading.file_read()
