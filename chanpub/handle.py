"""One typed handle on an adapter instance: the contract's optional members with their
defaults, so the core never asks `hasattr` and an outside adapter may leave them out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chanpub.contract import (
    Amendment,
    Capabilities,
    Channel,
    Links,
    Mechanism,
    Preview,
    Receipt,
)

if TYPE_CHECKING:
    from chanpub.release import Release


@dataclass(frozen=True)
class ChannelHandle:
    """An adapter instance as the core uses it."""

    adapter: Channel

    @property
    def name(self) -> str:
        """The channel's name in channels.yaml."""
        return self.adapter.name

    @property
    def capabilities(self) -> Capabilities:
        """What the channel type can carry."""
        return self.adapter.capabilities

    def _optional(self, member: str) -> Callable[..., Any] | None:
        found = getattr(self.adapter, member, None)
        return found if callable(found) else None

    def preview(self, release: Release, links: Links) -> Preview:
        """What would be published; no network, no secrets."""
        return self.adapter.preview(release, links)

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Publish; a Receipt or a ChannelError."""
        return self.adapter.publish(preview, key)

    def check(self) -> None:
        """The adapter's own checks before anything is sent (none by default)."""
        check = self._optional("check")
        if check is not None:
            check()

    def check_release(self, release: Release) -> None:
        """The adapter's own checks of one release, e.g. that its picture can be fitted
        (none by default); raises a ReleaseError."""
        check = self._optional("check_release")
        if check is not None:
            check(release)

    @property
    def can_look_up(self) -> bool:
        """Whether the platform can be asked what an interrupted run published."""
        return self._optional("lookup") is not None

    def lookup(self, key: str) -> Receipt | None:
        """What an interrupted run published under `key`; None when nothing (or unknown)."""
        lookup = self._optional("lookup")
        return lookup(key) if lookup is not None else None

    @property
    def can_update(self) -> bool:
        """Whether a published post can be edited in place."""
        return self.capabilities.edit and self._optional("update") is not None

    def update(self, preview: Preview, receipt: Receipt) -> Receipt:
        """Edit the published post in place (only when `can_update`)."""
        update = self._optional("update")
        if update is None:
            raise TypeError(f"{type(self.adapter).__name__} cannot update")
        result: Receipt = update(preview, receipt)
        return result

    @property
    def can_amend(self) -> bool:
        """Whether the channel can carry corrections and retractions."""
        return self._optional("amend") is not None

    def amends_by(self, kind: str) -> Mechanism:
        """How the channel carries a 'correction' or a 'retraction' (NONE without `amend`)."""
        if not self.can_amend:
            return Mechanism.NONE
        capabilities = self.capabilities
        return capabilities.retractions if kind == "retraction" else capabilities.corrections

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """Carry a correction or retraction (only when `can_amend`)."""
        amend = self._optional("amend")
        if amend is None:
            raise TypeError(f"{type(self.adapter).__name__} cannot amend")
        result: Receipt = amend(preview, amendment, key)
        return result

    @property
    def can_verify(self) -> bool:
        """Whether the adapter has a credentials check."""
        return self._optional("verify") is not None

    def verify(self) -> str | None:
        """Check credentials without publishing; a note (e.g. the account) or None."""
        verify = self._optional("verify")
        result = verify() if verify is not None else None
        return result if isinstance(result, str) else None

    def canonical_url(self, release: Release) -> str | None:
        """The URL this channel will publish the release at, when it can tell in advance."""
        predict = self._optional("canonical_url")
        url = predict(release) if predict is not None else None
        return str(url) if url else None

    def depends_on(self) -> tuple[str, ...]:
        """Channels that must publish before this one (e.g. an attached poster)."""
        depends = self._optional("depends_on")
        return tuple(depends()) if depends is not None else ()

    def picture(self, preview: Preview) -> bytes | None:
        """PNG bytes showing the output, for printed channels (none by default)."""
        picture = self._optional("picture")
        result = picture(preview) if picture is not None else None
        return result if isinstance(result, bytes) else None
