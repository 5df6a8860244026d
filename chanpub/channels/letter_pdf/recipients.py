"""The recipients CSV of a letter-pdf channel (mail merge): a `name` column, and optional
position, organisation, address and e-mail, in English or Indonesian headers."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from chanpub.channels.list_files import separator
from chanpub.errors import ConfigError
from chanpub.i18n import _

COLUMNS = {
    "name": ("name", "nama"),
    "position": ("position", "jabatan"),
    "organisation": ("organisation", "organization", "instansi", "lembaga"),
    "address": ("address", "alamat"),
    "email": ("email", "e-mail", "mail", "surel"),
}


@dataclass(frozen=True)
class LetterRecipient:
    """One row of the recipients CSV."""

    name: str
    position: str = ""
    organisation: str = ""
    address: str = ""
    email: str = ""

    @property
    def key(self) -> str:
        """The journal item: the address in lower case (as the e-mail channel uses it),
        else the name."""
        return self.email.lower() if self.email else f"name:{self.name.casefold()}"


def read_recipients(path: Path, where: str) -> list[LetterRecipient]:
    """The recipients listed in the CSV at `path` (duplicates dropped), or a ConfigError
    naming `where` (the option) and what to do."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            rows = list(csv.reader(file, delimiter=separator(file)))
    except FileNotFoundError:
        raise ConfigError(
            _("{where}: {path} does not exist: check the path (relative to channels.yaml)").format(
                where=where, path=path
            )
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            _("{where}: {path} cannot be read ({reason}): save it as UTF-8 CSV").format(
                where=where, path=path, reason=error
            )
        ) from None
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    index = {
        key: next((header.index(n) for n in names if n in header), None)
        for key, names in COLUMNS.items()
    }
    if index["name"] is None:
        raise ConfigError(
            _(
                "{where}: {path} has no 'name' column: add a header line "
                "such as name,position,organisation,address,email"
            ).format(where=where, path=path)
        )
    found: dict[str, LetterRecipient] = {}
    for row in rows[1:]:
        values = {
            key: row[i].strip() if i is not None and i < len(row) else ""
            for key, i in index.items()
        }
        if values["name"]:
            recipient = LetterRecipient(**values)
            found.setdefault(recipient.key, recipient)
    if not found:
        raise ConfigError(
            _("{where}: {path} lists nobody: add one line per recipient").format(
                where=where, path=path
            )
        )
    return list(found.values())


def own_part(
    recipients: list[LetterRecipient], numbers: dict[str, str]
) -> list[tuple[int, LetterRecipient]]:
    """The recipients this job writes to (those it numbered), each with its place in the
    whole list (from 1), which names its letter's file whichever job writes it."""
    return [(place, r) for place, r in enumerate(recipients, start=1) if r.key in numbers]


def part_suffix(mine: list[tuple[int, LetterRecipient]], recipients: list[LetterRecipient]) -> str:
    """The combined PDF's name suffix: none for the whole list; for one part of it (see
    `numbers`), the place of the part's first letter, so each part has its own file."""
    return "" if len(mine) == len(recipients) or not mine else f"-{mine[0][0]:03d}"
