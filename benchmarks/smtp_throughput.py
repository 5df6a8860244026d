"""E-mail throughput and memory, measured against a baseline in the same run.

    python benchmarks/smtp_throughput.py [--messages 10000] [--recipients 100000]

1. Throughput: N messages to a local aiosmtpd (plain SMTP, no TLS) running in its own
   process. Baseline: a bare smtplib loop over one connection sending the same messages,
   built beforehand (the practical limit). Then chanpub's email channel (CSV stream,
   validation, message building, smtp transport) with 1 and 4 connections, with an
   in-memory journal and with the SQLite ledger journal (one committed row per state: the
   in-progress mark just before the end of DATA, then the outcome; the count is printed).
   Targets, with the ledger recording every recipient, against the ready-bytes loop (the
   wire alone): >= 0.6 of it on one connection, >= 0.8 of it on four.
2. Peak memory (VmHWM of a fresh process) while streaming a CSV of M recipients
   through the channel's recipient stream and message building. Target: < 150 MB.
3. With --database URL (or --database auto: a throw-away PostgreSQL from Debian's
   binaries, tests/postgres_server.py): the ledger in PostgreSQL against the SQLite
   file on one process and one connection, measured in turn (ready-bytes loop, in-memory
   journal, SQLite, PostgreSQL; a different order each round) and compared by medians.
   Target: the per-recipient overhead of PostgreSQL within 1.5x of SQLite's, the overhead
   being a recipient's time beyond the ready-bytes loop's (the wire alone). The ledger's
   own share (beyond the in-memory journal) is printed too (benchmarks/ledger_overhead.py).
4. 1 vs 2 vs 4 `chanpub worker` processes on the PostgreSQL queue: smtp_workers.py
   (same relay), kept in its own file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from email.policy import SMTP
from pathlib import Path
from typing import Any

SERVER = r"""
import sys, threading
from aiosmtpd.controller import Controller

class Count:
    n = 0
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # PIPELINING, as every MTA offers it (RFC 2920)
        return [*responses[:-1], "250-PIPELINING", responses[-1]]
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 2.0.0 OK"

controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()  # until the benchmark closes our stdin
controller.stop()
"""

MEMORY = r"""
import json, sys
from pathlib import Path
from chanpub.channels.email.channel import EmailChannel, EmailOptions
from chanpub.channels.email.smtp import outgoing
from chanpub.release import load_release
from chanpub.testing import make_context, sample_links

def high_water_kb():  # VmHWM: this process's peak RSS (ru_maxrss would include the parent's)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

args = json.loads(sys.argv[1])
base = high_water_kb()

class NullJournal:  # the ledger keeps outcomes on disk; memory is about the stream
    def status(self, item): return None
    def begin(self, item): pass
    def sent(self, item, remote_id=""): pass
    def failed(self, item, error, *, permanent=True): pass
    def remote_id(self, item): return None
    def counts(self): return {"sent": args["recipients"]}

class Discard:  # builds the wire bytes of every message, sends nowhere
    idempotent = True
    def deliver(self, jobs, journal, report):
        for job in jobs:
            outgoing(job)

class Channel(EmailChannel):
    def _transport(self, release=None):
        return Discard()

context = make_context(Path(args["base"]), journal_factory=lambda key: NullJournal())
channel = Channel("press", EmailOptions.model_validate(args["options"]), context)
preview = channel.preview(load_release(Path(args["release"])), sample_links())
receipt = channel.publish(preview, "ab" * 32)
peak = high_water_kb()
print(json.dumps({"peak_kb": peak, "start_kb": base, "sent": receipt.details["sent"]}))
"""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_csv(path: Path, count: int) -> None:
    """A press list of `count` distinct recipients, streamed to disk."""
    with path.open("w", encoding="utf-8") as file:
        file.write("email,nama,media\n")
        for n in range(count):
            file.write(f"wartawan{n}@media{n % 97}.example,Wartawan Nomor {n},Harian {n % 13}\n")


def server(port: int) -> subprocess.Popen[str]:
    """aiosmtpd in its own process, so it does not share our interpreter lock."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise SystemExit("aiosmtpd did not start")
    return process


def channel_options(port: int, csv_name: str, connections: int) -> dict[str, Any]:
    """Email options for the local relay."""
    return {
        "transport": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "Diskominfo <humas@example.go.id>",
        "reply_to": "humas@example.go.id",
        "subject_prefix": "[Siaran Pers]",
        "lists": [csv_name],
        "connections": connections,
    }


