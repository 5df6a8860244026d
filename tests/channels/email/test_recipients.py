"""Recipient lists: inline addresses and CSV files, checked, de-duplicated, streamed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from recorded_calls import record_calls

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


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_list_that_is_no_file_is_named_so_and_never_read(tmp_path: Path, kind: str) -> None:
    media = tmp_path / "media.csv"
    media.mkdir() if kind == "folder" else os.mkfifo(media)  # a FIFO would block a read
    with pytest.raises(ConfigError) as caught:
        check_source("media.csv", tmp_path, "channels.press.lists.press")
    assert caught.value.message == (
        f"channels.press.lists.press: {media} is not a file (a folder, pipe or device): "
        "give a CSV file with the column 'email'"
    )


def test_inline_addresses_need_no_file(tmp_path: Path) -> None:
    check_source("humas@example.go.id", tmp_path, "channels.press.lists.default")
    [recipient] = iter_recipients({"default": ["humas@example.go.id"]}, tmp_path, [])
    assert recipient.key == "humas@example.go.id"


def test_a_list_read_again_in_the_same_process_checks_each_address_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker reads a large list once per batch job (and once for the preview): the
    # address check, the costly part, is remembered, with the same answer and errors.
    import email_validator

    (tmp_path / "media.csv").write_text(
        "email\nDewi@Harian.Example\nrina@@radio.example\neko@warga.example\n", encoding="utf-8"
    )
    checked = record_calls(monkeypatch, email_validator, "validate_email")
    readings = []
    for _ in range(3):
        invalid: list[Invalid] = []
        emails = [r.email for r in iter_recipients({"press": ["media.csv"]}, tmp_path, invalid)]
        readings.append((emails, [(i.address, i.reason) for i in invalid]))

    assert readings[0][0] == ["Dewi@harian.example", "eko@warga.example"]
    assert readings[0][1][0][0] == "rina@@radio.example"
    assert readings[1] == readings[0] and readings[2] == readings[0]
    assert sorted(checked) == ["Dewi@Harian.Example", "eko@warga.example", "rina@@radio.example"]


def test_a_rows_columns_are_read_as_a_spreadsheet_writes_them(tmp_path: Path) -> None:
    # Short rows, long rows, blank lines and a repeated header, as csv.DictReader has them.
    (tmp_path / "media.csv").write_text(
        "email,nama,media,media\n"
        "budi@harian.example,Budi,Harian,Harian Pagi\n"
        "\n"
        "siti@radio.example,Siti\n"
        "ani@tv.example,Ani,TV,TV Kota,lebih\n",
        encoding="utf-8",
    )

    recipients = list(iter_recipients({"press": ["media.csv"]}, tmp_path, []))

    assert [(r.email, r.name, dict(r.fields)) for r in recipients] == [
        ("budi@harian.example", "Budi", {"nama": "Budi", "media": "Harian Pagi"}),
        ("siti@radio.example", "Siti", {"nama": "Siti", "media": ""}),
        ("ani@tv.example", "Ani", {"nama": "Ani", "media": "TV Kota"}),
    ]


def test_a_batch_job_takes_its_part_and_the_first_row_of_each_address_in_it(
    tmp_path: Path,
) -> None:
    from chanpub.batches import part_of

    rows = "".join(f"orang{n}@kota.example,Orang {n}\n" for n in range(200))
    again = "ORANG7@KOTA.EXAMPLE,Orang Tujuh Lagi\n"
    (tmp_path / "warga.csv").write_text("email,nama\n" + rows + again, encoding="utf-8")
    everyone = list(iter_recipients({"warga": ["warga.csv"]}, tmp_path, []))

    parts = [
        list(
            iter_recipients(
                {"warga": ["warga.csv"]}, tmp_path, [], wanted=lambda key, p=p: part_of(key, 3) == p
            )
        )
        for p in range(3)
    ]

    assert sorted((r.key, r.name) for part in parts for r in part) == sorted(
        (r.key, r.name) for r in everyone
    )
    assert all(part_of(r.key, 3) == p for p, part in enumerate(parts) for r in part)
    assert len(everyone) == 200
