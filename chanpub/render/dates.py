"""Dates in published content, in the release's language ("Kamis, 24 Agustus 2017")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chanpub.release import Release


def _format(value: date | datetime, pattern: str, language: str) -> str:
    """Format with Babel's CLDR data; an unknown language falls back to English."""
    from babel.core import UnknownLocaleError
    from babel.dates import format_date

    day = value.date() if isinstance(value, datetime) else value
    try:
        return format_date(day, pattern, locale=language)
    except (UnknownLocaleError, ValueError):
        return format_date(day, pattern, locale="en")


def long_date(value: date | datetime, language: str = "id") -> str:
    """Weekday, day, month name and year, as offices write them."""
    return _format(value, "EEEE, d MMMM y", language)


def day_month_year(value: date | datetime, language: str = "id") -> str:
    """Day, month name and year without the weekday ("24 Agustus 2017")."""
    return _format(value, "d MMMM y", language)


def release_day(release: Release) -> date:
    """The date a release carries: `date`, else the day of `publish_at`, else today (UTC)."""
    if release.date is not None:
        return release.date
    if release.publish_at is not None:
        return release.publish_at.date()
    return datetime.now(UTC).date()
