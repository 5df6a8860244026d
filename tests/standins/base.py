"""What every stand-in shares: a clock the test can move, the request log, reading form,
multipart and JSON bodies, a look at image bytes, and "apply, then lose the answer".

A stand-in is an `httpx.MockTransport` handler: `httpx.MockTransport(standin)` or
`chanpub.testing.make_context(tmp_path, standin)`. A lost answer is simulated by applying
the request and then raising `httpx.ReadTimeout`, which is what a client sees when the
connection dies after the server acted (https://www.python-httpx.org/exceptions/).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx


class Clock:
    """The platform's idea of now: frozen at creation, moved only by the test.

    Pass `clock.sleep` where the adapter sleeps (monkeypatch `time.sleep`) so waiting
    between polls is time the stand-in sees pass.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).replace(microsecond=0)

    def now(self) -> datetime:
        """The current platform time (aware, UTC)."""
        return self._now

    def timestamp(self) -> int:
        """The current platform time in Unix seconds."""
        return int(self._now.timestamp())

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        """A stand-in for time.sleep: the time passes on the platform, not in the test."""
        self.advance(seconds)


@dataclass
class Drop:
    """Apply matching requests, then lose their answers (`times` of them)."""

    method: str
    path: str  # a substring of the URL path
    times: int = 1

    def matches(self, request: httpx.Request) -> bool:
        """True for a request this drop is about."""
        return request.method == self.method and self.path in request.url.path


@dataclass
class Body:
    """A request body read the way the platform reads it."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    json: Any = None

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a form field (or a top-level JSON string)."""
        if isinstance(self.json, dict) and name in self.json:
            value = self.json[name]
            return value if isinstance(value, str) else json.dumps(value)
        values = self.fields.get(name)
        return values[0] if values else default

    def get_list(self, name: str) -> list[str]:
        """Every value of a repeated form field such as `media_ids[]`."""
        return list(self.fields.get(name, []))


def read_body(request: httpx.Request) -> Body:
    """The request's form fields, uploaded files and JSON, whatever its content type."""
    content_type = request.headers.get("Content-Type", "")
    raw = request.read()
    body = Body()
    if content_type.startswith("application/json"):
        body.json = json.loads(raw or b"null")
    elif content_type.startswith("application/x-www-form-urlencoded"):
        for name, value in httpx.QueryParams(raw.decode()).multi_items():
            body.fields.setdefault(name, []).append(value)
    elif content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                body.files[str(name)] = (filename, payload, part.get_content_type())
            else:
                body.fields.setdefault(str(name), []).append(payload.decode())
    return body


@dataclass(frozen=True)
class ImageInfo:
    """What a platform learns from image bytes: format, displayed size, byte count."""

    format: str  # Pillow's name: JPEG, PNG, GIF, WEBP ...
    width: int
    height: int
    size: int

    @property
    def ratio(self) -> float:
        """Width over height."""
        return self.width / self.height


def inspect_image(data: bytes) -> ImageInfo | None:
    """The image's format and its size as displayed (EXIF orientation applied), or None
    when the bytes are not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            orientation = image.getexif().get(0x0112, 1)
            if orientation in (5, 6, 7, 8):  # rotated a quarter turn when shown
                width, height = height, width
            return ImageInfo(str(image.format), width, height, len(data))
    except (UnidentifiedImageError, OSError):
        return None


def make_image(width: int, height: int, fmt: str = "JPEG", *, padding: int = 0) -> bytes:
    """Image bytes of the given size and format (tests build their inputs with it);
    `padding` adds that many bytes of EXIF comment to reach a byte size."""
    from PIL import Image

    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (200, 30, 40))
    if padding and fmt == "JPEG":
        exif = Image.Exif()
        exif[0x9286] = b"\0" * min(padding, 60_000)  # UserComment; EXIF fits one segment
        image.save(out, fmt, exif=exif.tobytes())
        data = out.getvalue()
        extra = padding - min(padding, 60_000)
        # Bytes after the end-of-image marker are ignored by decoders, counted by servers.
        return data + b"\0" * extra
    image.save(out, fmt)
    return out.getvalue() + b"\0" * padding


class StandIn:
    """A platform stand-in: subclasses implement `route`; this logs, drops and throttles."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.requests: list[httpx.Request] = []
        self.drops: list[Drop] = []
        self.throttled_until: datetime | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.throttled_until is not None and self.clock.now() < self.throttled_until:
            return self.too_many(request, self.throttled_until)
        response = self.route(request)
        for drop in self.drops:
            if drop.times > 0 and drop.matches(request) and response.is_success:
                drop.times -= 1
                raise httpx.ReadTimeout("the answer was lost (stand-in)", request=request)
        return response

    def route(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the platform does (subclasses)."""
        raise NotImplementedError

    def too_many(self, request: httpx.Request, until: datetime) -> httpx.Response:
        """The platform's 429 while throttled (subclasses)."""
        raise NotImplementedError

    def drop_answer(self, method: str, path: str, times: int = 1) -> None:
        """Apply the next `times` matching requests, then raise httpx.ReadTimeout."""
        self.drops.append(Drop(method, path, times))

    def throttle(self, seconds: float) -> None:
        """Answer every request with the platform's 429 for the next `seconds`."""
        self.throttled_until = self.clock.now() + timedelta(seconds=seconds)

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        """The logged requests with this method whose path contains `path`."""
        return [r for r in self.requests if r.method == method and path in r.url.path]


@dataclass
class Tokens:
    """The credentials a platform knows, each with an optional expiry on the stand-in's clock."""

    clock: Clock
    expiry: dict[str, datetime | None] = field(default_factory=dict)

    def add(self, token: str, *, lifetime: float | None = None) -> None:
        """Know a token; with `lifetime` (seconds) it expires that long from now."""
        expires = None if lifetime is None else self.clock.now() + timedelta(seconds=lifetime)
        self.expiry[token] = expires

    def expire(self, token: str) -> None:
        """Make a known token expired as of now."""
        self.expiry[token] = self.clock.now() - timedelta(seconds=1)

    def revoke(self, token: str) -> None:
        """Forget a token (it becomes a wrong token)."""
        self.expiry.pop(token, None)

    def check(self, token: str | None) -> str:
        """'ok', 'missing', 'wrong' or 'expired'."""
        if not token:
            return "missing"
        if token not in self.expiry:
            return "wrong"
        expires = self.expiry[token]
        return "expired" if expires is not None and self.clock.now() >= expires else "ok"


Handler = Callable[[httpx.Request], httpx.Response]
