"""Fan-out: one release to 10 channels whose service answers after 200 ms, against the same
release to a single such channel, measured in the same run.

    python benchmarks/fanout.py [--channels 10] [--latency 0.2] [--runs 5]

The channels are webhooks (a real HTTP client, chanpub.http) pointed at one loopback
server that answers every POST after `latency` seconds. Each run is a full `send`
(config, plan, dispatch, ledger) in this process, in a fresh state directory; the median
is reported. Target: 10 channels / 1 channel < 1.3.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml


class SlowReceiver(BaseHTTPRequestHandler):
    """Accepts a webhook delivery after a fixed delay."""

    latency = 0.2
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(self.latency)
        body = json.dumps({"id": 1, "url": "https://portal.example.go.id/berita/1"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def office(folder: Path, url: str, channels: int) -> Path:
    """channels.yaml with `channels` webhooks and one approved release."""
    from chanpub.testing import write_release

    config = folder / "channels.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "channels": {
                    f"portal{n}": {
                        "type": "webhook",
                        "url": f"{url}/hook/{n}",
                        "secret": "${HOOK_SECRET}",
                    }
                    for n in range(channels)
                }
            }
        ),
        encoding="utf-8",
    )
    write_release(folder / "releases")
    return config


def one_send(url: str, channels: int) -> float:
    """Wall time of one send to `channels` channels, in a fresh office."""
    import os

    from chanpub import actions
    from chanpub.config import load_config

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        config_path = office(folder, url, channels)
        os.environ["CHANPUB_STATE_DIR"] = str(folder / "state")
        started = time.perf_counter()
        result = actions.send([folder / "releases"], load_config(config_path))
        elapsed = time.perf_counter() - started
    statuses = {o.status for r in result.releases for o in r.outcomes}
    assert statuses == {"published"}, statuses
    return elapsed


def main() -> None:
    """Measure and print the figures and the ratio."""
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["HOOK_SECRET"] = "benchmark-secret"
    SlowReceiver.latency = args.latency
    ThreadingHTTPServer.request_queue_size = 64  # the default 5 drops simultaneous connects
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowReceiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    one_send(url, 1)  # warm imports and connections
    single, many = [], []
    for _ in range(args.runs):
        single.append(one_send(url, 1))
        many.append(one_send(url, args.channels))
    server.shutdown()
    one, fan = statistics.median(single), statistics.median(many)
    ratio = fan / one
    print(f"service latency        {args.latency * 1000:7.0f} ms")
    print(f"1 channel              {one * 1000:7.0f} ms (median of {args.runs})")
    print(f"{args.channels} channels            {fan * 1000:7.0f} ms (median of {args.runs})")
    verdict = "ok" if ratio < 1.3 else "MISSED"
    print(f"{args.channels} channels / 1 channel: {ratio:.2f}x (target < 1.3: {verdict})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
