"""The adapter contract: what a channel type provides, and the values passed to it.

The core (plan, dispatch, preview, output) and every adapter import this module, and it
imports nothing of theirs: it is the seam between them.

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
5. Optional: `check()` does local checks beyond the options (files exist, templates compile)
   and raises ConfigError; dispatch calls it for every channel before anything is sent;
   `check_release(release)` does the same for one release (its picture can be fitted) and
   raises ReleaseError. `lookup(key)` finds a post an interrupted run may have made;
   `update(preview, receipt)` edits a published post in place; `verify()` checks credentials
   without publishing; `canonical_url(release)` predicts the URL a canonical channel will
   publish at; `depends_on()` names channels that must publish first (e.g. an attached
   poster); `picture(preview)` returns PNG bytes showing a printed output (a poster) for the
   preview page; `amend(preview, amendment, key)` carries a correction or retraction to what
   the channel published (edit in place, reply, delete, notice: the platform's own way) and
   returns a Receipt whose `action` says which, exactly once per key like `publish`. The
   core reaches them only through `chanpub.handle.ChannelHandle`, which supplies the
   defaults for those an adapter leaves out.

Dispatch retries a RetryableError itself (bounded, honouring `retry_after`), and on an
AmbiguousError calls `lookup(key)` when the adapter has it, so adapters do not loop.

What the core shows of a channel comes only from the typed fields of `Preview` and
`Receipt` (`kind`, `parts`, `facts`, `picture`, `counts`, `numbers`); `Preview.data` and
`Receipt.details` are the adapter's own business.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from chanpub.status import Status

if TYPE_CHECKING:
    import httpx
    from pydantic import BaseModel

    from chanpub.release import Release


class Mechanism(StrEnum):
    """How a channel carries a correction or a retraction; `preview` and `check` tell the
    officer in advance (an adapter declares it in `Capabilities` and implements `amend`)."""

    EDIT = "edit"  # the post or page is changed in place
    REPLY = "reply"  # a reply or comment carries the note (posts that cannot be edited)
    DELETE = "delete"  # the post is removed
    NOTICE = "notice"  # a new message to those who got the original (e-mail, letters)
    NONE = "none"  # not by itself: a person does it by hand


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
    # The output carries the canonical URL (a post's link, a poster's QR code): when the
    # canonical channel fails, such a channel waits for the next run instead of pointing
    # at a page that does not exist.
    links_canonical: bool = True
    corrections: Mechanism = Mechanism.NONE  # how `amend` carries a correction
    retractions: Mechanism = Mechanism.NONE  # how `amend` carries a retraction


@dataclass(frozen=True)
class Links:
    """The canonical URL the post links to, and outputs of channels that ran before."""

    canonical_url: str | None = None
    predicted: bool = True  # True until the canonical channel has actually published
    outputs: Mapping[str, Receipt] = field(default_factory=dict)  # channel name -> receipt


class PreviewKind(StrEnum):
    """How the preview page shows a channel's output."""

    ARTICLE = "article"  # a web page, shown from `html` in a sandboxed frame
    SOCIAL = "social"  # a post or a thread (`parts`), with its count against the limit
    MESSAGE = "message"  # a message with a header (`facts`: From, Subject...) and `html`
    PICTURE = "picture"  # something printed, shown as a picture (see Channel.picture)
    TEXT = "text"  # plain text


@dataclass(frozen=True)
class Preview:
    """Exactly what a channel would publish for a release, plus what the officer should know.

    `kind` says how to show it; when None it follows from the other fields (a limit or
    parts: social; html: article; else text)."""

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
    kind: PreviewKind | None = None
    parts: tuple[str, ...] = ()  # the posts of a thread, in order (empty: just `text`)
    facts: tuple[tuple[str, str], ...] = ()  # (label, value) rows for the preview card
    picture: Path | None = None  # a picture of the output to show (else image attachments)
    image_alt: str | None = None  # the alt text sent with the pictures (None: the release's)
    data: Mapping[str, Any] = field(default_factory=dict)  # the adapter's own payload

    @property
    def over_limit(self) -> bool:
        """True when the text cannot go out as it is."""
        return self.limit is not None and self.length is not None and self.length > self.limit

    @property
    def shown_as(self) -> PreviewKind:
        """`kind`, or what the fields imply when the adapter did not say."""
        if self.kind is not None:
            return self.kind
        if self.limit is not None or self.parts:
            return PreviewKind.SOCIAL
        return PreviewKind.ARTICLE if self.html else PreviewKind.TEXT

    @property
    def posts(self) -> tuple[str, ...]:
        """The posts that go out: the thread's parts, or the one text."""
        return self.parts or (self.text,)


