"""notice-board: an outside adapter, written only against chanpub's public API.

It appends each release to a plain-text notice board file, the way a third party would
add a channel to chanpub: a class with the adapter members, registered under the
`chanpub.channels` entry-point group in its own pyproject.toml. A long notice is pinned
as several cards (the preview's `parts`), with the release picture beside them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from chanpub import Capabilities, ChannelContext, Links, Preview, PreviewKind, Receipt, Release


class NoticeBoardOptions(BaseModel):
    """Options: the board file and the longest notice it takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    board: str
    max_chars: int = 280
    card_chars: int = 120  # one pinned card holds this much


class NoticeBoardChannel:
    """Appends '<title> — <url>' to a text file."""

    channel_type: ClassVar[str] = "notice-board"
    Options: ClassVar[type[BaseModel]] = NoticeBoardOptions
    capabilities: ClassVar[Capabilities] = Capabilities(max_length=280, idempotent=False)

    def __init__(self, name: str, options: NoticeBoardOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    def preview(self, release: Release, links: Links) -> Preview:
        """The notice line, cut into the cards that get pinned, with the release picture."""
        text = f"{release.title} — {links.canonical_url or ''}".strip(" —")
        size = self.options.card_chars
        cards = tuple(text[start : start + size] for start in range(0, len(text), size))
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text=text,
            length=len(text),
            limit=self.options.max_chars,
            kind=PreviewKind.SOCIAL,
            parts=cards if len(cards) > 1 else (),
            picture=release.image,
            facts=(("Board", self.options.board),),
        )

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Append the notice to the board."""
        board = self.context.resolve(self.options.board)
        board.parent.mkdir(parents=True, exist_ok=True)
        with Path(board).open("a", encoding="utf-8") as file:
            file.write(f"{preview.text}  [{key[:8]}]\n")
        return Receipt(remote_id=key[:8], url=None, published_at=datetime.now(UTC), files=(board,))
