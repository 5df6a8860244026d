"""WhatsApp subscribers from inline numbers and CSV files: parsed with `phonenumbers`,
normalised to E.164, de-duplicated, with an opt-out list respected.

`0812-3456-7890`, `+62 812 3456 7890` and `6281234567890` are one subscriber,
`+6281234567890`: the journal key, and the `to` of the message (with the leading '+': without
it the Cloud API would prefix the business number's own country code).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from chanpub.channels.list_files import last_place, located_rows, require_list_file, separator
from chanpub.channels.list_parts import Located
from chanpub.errors import ConfigError
from chanpub.i18n import _

PHONE_COLUMNS = ("phone", "telepon", "hp", "nomor", "whatsapp", "wa", "number")
NAME_COLUMNS = ("name", "nama")
DEFAULT_REGION = "ID"  # numbers written without a country code are Indonesian


@dataclass(frozen=True)
class Subscriber:
    """One phone to message: E.164 with '+', and the name from the list."""

    phone: str
    name: str = ""
    list_name: str = "default"

    @property
    def key(self) -> str:
        """The journal key: the E.164 number."""
        return self.phone


@dataclass(frozen=True)
class Invalid:
    """A number that is not a valid phone number, and where it came from."""

    number: str
    reason: str
    source: str


def normalise(number: str, region: str = DEFAULT_REGION) -> str:
    """`number` as E.164 with '+'; raises ValueError saying why it is not a phone number.
    (`phonenumbers` also reads 6281234567890, as WhatsApp exports write them, as +62.)"""
    answer = _parsed(number.strip(), region)
    if isinstance(answer, ValueError):
        raise ValueError(str(answer))
    return answer


# Each number's answer, remembered for the process: a worker reads a large list once for
# the preview and once per batch job, and parsing (phonenumbers, about 20 µs a number) was
# most of that reading. The answer is a pure function of the text and the region; the
# cache is bounded and safe between threads, as the e-mail address check's.
@functools.lru_cache(maxsize=200_000)
def _parsed(number: str, region: str) -> str | ValueError:
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as error:
        return ValueError(str(error.args[0]) if error.args else "not a phone number")
    if not phonenumbers.is_valid_number(parsed):
        return ValueError("not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def is_inline_number(entry: str) -> bool:
    """An entry of `lists:` that is a number rather than a CSV file."""
    return (
        not entry.lower().endswith(".csv") and "/" not in entry and any(c.isdigit() for c in entry)
    )


def _column(header: Iterable[str], names: tuple[str, ...]) -> str | None:
    for column in header:
        if column and column.strip().lower() in names:
            return column
    return None


def check_source(entry: str, base_dir: Path, where: str) -> None:
    """Fail before sending on a list file that is missing or has no phone column."""
    if is_inline_number(entry):
        return
    path = base_dir / entry
    require_list_file(path, where, "phone")
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            header = next(csv.reader(file, delimiter=separator(file)), [])
    except UnicodeDecodeError:
        raise ConfigError(
            _(
                "{where}: {path} is not UTF-8 text: save the list as 'CSV UTF-8' (in a "
                "spreadsheet: Save as, CSV UTF-8)"
            ).format(where=where, path=path)
        ) from None
    if _column(header, PHONE_COLUMNS) is None:
        raise ConfigError(
            _(
                "{where}: {path} has no 'phone' column: add a header line with phone (and name)"
            ).format(where=where, path=path)
        )


Row = tuple[str, str, str, int]  # number, name, source, where the row starts in its file


def rows_of(entry: str, base_dir: Path, list_name: str) -> Iterator[Row]:
    """(number, name, source, offset) for every row of one entry of `lists:`: the offset
    is where the row starts in the file (0 for an inline number), for a batch job to read
    its rows again without the rest (chanpub.channels.list_parts)."""
    if is_inline_number(entry):
        yield entry, "", list_name, 0
        return
    source = f"{list_name}:{entry}"
    for offset, row, columns in located_rows(base_dir / entry, Columns.of):
        yield columns.number(row), columns.name(row), source, offset


@dataclass(frozen=True)
class Columns:
    """Where a list's phone and name are: the last column under the header csv.DictReader
    would take them from (it keeps a repeated header's last value)."""

    phone_at: int
    name_at: int | None

    @classmethod
    def of(cls, header: list[str], path: Path) -> Columns:
        phone_column = _column(header, PHONE_COLUMNS)
        if phone_column is None:
            raise ConfigError(_("{path} has no 'phone' column").format(path=path))
        name_column = _column(header, NAME_COLUMNS)
        name_at = last_place(header, name_column) if name_column is not None else None
        return cls(last_place(header, phone_column), name_at)

    def number(self, row: list[str]) -> str:
        return row[self.phone_at].strip() if self.phone_at < len(row) else ""

    def name(self, row: list[str]) -> str:
        at = self.name_at
        return row[at].strip() if at is not None and at < len(row) else ""


def opted_out(entries: Iterable[str], base_dir: Path) -> set[str]:
    """The E.164 numbers of the opt-out lists (invalid rows there are ignored)."""
    numbers: set[str] = set()
    for entry in entries:
        for number, _name, _source, _offset in rows_of(entry, base_dir, "opt_out"):
            try:
                numbers.add(normalise(number))
            except ValueError:
                continue
    return numbers


def iter_subscribers(
    lists: Mapping[str, list[str]],
    base_dir: Path,
    invalid: list[Invalid],
    opt_out: set[str] | None = None,
) -> Iterator[Subscriber]:
    """Every valid, distinct subscriber not opted out, in list order; invalid numbers go
    to `invalid`. Streams the files: only the set of numbers seen is held in memory."""
    for located in iter_located(lists, base_dir, invalid, opt_out):
        yield located.item


def iter_located(
    lists: Mapping[str, list[str]],
    base_dir: Path,
    invalid: list[Invalid],
    opt_out: set[str] | None = None,
) -> Iterator[Located[Subscriber]]:
    """iter_subscribers, each subscriber with where its row is (list_parts.Located)."""
    seen: set[str] = set(opt_out or ())
    entry_number = -1
    for list_name, entries in lists.items():
        for entry in entries:
            entry_number += 1
            for number, name, source, offset in rows_of(entry, base_dir, list_name):
                if not number:
                    continue
                try:
                    phone = normalise(number)
                except ValueError as error:
                    invalid.append(Invalid(number, str(error), source))
                    continue
                if phone in seen:
                    continue
                seen.add(phone)
                yield Located(Subscriber(phone, name, list_name), entry_number, offset, number)
