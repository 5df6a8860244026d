"""Translated user-facing text: gettext `_()` and the choice of language."""

from __future__ import annotations

import gettext
import locale
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "chanpub"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def choose_language(cli: str | None = None, config: str | None = None) -> str:
    """Pick the interface language: `--lang`, then the config's `language`, then the
    system locale (LC_ALL, LC_MESSAGES, LANG), then English."""
    for candidate in (cli, config, _system_language()):
        if candidate:
            return candidate.split("_")[0].split(".")[0].lower()
    return "en"


def _system_language() -> str | None:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return value
    try:
        code = locale.getlocale(locale.LC_MESSAGES)[0]
    except (AttributeError, ValueError):  # LC_MESSAGES is missing on some platforms
        code = None
    return code


def set_language(language: str) -> None:
    """Switch the catalogue used by `_()`; unknown languages fall back to English."""
    global _translation, _language
    _language = language
    _translation = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    )


def current_language() -> str:
    """The language `_()` translates into."""
    return _language


def _(message: str) -> str:
    """Translate a message; use named `{placeholders}` and `.format()` after `_()`."""
    return _translation.gettext(message)


def N_(message: str) -> str:  # the gettext convention (gettext_noop)
    """Mark a message for the catalogue without translating it here: a value kept in a
    constant (an adapter's length unit) and translated with `_()` where it is shown."""
    return message
