"""Help texts in the chosen language. Typer reads help texts (docstrings and `help=`) when
cli.py is imported, before any language is known, so the chanpub group chooses the
language from the command line and translates the whole command tree before parsing.

Click's own words (e.g. "Missing option", "Usage:") are not in chanpub's catalogue and
stay in English; typer's panel titles and `--help`'s own line are translated here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from chanpub.i18n import _, choose_language, current_language, set_language

# typer's own words in its help screens, translated with ours (click's stay English).
TYPER_TEXTS = (
    "ARGUMENTS_PANEL_TITLE",
    "OPTIONS_PANEL_TITLE",
    "COMMANDS_PANEL_TITLE",
    "ERRORS_PANEL_TITLE",
    "DEFAULT_STRING",
    "REQUIRED_LONG_STRING",
    "ENVVAR_STRING",
    "RICH_HELP",
)


def help_fields(command: Any) -> Iterator[tuple[Any, str]]:
    """Every (object, attribute) holding a help text in a command tree."""
    # --help itself is made on first use and kept on the command: make it now.
    help_option = command.get_help_option(typer.Context(command))
    for owner in (command, *getattr(command, "params", ()), help_option):
        for attribute in ("help", "short_help"):
            if isinstance(getattr(owner, attribute, None), str) and getattr(owner, attribute):
                yield owner, attribute
    for child in getattr(command, "commands", {}).values():
        yield from help_fields(child)


def english_help(owner: Any, attribute: str) -> str:
    """A help text as written in cli.py (the message id its translations use)."""
    return str(owner.__dict__.get("_english_" + attribute, getattr(owner, attribute)))


def translate_help(command: Any) -> None:
    """Put every help text of the command tree, and typer's panel titles, into the
    current language (typer reads help texts at import time, before a language is known)."""
    for owner, attribute in help_fields(command):
        english = english_help(owner, attribute)
        owner.__dict__["_english_" + attribute] = english
        setattr(owner, attribute, _(english))
    if current_language() == "en" and "typer.rich_utils" not in sys.modules:
        return  # its titles are English already; importing it costs ~150 ms per command
    from typer import rich_utils

    for name in TYPER_TEXTS:
        english = getattr(rich_utils, "_english_" + name, getattr(rich_utils, name))
        setattr(rich_utils, "_english_" + name, english)
        setattr(rich_utils, name, _(english))


def language_argument(arguments: Sequence[str]) -> str | None:
    """The value of `--lang` among the command-line arguments, if given."""
    for index, argument in enumerate(arguments):
        if argument == "--lang" and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith("--lang="):
            return argument.split("=", 1)[1]
    return None


class TranslatedGroup(TyperGroup):
    """The chanpub group: chooses the language (`--lang`, else the system's locale) and
    translates the help texts before the command line is parsed, so `--help` and parse
    errors come in that language. The config's `language` applies once a command loads it."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        """Translate, then run as typer does; the language is restored afterwards (this
        matters when the app runs inside another program, such as a test)."""
        arguments = list(sys.argv[1:] if args is None else args)
        before = current_language()
        set_language(
            choose_language(language_argument(arguments) or os.environ.get("CHANPUB_LANG"))
        )
        translate_help(self)
        try:
            return super().main(arguments, *rest, **extra)
        finally:
            set_language(before)
