"""E-mail over a slow link: what sending the envelope in one write (PIPELINING) gains.

    python benchmarks/smtp_latency.py [--messages 200] [--delay-ms 25]

Between chanpub and a local aiosmtpd sits a TCP proxy that holds every chunk for
--delay-ms in each direction: a round trip of twice that, as to a provider across the
country (Jakarta to a server abroad is 20–200 ms). The same N messages go through the
email channel with the SQLite ledger on one connection, to the relay offering PIPELINING
and to the same relay not offering it (the baseline: one command at a time, four round
trips a message), measured in turn. Printed: messages per second of each, and the ratio.
Without a target: the figure shows what a real link makes of the round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from smtp_throughput import chanpub_rate, free_port, write_csv


class Relay:
    """Takes every message; offers PIPELINING or not, as told."""

    def __init__(self, pipelining: bool) -> None:
        self.pipelining = pipelining

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 2.0.0 OK"


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy one direction, each chunk written `delay` seconds after it arrived, in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                writer.close()
                return
            await asyncio.sleep(max(0.0, due - loop.time()))
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(deliver())
    while data := await reader.read(65536):
        queue.put_nowait((loop.time() + delay, data))
    queue.put_nowait((loop.time() + delay, b""))
    await sender


@contextmanager
def delaying_proxy(upstream: int, delay: float) -> Iterator[int]:
    """A loopback port that forwards to `upstream`, adding `delay` each way."""
    loop = asyncio.new_event_loop()
    port = free_port()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        pumps = (_pump(reader, up_writer, delay), _pump(up_reader, writer, delay))
        with contextlib.suppress(asyncio.CancelledError):  # the proxy is closing
            await asyncio.gather(*pumps, return_exceptions=True)

    server = loop.run_until_complete(asyncio.start_server(connected, "127.0.0.1", port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def stop() -> None:
        server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def measure(folder: Path, release: Any, messages: int, delay: float) -> dict[str, float]:
    """Messages per second to the relay with and without PIPELINING, through the proxy."""
    from aiosmtpd.controller import Controller

    rates: dict[str, float] = {}
    for label, pipelining in (("one command at a time", False), ("PIPELINING", True)):
        controller = Controller(Relay(pipelining), hostname="127.0.0.1", port=free_port())
        controller.start()
        try:
            with delaying_proxy(controller.port, delay) as port:
                rates[label] = chanpub_rate(port, folder, release, messages, 1, ledger=True)
        finally:
            controller.stop()
    return rates


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--delay-ms", type=float, default=25.0)
    options = parser.parse_args()
    import stamina

    stamina.set_active(False)
    from chanpub.testing import sample_release

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        os.environ.setdefault("CHANPUB_STATE_DIR", str(folder / ".chanpub"))
        write_csv(folder / "media.csv", options.messages)
        release = sample_release(folder / "rilis")
        rates = measure(folder, release, options.messages, options.delay_ms / 1000)
    base = rates["one command at a time"]
    print(
        f"e-mail over a link with a {2 * options.delay_ms:.0f} ms round trip, "
        f"{options.messages} messages, 1 connection, SQLite ledger:"
    )
    for label, rate in rates.items():
        print(f"  {label:<24} {rate:7.1f} msg/s   ratio {rate / base:4.2f}")


if __name__ == "__main__":
    main()
