"""The ledger in PostgreSQL against the SQLite file, per e-mail recipient (part 3 of
smtp_throughput.py, which prints it with --database).

One process, one SMTP connection into the same local aiosmtpd, measured in turn: the
ready-bytes loop (smtp_throughput.ready_bytes_seconds), chanpub with an in-memory journal,
with the SQLite ledger and with the PostgreSQL ledger, in a different order each round;
the medians are compared.
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from email.policy import SMTP
from pathlib import Path
from typing import Any

from smtp_throughput import (
    channel_options,
    chanpub_rate,
    free_port,
    ready_bytes_seconds,
    server,
    write_csv,
)


def wire_messages(port: int, folder: Path, release: Any) -> list[tuple[str, bytes]]:
    """(To, bytes) of every message of media.csv, built beforehand."""
    from chanpub.channels.email.channel import EmailChannel, EmailOptions
    from chanpub.channels.email.message import build_message
    from chanpub.channels.email.recipients import iter_recipients
    from chanpub.testing import make_context, sample_links

    options = EmailOptions.model_validate(channel_options(port, "media.csv", 1))
    parts = EmailChannel("press", options, make_context(folder))._parts(release, sample_links())
    recipients = iter_recipients({"press": ["media.csv"]}, folder, [])
    messages = (build_message(release, parts, r, key="ab" * 32) for r in recipients)
    return [(str(m["To"]), m.as_bytes(policy=SMTP)) for m in messages]


LEDGER_TARGET = 1.5


def ledger_overhead(folder: Path, release: Any, count: int, rounds: int, database: str) -> None:
    """PostgreSQL against SQLite on one process and one connection, interleaved rounds."""
    write_csv(folder / "media.csv", count)
    port = free_port()
    process = server(port)
    try:
        wire = wire_messages(port, folder, release)
        kinds = ("ready bytes", "memory", "SQLite", "PostgreSQL")
        runs: dict[str, list[float]] = {kind: [] for kind in kinds}
        for number in range(rounds):
            for kind in kinds[number % 4 :] + kinds[: number % 4]:
                if kind == "ready bytes":
                    runs[kind].append(ready_bytes_seconds(port, wire))
                    continue
                where = database if kind == "PostgreSQL" else None
                rate = chanpub_rate(port, folder, release, count, 1, kind != "memory", where)
                runs[kind].append(1 / rate)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)
    each = {kind: statistics.median(values) for kind, values in runs.items()}
    print(
        f"ledger in PostgreSQL vs SQLite, {count} recipients, 1 connection, medians of "
        f"{rounds} interleaved rounds (load average {os.getloadavg()[0]:.2f}):"
    )
    for kind, seconds in each.items():
        spread = ", ".join(f"{value * 1e3:.3f}" for value in runs[kind])
        print(f"  {kind:<12} {seconds * 1e3:6.3f} ms per recipient   (runs: {spread})")
    base, memory = each["ready bytes"], each["memory"]
    overhead = (each["PostgreSQL"] - base) / (each["SQLite"] - base)
    ledger_only = (each["PostgreSQL"] - memory) / (each["SQLite"] - memory)
    print(
        f"  the ledger's own cost (beyond the in-memory journal): SQLite "
        f"{(each['SQLite'] - memory) * 1e3:.3f} ms, PostgreSQL "
        f"{(each['PostgreSQL'] - memory) * 1e3:.3f} ms per recipient: {ledger_only:.2f}x"
    )
    verdict = "ok" if overhead <= LEDGER_TARGET else "MISSED"
    print(
        f"target: per-recipient overhead beyond the ready-bytes loop, PostgreSQL within "
        f"{LEDGER_TARGET}x of SQLite: {(each['PostgreSQL'] - base) * 1e3:.3f} ms vs "
        f"{(each['SQLite'] - base) * 1e3:.3f} ms = {overhead:.2f}x {verdict}"
    )


@contextmanager
def postgres_database(where: str) -> Iterator[str]:
    """The URL given, or (for 'auto') a fresh database of a throw-away server."""
    if where != "auto":
        yield where
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from postgres_server import PostgresServer, binaries

    bin_dir = binaries()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (.ci/setup.d/60-postgresql.sh)")
    postgres = PostgresServer(bin_dir, durable=True)
    postgres.start()
    try:
        yield postgres.new_database()
    finally:
        postgres.remove()
