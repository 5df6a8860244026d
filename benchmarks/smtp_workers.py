"""E-mail throughput with 1, 2 and 4 `chanpub worker` processes on one PostgreSQL queue.

    python benchmarks/smtp_workers.py [--releases 8] [--recipients 500]

R approved releases, each to a press list of N addresses, go to one local aiosmtpd (in
its own process; see smtp_throughput.py). For each worker count, a fresh database:
`chanpub send --enqueue-only`, then that many `chanpub worker --until-empty
--concurrency 1` processes at once; the time from their start to the last exit is
measured. One job is one delivery (release x channel), so the jobs to share are the R
e-mail deliveries (and R website pages). Target: 4 workers >= 1.6x one worker.
A PostgreSQL is started from Debian's binaries (tests/postgres_server.py) unless
--database gives a server URL (a database is created in it per worker count).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from postgres_server import PostgresServer, binaries
from smtp_throughput import free_port, server, write_csv

from chanpub.testing import write_release

BATCH = 500  # recipients per job (`queue: batch:`); --batch changes it


def office(folder: Path, port: int, releases: int, recipients: int) -> None:
    """channels.yaml (website canonical, one press list) and R approved releases."""
    folder.mkdir(parents=True)
    write_csv(folder / "media.csv", recipients)
    channels = {
        "website": {
            "type": "static-site",
            "canonical": True,
            "path": "public",
            "base_url": "https://kominfo.example.go.id/siaran",
        },
        "press": {
            "type": "email",
            "transport": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "from": "Diskominfo <humas@example.go.id>",
            "lists": ["media.csv"],
        },
    }
    config = {
        "organisation": "Diskominfo Kota Contoh",
        "database": "${CHANPUB_DATABASE_URL}",
        "queue": {"batch": BATCH},
        "channels": channels,
    }
    (folder / "channels.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    for number in range(releases):
        write_release(
            folder / "releases",
            name=f"rilis-{number:03}.md",
            title=f"Siaran Pers Nomor {number} Kota Contoh",
        )


def run(folder: Path, url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CHANPUB_DATABASE_URL": url, "CHANPUB_STATE_DIR": str(folder / ".s")}
    return subprocess.Popen(
        ["chanpub", *args],
        cwd=folder,
        env=env,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def measure(root: Path, url: str, port: int, workers: int, releases: int, n: int) -> float:
    """Seconds for `workers` processes to send everything queued."""
    folder = root / f"office-{workers}"
    office(folder, port, releases, n)
    queued = run(folder, url, "send", "releases/", "--enqueue-only")
    assert queued.wait() == 0, queued.communicate()[1]
    started = time.perf_counter()
    processes = [
        run(folder, url, "worker", "--until-empty", "--concurrency", "1") for _ in range(workers)
    ]
    for process in processes:
        assert process.wait() == 0, process.communicate()[1]
    return time.perf_counter() - started


def main() -> None:
    """Run the measurement and print it."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--releases", type=int, default=8)
    parser.add_argument("--recipients", type=int, default=500)
    parser.add_argument("--database", help="a postgresql:// URL of a server to use")
    parser.add_argument("--batch", type=int, default=BATCH, help="recipients per job")
    options = parser.parse_args()
    globals()["BATCH"] = options.batch
    port = free_port()
    smtpd = server(port)
    postgres = None
    if options.database is None:
        bin_dir = binaries()
        assert bin_dir is not None, "PostgreSQL is not installed (.ci/setup.d)"
        postgres = PostgresServer(bin_dir)
        postgres.start()
    try:
        with tempfile.TemporaryDirectory() as temporary:
            times = {}
            for workers in (1, 2, 4):
                url = postgres.new_database() if postgres else options.database
                assert url is not None
                times[workers] = measure(
                    Path(temporary), url, port, workers, options.releases, options.recipients
                )
            messages = options.releases * options.recipients
            for workers, seconds in times.items():
                print(
                    f"{workers} worker(s): {seconds:6.1f} s, {messages / seconds:7.0f} msg/s, "
                    f"{times[1] / seconds:4.2f}x of one"
                )
            ratio = times[1] / times[4]
            print(f"target: 4 workers >= 1.6x of one: {'ok' if ratio >= 1.6 else 'MISSED'}")
    finally:
        if smtpd.stdin:
            smtpd.stdin.close()
        smtpd.wait()
        if postgres:
            postgres.remove()


if __name__ == "__main__":
    main()
