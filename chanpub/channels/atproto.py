"""AT Protocol pieces the bluesky channel needs: sessions, record keys (TIDs) in time
order, post length and rich-text facets.

Specs: https://atproto.com/specs/tid, https://docs.bsky.app/docs/advanced-guides/post-richtext,
lexicons com.atproto.server.createSession / refreshSession.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import regex

from chanpub.render.shaping import count_graphemes, count_utf8_bytes

GRAPHEME_LIMIT = 300
BYTE_LIMIT = 3000
IMAGE_MAX_BYTES = 2_000_000  # app.bsky.embed.images (raised from 1,000,000 in 2026)
POST = "app.bsky.feed.post"
HANDLE = re.compile(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
# Record keys are TIDs (https://atproto.com/specs/tid): 64 bits, top bit 0, then 53 bits of
# microseconds since the Unix epoch and a 10-bit clock id, in base32-sortable, so a later
# TID sorts after an earlier one. A delivery's TIDs start at a time stored with it.
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def tid_for(start_us: int, clock_id: int, index: int = 0) -> str:
    """The TID of part `index` of a delivery that started at `start_us` (microseconds
    since the epoch): part i is one microsecond after part i-1, so strictly greater."""
    value = ((start_us + index) << 10) | (clock_id & 0x3FF)
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def tid_time(tid: str) -> datetime:
    """When a TID says it was made."""
    value = 0
    for char in tid:
        value = value * 32 + TID_ALPHABET.index(char)
    return datetime.fromtimestamp((value >> 10) / 1_000_000, UTC)


def new_tid_start(key: str) -> dict[str, int]:
    """What a delivery (or an amendment) stores before its first record: the current time
    in microseconds, and a clock id derived from its key (the same on every retry)."""
    clock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big") & 0x3FF
    return {"start_us": int(datetime.now(UTC).timestamp() * 1_000_000), "clock_id": clock_id}


def now_iso() -> str:
    """Aware UTC now in RFC 3339 with 'Z', as Bluesky prefers for createdAt."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bluesky_length(text: str) -> int:
    """Graphemes, or one over the limit when the text passes the 3000-byte cap."""
    graphemes = count_graphemes(text)
    return graphemes if count_utf8_bytes(text) <= BYTE_LIMIT else max(graphemes, GRAPHEME_LIMIT + 1)


