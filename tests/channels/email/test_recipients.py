"""Recipient lists: inline addresses and CSV files, checked, de-duplicated, streamed."""

from __future__ import annotations

from pathlib import Path

import pytest

from chanpub.channels.email.recipients import Invalid, check_source, iter_recipients
from chanpub.errors import ConfigError


def test_csv_and_inline_lists_are_merged_without_duplicates(tmp_path: Path) -> None:
    (tmp_path / "media.csv").write_text(
        "\ufeffEmail,Nama,Media\n"  # a BOM and capitalised headers, as spreadsheets write them
        "budi@harian.example,Budi Santoso,Harian Contoh\n"
        ",Tanpa Alamat,Radio\n"
        "BUDI@HARIAN.EXAMPLE,Budi Dua Kali,Harian Contoh\n"
        "siti@@radio.example,Siti,Radio Kota\n",
        encoding="utf-8",
    )
    invalid: list[Invalid] = []

    recipients = list(
        iter_recipients(
            {"press": ["media.csv"], "warga": ["Ani <ani@warga.example>", "budi@harian.example"]},
            tmp_path,
            invalid,
        )
    )

    assert [(r.email, r.name, r.list_name) for r in recipients] == [
        ("budi@harian.example", "Budi Santoso", "press"),
        ("ani@warga.example", "Ani", "warga"),
    ]
    assert recipients[0].fields["Media"] == "Harian Contoh"
    assert [(i.address, i.source) for i in invalid] == [("siti@@radio.example", "press:media.csv")]


def test_recipients_are_streamed_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "besar.csv"
    path.write_text(
        "email\n" + "".join(f"w{n}@media.example\n" for n in range(1000)), encoding="utf-8"
    )

    stream = iter_recipients({"press": ["besar.csv"]}, tmp_path, [])
    first = next(stream)
    path.write_text("email\n", encoding="utf-8")  # what is not read yet is not held yet

    assert first.email == "w0@media.example"
    assert sum(1 for _ in stream) < 999


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("nama,media\nBudi,Harian\n", "has no 'email' column"),
    ],
)
def test_a_bad_list_file_is_a_config_error(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    if content is not None:
        (tmp_path / "media.csv").write_text(content, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        check_source("media.csv", tmp_path, "channels.press.lists.press")

    assert expected in caught.value.message
    assert caught.value.message.startswith("channels.press.lists.press: ")


def test_inline_addresses_need_no_file(tmp_path: Path) -> None:
    check_source("humas@example.go.id", tmp_path, "channels.press.lists.default")
    [recipient] = iter_recipients({"default": ["humas@example.go.id"]}, tmp_path, [])
    assert recipient.key == "humas@example.go.id"
