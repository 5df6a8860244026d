"""Letters on the task queue (`database:`): a letter-pdf delivery to more recipients than
`queue: batch:` is shared among workers in parts, like an e-mail list. A worker killed
in the middle of its part leaves it to another; every recipient ends up with exactly one
letter, whose number is unique, recorded in the ledger and printed in the PDF; and a
correction letter cites each recipient's original number."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from pdf_pages import pages_text

from chanpub.approval import approve
from chanpub.batches import part_of

from .office import chanpub, kill_when, start, with_kill_point, write_office

PEOPLE = 30
BATCH = 10  # 30 recipients: 3 parts (of 7, 11 and 12 letters: parts go by address)
NUMBER = re.compile(r"\b(\d{3}/DISKOMINFO/III/2026)\b")
NOTE = "Layanan dimulai Selasa, bukan Senin."


def _office(folder: Path) -> dict[str, str]:
    """An office with the website (canonical) and letters to PEOPLE recipients, on the
    shared database, in parts of BATCH; returns each recipient's address by name."""
    config = write_office(
        folder,
        {
            "letters": {
                "type": "letter-pdf",
                "out": "surat",
                "letterhead": {"lines": ["PEMERINTAH KOTA CONTOH", "DINAS KOMINFO"]},
                "number_pattern": "{seq:03d}/DISKOMINFO/{month_roman}/{year}",
                "signatory": {"position": "Kepala Dinas", "name": "Dra. Maria Wenas"},
                "recipients": "penerima.csv",
            }
        },
    )
    people = {f"Penerima {n:02}": f"penerima{n:02}@desa.example" for n in range(PEOPLE)}
    (folder / "penerima.csv").write_text(
        "name,email\n" + "".join(f"{name},{mail}\n" for name, mail in people.items()),
        encoding="utf-8",
    )
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["database"] = "${CHANPUB_DATABASE_URL}"
    data["queue"] = {"batch": BATCH}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return people


def _letters(url: str, content_hash: str | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The letters delivery's row (status, details) and its items (recipient: number)."""
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT status, details, delivery_key, content_hash FROM deliveries "
            "WHERE channel = 'letters' ORDER BY started_at"
        ).fetchall()
        status, details, key, _hash = next(r for r in rows if content_hash in (None, r[3]))
        items = db.execute(
            "SELECT item, status, remote_id FROM items WHERE delivery_key = %s", (key,)
        ).fetchall()
    assert {state for _item, state, _number in items} == {"sent"}, items
    return {"status": status, "details": json.loads(details)}, {i: n for i, _s, n in items}


