"""Bahasa Indonesia: the catalogue covers every message of the code, and the language is
chosen by --lang (or CHANPUB_LANG), then the config's `language`, then the system's locale,
then English."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.errors import ExitCode
from chanpub.i18n import current_language
from chanpub.testing import write_release

ROOT = Path(__file__).parent.parent
UPDATE = "python scripts/i18n.py update"


def catalogues() -> ModuleType:
    """scripts/i18n.py, the tool that extracts, updates and compiles the catalogues."""
    spec = importlib.util.spec_from_file_location(
        "chanpub_i18n_script", ROOT / "scripts" / "i18n.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_message_in_the_code_has_an_indonesian_translation() -> None:
    tool = catalogues()
    missing = tool.untranslated("id")
    assert not missing, (
        f"{len(missing)} message(s) have no Indonesian translation, e.g. "
        f"{missing[0]!r}: run '{UPDATE}', translate the empty msgstr lines "
        f"in chanpub/locale/id/LC_MESSAGES/chanpub.po, run it again"
    )


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    assert catalogues().problems() == [], f"run '{UPDATE}' and commit the .po and .mo files"


def test_translations_keep_every_placeholder() -> None:
    field = re.compile(r"\{[^{}]*\}")
    for message in catalogues().read_po("id"):
        if message.id and message.string:
            assert sorted(field.findall(message.id)) == sorted(field.findall(message.string)), (
                message.id
            )


def test_help_texts_are_in_the_catalogue_too() -> None:
    template = catalogues().extract()
    assert "Who approves (name and position)." in template
    assert any(str(m.id).startswith("Approve a release: record (and sign") for m in template)


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a config that says nothing about language, and no CHANPUB_LANG."""
    (tmp_path / "channels.yaml").write_text(
        "organisation: Diskominfo\nchannels:\n  website:\n    type: static-site\n"
        "    canonical: true\n    path: public\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("CHANPUB_LANG")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def missing_release(*options: str) -> str:
    """The error line for a release file that does not exist."""
    result = CliRunner().invoke(app, [*options, "check", "banjir.md"])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stdout == ""
    return result.stderr


def test_an_error_in_indonesian_with_lang_id(office: Path) -> None:
    assert missing_release("--lang", "id") == (
        "chanpub: error: banjir.md: berkas atau folder tidak ditemukan: periksa jalurnya\n"
    )


def test_an_error_in_english_with_lang_en(office: Path) -> None:
    (office / "channels.yaml").write_text("language: id\n" + (office / "channels.yaml").read_text())
    assert missing_release("--lang", "en") == (
        "chanpub: error: banjir.md: no such file or folder: check the path\n"
    )


def test_the_configs_language_is_used_without_lang(office: Path) -> None:
    assert "no such file or folder" in missing_release()
    (office / "channels.yaml").write_text("language: id\n" + (office / "channels.yaml").read_text())
    assert "berkas atau folder tidak ditemukan" in missing_release()


def test_the_system_locale_comes_after_the_config(
    office: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "id_ID.UTF-8")
    assert "berkas atau folder tidak ditemukan" in missing_release()
    (office / "channels.yaml").write_text("language: en\n" + (office / "channels.yaml").read_text())
    assert "no such file or folder" in missing_release()


def test_chanpub_lang_in_the_environment_acts_as_lang(
    office: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (office / "channels.yaml").write_text("language: en\n" + (office / "channels.yaml").read_text())
    monkeypatch.setenv("CHANPUB_LANG", "id")
    assert "berkas atau folder tidak ditemukan" in missing_release()


def test_help_in_indonesian(office: Path) -> None:
    result = CliRunner().invoke(app, ["--lang", "id", "approve", "--help"])
    assert result.exit_code == 0
    assert "Menyetujui siaran pers" in result.stdout
    assert "Pemberi persetujuan (nama dan jabatan)." in result.stdout
    assert "Opsi" in result.stdout and "Tampilkan pesan ini lalu keluar." in result.stdout
    top = CliRunner().invoke(app, ["--lang", "id", "--help"])
    assert "Perintah" in top.stdout and "Menulis satu halaman HTML" in top.stdout


def test_an_unknown_language_falls_back_to_english(office: Path) -> None:
    assert "no such file or folder" in missing_release("--lang", "xx")


def test_a_run_leaves_the_language_as_it_found_it(office: Path) -> None:
    before = current_language()
    missing_release("--lang", "id")
    assert current_language() == before


def test_approve_speaks_the_configs_language_too(office: Path) -> None:
    (office / "channels.yaml").write_text("language: id\n" + (office / "channels.yaml").read_text())
    release = write_release(office / "releases", approved=False)
    result = CliRunner().invoke(app, ["approve", str(release), "--by", " "])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr == (
        'chanpub: error: --by: tuliskan nama pemberi persetujuan, misalnya --by "Kepala Dinas"\n'
    )


def test_length_units_are_shown_in_the_officers_language(office: Path) -> None:
    (office / "channels.yaml").write_text(
        "language: id\norganisation: Diskominfo\nchannels:\n"
        "  website:\n    type: static-site\n    canonical: true\n    path: public\n"
        "  bluesky:\n    type: bluesky\n    enabled: false\n    handle: humas.example\n"
        "    app_password: ${BLUESKY_APP_PASSWORD}\n"
        "  x:\n    type: x\n    enabled: false\n    oauth2_token: ${X_OAUTH2_TOKEN}\n",
        encoding="utf-8",
    )
    release = write_release(office / "releases")
    result = CliRunner().invoke(app, ["check", str(release)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "grafem" in result.stdout and "graphemes" not in result.stdout
    assert "karakter berbobot" in result.stdout and "weighted" not in result.stdout
