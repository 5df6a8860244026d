"""A list file's address checks are noted in the ledger, so another process (a worker on
another host, the next batch job) reading the same list checks only what is new."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import email_validator
import pytest
from recorded_calls import record_calls

from chanpub.channels.email import address_notes
from chanpub.channels.email.recipients import Invalid, Recipient, _check, iter_recipients
from chanpub.contract import Store
from chanpub.ledger import Ledger

LIST = """email,nama
Budi@Example.Go.Id,Budi
siti@example.go.id,Siti
bukan-alamat,Salah
rina@bücher.example,Rina
budi@example.go.id,Budi lagi
"""


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The addresses email_validator is asked about, as if in a fresh process."""
    asked = record_calls(monkeypatch, email_validator, "validate_email")
    _check.cache_clear()  # the per-process memo: each reading below is "another process"
    yield asked
    _check.cache_clear()


def read(folder: Path, notes: Store | None) -> tuple[list[Recipient], list[Invalid]]:
    invalid: list[Invalid] = []
    _check.cache_clear()
    recipients = list(iter_recipients({"pers": ["pers.csv"]}, folder, invalid, notes))
    return recipients, invalid


def test_a_list_read_to_its_end_is_not_checked_again_by_the_next_process(
    tmp_path: Path, checks: list[str]
) -> None:
    (tmp_path / "pers.csv").write_text(LIST, encoding="utf-8")
    notes = Ledger(tmp_path / "ledger.sqlite3").store(address_notes.NAMESPACE)
    first = read(tmp_path, notes)
    assert len(checks) == 5

    checks.clear()
    again = read(tmp_path, notes)

    assert checks == []
    assert again == first  # the same recipients, normalised the same way, the same refusals
    assert [r.email for r in first[0]] == [
        "Budi@example.go.id",
        "siti@example.go.id",
        "rina@bücher.example",
    ]
    assert [i.address for i in first[1]] == ["bukan-alamat"]


def test_addresses_added_to_the_list_are_the_only_ones_checked(
    tmp_path: Path, checks: list[str]
) -> None:
    (tmp_path / "pers.csv").write_text(LIST, encoding="utf-8")
    notes = Ledger(tmp_path / "ledger.sqlite3").store(address_notes.NAMESPACE)
    read(tmp_path, notes)
    with (tmp_path / "pers.csv").open("a", encoding="utf-8") as file:
        file.write("agus@example.go.id,Agus\nagus@@example.go.id,Agus salah\n")

    checks.clear()
    recipients, invalid = read(tmp_path, notes)

    assert checks == ["agus@example.go.id", "agus@@example.go.id"]
    assert recipients[-1].email == "agus@example.go.id"
    assert [i.address for i in invalid] == ["bukan-alamat", "agus@@example.go.id"]
    checks.clear()
    read(tmp_path, notes)
    assert checks == []


def test_a_list_read_only_in_part_is_not_noted(tmp_path: Path, checks: list[str]) -> None:
    (tmp_path / "pers.csv").write_text(LIST, encoding="utf-8")
    notes = Ledger(tmp_path / "ledger.sqlite3").store(address_notes.NAMESPACE)
    stream = iter_recipients({"pers": ["pers.csv"]}, tmp_path, [], notes)
    next(stream)

    assert notes.get(str((tmp_path / "pers.csv").resolve())) is None


def test_a_note_made_by_another_email_validator_is_not_trusted(
    tmp_path: Path, checks: list[str]
) -> None:
    (tmp_path / "pers.csv").write_text(LIST, encoding="utf-8")
    notes = Ledger(tmp_path / "ledger.sqlite3").store(address_notes.NAMESPACE)
    key = str((tmp_path / "pers.csv").resolve())
    notes.put(
        key,
        {"validator": "0.0.1", "valid": ["bukan-alamat"], "changed": {}, "invalid": {}},
    )

    _, invalid = read(tmp_path, notes)

    assert "bukan-alamat" in checks
    assert [i.address for i in invalid] == ["bukan-alamat"]
    assert notes.get(key)["validator"] == email_validator.__version__


def test_without_a_ledger_every_address_is_checked(tmp_path: Path, checks: list[str]) -> None:
    (tmp_path / "pers.csv").write_text(LIST, encoding="utf-8")
    read(tmp_path, None)
    checks.clear()

    read(tmp_path, None)

    assert len(checks) == 5
    assert not (tmp_path / ".chanpub").exists()


def test_the_email_channel_notes_its_lists_in_the_ledger_it_is_given(
    tmp_path: Path, checks: list[str]
) -> None:
    from chanpub.channels.email.channel import EmailChannel, EmailOptions
    from chanpub.testing import make_context, sample_links, sample_release

    (tmp_path / "pers.csv").write_text(LIST, encoding="utf-8")
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    options = EmailOptions.model_validate(
        {
            "transport": "smtp",
            "host": "127.0.0.1",
            "port": 2525,
            "security": "none",
            "from": "Diskominfo <humas@example.go.id>",
            "lists": ["pers.csv"],
        }
    )
    release = sample_release(tmp_path / "rilis")

    def preview() -> int:
        _check.cache_clear()
        context = make_context(tmp_path, store_factory=ledger.store)
        shown = EmailChannel("pers", options, context).preview(release, sample_links())
        return shown.recipients or 0

    first = preview()
    checks.clear()

    assert preview() == first == 3
    assert checks == []
