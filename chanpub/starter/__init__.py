"""`chanpub init`: a starter channels.yaml, a releases/ folder and an example release."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from chanpub.errors import InputError
from chanpub.i18n import _

STARTER_FILES = {
    "channels.yaml": "channels.yaml",
    "releases/contoh-siaran-pers.md": "release.md",
}


STARTER_ORGANISATION = "Dinas Komunikasi dan Informatika Kota Contoh"
STARTER_BASE_URL = "https://kominfo.example.go.id/siaran/"


def check_free(directory: Path) -> None:
    """Refuse a folder that already has any of the starter files (nothing is overwritten)."""
    existing = [directory / name for name in STARTER_FILES if (directory / name).exists()]
    if existing:
        raise InputError(
            _("already here: {paths}: chanpub init never overwrites; use another folder").format(
                paths=", ".join(map(str, existing))
            )
        )


def check_base_url(value: str) -> str:
    """The website address the releases will have, as an http(s) URL ending in '/'."""
    value = value.strip()
    if not value.startswith(("http://", "https://")) or " " in value or len(value) < 10:
        raise InputError(
            _("'{value}' is not a web address: write it like {example}").format(
                value=value, example=STARTER_BASE_URL
            )
        )
    return value.rstrip("/") + "/"


def write_starter(
    directory: Path, *, organisation: str | None = None, base_url: str | None = None
) -> list[Path]:
    """Write the starter files into `directory`, with the office's name and website address
    when given; never overwrites an existing file."""
    import json

    check_free(directory)
    written = []
    for name, source in STARTER_FILES.items():
        path = directory / name
        text = files("chanpub.starter").joinpath(source).read_text("utf-8")
        if name == "channels.yaml":
            # A JSON string is a valid double-quoted YAML scalar: any name stays one value.
            if organisation:
                text = text.replace(
                    json.dumps(STARTER_ORGANISATION),
                    json.dumps(organisation.strip(), ensure_ascii=False),
                )
            if base_url:
                text = text.replace(
                    f"base_url: {STARTER_BASE_URL}",
                    f"base_url: {json.dumps(check_base_url(base_url))}",
                )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def ask_office(prompt: Callable[..., Any], refuse: type[Exception]) -> dict[str, str]:
    """The office's name and the website address of its releases, asked on a terminal with
    `prompt` (typer.prompt); a wrong address is refused with `refuse` and asked again."""

    def web_address(value: str) -> str:
        try:
            return check_base_url(value)
        except InputError as error:
            raise refuse(error.message) from None

    organisation = prompt(_("Name of the office"), default=STARTER_ORGANISATION)
    base_url = prompt(
        _("Web address where the releases will be published"),
        default=STARTER_BASE_URL,
        value_proc=web_address,
    )
    return {"organisation": str(organisation), "base_url": str(base_url)}
