"""An HTTP service on loopback that stores posts and misbehaves on command.

It answers like the services chanpub's adapters talk to (a webhook receiver, the Telegram
Bot API, a Mastodon instance) closely enough for their publish and lookup paths, and can be
told what to do with the next posts: answer an error status, wait, cut the connection after
storing the post, or hold the connection open until the test lets go.

    with FaultServer() as server:
        server.next(Fault.status(503), Fault.status(429, retry_after="1"))
        ...point a channel at server.url...
        assert len(server.posts) == 1
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up mid-answer is part of these tests, not an error."""


@dataclass(frozen=True)
class Fault:
    """What the server does with one create request."""

    kind: str  # "status" | "sleep" | "reset" | "block"
    code: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    store: bool = False  # the post is applied before the fault shows

    @classmethod
    def status(cls, code: int, *, retry_after: str | None = None, store: bool = False) -> Fault:
        """Answer `code` (with Retry-After); `store` applies the post anyway (a 500 after
        the write)."""
        headers = (("Retry-After", retry_after),) if retry_after is not None else ()
        return cls("status", code=code, headers=headers, store=store)

    @classmethod
    def sleep(cls, seconds: float) -> Fault:
        """Store the post, then answer normally after `seconds` (slow, or a timeout)."""
        return cls("sleep", seconds=seconds, store=True)

    @classmethod
    def reset(cls) -> Fault:
        """Store the post, then reset the connection without answering."""
        return cls("reset", store=True)

    @classmethod
    def block(cls) -> Fault:
        """Store the post, then hold the connection until released (or 60 s)."""
        return cls("block", store=True)


@dataclass(frozen=True)
class Post:
    """One post the service applied."""

    path: str
    key: str | None
    body: bytes
    answer: dict[str, Any]

    @property
    def text(self) -> str:
        """The post's text, whatever the API's shape."""
        body = self.body.decode("utf-8", "replace")
        if "statuses" in self.path:
            return parse_qs(body).get("status", [""])[0]
        try:
            data = json.loads(body)
        except ValueError:
            return body
        return str(data.get("text") or data.get("release", {}).get("markdown") or body)


@dataclass
class FaultServer:
    """A misbehaving service on 127.0.0.1 (port 0); `url` is where it listens."""

    idempotent: bool = True  # a repeated Idempotency-Key creates nothing new
    latency: float = 0.0  # every create answers after this long (a slow but healthy service)
    echo: int | None = None  # answer every request with this status, echoing what it got
    posts: list[Post] = field(default_factory=list)
    attempts: list[tuple[float, str, str]] = field(default_factory=list)  # (time, method, path)
    reached: threading.Event = field(default_factory=threading.Event)  # a block fault is holding
    released: threading.Event = field(default_factory=threading.Event)
    faults: deque[Fault] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def next(self, *faults: Fault) -> None:
        """Queue faults for the next create requests, in order; then the server behaves."""
        with self.lock:
            self.faults.extend(faults)

    def creates(self) -> list[tuple[float, str, str]]:
        """Every create request that arrived (applied or not)."""
        return [a for a in self.attempts if a[1] == "POST"]

    # --- answers shaped like each service -------------------------------------------------

    def _create(self, path: str, body: bytes) -> dict[str, Any]:
        number = len(self.posts) + 1
        if "/bot" in path:
            return {
                "ok": True,
                "result": {"message_id": number, "chat": {"id": -1001, "username": "kominfokota"}},
            }
        if path.endswith("/api/v1/statuses"):
            text = parse_qs(body.decode()).get("status", [""])[0]
            content = "".join(f"<p>{line}</p>" for line in text.split("\n\n"))
            return {
                "id": str(number),
                "url": f"{self.url}/@kominfo/{number}",
                "content": content,
                "in_reply_to_id": None,
            }
        return {"id": number, "url": f"{self.url}/berita/{number}"}

    def _read(self, method: str, path: str) -> tuple[int, Any]:
        if path.endswith("/accounts/verify_credentials"):
            return 200, {"id": "1", "username": "kominfo"}
        if path.endswith("/accounts/1/statuses"):
            with self.lock:
                return 200, [p.answer for p in reversed(self.posts) if "content" in p.answer]
        if path.endswith("/getMe"):
            return 200, {"ok": True, "result": {"id": 1, "username": "kominfo_bot"}}
        return 404, {"error": "not found"}

    # --- the server -------------------------------------------------------------------------

    def __enter__(self) -> FaultServer:
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests assert on what was stored instead."""

            def _answer(
                self, code: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()
            ) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test); nothing to tell it

            def _echo(self, body: bytes) -> None:
                # A careless service that repeats credentials in its error messages.
                told = f"{self.path} {self.headers.get('Authorization')} {body[:300]!r}"
                self._answer(
                    state.echo or 400,
                    {"error": f"rejected: {told}", "message": f"rejected: {told}"},
                )

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                with state.lock:
                    state.attempts.append((time.monotonic(), "GET", path))
                if state.echo:
                    return self._echo(b"")
                self._answer(*state._read("GET", path))

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if state.echo:
                    return self._echo(body)
                key = self.headers.get("Idempotency-Key")
                with state.lock:
                    state.attempts.append((time.monotonic(), "POST", path))
                    fault = state.faults.popleft() if state.faults else None
                    known = (
                        next((p for p in state.posts if key and p.key == key), None)
                        if state.idempotent
                        else None
                    )
                    if known is not None:
                        answer = known.answer
                    elif fault is None or fault.store:
                        answer = state._create(path, body)
                        state.posts.append(Post(path, key, body, answer))
                    else:
                        answer = {}
                if fault is None:
                    time.sleep(state.latency)
                    self._answer(201 if "/bot" not in path else 200, answer)
                elif fault.kind == "status":
                    self._answer(fault.code, {"error": f"fault {fault.code}"}, fault.headers)
                elif fault.kind == "sleep":
                    time.sleep(fault.seconds)
                    self._answer(201, answer)
                elif fault.kind == "reset":
                    self._reset()
                elif fault.kind == "block":
                    state.reached.set()
                    state.released.wait(60)
                    self._reset()

            def _reset(self) -> None:
                # SO_LINGER 0: close() sends RST, the way a crashing proxy cuts a connection.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
