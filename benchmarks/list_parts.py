"""What a batch job spends reading its part of a big list, whole against from the note.

    python benchmarks/list_parts.py [--recipients 100000] [--batch 250] [--jobs 20]

A list of N addresses (CSV, as an office keeps its press and subscriber lists) is shared
among ceil(N / batch) batch jobs (chanpub.batches). Each job must find its own
recipients: reading the whole list (what every job did before list_parts, and what the
first job still does) or, once a job has read it whole, reading only its rows from the
note in the ledger (chanpub.channels.email.list_parts). Both are timed in this process on
the same list, the address checks answered from the ledger's notes in both (as a worker's
are after its first job), and the time for all jobs of the list projected from them.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from smtp_throughput import write_csv

from chanpub import file_stats
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
    options = parser.parse_args()
    parts = math.ceil(options.recipients / options.batch)
    # The list was written long before the run (file_stats: only settled files are noted).
    file_stats.clock = lambda: time.time_ns() + 60_000_000_000
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        write_csv(folder / "media.csv", options.recipients)
        lists = {"pers": ["media.csv"]}
        ledger = Ledger(folder / "ledger.sqlite3")
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


if __name__ == "__main__":
    main()
