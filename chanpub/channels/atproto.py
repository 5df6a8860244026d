"""AT Protocol pieces the bluesky channel needs: sessions kept between runs, record keys
derived from delivery keys, post length and rich-text facets.

Specs: https://atproto.com/specs/tid, https://docs.bsky.app/docs/advanced-guides/post-richtext,
lexicons com.atproto.server.createSession / refreshSession.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chanpub.render.shaping import (
    HASHTAG_PATTERN,
    URL_PATTERN,
    count_graphemes,
    count_utf8_bytes,
    utf8_spans,
)

GRAPHEME_LIMIT = 300
BYTE_LIMIT = 3000
IMAGE_MAX_BYTES = 2_000_000  # app.bsky.embed.images (raised from 1,000,000 in 2026)
POST = "app.bsky.feed.post"
HANDLE = re.compile(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
# Record keys: TIDs (atproto.com/specs/tid) derived from the delivery key. Their time part
# lies in a fixed window in the past, so they never collide with TIDs a client makes now.
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_EPOCH_US = 1_672_531_200_000_000  # 2023-01-01T00:00:00Z
TID_SPAN_BITS = 45  # about 400 days of microseconds


def tid_for(key: str, index: int = 0) -> str:
    """A valid TID record key derived from a delivery key (and a thread part's index)."""
    digest = int.from_bytes(hashlib.sha256(f"{key}:{index}".encode()).digest()[:8], "big")
    micros = TID_EPOCH_US + ((digest >> 10) & ((1 << TID_SPAN_BITS) - 1))
    value = (micros << 10) | (digest & 0x3FF)  # top bit stays 0
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def bluesky_length(text: str) -> int:
    """Graphemes, or one over the limit when the text passes the 3000-byte cap."""
    graphemes = count_graphemes(text)
    return graphemes if count_utf8_bytes(text) <= BYTE_LIMIT else max(graphemes, GRAPHEME_LIMIT + 1)


def facets(text: str) -> list[dict[str, Any]]:
    """Link and hashtag facets with UTF-8 byte offsets (start inclusive, end exclusive)."""
    result: list[dict[str, Any]] = []
    links = [(start, end) for start, end, _m in utf8_spans(text, URL_PATTERN)]
    for start, end, match in utf8_spans(text, URL_PATTERN):
        result.append(
            {
                "index": {"byteStart": start, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group(0)}],
            }
        )
    for start, end, match in utf8_spans(text, HASHTAG_PATTERN):
        tag = match.group(1)
        if any(s < end and start < e for s, e in links) or count_graphemes(tag) > 64:
            continue  # a '#' inside a link is part of the link; facets must not overlap
        result.append(
            {
                "index": {"byteStart": start, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
            }
        )
    return sorted(result, key=lambda facet: facet["index"]["byteStart"])


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

    def expired(self, margin: float = 60.0) -> bool:
        """True when the access token expires within `margin` seconds (read from the JWT's
        `exp`; a token we cannot read counts as valid, the server will say otherwise)."""
        try:
            payload = self.access.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return float(claims["exp"]) < datetime.now(UTC).timestamp() + margin
        except (IndexError, ValueError, KeyError, TypeError):
            return False


class SessionStore:
    """The session of one account on one service, in the state directory (mode 0600)."""

    def __init__(self, state_dir: Path, service: str, handle: str) -> None:
        name = hashlib.sha256(f"{service}|{handle}".encode()).hexdigest()[:16]
        self.path = state_dir / "bluesky" / f"session-{name}.json"

    def load(self) -> Session | None:
        """The stored session, or None."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Session(
                str(data["did"]), str(data["handle"]), str(data["access"]), str(data["refresh"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, session: Session) -> None:
        """Store the session where only this user can read it."""
        from chanpub.render.files import write_atomically

        write_atomically(
            self.path,
            json.dumps(
                {
                    "did": session.did,
                    "handle": session.handle,
                    "access": session.access,
                    "refresh": session.refresh,
                }
            ),
            private=True,
        )