def _written(folder: Path) -> dict[str, list[str]]:
    """Each single letter in `folder`, opened again: the recipient's name -> its numbers."""
    found: dict[str, list[str]] = {}
    for pdf in sorted(folder.glob("*.pdf")):
        text = " ".join(pages_text(pdf))
        name = re.search(r"Yth\. (Penerima \d\d)", text)
        assert name, text[:300]
        found.setdefault(name.group(1), []).extend(NUMBER.findall(text))
    return found


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """The processes a test starts; any still running when it ends is stopped."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def test_letters_in_parts_through_two_workers_one_killed_each_letter_once(
    tmp_path: Path, postgres_url: str, started: list[subprocess.Popen[str]]
) -> None:
    folder = tmp_path / "humas"
    people = _office(folder)
    sizes = sorted(sum(part_of(a, 3) == p for a in people.values()) for p in range(3))
    assert sizes == [7, 11, 12]  # so the worker below is killed in the middle of a part
    env = {"CHANPUB_DATABASE_URL": postgres_url}
    queued = chanpub(folder, "send", "releases/", "--enqueue-only", **env)
    assert queued.returncode == 0, queued.stderr

    # The first worker stops once it has written the 3rd letter of its part (the whole
    # part numbered before, in the ledger); a second worker starts then, and the first is
    # SIGKILLed once the second has written letters of its own: its part goes to the second.
    stopped = tmp_path / "stopped"
    first = start(
        folder,
        "worker",
        "--until-empty",
        "--concurrency",
        "1",
        CHANPUB_KILL_MATCH="-penerima-",
        **with_kill_point("after-rename", stopped, count=3),
        **env,
    )
    started.append(first)
    _wait(first, stopped.exists)
    letters = folder / "surat"
    [single] = [path for path in letters.iterdir() if path.is_dir()]
    before = {path.name: path.read_bytes() for path in single.glob("*.pdf")}
    assert len(before) == 3
    second = start(folder, "worker", "--until-empty", **env)
    started.append(second)
    kill_when(first, lambda: len(list(single.glob("*.pdf"))) > 3, timeout=60)
    _out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err

    row, numbers = _letters(postgres_url)
    assert row["status"] == "published"
    assert row["details"]["batches"] == 3 and row["details"]["letters"] == PEOPLE
    assert len(numbers) == PEOPLE and len(set(numbers.values())) == PEOPLE, "numbers unique"
    assert row["details"]["numbers"] == numbers, "the row keeps the whole list's numbers"
    with psycopg.connect(postgres_url) as db:
        drawn = db.execute("SELECT value FROM sequences").fetchall()
        ended = db.execute("SELECT count(*) FROM store WHERE namespace = 'batches'").fetchone()
    assert drawn == [(PEOPLE,)], "no number drawn twice (or wasted)"
    assert ended == (3,), "each part ended once"
    written = _written(single)
    assert len(list(single.glob("*.pdf"))) == PEOPLE and not list(single.glob(".*"))
    assert written == {name: [numbers[mail]] for name, mail in people.items()}
    # The killed worker's letters, written again by the other: the same number and bytes.
    assert {name: (single / name).read_bytes() for name in before} == before
    per_recipient = row["details"]["per_recipient"]
    assert sorted(per_recipient) == sorted(people.values())
    # One combined PDF for printing per part, named after the place of its first letter.
    addresses = list(people.values())
    firsts = {min(n for n, a in enumerate(addresses, 1) if part_of(a, 3) == p) for p in range(3)}
    combined = sorted(letters.glob("*.pdf"))
    assert sorted(p.name[-8:] for p in combined) == sorted(f"-{n:03d}.pdf" for n in firsts)
    pages = [page for pdf in combined for page in pages_text(pdf)]
    assert sorted(re.findall(r"Yth\. (Penerima \d\d)", " ".join(pages))) == sorted(people)

    # A correction, sent in parts too: each recipient's letter cites its own number.
    _correct(folder / "releases" / "rilis-0000.md")
    queued = chanpub(folder, "send", "releases/", "--enqueue-only", **env)
    assert queued.returncode == 0, queued.stderr
    workers = [start(folder, "worker", "--until-empty", **env) for _ in range(2)]
    started += workers
    ends = [(w.wait(timeout=120), *w.communicate(timeout=10)) for w in workers]
    assert [code for code, _out, _err in ends] == [0, 0], ends
    [corrections] = [p for p in letters.iterdir() if p.is_dir() and "correction" in p.name]
    cited = _cited(corrections)
    assert cited == {name: numbers[mail] for name, mail in people.items()}
    latest, new_numbers = _letters(postgres_url, _newest_hash(postgres_url))
    assert latest["status"] == "published" and latest["details"]["batches"] == 3
    assert set(new_numbers.values()).isdisjoint(numbers.values())
    assert len(set(new_numbers.values())) == PEOPLE
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT value FROM sequences").fetchall() == [(2 * PEOPLE,)]


def _wait(process: Any, ready: Any, timeout: float = 60) -> None:
    """Wait until `ready()`, failing if `process` ends first."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the worker never got there"
        time.sleep(0.02)


def _correct(path: Path) -> None:
    """The officer corrects the published release and the head approves it again."""
    text = path.read_text(encoding="utf-8").replace("12 kelurahan", "14 kelurahan")
    path.write_text(text.replace("---\n", f"---\ncorrection: {NOTE}\n", 1), encoding="utf-8")
    approve(path, "Kepala Dinas", now=datetime(2026, 3, 5, 9, tzinfo=UTC))


def _cited(folder: Path) -> dict[str, str]:
    """Each correction letter in `folder`: the recipient's name -> the number it cites."""
    found: dict[str, str] = {}
    for pdf in sorted(folder.glob("*.pdf")):
        text = " ".join(pages_text(pdf))
        name = re.search(r"Yth\. (Penerima \d\d)", text)
        cited = re.search(r"Ralat atas surat nomor (\S+) tanggal", text)
        assert name and cited and name.group(1) not in found, text[:400]
        found[name.group(1)] = cited.group(1)
    return found


def _newest_hash(url: str) -> str:
    with psycopg.connect(url) as db:
        row = db.execute(
            "SELECT content_hash FROM deliveries WHERE channel = 'letters' "
            "ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0])