class Action(StrEnum):
    """What a channel did with a correction or a retraction (reported per channel)."""

    EDITED = "edited"  # the post or page was changed in place
    REPLIED = "replied"  # a reply or comment carries the note (posts that cannot be edited)
    DELETED = "deleted"  # the post is gone
    SENT = "sent"  # a new message or document went out (e-mail notice, correction letter)
    UNCHANGED = "unchanged"  # already in that state (a repeated edit, a delete of nothing)


@dataclass(frozen=True)
class Amendment:
    """A correction (ralat) or a retraction (pencabutan) of a release a channel published.

    `note` is the officer's `correction:` (what changed) or `retraction:` (why it is
    withdrawn), in the release's language; `previous` is what this channel shows now, from
    the ledger: the receipt of the original publication or of the last amendment.

    The Receipt `amend` returns keeps identifying the published post: its `remote_id` and
    `url` stay the original post's (an edit that makes a new id, like X's, returns the new
    one), and what the amendment added (reply ids, a notice's id) goes in `details`, so a
    later correction replies to the post, and a retraction finds everything to delete."""

    kind: str  # "correction" or "retraction"
    note: str
    at: datetime
    previous: Receipt

    @property
    def retraction(self) -> bool:
        """True when the release is withdrawn."""
        return self.kind == "retraction"


@dataclass(frozen=True)
class Receipt:
    """Proof of one publication: the platform's id and the public URL."""

    remote_id: str
    url: str | None
    published_at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)  # the adapter's own record
    files: tuple[Path, ...] = ()  # local outputs other channels may attach (poster PDF, ...)
    counts: Mapping[str, int] = field(default_factory=dict)  # items per state: sent, failed...
    numbers: Mapping[str, str] = field(default_factory=dict)  # item -> its number (letters)
    action: Action | None = None  # for an amendment: what was done


class ItemJournal(Protocol):
    """Per-item outcomes inside one delivery (e-mail recipients, thread posts)."""

    def status(self, item: str) -> Status | None:
        """IN_PROGRESS, SENT, FAILED, DEFERRED, UNKNOWN, or None when never tried;
        NOT_SELECTED for an item this run must leave alone (another job's part of the
        list, or not chosen for a resend)."""
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


class NumberSequence(Protocol):
    """A counter kept in the ledger that never hands out the same number twice."""

    def next(self, name: str, scope: str) -> int:
        """The next number for `name` within `scope` (e.g. a year), committed at once."""
        ...


class Store(Protocol):
    """What an adapter keeps between runs (a session, the notes a later `lookup` needs),
    as JSON values under keys of its own namespace, in the state directory's database
    (readable by this account only; no command prints it)."""

    def get(self, key: str) -> Any:
        """The value stored under `key`, or None."""
        ...

    def put(self, key: str, value: Any) -> None:
        """Store a JSON value under `key`, committed at once."""
        ...

    def delete(self, key: str) -> None:
        """Forget `key` (nothing happens when it is not there)."""
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
    sequence: NumberSequence | None = None
    store_factory: Callable[[str], Store] | None = None
    # Read-only: the items of another delivery that arrived (see `delivered`).
    delivered_reader: Callable[[str], Sequence[tuple[str, str]]] | None = None
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

    def delivered(self, key: str) -> Sequence[tuple[str, str]]:
        """The items of the delivery `key` that arrived (sent, or reported delivered or
        read), each with the remote id recorded for it, in item order: an amendment reads
        who got the original, and the id it follows up. Empty without a ledger."""
        return self.delivered_reader(key) if self.delivered_reader is not None else ()

    def store(self, namespace: str) -> Store:
        """The adapter's store in the state directory's database (without a factory: the
        ledger in `state_dir`, opened on first use)."""
        if self.store_factory is not None:
            return self.store_factory(namespace)
        from chanpub.ledger import Ledger

        return Ledger(self.state_dir / "ledger.sqlite3").store(namespace)

    def run_store(self, namespace: str) -> Store | None:
        """The store in the run's ledger, for notes that only save work (what a list's
        addresses were checked as, how many it has); None when the run has no ledger (a
        preview on its own), which then does the work rather than open one."""
        return self.store_factory(namespace) if self.store_factory is not None else None

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
