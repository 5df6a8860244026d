"""The adapter contract: what a channel type provides, and the values passed to it.

An adapter is any class with these attributes and methods; it need not subclass anything.
It registers under the entry-point group `chanpub.channels`, for example::

    [project.entry-points."chanpub.channels"]
    my-cms = "my_package.adapter:MyCmsChannel"

Lifecycle, driven by dispatch:
1. `Options` (a pydantic model, `extra="forbid"`) validates the channel's entry in
   channels.yaml; secrets are `SecretStr`, filled from `${VARIABLE}`.
2. `__init__(name, options, context)` stores them; no I/O.
3. `preview(release, links)` returns exactly what would go out, without network or secrets.
4. `publish(preview, key)` makes the remote call and returns a `Receipt`, or raises a
   `ChannelError` (see chanpub.errors). `key` is stable across retries and runs.
5. Optional: `check()` does local checks beyond the options (files exist, templates
   compile) and raises ConfigError; dispatch calls it for every channel before anything is
   sent. `lookup(key)` finds a post an interrupted run may have made; `update(preview,
   receipt)` edits a published post in place; `verify()` checks credentials without
   publishing; `canonical_url(release)` predicts the URL a canonical channel will publish
   at; `depends_on()` names channels that must publish first (e.g. an attached poster).

Dispatch retries a RetryableError itself (bounded, honouring `retry_after`), and on an
AmbiguousError calls `lookup(key)` when the adapter has it, so adapters do not loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    import httpx
    from pydantic import BaseModel

    from chanpub.release import Release


@dataclass(frozen=True)
class Capabilities:
    """What a channel type can carry; shaping, preview and dispatch read it."""

    max_length: int | None = None  # None: no practical limit
    length_unit: str = "characters"
    title: bool = False
    html: bool = False
    images: int = 0  # how many images a post can carry
    edit: bool = False  # can edit a published post in place (`send --update`)
    canonical: bool = False  # can be the canonical channel (the official article)
    idempotent: bool = False  # publishing again with the same key cannot make a duplicate
    recipients: bool = False  # delivers to many recipients, one outcome each


@dataclass(frozen=True)
class Links:
    """The canonical URL the post links to, and outputs of channels that ran before."""

    canonical_url: str | None = None
    predicted: bool = True  # True until the canonical channel has actually published
    outputs: Mapping[str, Receipt] = field(default_factory=dict)  # channel name -> receipt


@dataclass(frozen=True)
class Preview:
    """Exactly what a channel would publish for a release, plus what the officer should know."""

    channel: str
    release: Release
    links: Links
    text: str = ""  # the post, message or plain-text body as it will go out
    title: str | None = None
    html: str | None = None
    length: int | None = None  # counted the way the platform counts
    limit: int | None = None
    unit: str = "characters"
    warnings: tuple[str, ...] = ()
    attachments: tuple[Path, ...] = ()
    recipients: int | None = None  # for channels that deliver to many recipients
    data: Mapping[str, Any] = field(default_factory=dict)  # adapter-specific payload

    @property
    def over_limit(self) -> bool:
        """True when the text cannot go out as it is."""
        return self.limit is not None and self.length is not None and self.length > self.limit


@dataclass(frozen=True)
class Receipt:
    """Proof of one publication: the platform's id and the public URL."""

    remote_id: str
    url: str | None
    published_at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)  # counts, files, letter numbers
    files: tuple[Path, ...] = ()  # local outputs other channels may attach (poster PDF, ...)


class ItemJournal(Protocol):
    """Per-item outcomes inside one delivery (e-mail recipients, thread posts)."""

    def status(self, item: str) -> str | None:
        """'in_progress', 'sent', 'failed', 'deferred', 'unknown' or None when never tried."""
        ...

    def begin(self, item: str) -> None:
        """Mark the item in progress, committed before the remote call."""
        ...

    def sent(self, item: str, remote_id: str = "") -> None:
        """Record the item as delivered."""
        ...

    def failed(self, item: str, error: str, *, permanent: bool = True) -> None:
        """Record the item as failed: 'failed' if permanent, else 'deferred' (retried by
        the next run)."""
        ...

    def unknown(self, item: str, reason: str) -> None:
        """Record that the item may or may not have arrived (a lost reply): no run sends
        it again by itself; a person settles it with `chanpub resolve`."""
        ...

    def remote_id(self, item: str) -> str | None:
        """The remote id recorded when the item was sent (None if not sent)."""
        ...

    def counts(self) -> Mapping[str, int]:
        """How many items are in each state."""
        ...


class Sequence(Protocol):
    """A counter kept in the ledger that never hands out the same number twice."""

    def next(self, name: str, scope: str) -> int:
        """The next number for `name` within `scope` (e.g. a year), committed at once."""
        ...


@dataclass(frozen=True)
class ChannelContext:
    """What dispatch hands every adapter: shared client, language, folders and journals."""

    organisation: str = ""
    language: str = "en"
    base_dir: Path = Path()  # the folder of channels.yaml: relative paths start here
    state_dir: Path = Path(".chanpub")
    client_factory: Callable[[], httpx.Client] | None = None
    journal_factory: Callable[[str], ItemJournal] | None = None
    sequence: Sequence | None = None
    progress: Callable[[str, Mapping[str, Any]], None] | None = None
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)  # option -> VARIABLE

    @property
    def http(self) -> httpx.Client:
        """The shared httpx.Client (created on first use, so previews import no httpx)."""
        if self.client_factory is None:
            from chanpub.http import shared_client

            return shared_client()
        return self.client_factory()

    def journal(self, key: str) -> ItemJournal:
        """The per-item journal of one delivery."""
        if self.journal_factory is None:
            from chanpub.journal import MemoryJournal

            return MemoryJournal()
        return self.journal_factory(key)

    def resolve(self, path: str | Path) -> Path:
        """A path from channels.yaml, relative to the config's folder."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    def report(self, event: str, **data: Any) -> None:
        """Tell the live view about progress (e.g. 'retrying', {'seconds': 5})."""
        if self.progress is not None:
            self.progress(event, data)

    def variable_for(self, option: str) -> str:
        """The environment variable a secret option came from, for error messages."""
        return self.secrets.get(option, option.upper())


@runtime_checkable
class Channel(Protocol):
    """A channel type. See the module docstring for the lifecycle."""

    channel_type: ClassVar[str]
    Options: ClassVar[type[BaseModel]]
    capabilities: ClassVar[Capabilities]
    name: str

    def __init__(self, name: str, options: Any, context: ChannelContext) -> None:
        """Store the channel's name, validated options and context; no I/O."""
        ...

    def preview(self, release: Release, links: Links) -> Preview:
        """What would be published; pure: no network, no secrets in the result."""
        ...

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Publish; return a Receipt or raise a ChannelError."""
        ...
