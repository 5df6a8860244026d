"""Channel adapters for dispatch tests: they record calls and fail on command."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from chanpub.config import ChannelConfig, Config
from chanpub.contract import (
    Action,
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Preview,
    Receipt,
)
from chanpub.release import Release


class FakeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = ""


class Board:
    """What the fake platforms received, shared across threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts: list[tuple[str, str, str | None]] = []  # channel, key, canonical url
        self.calls: list[str] = []
        self.failures: dict[str, list[Exception]] = {}  # channel -> errors to raise in order
        self.found: dict[str, Receipt] = {}  # key -> what lookup finds
        self.amended: list[tuple[str, str, str, str, str]] = []  # see AmendingChannel

    def fail(self, channel: str, *errors: Exception) -> None:
        self.failures.setdefault(channel, []).extend(errors)


class FakeChannel:
    channel_type: ClassVar[str] = "fake"
    Options: ClassVar[type[BaseModel]] = FakeOptions
    capabilities: ClassVar[Capabilities] = Capabilities(max_length=280)
    board: ClassVar[Board] = Board()

    def __init__(self, name: str, options: FakeOptions, context: ChannelContext) -> None:
        self.name, self.options, self.context = name, options, context

    def preview(self, release: Release, links: Links) -> Preview:
        text = f"{release.title} {links.canonical_url or ''}".strip()
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text=text,
            length=len(text),
            limit=self.capabilities.max_length,
        )

    def publish(self, preview: Preview, key: str) -> Receipt:
        board = self.board
        with board.lock:
            board.calls.append(self.name)
            errors = board.failures.get(self.name)
            if errors:
                raise errors.pop(0)
            board.posts.append((self.name, key, preview.links.canonical_url))
        return Receipt(
            remote_id=f"{self.name}-{len(board.posts)}",
            url=f"https://{self.name}.example/{preview.release.slug}",
            published_at=datetime.now(UTC),
        )


class LookupChannel(FakeChannel):
    def lookup(self, key: str) -> Receipt | None:
        with self.board.lock:
            self.board.calls.append(f"lookup:{self.name}")
        return self.board.found.get(key)


class EditableChannel(FakeChannel):
    capabilities: ClassVar[Capabilities] = Capabilities(edit=True, canonical=True)

    def canonical_url(self, release: Release) -> str:
        return f"https://site.example/{release.slug}.html"

    def update(self, preview: Preview, receipt: Receipt) -> Receipt:
        with self.board.lock:
            self.board.calls.append(f"update:{self.name}:{receipt.remote_id}")
        return Receipt(remote_id=receipt.remote_id, url=receipt.url, published_at=datetime.now(UTC))


class AmendingChannel(FakeChannel):
    """Carries corrections and retractions the way a post that can be edited does; the
    board's `amended` list records (channel, kind, note, previous remote id, key)."""

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        board = self.board
        with board.lock:
            board.calls.append(f"amend:{self.name}:{amendment.kind}")
            errors = board.failures.get(self.name)
            if errors:
                raise errors.pop(0)
            board.amended.append(
                (self.name, amendment.kind, amendment.note, amendment.previous.remote_id, key)
            )
        action = Action.DELETED if amendment.retraction else Action.EDITED
        previous = amendment.previous
        return Receipt(previous.remote_id, previous.url, datetime.now(UTC), action=action)


class AmendingSite(AmendingChannel, EditableChannel):
    """A canonical website that carries corrections and retractions."""


def make_config(tmp_path: Path, channels: dict[str, tuple[type[Any], dict[str, Any]]]) -> Config:
    """A Config whose channels use the given adapter classes (flags: canonical, enabled)."""
    built = {}
    for name, (adapter, flags) in channels.items():
        built[name] = ChannelConfig(
            name=name,
            type=adapter.channel_type,
            enabled=flags.get("enabled", True),
            canonical=flags.get("canonical", False),
            options=FakeOptions(),
            adapter=adapter,
            missing=tuple(flags.get("missing", ())),
        )
    return Config(
        path=tmp_path / "channels.yaml",
        organisation="Diskominfo",
        language="id",
        language_setting="id",
        state_dir=tmp_path / ".chanpub",
        channels=built,
    )


def fresh_board() -> Board:
    FakeChannel.board = Board()
    return FakeChannel.board


Hook = Callable[[], None]
