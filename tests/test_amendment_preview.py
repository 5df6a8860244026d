"""`chanpub check` and `chanpub preview` of a correction or a retraction say, per channel,
what will happen there: edited, a reply, deleted, a notice to N recipients, or by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from fake_channels import AmendingChannel, FakeChannel, fresh_board, make_config

from chanpub import actions, output
from chanpub.approval import approve
from chanpub.config import load_config
from chanpub.contract import Capabilities, Mechanism
from chanpub.preview import build_preview, render_preview
from chanpub.testing import write_release

NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."


class EditingChannel(AmendingChannel):
    """A platform whose posts can be edited in place and deleted."""

    capabilities: ClassVar[Capabilities] = Capabilities(
        corrections=Mechanism.EDIT, retractions=Mechanism.DELETE
    )


class ReplyingChannel(AmendingChannel):
    """A platform whose posts cannot be edited: a reply carries the note."""

    capabilities: ClassVar[Capabilities] = Capabilities(
        corrections=Mechanism.REPLY, retractions=Mechanism.DELETE
    )


def amend(path: Path, **note: str) -> None:
    """The officer adds the note to the published release; the head approves it again."""
    [(field, value)] = note.items()
    text = path.read_text(encoding="utf-8").replace("12 kelurahan", "14 kelurahan")
    path.write_text(text.replace("---\n", f"---\n{field}: {json.dumps(value)}\n", 1))
    approve(path, "Kepala Dinas Kominfo")


@pytest.fixture
def press_office(tmp_path: Path) -> Path:
    """An office whose press list (two journalists, by e-mail) got the release."""
    (tmp_path / "media.csv").write_text(
        "email\nbudi@harian.example\nsiti@radio.example\n", encoding="utf-8"
    )
    press = {"type": "email", "transport": "outbox", "path": "outbox"}
    press |= {"from": "humas@example.go.id", "lists": ["media.csv"]}
    (tmp_path / "channels.yaml").write_text(
        yaml.safe_dump({"organisation": "Diskominfo", "channels": {"press": press}}),
        encoding="utf-8",
    )
    release = write_release(tmp_path / "releases")
    actions.send([release], load_config(tmp_path / "channels.yaml"))
    (tmp_path / "media.csv").write_text(  # the list grew since: the notice goes to two
        "email\nbudi@harian.example\nsiti@radio.example\nbaru@tv.example\n", encoding="utf-8"
    )
    return release


def test_check_says_a_notice_goes_to_those_who_got_the_release(
    press_office: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    amend(press_office, correction=NOTE)
    config = load_config(tmp_path / "channels.yaml")

    release, checks = actions.check(press_office, config)
    output.print_check(release, checks)

    assert [c.amends for c in checks] == ["a notice goes to 2 recipient(s)"]
    assert "a notice goes to 2 recipient(s)" in capsys.readouterr().out


def test_the_preview_page_shows_the_note_and_what_each_channel_will_do(
    press_office: Path, tmp_path: Path
) -> None:
    amend(press_office, retraction="Dibatalkan karena cuaca buruk.")
    config = load_config(tmp_path / "channels.yaml")

    page = render_preview(build_preview(press_office, config), config)

    assert 'id="amendment"' in page and "Dibatalkan karena cuaca buruk." in page
    assert "a notice goes to 2 recipient(s)" in page


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (
            {"correction": NOTE},
            {
                "edits": "will be edited",
                "replies": "a reply will be posted",
                "plain": "cannot be corrected automatically: do it by hand",
            },
        ),
        (
            {"retraction": "Dibatalkan."},
            {
                "edits": "will be deleted",
                "replies": "will be deleted",
                "plain": "cannot be withdrawn automatically: do it by hand",
            },
        ),
    ],
)
def test_each_mechanism_is_said_in_words(
    tmp_path: Path, note: dict[str, str], expected: dict[str, str]
) -> None:
    fresh_board()
    config = make_config(
        tmp_path,
        {
            "edits": (EditingChannel, {}),
            "replies": (ReplyingChannel, {}),
            "plain": (FakeChannel, {}),
        },
    )
    path = write_release(tmp_path / "releases")
    actions.send([path], config)
    amend(path, **note)

    _release, checks = actions.check(path, config)

    assert {c.name: c.amends for c in checks} == expected


def test_a_release_that_amends_nothing_says_nothing(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"edits": (EditingChannel, {})})
    path = write_release(tmp_path / "releases")

    _release, checks = actions.check(path, config)

    assert [c.amends for c in checks] == [None]
