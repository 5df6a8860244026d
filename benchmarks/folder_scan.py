"""A cron run over big folders of which 20 releases are due, against a run over a folder
holding only those 20, measured in the same run: on a run with nothing new, the drafts and
the releases scheduled for later should cost next to nothing, and so should 20,000 earlier
publications in the ledger.

    python benchmarks/folder_scan.py [--sizes 2000,20000] [--due 20] [--runs 5]

Each run is `chanpub send FOLDER` as cron starts it (a fresh process), publishing to a
static-site channel. Every folder gets its own state directory and one first run (which
publishes the due ones); then the runs with nothing new are interleaved across folders, so
load on the machine hits all of them alike, and their medians are compared. Targets with
nothing new: 2,000 vs 20 at most 1.2x, 20,000 vs 20 at most 1.3x, and the folder of 20 with
20,000 published releases in the ledger at most 1.1x the same with only its own. The biggest
folder is also run as the README's cron line runs it, with `--log-file` (one line per
outcome, skipped ones included), to show what the log adds. The CPU time printed beside
each wall time includes the short-lived process that takes a folder's file stats while
chanpub starts up (chanpub/folder_stats.py): it runs on the other core, so it shows in the
CPU time and, while it ends before the scan needs it, not in the wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

BODY = """Dinas Kependudukan membuka layanan keliling di 12 kelurahan mulai Senin.

Warga cukup membawa **KTP lama**. Jadwal lengkap:

| Kelurahan | Hari |
|---|---|
| Sukamaju | Senin |
| Sukajadi | Selasa |

