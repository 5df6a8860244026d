"""What a batch job spends reading its part of a big list, whole against from the note.

    python benchmarks/list_parts.py [--recipients 100000] [--batch 250] [--jobs 20]
                                    [--database URL|auto]

A list of N addresses (CSV, as an office keeps its press and subscriber lists) is shared
among ceil(N / batch) batch jobs (chanpub.batches). Each job must find its own
recipients: reading the whole list (what every job did before list_parts, and what the
first job still does) or, once a job has read it whole, reading only its rows from the
note in the ledger (chanpub.channels.email.list_parts). Both are timed in this process on
the same list, the address checks answered from the ledger's notes in both (as a worker's
are after its first job), and the time for all jobs of the list projected from them.

Then the journal's side, with the delivery half sent (every other address in the ledger):
the states a job reads to answer for its part and count it, the whole delivery's (before)
against its part's alone (`PartJournal.narrow`). The ledger is a SQLite file, or with
--database the PostgreSQL database that batch jobs share (auto: a throw-away server from
Debian's binaries, flushing its commits as an office's does).
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from smtp_throughput import write_csv

from chanpub import file_stats
from chanpub.batches import PartLedger
from chanpub.channels.email import address_notes, list_parts
from chanpub.channels.email.list_parts import part_recipients
from chanpub.channels.email.recipients import Invalid, iter_recipients
from chanpub.journal import part_of
from chanpub.ledger import Ledger


def main() -> None:
    """Time both readings and print them."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--jobs", type=int, default=20, help="jobs timed each way")
    parser.add_argument("--database", help="a postgresql:// URL, or auto")
    options = parser.parse_args()
    if options.database:
        from ledger_overhead import postgres_database

        with postgres_database(options.database) as url:
            measure(options, url)
    else:
        measure(options, None)


def measure(options: argparse.Namespace, url: str | None) -> None:
    """Time both readings, then the journal's reads, and print them."""
    parts = math.ceil(options.recipients / options.batch)
    # The list was written long before the run (file_stats: only settled files are noted).
    file_stats.clock = lambda: time.time_ns() + 60_000_000_000
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        write_csv(folder / "media.csv", options.recipients)
        lists = {"pers": ["media.csv"]}
        ledger = Ledger(url or folder / "ledger.sqlite3")
        notes, places = ledger.store(address_notes.NAMESPACE), ledger.store(list_parts.NAMESPACE)
        list(iter_recipients(lists, folder, [], notes))  # the addresses' checks noted

        def whole(index: int) -> int:  # as every job did: other parts' rows skipped early
            mine = lambda key: part_of(key, parts) == index  # noqa: E731
            return sum(1 for _ in iter_recipients(lists, folder, [], notes, wanted=mine))

        def noted(index: int) -> int:
            invalid: list[Invalid] = []
            return sum(
                1 for _ in part_recipients(lists, folder, invalid, notes, places, (index, parts))
            )

        started = time.perf_counter()
        first = list(part_recipients(lists, folder, [], notes, places, (0, parts)))
        noting = time.perf_counter() - started
        timed: dict[str, list[float]] = {"whole": [], "noted": []}
        for index in range(1, options.jobs + 1):
            for name, read in (("whole", whole), ("noted", noted)):
                started = time.perf_counter()
                count = read(index)
                timed[name].append(time.perf_counter() - started)
            assert count == noted(index) == whole(index)
        states = journal_reads(ledger, url, folder, lists, (notes, places), parts, options.jobs)
        ledger.close()
    per_job = {name: statistics.median(times) for name, times in timed.items()}
    print(
        f"{options.recipients} addresses in {parts} parts of {options.batch} "
        f"(the first part: {len(first)}); medians of {options.jobs} jobs each way"
    )
    print(f"a job reading the whole list: {per_job['whole'] * 1e3:8.2f} ms")
    print(f"a job reading its rows from the note: {per_job['noted'] * 1e3:8.2f} ms")
    print(f"the first job, reading whole and noting every part: {noting * 1e3:8.2f} ms")
    all_whole = parts * per_job["whole"]
    all_noted = noting + (parts - 1) * per_job["noted"]
    print(
        f"all {parts} jobs of the list: {all_whole:.1f} s reading it whole each, "
        f"{all_noted:.1f} s with the note: {all_whole / all_noted:.0f}x less"
    )
    where = "PostgreSQL" if url else "SQLite"
    print(
        f"a job's journal ({where}), the delivery half sent: {states['whole'] * 1e3:.2f} ms "
        f"reading the whole delivery's states, {states['narrowed'] * 1e3:.2f} ms its part's: "
        f"{states['whole'] / states['narrowed']:.0f}x less"
    )


def journal_reads(
    ledger: Ledger,
    url: str | None,
    folder: Path,
    lists: dict[str, list[str]],
    stores: tuple[Any, Any],
    parts: int,
    jobs: int,
) -> dict[str, float]:
    """Median seconds a job spends on its journal's reads: whole against narrowed."""
    key, (notes, places) = "f" * 64, stores
    every = [r.key for r in iter_recipients(lists, folder, [], notes)]
    sent_before = [(key, item) for item in every[::2]]  # half the delivery sent before
    insert = "INSERT INTO items (delivery_key, item, status, updated_at) VALUES (?, ?, 'sent', '')"
    if url is None:
        with sqlite3.connect(folder / "ledger.sqlite3") as db:
            db.executemany(insert, sent_before)
    else:
        import psycopg

        with psycopg.connect(url) as db:
            db.cursor().executemany(insert.replace("?", "%s"), sent_before)
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("ANALYZE items")  # as autovacuum does soon after a bulk of new rows
    timed: dict[str, list[float]] = {"whole": [], "narrowed": []}
    for index in range(1, jobs + 1):
        mine = [r.key for r in part_recipients(lists, folder, [], notes, places, (index, parts))]
        for name in timed:
            started = time.perf_counter()
            journal = PartLedger(ledger, key, index, parts).journal(key)
            if name == "narrowed":
                journal.narrow(mine)  # type: ignore[attr-defined]
            journal.counts()
            due = [item for item in mine if journal.status(item) is None]
            journal.counts()
            timed[name].append(time.perf_counter() - started)
        assert len(due) in range(len(mine) // 3, len(mine))
    return {name: statistics.median(times) for name, times in timed.items()}


if __name__ == "__main__":
    main()
