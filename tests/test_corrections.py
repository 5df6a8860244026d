"""After publication: a correction (ralat) and a retraction (pencabutan) go everywhere the
release went, once, through each adapter's `amend`; the release file stays the single
source of truth (edit it, add the note, approve it again, send)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fake_channels import (
    AmendingChannel,
    AmendingSite,
    EditableChannel,
    FakeChannel,
    fresh_board,
    make_config,
)

from chanpub import actions
from chanpub.approval import approve
from chanpub.errors import AmbiguousError, InputError
from chanpub.outcomes import RunResult
from chanpub.release import load_release
from chanpub.testing import write_release

NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."


def statuses(result: RunResult) -> dict[str, tuple[str, str | None]]:
    return {o.channel: (o.status, o.action) for r in result.releases for o in r.outcomes}


def edit(path: Path, old: str, new: str, **fields: str) -> None:
    """The officer edits the published release, adds a note, and the head approves it."""
    text = path.read_text(encoding="utf-8").replace(old, new)
    for key, value in fields.items():
        line = f"{key}: {json.dumps(value)}\n"
        written = re.search(rf"^{key}: .*\n", text, flags=re.MULTILINE)
        text = (
            text.replace(written.group(), line)
            if written
            else text.replace("---\n", "---\n" + line, 1)
        )
    path.write_text(text, encoding="utf-8")
    approve(path, "Kepala Dinas Kominfo")


@pytest.fixture
def board():  # type: ignore[no-untyped-def]
    return fresh_board()


@pytest.fixture
def office(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = make_config(
        tmp_path,
        {
            "website": (AmendingSite, {"canonical": True}),
            "social": (AmendingChannel, {}),
            "press": (AmendingChannel, {}),
        },
    )
    return config, write_release(tmp_path / "releases")


def test_a_correction_reaches_every_channel_the_release_went_to(office, board) -> None:  # type: ignore[no-untyped-def]
    config, path = office
    actions.send([path], config)
    edit(path, "12 kelurahan", "14 kelurahan", correction=NOTE)
    result = actions.send([path], config)
    assert statuses(result)["social"] == ("published", "edited")
    assert statuses(result)["press"] == ("published", "edited")
    kinds = {(name, kind, note) for name, kind, note, _previous, _key in board.amended}
    assert kinds == {(name, "correction", NOTE) for name in ("website", "social", "press")}
    previous = {name: remote for name, _kind, _note, remote, _key in board.amended}
    assert previous["social"].startswith("social-")  # the post it published, from the ledger
    assert int(result.exit_code) == 0
    again = actions.send([path], config)  # cron, ten minutes later
    assert {s for s, _action in statuses(again).values()} == {"already-published"}
    assert len(board.amended) == 3


def test_a_website_without_amend_falls_to_a_person_and_the_rest_still_go(
    tmp_path: Path, board
) -> None:  # type: ignore[no-untyped-def]
    config = make_config(
        tmp_path,
        {"website": (EditableChannel, {"canonical": True}), "social": (AmendingChannel, {})},
    )
    path = write_release(tmp_path / "releases")
    actions.send([path], config)
    edit(path, "12 kelurahan", "14 kelurahan", correction=NOTE)
    result = actions.send([path], config)
    website = next(o for o in result.releases[0].outcomes if o.channel == "website")
    assert website.status == "failed"
    assert "cannot carry a correction by itself" in (website.error or "")
    assert "chanpub resolve pemkot-buka-layanan-adminduk-keliling website" in (website.error or "")
    assert statuses(result)["social"] == ("published", "edited")  # its page exists already
    assert int(result.exit_code) == 1


def test_corrected_twice_then_retracted_with_three_runs(office, board) -> None:  # type: ignore[no-untyped-def]
    config, path = office
    actions.send([path], config)
    edit(path, "12 kelurahan", "14 kelurahan", correction=NOTE)
    actions.send([path], config)
    edit(path, "14 kelurahan", "15 kelurahan", correction="Jumlah kelurahan menjadi 15.")
    actions.send([path], config)
    edit(path, "15 kelurahan", "15 kelurahan", retraction="Dibatalkan karena cuaca buruk.")
    assert load_release(path).status == "retracted"  # approve keeps it withdrawn
    result = actions.send([path], config)
    assert statuses(result)["social"] == ("published", "deleted")
    social = [(kind, note) for name, kind, note, _p, _k in board.amended if name == "social"]
    assert social == [
        ("correction", NOTE),
        ("correction", "Jumlah kelurahan menjadi 15."),
        ("retraction", "Dibatalkan karena cuaca buruk."),
    ]
    keys = [key for name, _kind, _note, _p, key in board.amended if name == "social"]
    assert len(set(keys)) == 3  # one delivery key per version


def test_a_changed_release_without_a_note_is_refused_and_nothing_is_sent(office, board) -> None:  # type: ignore[no-untyped-def]
    config, path = office
    actions.send([path], config)
    edit(path, "12 kelurahan", "14 kelurahan")
    with pytest.raises(InputError) as refused:
        actions.send([path], config)
    assert "correction: ..." in refused.value.message
    assert board.amended == [] and len(board.posts) == 3  # the first run's, no more


def test_a_withdrawn_release_never_published_is_sent_nowhere(tmp_path: Path, board) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, {"social": (AmendingChannel, {})})
    path = write_release(tmp_path / "releases")
    edit(path, "12 kelurahan", "12 kelurahan", retraction="Dibatalkan.")
    result = actions.send([path], config)
    assert statuses(result) == {"social": ("skipped", None)}
    assert board.posts == [] and board.amended == []


def test_a_failed_amendment_is_retried_by_the_next_run_only_where_it_failed(office, board) -> None:  # type: ignore[no-untyped-def]
    config, path = office
    actions.send([path], config)
    edit(path, "12 kelurahan", "14 kelurahan", correction=NOTE)
    board.fail("press", AmbiguousError("press: no answer"))
    first = actions.send([path], config)
    assert statuses(first)["press"] == ("failed", None)
    assert statuses(first)["social"] == ("published", "edited")
    second = actions.send([path], config)
    assert statuses(second)["press"] == ("published", "edited")
    assert statuses(second)["social"] == ("already-published", None)
    assert [name for name, *_rest in board.amended if name != "website"] == ["social", "press"]


def test_json_and_log_file_say_what_was_done(office, board, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from chanpub.run_log import append_log

    config, path = office
    actions.send([path], config)
    edit(path, "12 kelurahan", "14 kelurahan", correction=NOTE)
    result = actions.send([path], config)
    channels = {c["channel"]: c for c in result.to_json()["releases"][0]["channels"]}
    assert channels["social"]["action"] == "edited" and channels["social"]["status"] == "published"
    log = tmp_path / "chanpub.jsonl"
    append_log(log, result)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert {line["channel"]: line.get("action") for line in lines}["press"] == "edited"


def test_a_plain_channel_that_cannot_amend_is_left_to_a_person(tmp_path: Path, board) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, {"notice": (FakeChannel, {})})
    path = write_release(tmp_path / "releases")
    actions.send([path], config)
    edit(path, "12 kelurahan", "14 kelurahan", correction=NOTE)
    result = actions.send([path], config)
    assert statuses(result) == {"notice": ("failed", None)}
    history = actions.history(config, "pemkot-buka-layanan-adminduk-keliling")
    assert sorted(row.status for row in history) == ["needs_check", "published"]
