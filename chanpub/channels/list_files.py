"""Recipient list files named in channels.yaml (e-mail addresses, WhatsApp numbers,
letter recipients): the checks every list gets before anything is sent, whatever its
columns, and the column separator each is read with."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TextIO

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
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:  # one column: nothing separates
        return ","
