"""Recipients from inline addresses and CSV files: streamed, checked and de-duplicated."""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chanpub.channels.email.address_notes import ListNotes
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
    if not path.is_file():
        raise ConfigError(
            _(
                "{where}: list file {path} does not exist: check the path "
                "(relative to channels.yaml)"
            ).format(where=where, path=path)
        )
    _check_utf8(path, where)
    with path.open(encoding="utf-8-sig", newline="") as file:
        header = next(csv.reader(file), [])
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


def _rows(
    entry: str, base_dir: Path, list_name: str
) -> Iterator[tuple[str, str, dict[str, str], str]]:
    if is_inline_address(entry):
        name, _sep, address = entry.rpartition("<")
        if _sep:
            yield address.rstrip(">").strip(), name.strip().strip('"'), {}, list_name
        else:
            yield entry.strip(), "", {}, list_name
        return
    path = base_dir / entry
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        email_column = _column(list(reader.fieldnames or []), EMAIL_COLUMNS)
        name_column = _column(list(reader.fieldnames or []), NAME_COLUMNS)
        if email_column is None:
            raise ConfigError(_("{path} has no 'email' column").format(path=path))
        for row in reader:
            address = (row.get(email_column) or "").strip()
            name = (row.get(name_column) or "").strip() if name_column else ""
            others = {
                k: (v or "") for k, v in row.items() if k not in (email_column,) and k is not None
            }
            yield address, name, others, f"{list_name}:{entry}"


def iter_recipients(
    lists: Mapping[str, list[str]],
    base_dir: Path,
    invalid: list[Invalid],
    notes: Store | None = None,
) -> Iterator[Recipient]:
    """Every valid, distinct recipient, in list order; invalid ones go to `invalid`.

    Streams the files: only the set of addresses seen is held in memory. With `notes` (the
    ledger's store of address_notes.NAMESPACE), a list file's addresses are answered from
    what an earlier reading of it noted, and only new ones are checked.
    """
    seen: set[str] = set()
    for list_name, entries in lists.items():
        for entry in entries:
            reading = None
            if notes is not None and not is_inline_address(entry):
                reading = ListNotes(base_dir / entry, notes, _check)
            check = reading.check if reading is not None else _check
            for address, name, others, source in _rows(entry, base_dir, list_name):
                if not address:
                    continue
                normalised = check(address)
                if isinstance(normalised, ValueError):
                    invalid.append(Invalid(address, str(normalised), source))
                    continue
                folded = normalised.lower()
                if folded in seen:
                    continue
                seen.add(folded)
                yield Recipient(normalised, name, list_name, others)
            if reading is not None:
                reading.file_read()
