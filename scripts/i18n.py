"""Message catalogues: extract every `_()` message and help text, update the .po files,
compile the .mo files.

    python scripts/i18n.py update    # after changing messages: extract, merge, compile
    python scripts/i18n.py compile   # after translating a .po file
    python scripts/i18n.py check     # exit 1 when a catalogue is missing something
    python scripts/i18n.py init xx   # start a new language (chanpub/locale/xx/...)

Extraction is Babel's (the `pybabel extract` machinery): Python `_()` calls, `_()` in
chanpub's own templates, and, through one extra extractor, the help texts typer reads
from chanpub/cli.py (docstrings and `help=`), which are not `_()` calls.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "chanpub"
LOCALE = PACKAGE / "locale"
TEMPLATE = LOCALE / "chanpub.pot"
DOMAIN = "chanpub"
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # keeps the .pot free of churn
UPDATE = "python scripts/i18n.py update"


def _cli_help(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """chanpub/cli.py: its `_()` calls plus every help text of the command tree."""
    from babel.messages.extract import extract_python

    yield from extract_python(fileobj, keywords, comment_tags, options)
    sys.path.insert(0, str(ROOT))
    import typer.main
    from typer import rich_utils

    from chanpub import cli, translated_help

    command = typer.main.get_command(cli.app)
    for owner, attribute in translated_help.help_fields(command):
        yield 0, "_", translated_help.english_help(owner, attribute), ["help text: --help"]
    for name in translated_help.TYPER_TEXTS:
        text = getattr(rich_utils, "_english_" + name, getattr(rich_utils, name))
        yield 0, "_", text, ["typer's help screen"]


def extract() -> Any:
    """The message template: every translatable message in chanpub/, in source order."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(
        project="chanpub",
        domain=DOMAIN,
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
        fuzzy=False,
        msgid_bugs_address="",
        copyright_holder="chanpub",
    )
    method_map = [
        ("cli.py", _cli_help),
        ("**.py", "python"),
        ("render/templates/preview*.html", "jinja2"),  # the page and the cards it shares
        ("render/templates/phone_*.html", "jinja2"),  # the approval pages on a phone
    ]
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE),
        method_map=method_map,
        keywords={"_": None, "N_": None},
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        path = f"chanpub/{filename}"
        catalog.add(
            message,
            None,
            [(path, lineno)],
            auto_comments=comments,
            context=context,
            flags=("python-brace-format",) if "{" in message else (),
        )
    return catalog


def po_path(language: str) -> Path:
    """Where one language's .po file lives."""
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> list[str]:
    """Every language with a .po file."""
    return sorted(p.parent.parent.name for p in LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def read_po(language: str) -> Any:
    """One language's catalogue."""
    from babel.messages.pofile import read_po as read

    with po_path(language).open("rb") as file:
        return read(file, locale=language, domain=DOMAIN)


def _write_po(path: Path, catalog: Any) -> None:
    from babel.messages.pofile import write_po

    buffer = io.BytesIO()
    write_po(buffer, catalog, width=96, ignore_obsolete=True, include_lineno=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def compiled(language: str) -> bytes:
    """One language's .mo file as it should be, from its .po file."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, read_po(language), use_fuzzy=False)
    return buffer.getvalue()


def _messages(mo: bytes) -> dict[str, str]:
    """What a .mo file translates (compared by content, not bytes, across Babel versions)."""
    import gettext

    catalog = gettext.GNUTranslations(io.BytesIO(mo))._catalog  # type: ignore[attr-defined]
    return {str(k): str(v) for k, v in catalog.items() if k}


def compile_all() -> None:
    """Write every language's .mo from its .po."""
    for language in languages():
        po_path(language).with_suffix(".mo").write_bytes(compiled(language))
        print(f"compiled {po_path(language).with_suffix('.mo').relative_to(ROOT)}")


def update() -> None:
    """Extract, merge the new messages into every .po (old ones dropped), compile."""
    template = extract()
    _write_po(TEMPLATE, template)
    print(f"wrote {TEMPLATE.relative_to(ROOT)} ({len(template)} messages)")
    for language in languages():
        catalog = read_po(language)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.revision_date = FIXED_DATE
        _write_po(po_path(language), catalog)
        missing = untranslated(language, template)
        print(
            f"updated {po_path(language).relative_to(ROOT)}: {len(missing)} message(s) to translate"
        )
    compile_all()


def init(language: str) -> None:
    """Start a catalogue for a new language from the template."""
    from babel.messages.catalog import Catalog

    if po_path(language).exists():
        raise SystemExit(f"{po_path(language)} exists: run '{UPDATE}'")
    template = extract()
    catalog = Catalog(
        locale=language,
        domain=DOMAIN,
        project="chanpub",
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
        fuzzy=False,
    )
    catalog.update(template, no_fuzzy_matching=True)
    _write_po(po_path(language), catalog)
    print(
        f"wrote {po_path(language).relative_to(ROOT)}: translate it, then run "
        "'python scripts/i18n.py compile'"
    )


def untranslated(language: str, template: Any = None) -> list[str]:
    """Messages of the code that have no (or only a fuzzy) translation in `language`."""
    template = template if template is not None else extract()
    catalog = read_po(language)
    missing = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id, message.context)
        if translated is None or not translated.string or translated.fuzzy:
            missing.append(str(message.id))
    return missing


def problems() -> list[str]:
    """Everything that keeps the catalogues from matching the code, one line each."""
    template = extract()
    found = []
    for language in languages():
        missing = untranslated(language, template)
        found += [f"{language}: untranslated: {message!r}" for message in missing]
        mo = po_path(language).with_suffix(".mo")
        if not mo.exists() or _messages(mo.read_bytes()) != _messages(compiled(language)):
            found.append(f"{language}: {mo.relative_to(ROOT)} is older than its .po")
    return found


def main(arguments: list[str]) -> int:
    """Run one command; see the module docstring."""
    command = arguments[0] if arguments else ""
    if command == "extract":
        _write_po(TEMPLATE, extract())
    elif command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "init" and len(arguments) == 2:
        init(arguments[1])
    elif command == "check":
        found = problems()
        for line in found:
            print(line)
        if found:
            print(f"then translate the empty msgstr lines and run '{UPDATE}'")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
