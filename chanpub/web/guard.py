"""What keeps the approval page safe: a short-lived signed session cookie (itsdangerous),
single-use WebAuthn challenges, a sign-in rate limit per address, and a check that every
POST comes from the page's own origin."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

COOKIE = "chanpub_session"
SESSION_SECONDS = 15 * 60  # an approver signs in again after a quarter of an hour
CHALLENGE_SECONDS = 5 * 60
SIGN_IN_ATTEMPTS = 10  # per address and window: passkeys cannot be guessed, but logs can fill
SIGN_IN_WINDOW = 5 * 60
# Scripts only from the page itself; the channels' output stays in sandboxed srcdoc frames.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src data:; "
    "style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@dataclass
class Challenges:
    """Challenges handed to the browser, each usable once and for a few minutes."""

    _open: dict[str, tuple[float, bytes, dict[str, str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, challenge: bytes, **facts: str) -> str:
        """Keep a challenge with what it is for; returns the ticket the page sends back."""
        ticket = secrets.token_urlsafe(16)
        now = time.monotonic()
        with self._lock:
            for old in [
                t for t, (at, _c, _f) in self._open.items() if now - at > CHALLENGE_SECONDS
            ]:
                del self._open[old]
            self._open[ticket] = (now, challenge, facts)
        return ticket

    def take(self, ticket: str) -> tuple[bytes, dict[str, str]] | None:
        """The challenge and its facts, removed: a second use finds nothing."""
        with self._lock:
            entry = self._open.pop(ticket, None)
        if entry is None or time.monotonic() - entry[0] > CHALLENGE_SECONDS:
            return None
        return entry[1], entry[2]


@dataclass
class RateLimit:
    """At most SIGN_IN_ATTEMPTS sign-in steps per address in SIGN_IN_WINDOW seconds."""

    attempts: int = SIGN_IN_ATTEMPTS
    window: float = SIGN_IN_WINDOW
    _seen: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, address: str) -> bool:
        """Count one attempt; False when the address has used up its attempts."""
        now = time.monotonic()
        with self._lock:
            recent = self._seen.setdefault(address, deque())
            while recent and now - recent[0] > self.window:
                recent.popleft()
            if len(recent) >= self.attempts:
                return False
            recent.append(now)
            return True


class Sessions:
    """Signed, timed session cookies; the key is new each time the server starts."""

    def __init__(self, secure: bool) -> None:
        from itsdangerous import URLSafeTimedSerializer

        self.secure = secure
        self._serializer = URLSafeTimedSerializer(
            secrets.token_bytes(32), salt="chanpub-approval-session"
        )

    def start(self, response: Response, who: str, credential: str) -> None:
        """Sign the approver in on this response."""
        value = self._serializer.dumps({"who": who, "credential": credential})
        response.set_cookie(
            COOKIE,
            value,
            max_age=SESSION_SECONDS,
            httponly=True,
            secure=self.secure,
            samesite="strict",
        )

    def who(self, request: Request) -> dict[str, Any] | None:
        """The signed-in approver ({who, credential}), or None: absent, forged or expired."""
        from itsdangerous import BadSignature

        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            found: dict[str, Any] = self._serializer.loads(value, max_age=SESSION_SECONDS)
        except BadSignature:  # SignatureExpired is one
            return None
        return found


def address(request: Request) -> str:
    """The client's address (uvicorn puts the proxy's X-Forwarded-For here when the
    proxy is trusted: --forwarded-allow-ips)."""
    return request.client.host if request.client else "?"


def same_origin(request: Request, origin: str) -> bool:
    """A POST from the page itself: its Origin header is the page's origin."""
    return request.headers.get("origin", "") == origin
