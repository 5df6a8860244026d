"""`chanpub send` killed with SIGKILL in the middle of writing the website or the outbox, then
run again: no temporary file is left behind, and an `.eml` that was already complete is
kept as it is (same file, same bytes), never written a second time.

The office publishes two releases to a website (canonical) and to a press list of six as
`.eml` files. tests/faults/killpoints stops the process just before (or just after) an
output file is renamed into place; then it is killed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from .office import chanpub, kill_when, start, with_kill_point, write_office
from .smtp_relay import press_list

RELEASES = 2
RECIPIENTS = 6
SLUG = "siaran-pers-nomor-{number}-kota-contoh"


@pytest.fixture
def office(tmp_path: Path) -> tuple[Path, list[str]]:
    folder = tmp_path / "humas"
    folder.mkdir()
    media, addresses = press_list(folder, RECIPIENTS)
    outbox = {
        "type": "email",
        "transport": "outbox",
        "path": "outbox",
        "from": "Diskominfo <humas@kominfo.example.go.id>",
        "lists": [media],
    }
    write_office(folder, {"press": outbox}, releases=RELEASES)
    return folder, addresses


def killed_at(folder: Path, point: str, match: str, count: int) -> None:
    """Run `send` until it stops at the COUNT-th `point` on a file named like `match`; kill it."""
    signal_file = folder.parent / "stopped"
    env = with_kill_point(point, signal_file, count)
    process = start(folder, "send", "releases/", CHANPUB_KILL_MATCH=match, **env)
    kill_when(process, signal_file.exists)
    assert signal_file.read_text(encoding="utf-8") == point


def hidden_files(folder: Path) -> list[str]:
    """Every file whose name starts with a dot, except the website's own manifest."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob(".*")
        if p.name != ".chanpub-site.json" and not p.is_relative_to(folder / ".chanpub")
    )


def sent_items(folder: Path) -> dict[str, int]:
    """address -> how many deliveries recorded it as sent."""
    with sqlite3.connect(folder / ".chanpub" / "ledger.sqlite3") as db:
        rows = db.execute("SELECT item, COUNT(*) FROM items WHERE status = 'sent' GROUP BY item")
        counts = dict(rows.fetchall())
    db.close()
    return counts


FILE_KILLS = [
    ("page", ".html", 1),  # the first article page, before it is in place
    ("index", "index.html", 2),  # the second release's listing
    ("eml", ".eml", 3),  # the third e-mail of the first press list
    ("eml-second-release", ".eml", RECIPIENTS + 2),
]


@pytest.mark.parametrize(
    ("match", "count"), [(m, c) for _, m, c in FILE_KILLS], ids=[n for n, _, _ in FILE_KILLS]
)
def test_a_write_killed_midway_leaves_no_temporary_file_after_the_next_run(
    office: tuple[Path, list[str]], match: str, count: int
) -> None:
    folder, addresses = office
    killed_at(folder, "before-rename", match, count)
    assert hidden_files(folder), "the kill point left no temporary file to clean"

    result = chanpub(folder, "send", "releases/")
    assert result.returncode == 0, result.stdout + result.stderr

    assert hidden_files(folder) == []
    for number in range(RELEASES):
        slug = SLUG.format(number=number)
        assert (folder / "public" / f"{slug}.html").is_file()
        assert sorted(p.name for p in (folder / "outbox" / slug).iterdir()) == sorted(
            f"{a}.eml" for a in addresses
        )


def test_a_complete_eml_is_not_written_again_by_the_next_run(
    office: tuple[Path, list[str]],
) -> None:
    folder, addresses = office
    killed_at(folder, "after-rename", ".eml", 3)  # the third file is complete, not recorded
    outbox = folder / "outbox" / SLUG.format(number=0)
    complete = sorted(outbox.iterdir())
    assert len(complete) == 3
    before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in complete}

    result = chanpub(folder, "send", "releases/")
    assert result.returncode == 0, result.stdout + result.stderr

    after = {p.name: (p.stat().st_ino, p.read_bytes()) for p in complete}
    assert after == before, "an .eml that was already complete was written again"
    assert sent_items(folder) == {address: RELEASES for address in addresses}
