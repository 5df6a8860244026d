"""E-mail throughput with 1, 2 and 4 `chanpub worker` processes on one PostgreSQL queue.

    python benchmarks/smtp_workers.py [--releases 2] [--recipients 10000] [--batch 250]
                                      [--rounds 3]

R approved releases, each to a press list of N addresses, go to one local aiosmtpd (in
its own process; see smtp_throughput.py). For each worker count, a fresh database:
`chanpub send --enqueue-only`, then that many `chanpub worker --until-empty
--concurrency 1` processes at once; the time from their start to the last exit is
measured. A list of more than --batch addresses is shared as several jobs (`queue:
batch:`). The worker counts are measured in turn, in a different order each round, and
the medians compared, so a busy moment of the machine does not fall on one count only.
Target: 4 workers >= 1.6x one worker. The default, 20,000 messages (the size of the
issue's killed-worker test), measures the steady state the multi-host mode is for; with a
few thousand, each extra worker's start-up (about half a second of CPU, printed below) is
a large share of the time and the gain is smaller.

Beside the times it prints where the CPU went, per message: the worker processes (their
start-up included), the relay and PostgreSQL (the server's processes, when this script
started it), and what one worker process costs to start on an empty queue: on a 2-core
machine the relay, PostgreSQL and the workers share the same cores, which bounds what
more workers can gain there.
A PostgreSQL is started from Debian's binaries (tests/postgres_server.py) unless
--database gives a server URL (a database is created in it per measurement).
--delay-ms D puts smtp_latency.py's proxy between the workers and the relay, holding every
chunk D ms each way (a network link): printed for information, without a verdict, since
the target is measured on plain loopback.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from postgres_server import PostgresServer, binaries
from smtp_latency import delaying_proxy
from smtp_throughput import free_port, server, write_csv

from chanpub import file_stats
from chanpub.testing import write_release

BATCH = 250  # recipients per job (`queue: batch:`); --batch changes it
COUNTS = (1, 2, 4)
TARGET = 1.6
TICK = os.sysconf("SC_CLK_TCK")


def office(folder: Path, port: int, releases: int, recipients: int, batch: int = BATCH) -> None:
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
        "queue": {"batch": batch},
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
    """`chanpub ARGS` in the office folder, this checkout's code first on the path, started
    as the console script starts it (`chanpub.cli:main`, which a systemd unit runs)."""
    root = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = {
        **os.environ,
        "CHANPUB_DATABASE_URL": url,
        "CHANPUB_STATE_DIR": str(folder / ".s"),
        "PYTHONPATH": path,
    }
    command = [sys.executable, "-c", "from chanpub.cli import main; main()", *args]
    return subprocess.Popen(
        command, cwd=folder, env=env, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU of a running process (and of its children it waited for)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def server_cpu(master: int | None) -> float:
    """CPU of a PostgreSQL server: the postmaster, its live backends and the ended ones."""
    if master is None:
        return float("nan")
    total = cpu_seconds(master, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile: counted with the postmaster's children
                continue
            if int(fields[1]) == master:
                total += cpu_seconds(int(entry.name))
    return total


@dataclass
class Measured:
    """One run of N workers: its wall time and the CPU seconds spent on it."""

    seconds: float
    workers_cpu: float
    relay_cpu: float
    postgres_cpu: float
    stolen: float  # the share of the cores' time the hypervisor gave to other machines


def stolen_ticks() -> int:
    """The whole machine's time taken by the hypervisor so far (/proc/stat's `steal`)."""
    return int(Path("/proc/stat").read_text().split("\n", 1)[0].split()[8])


def measure(
    root: Path, url: str, relay: int, master: int | None, workers: int, options: argparse.Namespace
) -> Measured:
    """Send everything queued with `workers` processes."""
    folder = root / f"office-{workers}-{time.monotonic_ns()}"
    office(folder, options.port, options.releases, options.recipients, options.batch)
    # An office's list was written long before a run: once its timestamps have settled
    # (chanpub.file_stats), the first job's reading of it is noted for the other jobs.
    time.sleep(file_stats.SETTLE_NS / 1e9)
    queued = run(folder, url, "send", "releases/", "--enqueue-only")
    assert queued.wait() == 0, queued.communicate()[1]
    before = (cpu_seconds(relay), server_cpu(master), stolen_ticks())
    started = time.perf_counter()
    processes = [
        run(folder, url, "worker", "--until-empty", "--concurrency", "1") for _ in range(workers)
    ]
    spent = 0.0
    for process in processes:
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        assert process.returncode == 0, process.communicate()[1]
        spent += usage.ru_utime + usage.ru_stime
    seconds = time.perf_counter() - started
    relay_cpu, postgres_cpu = cpu_seconds(relay) - before[0], server_cpu(master) - before[1]
    stolen = (stolen_ticks() - before[2]) / TICK / (seconds * (os.cpu_count() or 1))
    return Measured(seconds, spent, relay_cpu, postgres_cpu, stolen)


def start_up(root: Path, url: str, port: int) -> tuple[float, float]:
    """Median wall and CPU seconds of a worker process on an empty queue (start, connect,
    find nothing, exit): the fixed cost each worker process adds."""
    folder = root / "empty"
    office(folder, port, 0, 1)
    walls, cpus = [], []
    for _ in range(3):
        started = time.perf_counter()
        process = run(folder, url, "worker", "--until-empty")
        _pid, status, usage = os.wait4(process.pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, process.communicate()[1]
        walls.append(time.perf_counter() - started)
        cpus.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def report(
    results: dict[int, list[Measured]], messages: int, boot: tuple[float, float], delay_ms: float
) -> None:
    """The medians, the CPU per message and the verdict."""
    median = {n: statistics.median(m.seconds for m in runs) for n, runs in results.items()}
    rounds = len(results[1])
    link = f", a {2 * delay_ms:g} ms round trip to the relay" if delay_ms else ""
    print(
        f"{messages} messages, {os.cpu_count()} cores{link}, medians of {rounds} interleaved rounds"
    )
    for workers, runs in results.items():
        per = {
            name: statistics.median(getattr(m, name) for m in runs) / messages * 1e3
            for name in ("workers_cpu", "relay_cpu", "postgres_cpu")
        }
        print(
            f"{workers} worker(s): {median[workers]:6.2f} s, {messages / median[workers]:5.0f} "
            f"msg/s, {median[1] / median[workers]:4.2f}x of one   (runs: "
            f"{', '.join(f'{m.seconds:.2f}' for m in runs)} s; CPU per message: workers "
            f"{per['workers_cpu']:.2f} ms, relay {per['relay_cpu']:.2f} ms, PostgreSQL "
            f"{per['postgres_cpu']:.2f} ms)"
        )
    print(
        f"one worker process on an empty queue: {boot[0]:.2f} s, {boot[1]:.2f} s of CPU "
        "(start-up, connecting, looking at the queue)"
    )
    print_bound(results, messages, median)
    ratio = median[1] / median[4]
    if delay_ms:  # the target is measured on plain loopback
        print(f"4 workers: {ratio:.2f}x of one over this link (no verdict: not the target's run)")
        return
    verdict = "ok" if ratio >= TARGET else "MISSED"
    print(f"target: 4 workers >= {TARGET}x of one: {ratio:.2f}x {verdict}")


def print_bound(
    results: dict[int, list[Measured]], messages: int, median: dict[int, float]
) -> None:
    """How busy each count kept the cores, and what the CPU a message costs with four
    workers allows at best: every core busy with nothing but the workers, the relay and
    PostgreSQL (the kernel's loopback work and this script are not counted, so the true
    bound is lower)."""
    cores = os.cpu_count() or 1
    spent = {
        n: statistics.median(m.workers_cpu + m.relay_cpu + m.postgres_cpu for m in runs)
        for n, runs in results.items()
    }
    if any(math.isnan(cpu) for cpu in spent.values()):
        return  # PostgreSQL's CPU is known only for a server this script started
    busy = ", ".join(f"{n}: {spent[n] / median[n]:.2f}" for n in results)
    stolen = max(m.stolen for runs in results.values() for m in runs)
    most = cores / (spent[4] / messages) / (messages / median[1])
    print(
        f"cores kept busy (workers, relay, PostgreSQL) by 1, 2, 4 workers: {busy} of {cores}; "
        f"at 4 workers' CPU per message ({spent[4] / messages * 1e3:.2f} ms), all {cores} "
        f"cores busy would give at most {most:.2f}x of one (the hypervisor took up to "
        f"{stolen:.0%} of the cores' time in a run)"
    )


def main() -> None:
    """Run the measurement and print it."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--releases", type=int, default=2)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=BATCH, help="recipients per job")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", help="a postgresql:// URL of a server to use")
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=0.0,
        help="hold every chunk between workers and relay this long each way (a network "
        "link, as in smtp_latency.py); not the target's measurement, which is on loopback",
    )
    options = parser.parse_args()
    relay_port = free_port()
    smtpd = server(relay_port)
    link = delaying_proxy(relay_port, options.delay_ms / 1000) if options.delay_ms else None
    options.port = link.__enter__() if link else relay_port
    postgres = None
    if options.database is None:
        bin_dir = binaries()
        assert bin_dir is not None, "PostgreSQL is not installed (.ci/setup.d)"
        postgres = PostgresServer(bin_dir, durable=True)
        postgres.start()

    def database() -> str:
        url = postgres.new_database() if postgres else options.database
        assert url is not None
        return str(url)

    try:
        master = (
            int((postgres.data / "postmaster.pid").read_text().split()[0]) if postgres else None
        )
        print(f"load average before: {' '.join(map(str, os.getloadavg()))}")
        with tempfile.TemporaryDirectory() as temporary:
            root = Path(temporary)
            boot = start_up(root, database(), options.port)
            results: dict[int, list[Measured]] = {n: [] for n in COUNTS}
            for number in range(options.rounds):
                order = COUNTS[number % 3 :] + COUNTS[: number % 3]
                for workers in order:
                    results[workers].append(
                        measure(root, database(), smtpd.pid, master, workers, options)
                    )
            report(results, options.releases * options.recipients, boot, options.delay_ms)
        print(f"load average after: {' '.join(map(str, os.getloadavg()))}")
    finally:
        if link:
            link.__exit__(None, None, None)
        if smtpd.stdin:
            smtpd.stdin.close()
        smtpd.wait()
        if postgres:
            postgres.remove()


if __name__ == "__main__":
    main()
