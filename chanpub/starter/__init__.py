"""`chanpub init`: a starter channels.yaml, a releases/ folder and an example release."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from chanpub.errors import InputError
from chanpub.i18n import _

STARTER_FILES = {
    "channels.yaml": "channels.yaml",
    "releases/contoh-siaran-pers.md": "release.md",
}


def write_starter(directory: Path) -> list[Path]:
    """Write the starter files into `directory`; never overwrites an existing file."""
    targets = {directory / name: source for name, source in STARTER_FILES.items()}
    existing = [path for path in targets if path.exists()]
    if existing:
        raise InputError(_("{paths} already exist(s): chanpub init never overwrites; use "
                           "another folder").format(paths=", ".join(map(str, existing))))
    written = []
    for path, source in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files("chanpub.starter").joinpath(source).read_text("utf-8"),
                        encoding="utf-8")
        written.append(path)
    return written
