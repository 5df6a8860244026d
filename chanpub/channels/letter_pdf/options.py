"""Options of a letter-pdf channel (the kop surat, the signatory, the number pattern) and
how a letter number is made from the pattern."""

from __future__ import annotations

import string
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

SIZES = {"A4": (210.0, 297.0), "F4": (215.0, 330.0)}
PATTERN_FIELDS = ("seq", "year", "month", "month_roman", "day")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


class LetterheadOptions(BaseModel):
    """The kop surat: logo and lines (upper-case lines are printed as headings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    logo: str | None = None
    lines: list[str] = Field(min_length=1)


class SignatoryOptions(BaseModel):
    """Who signs the letters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    position: str
    name: str
    id: str | None = None  # NIP, the employee number
    signature_image: str | None = None  # signature and stamp, PNG with transparency


class SignOptions(BaseModel):
    """Sign each letter electronically (PAdES) with the office's certificate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pkcs12: str  # the .p12/.pfx file: certificate and private key
    password: SecretStr  # write ${VARIABLE}, never the password itself
    reason: str | None = None
    location: str | None = None


class LetterPdfOptions(BaseModel):
    """Options of a letter-pdf channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out: str
    size: Literal["A4", "F4"] = "A4"
    letterhead: LetterheadOptions
    number_pattern: str = "{seq:03d}/{month_roman}/{year}"
    signatory: SignatoryOptions
    recipients: str
    copies_to: list[str] = []
    nature: str | None = None
    place: str | None = None
    attachments: str = "-"
    language: Literal["id", "en"] | None = None
    sign: SignOptions | None = None

    @field_validator("number_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        fields = [name for _text, name, _spec, _conv in string.Formatter().parse(value) if name]
        unknown = [name for name in fields if name not in PATTERN_FIELDS]
        if unknown:
            raise ValueError(
                f"unknown field {{{unknown[0]}}}: use {', '.join(PATTERN_FIELDS)}"
                " (e.g. {seq:03d}/DISKOMINFO/{month_roman}/{year})"
            )
        if "seq" not in fields:
            raise ValueError("needs {seq}, or every letter would get the same number")
        try:
            value.format(seq=1, year=2026, month=1, month_roman="I", day=1)
        except (ValueError, IndexError, KeyError) as error:
            raise ValueError(
                f"cannot be filled in ({error}): write fields like {{seq:03d}}"
            ) from None
        return value


def number_for(pattern: str, seq: int, day: date) -> str:
    """A letter number from the pattern, e.g. 007/DISKOMINFO/VIII/2026."""
    return pattern.format(
        seq=seq, year=day.year, month=day.month, month_roman=ROMAN[day.month - 1], day=day.day
    )