Informasi lengkap di [situs resmi](https://kominfo.example.go.id).
"""


def write_folder(folder: Path, total: int, due: int) -> None:
    """`due` approved, due releases and `total - due` drafts and scheduled ones."""
    from chanpub.testing import write_release

    for number in range(total):
        fields: dict[str, object] = {"tags": ["adminduk", "layanan"]}
        if number % 3 == 0:  # most officers leave the summary to the first paragraph
            fields["summary"] = f"Ringkasan siaran {number}."
        if number < due:
            approved = True
        elif number % 2:
            approved, fields["publish_at"] = True, "2099-01-01T09:00:00+07:00"
        else:
            approved = False
        write_release(
            folder,
            name=f"{number:05}.md",
            title=f"Siaran Pers Nomor {number}",
            body=BODY * 3,
            approved=approved,
            **fields,
        )


def chanpub_script() -> Path:
    """The installed console script next to this interpreter (not a pyenv shim)."""
    return Path(sys.executable).parent / "chanpub"


def timed_send(office: Path, folder: Path, state: Path, *options: str) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one `chanpub send folder` with this state
    directory. The CPU time hardly moves with other load on the machine; the wall time is
    what the target is about."""
    env = {**os.environ, "CHANPUB_STATE_DIR": str(state), "LANG": "C.UTF-8"}
    command = [sys.executable, str(chanpub_script()), "send", str(folder)]
    command += ["--config", str(office / "channels.yaml"), *options]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    assert result.returncode == 0, result.stderr
    assert "published" in result.stdout or "skipped" in result.stdout, result.stdout
    return elapsed, cpu


def add_published(state: Path, count: int) -> None:
    """`count` earlier releases, published to the website, in the ledger."""
    database = sqlite3.connect(state / "ledger.sqlite3")
    with database:
        database.executemany(
            "INSERT INTO deliveries (slug, content_hash, channel, channel_type, title, "
            "delivery_key, status, url, attempts, started_at, finished_at, source) "
            "VALUES (?, ?, 'website', 'static-site', ?, ?, 'published', ?, 1, ?, ?, ?)",
            (
                (
                    f"siaran-lama-{n}",
                    f"{n:064x}",
                    f"Siaran Lama {n}",
                    f"key-{n}",
                    f"https://kominfo.example.go.id/siaran/siaran-lama-{n}.html",
                    "2025-01-01T00:00:00+00:00",
                    "2025-01-01T00:00:01+00:00",
                    f"/arsip/siaran-lama-{n}.md",
                )
                for n in range(count)
            ),
        )
    database.close()


def write_config(office: Path) -> None:
    """One static-site channel, canonical, publishing into office/public."""
    channels = {
        "website": {
            "type": "static-site",
            "canonical": True,
            "path": "public",
            "base_url": "https://kominfo.example.go.id/siaran/",
        }
    }
    (office / "channels.yaml").write_text(yaml.safe_dump({"channels": channels}), encoding="utf-8")


def main() -> None:
    """Measure and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--due", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--published", type=int, default=20000)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as temporary:
        office = Path(temporary)
        write_config(office)
        small = office / "due"
        folders = {"due": small}
        for size in sizes:
            folders[str(size)] = office / f"all-{size}"
            write_folder(folders[str(size)], size, args.due)
        small.mkdir()
        for path in sorted(folders[str(sizes[0])].glob("*.md"))[: args.due]:
            shutil.copy(path, small / path.name)
        folders["ledger"] = small  # the folder of 20 with a big ledger
        first = {}
        for name, folder in folders.items():
            first[name] = timed_send(office, folder, office / f"state-{name}")[0]
        add_published(office / "state-ledger", args.published)
        walls: dict[str, list[float]] = {name: [] for name in folders}
        cpus: dict[str, list[float]] = {name: [] for name in folders}
        # The README's cron line also keeps a log: the biggest folder again, with --log-file
        # (each run's log deleted after it, so that every run appends to an empty file).
        log, biggest = office / "send.log", str(sizes[-1])
        walls["log"], cpus["log"] = [], []
        for _ in range(args.runs):
            for name, folder in folders.items():
                wall, cpu = timed_send(office, folder, office / f"state-{name}")
                walls[name].append(wall)
                cpus[name].append(cpu)
            wall, cpu = timed_send(
                office, folders[biggest], office / f"state-{biggest}", "--log-file", str(log)
            )
            log.unlink()
            walls["log"].append(wall)
            cpus["log"].append(cpu)
    report(args, sizes, first, walls, cpus)


def report(
    args: argparse.Namespace,
    sizes: list[int],
    first: dict[str, float],
    walls: dict[str, list[float]],
    cpus: dict[str, list[float]],
) -> None:
    """Print the medians and their ratios to the folder of `due` releases alone."""
    wall = {name: statistics.median(times) for name, times in walls.items()}
    cpu = {name: statistics.median(times) for name, times in cpus.items()}
    targets = {2000: 1.2, 20000: 1.3, "ledger": 1.1}
    print(f"first run (publishes the {args.due} due ones; reads every file):")
    for name in ("due", *map(str, sizes)):
        print(f"  folder of {name:>6}  {first[name] * 1000:8.0f} ms")
    print(f"a run with nothing new (median of {args.runs}; wall time, then CPU time):")
    print(
        f"  folder of {args.due:>6}  {wall['due'] * 1000:8.0f} ms  cpu {cpu['due'] * 1000:4.0f} ms"
    )
    for name in (*map(str, sizes), "ledger"):
        ratio, cpu_ratio = wall[name] / wall["due"], cpu[name] / cpu["due"]
        target = targets.get(int(name) if name.isdigit() else name)
        verdict = f"target <= {target}x: {'ok' if ratio <= target else 'MISSED'}" if target else ""
        label = f"{args.due} with {args.published:,} published" if name == "ledger" else name
        print(
            f"  folder of {label:>6}  {wall[name] * 1000:8.0f} ms = {ratio:.2f}x  "
            f"cpu {cpu[name] * 1000:4.0f} ms = {cpu_ratio:.2f}x  ({verdict})"
        )
        if name.isdigit():
            per = (wall[name] - wall["due"]) / (int(name) - args.due) * 1e6
            print(f"    cost of each release that is not due: {per:.1f} us")
    biggest = str(sizes[-1])
    print(
        f"  folder of {biggest:>6} with --log-file (the README's cron line): "
        f"{wall['log'] * 1000:.0f} ms = {wall['log'] / wall['due']:.2f}x, the log "
        f"{(wall['log'] - wall[biggest]) * 1000:.0f} ms of it"
    )


if __name__ == "__main__":
    main()
