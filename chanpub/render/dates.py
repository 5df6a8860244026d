"""Dates in published content, in the release's language ("Kamis, 24 Agustus 2017")."""

from __future__ import annotations

from datetime import date, datetime


def long_date(value: date | datetime, language: str = "id") -> str:
    """Weekday, day, month name and year, as offices write them (Babel's CLDR data)."""
    from babel.core import UnknownLocaleError
    from babel.dates import format_date

    day = value.date() if isinstance(value, datetime) else value
    try:
        return format_date(day, "EEEE, d MMMM y", locale=language)
    except (UnknownLocaleError, ValueError):
        return format_date(day, "EEEE, d MMMM y", locale="en")


def day_month_year(value: date | datetime, language: str = "id") -> str:
    """Day, month name and year without the weekday ("24 Agustus 2017")."""
    from babel.core import UnknownLocaleError
    from babel.dates import format_date

    day = value.date() if isinstance(value, datetime) else value
    try:
        return format_date(day, "d MMMM y", locale=language)
    except (UnknownLocaleError, ValueError):
        return format_date(day, "d MMMM y", locale="en")