# @atproto/api's rich-text patterns (packages/api/src/rich-text/util.ts), with JavaScript's
# \s spelled out (Python's differs) and its case-insensitive [a-z] as [a-zA-Z].
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_MENTION = re.compile(rf"(?:^|[{_JS_SPACE}(])@([a-zA-Z0-9.-]+)\b", re.ASCII)
_URL = re.compile(
    rf"(?:^|(?<=[\n\r\u2028\u2029])|[{_JS_SPACE}(])"
    rf"(?P<uri>[hH][tT][tT][pP][sS]?://[^{_JS_SPACE}]+"
    rf"|(?P<domain>[a-zA-Z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+)+)[^{_JS_SPACE}]*)"
)
_TAG_STOP = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = regex.compile(
    rf"(^|[{_JS_SPACE}])[#\uff03]((?!\ufe0f)[^{_JS_SPACE}{_TAG_STOP}]*"
    rf"[^0-9{_JS_SPACE}\p{{P}}{_TAG_STOP}]+[^{_JS_SPACE}{_TAG_STOP}]*)?"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+\Z")
_CASHTAG = re.compile(
    rf"(^|[{_JS_SPACE}(])\$([A-Za-z][A-Za-z0-9]{{0,4}})(?=[{_JS_SPACE}.,;:!?)\"'\u2019]|\Z)"
)
TAG_MAX_UTF16 = 64


def _known_domain(name: str) -> bool:
    """detectFacets' TLD check: the last label is an IANA TLD, in lower case as listed."""
    from chanpub.channels.atproto_tlds import TLDS

    head, dot, tld = name.rpartition(".")
    return bool(head and dot) and tld in TLDS


def detect_spans(text: str) -> list[Span]:
    """Mentions, links, tags and cashtags where `detectFacets` finds them, by start."""
    found: list[tuple[int, int, str, str]] = []
    for match in _MENTION.finditer(text):
        handle = match.group(1)
        if _known_domain(handle) or handle.endswith(".test"):
            found.append((match.start(1) - 1, match.end(1), "mention", handle))
    for match in _URL.finditer(text):
        if (span := _link(match)) is not None:
            found.append(span)
    for tagged in _TAG.finditer(text):
        tag = _TRAILING_PUNCTUATION.sub("", tagged.group(2) or "")
        if 0 < len(tag.encode("utf-16-le")) // 2 <= TAG_MAX_UTF16:
            start = tagged.start(2) - 1
            found.append((start, start + 1 + len(tag), "tag", tag))
    for match in _CASHTAG.finditer(text):
        ticker = match.group(2)
        found.append((match.start(2) - 1, match.end(2), "tag", "$" + ticker.upper()))
    found.sort(key=lambda span: span[0])  # stable, as JavaScript's sort is
    return [
        Span(count_utf8_bytes(text[:start]), count_utf8_bytes(text[:end]), kind, value)
        for start, end, kind, value in found
    ]


def _link(match: re.Match[str]) -> tuple[int, int, str, str] | None:
    """A link span: https:// before a bare domain, one trailing punctuation mark and an
    unopened `)` cut off, as detectFacets does."""
    uri = match["uri"]
    start, end = match.start("uri"), match.end("uri")
    if not uri.startswith("http"):
        if not match["domain"] or not _known_domain(match["domain"]):
            return None
        uri = "https://" + uri
    if uri[-1] in ".,;:!?":
        uri, end = uri[:-1], end - 1
    if uri.endswith(")") and "(" not in uri:
        uri, end = uri[:-1], end - 1
    return start, end, "link", uri


@dataclass(frozen=True)
class Span:
    """A facet @atproto/api's `detectFacets` would find: UTF-8 byte offsets (end exclusive),
    its kind (`link`, `mention`, `tag`) and its value (URI, handle, tag without `#`)."""

    byte_start: int
    byte_end: int
    kind: str
    value: str


def facets(text: str, resolve: Callable[[str], str | None] | None = None) -> list[dict[str, Any]]:
    """Link, tag and mention facets for a post, as `RichText.detectFacets` makes them.

    Mentions need the handle's DID: with `resolve` (handle -> DID or None) a mention whose
    handle resolves becomes a facet; without it, or unresolved, the text stays plain."""
    result: list[dict[str, Any]] = []
    for span in detect_spans(text):
        if span.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        elif span.kind == "tag":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        elif resolve is not None and (did := resolve(span.value)):
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        else:
            continue
        result.append(
            {
                "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
                "features": [feature],
            }
        )
    return result


@dataclass(frozen=True)
class Session:
    """An atproto session: tokens are kept out of repr and never logged."""

    did: str
    handle: str
    access: str = field(repr=False)
    refresh: str = field(repr=False)

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> Session:
        """From createSession's or refreshSession's answer."""
        return cls(
            str(answer["did"]),
            str(answer.get("handle", "")),
            str(answer["accessJwt"]),
            str(answer["refreshJwt"]),
        )

    @classmethod
    def from_stored(cls, data: Any) -> Session | None:
        """From what `stored()` kept in the store, or None when it is not a session."""
        try:
            return cls(
                str(data["did"]), str(data["handle"]), str(data["access"]), str(data["refresh"])
            )
        except (KeyError, TypeError):
            return None

    def stored(self) -> dict[str, str]:
        """The session as a JSON value for the store (the state directory's database,
        readable by this account only)."""
        return {
            "did": self.did,
            "handle": self.handle,
            "access": self.access,
            "refresh": self.refresh,
        }

    def expired(self, margin: float = 60.0) -> bool:
        """True when the access token expires within `margin` seconds (read from the JWT's
        `exp`; a token we cannot read counts as valid, the server will say otherwise)."""
        try:
            payload = self.access.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return float(claims["exp"]) < datetime.now(UTC).timestamp() + margin
        except (IndexError, ValueError, KeyError, TypeError):
            return False
