"""Release files: what an officer writes, and the errors they get when it is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chanpub.errors import ReleaseError
from chanpub.release import content_sha256, load_release, slugify
from chanpub.testing import write_release


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_complete_release_loads_with_every_field(tmp_path: Path) -> None:
    (tmp_path / "foto.jpg").write_bytes(b"\xff\xd8\xff")
    path = write(
        tmp_path / "r.md",
        """---
title: Pemkot Buka Layanan
summary: Ringkas.
date: 2026-09-03
publish_at: 2026-09-03T08:00:00+08:00
image: foto.jpg
image_alt: Mobil layanan biru
tags: [adminduk, pelayanan publik]
channels: [website]
language: id
source: Diskominfo
---
Isi siaran.
""",
    )
    release = load_release(path)
    assert release.title == "Pemkot Buka Layanan"
    assert release.slug == "pemkot-buka-layanan"
    assert release.summary == "Ringkas."
    assert release.image == (tmp_path / "foto.jpg").resolve()
    assert release.tags == ("adminduk", "pelayanan publik")
    assert release.channels == ("website",)
    assert release.publish_at is not None and release.publish_at.utcoffset() is not None
    assert release.status == "draft" and not release.is_approved
    assert release.warnings == ()


def test_summary_comes_from_the_first_paragraph_when_absent(tmp_path: Path) -> None:
    path = write(tmp_path / "r.md", "---\ntitle: T\n---\n\nPertama **tebal** di sini.\n\nKedua.\n")
    assert load_release(path).summary == "Pertama tebal di sini."


def test_unknown_fields_warn_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "r.md", "---\ntitle: T\nauthr: Budi\n---\nIsi.\n")
    release = load_release(path)
    assert release.warnings == (f"{path}:3: authr: unknown field, ignored: check the spelling",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\nsummary: x\n---\nIsi.\n", "title: is missing"),
        ("---\ntitle: [unclosed\n---\nIsi.\n", "front matter is not valid YAML"),
        ("---\ntitle: T\n---\n\n   \n", "no text after the front matter"),
        ("no front matter at all\n", "no front matter"),
        (
            "---\ntitle: T\nimage: missing.jpg\nimage_alt: x\n---\nIsi.\n",
            "missing.jpg does not exist",
        ),
        (
            "---\ntitle: T\nimage: ../../etc/passwd\nimage_alt: x\n---\nIsi.\n",
            "outside the release's folder",
        ),
        ("---\ntitle: T\nkind: clarification\n---\nIsi.\n", "claim: a clarification needs"),
        ("---\ntitle: T\nkind: rumour\n---\nIsi.\n", "kind: must be 'release' or 'clarification'"),
        (
            "---\ntitle: T\npublish_at: 2026-09-03T08:00:00\n---\nIsi.\n",
            "publish_at: has no UTC offset",
        ),
        ("---\ntitle: T\npublish_at: besok\n---\nIsi.\n", "publish_at: is not an ISO 8601 time"),
        (
            "---\ntitle: T\nstatus: published\n---\nIsi.\n",
            "status: must be 'draft', 'approved' (chanpub approve sets it) or 'retracted'",
        ),
        (  # an officer withdrawing a release is told the word and what goes with it
            "---\ntitle: T\nstatus: withdrawn\n---\nIsi.\n",
            "or 'retracted' (with 'retraction: <the reason>'), not 'withdrawn'",
        ),
        ("---\ntitle: T\nslug: Bad Slug!\n---\nIsi.\n", "slug: may hold only"),
        ("---\ntitle: T\ntags: {a: 1}\n---\nIsi.\n", "tags: must be a list"),
    ],
)
def test_bad_releases_name_the_file_the_field_and_the_fix(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "r.md", text)
    with pytest.raises(ReleaseError) as caught:
        load_release(path)
    assert str(path) in caught.value.message
    assert expected in caught.value.message


def test_an_image_needs_alt_text(tmp_path: Path) -> None:
    (tmp_path / "foto.png").write_bytes(b"\x89PNG")
    path = write(tmp_path / "r.md", "---\ntitle: T\nimage: foto.png\n---\nIsi.\n")
    with pytest.raises(ReleaseError, match=r"r.md:\d+: image_alt: is required with an image"):
        load_release(path)


def test_a_symlinked_image_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"\x89PNG")
    folder = tmp_path / "releases"
    folder.mkdir()
    (folder / "link.png").symlink_to(outside)
    path = write(folder / "r.md", "---\ntitle: T\nimage: link.png\nimage_alt: x\n---\nIsi.\n")
    with pytest.raises(ReleaseError, match="outside the release's folder"):
        load_release(path)


def test_missing_file_and_non_utf8_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="no such file"):
        load_release(tmp_path / "nope.md")
    path = write(tmp_path / "latin1.md", "---\ntitle: Caf\xe9\n---\nIsi.\n".encode("latin-1"))
    with pytest.raises(ReleaseError, match=r"latin1.md:2: is not UTF-8 text"):
        load_release(path)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path / "r.md", "---\nkind: clarification\nlanguage: 12345678\n---\n\n")
    with pytest.raises(ReleaseError) as caught:
        load_release(path)
    message = caught.value.message
    for expected in ("title: is missing", "claim:", "verdict:", "no text after", "language:"):
        assert expected in message


def test_the_hash_ignores_approval_fields_and_line_endings() -> None:
    front = {"title": "T", "tags": ["a"]}
    plain = content_sha256(front, "Isi.\nBaris dua.\n")
    assert (
        content_sha256({**front, "status": "approved", "approved_by": "X"}, "Isi.\nBaris dua.\n")
        == plain
    )
    assert content_sha256(front, "Isi.\r\nBaris dua.   \r\n\r\n") == plain
    assert content_sha256(front, "Isi.\nBaris tiga.\n") != plain
    assert content_sha256({**front, "title": "T2"}, "Isi.\nBaris dua.\n") != plain


def test_approved_release_is_due_only_after_publish_at(tmp_path: Path) -> None:
    release = load_release(write_release(tmp_path, publish_at="2030-01-01T08:00:00+07:00"))
    assert release.is_approved
    assert not release.is_due(datetime(2029, 12, 31, tzinfo=UTC))
    assert release.is_due(datetime(2030, 1, 1, 1, 0, tzinfo=UTC))


def test_slugs_are_ascii_and_stable() -> None:
    assert slugify("Klarifikasi: Hoaks Banjir di Tomohon!") == "klarifikasi-hoaks-banjir-di-tomohon"
    assert slugify("Café Ünïcode") == "cafe-unicode"
    assert slugify("!!!") == "release"
