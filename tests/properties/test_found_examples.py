"""Inputs the property tests found, kept as plain examples so they stay fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from chanpub.testing import write_release

from .cli_outcome import assert_clean, invoke

CONFIG = """channels:
  website:
    type: static-site
    canonical: true
    path: public
    base_url: https://kominfo.example.go.id/siaran/
"""


@pytest.mark.parametrize(
    ("fields", "body", "where"),
    [
        ({}, "Warga diminta \x1b[31mwaspada\x1b[0m.\n", "rilis.md:8: the text"),
        ({}, "Baris satu.\n\nBaris\x00 dua.\n", "rilis.md:10: the text"),
        ({"summary": "Ringkasan\x0c"}, "Teks.\n", "rilis.md:3: summary"),
        ({"tags": ["banjir", "a\x07"]}, "Teks.\n", "rilis.md:3: tags"),
    ],
)
def test_an_invisible_control_character_is_refused_with_its_place(
    tmp_path: Path,
    fields: dict[str, object],
    body: str,
    where: str,
) -> None:
    # Before: the website's feed (XML) raised ValueError inside the adapter, reported as an
    # internal error after other channels had already published.
    (tmp_path / "channels.yaml").write_text(CONFIG, encoding="utf-8")
    release = write_release(tmp_path, name="rilis.md", body=body, **fields)
    outcome = invoke(
        ["send", str(release), "--config", str(tmp_path / "channels.yaml")],
        {"CHANPUB_STATE_DIR": str(tmp_path / "state")},
    )
    assert_clean(outcome)
    assert outcome.code == 2
    assert where in outcome.stderr and "invisible control character U+00" in outcome.stderr
    assert not (tmp_path / "public").exists()


def test_tabs_and_windows_line_ends_are_still_fine(tmp_path: Path) -> None:
    (tmp_path / "channels.yaml").write_text(CONFIG, encoding="utf-8")
    release = write_release(tmp_path, name="rilis.md", body="Kolom\tdua.\r\nBaris baru.\r\n")
    outcome = invoke(
        ["send", str(release), "--config", str(tmp_path / "channels.yaml")],
        {"CHANPUB_STATE_DIR": str(tmp_path / "state")},
    )
    assert outcome.code == 0, outcome.stderr
