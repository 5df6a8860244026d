"""`chanpub approve`: the approval is bound to the content and nothing else changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chanpub.approval import approve
from chanpub.errors import ApprovalError, ReleaseError
from chanpub.intake import approval_problem
from chanpub.release import load_release

DRAFT = """---
title: Pemkot Buka Layanan   # a comment the officer wrote
tags: [adminduk]

status: draft
---

Isi siaran.
"""


def test_approve_writes_the_fields_and_keeps_the_rest_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text(DRAFT, encoding="utf-8")
    release = approve(path, "Kepala Dinas", now=datetime(2026, 9, 3, 1, 2, 3, tzinfo=UTC))
    text = path.read_text(encoding="utf-8")
    assert text == DRAFT.replace(
        "status: draft\n",
        (
            "status: approved\n"
            'approved_by: "Kepala Dinas"\n'
            'approved_at: "2026-09-03T01:02:03Z"\n'
            f'approved_sha256: "{release.content_sha256}"\n'
        ),
    )
    assert load_release(path).is_approved


def test_approving_again_replaces_the_old_approval(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text(DRAFT, encoding="utf-8")
    approve(path, "Sekretaris")
    approve(path, "Kepala Dinas")
    text = path.read_text(encoding="utf-8")
    assert text.count("approved_by:") == 1 and '"Kepala Dinas"' in text


def test_crlf_files_stay_crlf(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_bytes(DRAFT.replace("\n", "\r\n").encode())
    approve(path, "Kepala Dinas")
    data = path.read_bytes()
    assert b'approved_by: "Kepala Dinas"\r\n' in data
    assert data.count(b"\n") == data.count(b"\r\n")


def test_an_edit_after_approval_is_detected_and_names_the_approver(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text(DRAFT, encoding="utf-8")
    approve(path, "Kepala Dinas", now=datetime(2026, 9, 3, tzinfo=UTC))
    path.write_text(
        path.read_text(encoding="utf-8").replace("Isi siaran.", "Isi diubah."), encoding="utf-8"
    )
    release = load_release(path)
    assert not release.is_approved
    problem = approval_problem(release)
    assert problem is not None
    assert "changed after it was approved by Kepala Dinas at 2026-09-03T00:00:00Z" in problem
    assert "approve it again" in problem


def test_a_broken_release_is_not_approved(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text("---\nsummary: no title\n---\nIsi.\n", encoding="utf-8")
    with pytest.raises(ReleaseError, match="title: is missing"):
        approve(path, "Kepala Dinas")
    assert "status" not in path.read_text(encoding="utf-8")


def test_an_empty_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text(DRAFT, encoding="utf-8")
    with pytest.raises(ApprovalError, match="--by"):
        approve(path, "  ")
