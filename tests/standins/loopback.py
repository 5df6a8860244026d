"""A stand-in served over real HTTP on 127.0.0.1, for a `chanpub send` subprocess (which
cannot be given a MockTransport): each request is turned into the `httpx.Request` the
stand-in answers, and its answer written back. A dropped answer (the stand-in raises
`httpx.ReadTimeout` after applying the request) closes the connection without a reply,
which is what the client of a real server sees.

Point the channel's base URL option (`instance`, `api_base`, `service`, `graph_base`) at
the URL `serve` yields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from chanpub.testing import serve_on_loopback

Handler = Callable[[httpx.Request], httpx.Response]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@contextmanager
def serve(standin: Handler, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `standin` on a free loopback port; yields the base URL. Requests reach the
    stand-in with their path, query, headers and body as sent."""

    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = httpx.Request(
                self.command,
                f"http://{self.headers.get('Host', host)}{self.path}",
                headers=list(self.headers.items()),
                content=body,
            )
            try:
                response = standin(request)
            except httpx.TimeoutException:
                self.close_connection = True  # applied, and the answer is lost
                return
            content = response.read()
            self.send_response(response.status_code)
            for name, value in response.headers.multi_items():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def handle(self) -> None:
            with suppress(ConnectionError):  # the test killed the client mid-request
                super().handle()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the stand-in keeps its own request log."""

    with serve_on_loopback(Relay) as url:
        yield url
