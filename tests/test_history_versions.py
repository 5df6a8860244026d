"""`chanpub history SLUG` after corrections and a retraction: every version with its kind,
approver and approval time, and per channel what was done (edited, deleted, sent...)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fake_channels import AmendingChannel, AmendingSite, fresh_board, make_config

from chanpub import actions, output
from chanpub.approval import approve
from chanpub.testing import write_release

SLUG = "pemkot-buka-layanan-adminduk-keliling"


def edit(path: Path, old: str, new: str, approver: str, **fields: str) -> None:
    """The officer edits the release and adds a note; `approver` approves it again."""
    text = path.read_text(encoding="utf-8").replace(old, new)
    for key, value in fields.items():
        text = text.replace("---\n", f"---\n{key}: {json.dumps(value)}\n", 1)
    path.write_text(text, encoding="utf-8")
    approve(path, approver)


@pytest.fixture
def corrected_then_withdrawn(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A release sent, corrected once, then withdrawn: three versions."""
    fresh_board()
    config = make_config(
        tmp_path, {"website": (AmendingSite, {"canonical": True}), "social": (AmendingChannel, {})}
    )
    path = write_release(tmp_path / "releases")
    actions.send([path], config)
    edit(path, "12 kelurahan", "14 kelurahan", "Sekretaris Dinas", correction="Ada 14 kelurahan.")
    actions.send([path], config)
    edit(path, "14 kelurahan", "14 kelurahan", "Kepala Dinas Kominfo", retraction="Dibatalkan.")
    actions.send([path], config)
    return config


def test_history_json_lists_every_version_with_kind_approver_and_actions(
    corrected_then_withdrawn,  # type: ignore[no-untyped-def]
) -> None:
    rows = actions.history(corrected_then_withdrawn, SLUG)

    document = json.loads(output.history_json(rows))

    versions = document["versions"]
    assert [v["kind"] for v in versions] == ["release", "correction", "retraction"]
    assert [v["approved_by"] for v in versions] == [
        "Kepala Dinas",
        "Sekretaris Dinas",
        "Kepala Dinas Kominfo",
    ]
    assert all(re.match(r"\d{4}-\d\d-\d\dT", v["approved_at"]) for v in versions)
    assert len({v["content_hash"] for v in versions}) == 3
    actions_per_version = [{c["channel"]: c["action"] for c in v["channels"]} for v in versions]
    assert actions_per_version == [
        {"website": None, "social": None},
        {"website": "edited", "social": "edited"},
        {"website": "deleted", "social": "deleted"},
    ]
    assert {c["status"] for v in versions for c in v["channels"]} == {"published"}
    social = [d for d in document["deliveries"] if d["channel"] == "social"]
    assert {(d["kind"], d["action"]) for d in social} == {
        ("release", None),
        ("correction", "edited"),
        ("retraction", "deleted"),
    }


def test_history_prints_each_version_and_what_each_channel_did(
    corrected_then_withdrawn,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
) -> None:
    output.print_history(actions.history(corrected_then_withdrawn, SLUG))

    printed = capsys.readouterr().out
    assert re.search(r"correction [0-9a-f]{12}, approved by Sekretaris Dinas at 20\d\d-", printed)
    assert re.search(r"retraction [0-9a-f]{12}, approved by Kepala Dinas Kominfo", printed)
    assert "social: published (deleted)" in printed
    assert "website: published (edited)" in printed