def baseline(port: int, folder: Path, release: Any, count: int) -> tuple[float, float]:
    """Messages per second of bare smtplib loops over one connection, messages prebuilt:
    `send_message(EmailMessage)` (how smtplib is used), and `sendmail` of ready bytes."""
    from chanpub.channels.email.channel import EmailChannel, EmailOptions
    from chanpub.channels.email.message import build_message
    from chanpub.channels.email.recipients import iter_recipients
    from chanpub.testing import make_context, sample_links

    channel = EmailChannel(
        "press",
        EmailOptions.model_validate(channel_options(port, "media.csv", 1)),
        make_context(folder),
    )
    parts = channel._parts(release, sample_links())
    messages = [
        build_message(release, parts, recipient, key="ab" * 32)
        for recipient in iter_recipients({"press": ["media.csv"]}, folder, [])
    ]
    assert len(messages) == count
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.example") as smtp:
        for message in messages:
            smtp.send_message(message)
    objects = count / (time.perf_counter() - start)
    wire = [(str(m["To"]), m.as_bytes(policy=SMTP)) for m in messages]
    del messages
    return objects, 1 / ready_bytes_seconds(port, wire)


def ready_bytes_seconds(port: int, wire: list[tuple[str, bytes]]) -> float:
    """Seconds per message of a bare smtplib loop over ready-made bytes (the wire alone):
    `sendmail`, or with PIPELINING offered (as the relay does) the envelope in one write,
    as chanpub sends it."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.example") as smtp:
        smtp.ehlo()
        pipelining = smtp.has_extn("pipelining")
        for to, data in wire:
            if pipelining:
                sendmail_pipelined(smtp, "humas@example.go.id", to, data)
            else:
                smtp.sendmail("humas@example.go.id", [to], data)
    return (time.perf_counter() - start) / len(wire)


def sendmail_pipelined(smtp: smtplib.SMTP, sender: str, to: str, data: bytes) -> None:
    """One message the RFC 2920 way: MAIL, RCPT and DATA in one write, then its content."""
    envelope = f"MAIL FROM:{smtplib.quoteaddr(sender)}\r\nRCPT TO:{smtplib.quoteaddr(to)}\r\n"
    smtp.send(envelope.encode() + b"DATA\r\n")
    codes = [smtp.getreply()[0] for _stage in ("mail", "rcpt", "data")]
    if codes != [250, 250, 354]:
        raise SystemExit(f"the relay refused a message: {codes}")
    content = re.sub(rb"(?m)^\.", b"..", data)
    smtp.send(content + (b"" if content.endswith(b"\r\n") else b"\r\n") + b".\r\n")
    if smtp.getreply()[0] != 250:
        raise SystemExit("the relay refused a message at its end")


COMMITS: list[int] = []  # committed ledger transactions of the last ledger run


def counting_ledger(path: Path | str) -> Any:
    """A Ledger that counts its committed write transactions (the cost that matters)."""
    from contextlib import contextmanager

    from chanpub.ledger import Ledger

    class Counting(Ledger):
        @contextmanager
        def _write(self) -> Iterator[Any]:
            with super()._write() as db:
                yield db
            COMMITS.append(1)

        def _write_one(self, sql: str, args: Any = ()) -> int:
            changed = super()._write_one(sql, args)
            COMMITS.append(1)  # one statement, committed on its own
            return changed

        def _write_soon(self, sql: str, args: Any, *, otherwise: Any) -> None:
            super()._write_soon(sql, args, otherwise=otherwise)
            COMMITS.append(1)  # one statement, committed before the ledger's next one

    COMMITS.clear()
    return Counting(path)


def chanpub_rate(
    port: int,
    folder: Path,
    release: Any,
    count: int,
    connections: int,
    ledger: bool,
    database: str | None = None,
) -> float:
    """Messages per second of the email channel's publish, end to end (the ledger a SQLite
    file, or the PostgreSQL database at `database`)."""
    from chanpub.channels.email.channel import EmailChannel, EmailOptions
    from chanpub.testing import make_context, sample_links

    overrides: dict[str, Any] = {}
    if ledger:
        where = database or folder / f"ledger-{connections}-{time.monotonic_ns()}.sqlite3"
        store = counting_ledger(where)
        overrides["journal_factory"] = store.journal
    channel = EmailChannel(
        "press",
        EmailOptions.model_validate(channel_options(port, "media.csv", connections)),
        make_context(folder, **overrides),
    )
    preview = channel.preview(release, sample_links())
    start = time.perf_counter()
    receipt = channel.publish(preview, f"{time.monotonic_ns():064x}")
    rate = count / (time.perf_counter() - start)
    assert receipt.details["sent"] == count, receipt.details
    return rate


def peak_memory(folder: Path, release_path: Path, recipients: int) -> dict[str, Any]:
    """Peak RSS of a fresh process streaming `recipients` through building."""
    write_csv(folder / "big.csv", recipients)
    args = {
        "base": str(folder),
        "release": str(release_path),
        "recipients": recipients,
        "options": {
            "transport": "outbox",
            "path": "unused",
            "from": "humas@example.go.id",
            "lists": ["big.csv"],
        },
    }
    done = subprocess.run(
        [sys.executable, "-c", MEMORY, json.dumps(args)], capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"the memory run failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rows(results: dict[str, float], limit: float) -> Iterator[str]:
    """One printed line per measurement."""
    for label, rate in results.items():
        yield f"  {label:<34} {rate:8.0f} msg/s   ratio {rate / limit:5.2f}"


def throughput(folder: Path, release: Any, messages: int, skip_ledger: bool) -> None:
    """Measure and print messages per second against the baselines."""
    write_csv(folder / "media.csv", messages)
    port = free_port()
    process = server(port)
    try:
        limit, raw = baseline(port, folder, release, messages)
        results: dict[str, float] = {}
        for connections in (1, 4):
            results[f"chanpub, {connections} connection(s), memory"] = chanpub_rate(
                port, folder, release, messages, connections, ledger=False
            )
            if not skip_ledger:
                results[f"chanpub, {connections} connection(s), ledger"] = chanpub_rate(
                    port, folder, release, messages, connections, ledger=True
                )
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)
    print(f"smtp throughput, {messages} messages to a local aiosmtpd ({os.cpu_count()} cores)")
    print(f"  {'bare smtplib send_message loop':<34} {limit:8.0f} msg/s   (baseline)")
    print(
        f"  {'bare smtplib sendmail, ready bytes':<34} {raw:8.0f} msg/s   "
        f"ratio {raw / limit:5.2f} (the wire alone: no message building at all)"
    )
    for line in rows(results, limit):
        print(line)
    if COMMITS:
        print(
            f"  committed ledger writes per recipient: {len(COMMITS) / messages:.2f} "
            "(the in-progress mark just before the end of DATA, then the outcome)"
        )
    kind = "memory" if skip_ledger else "ledger"
    one = results[f"chanpub, 1 connection(s), {kind}"] / raw
    four = results[f"chanpub, 4 connection(s), {kind}"] / raw
    print(
        f"targets ({kind}, against the ready-bytes loop): "
        f"1 connection >= 0.60: {one:.2f} {'ok' if one >= 0.6 else 'MISSED'}; "
        f"4 connections >= 0.80: {four:.2f} {'ok' if four >= 0.8 else 'MISSED'}"
    )


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--skip-ledger", action="store_true")
    parser.add_argument("--only-memory", action="store_true")
    parser.add_argument(
        "--database",
        help="a postgresql:// URL, or 'auto' (a throw-away server): also compare the "
        "ledger in PostgreSQL with SQLite",
    )
    parser.add_argument("--ledger-messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the ledger comparison")
    options = parser.parse_args()

    import stamina

    stamina.set_active(False)  # a benchmark should fail loudly rather than wait
    from chanpub.testing import sample_release

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        os.environ.setdefault("CHANPUB_STATE_DIR", str(folder / ".chanpub"))
        release = sample_release(folder / "rilis")
        if not options.only_memory:
            throughput(folder, release, options.messages, options.skip_ledger)
            if options.database:
                from ledger_overhead import ledger_overhead, postgres_database

                with postgres_database(options.database) as url:
                    ledger_overhead(folder, release, options.ledger_messages, options.rounds, url)
        memory = peak_memory(folder, release.path, options.recipients)
        peak_mb = memory["peak_kb"] / 1024
        print(
            f"peak memory streaming {options.recipients} recipients through building: "
            f"{peak_mb:.0f} MB (after imports: {memory['start_kb'] / 1024:.0f} MB); "
            f"target < 150 MB: {'ok' if peak_mb < 150 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
