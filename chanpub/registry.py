"""Channel adapters from the entry-point group `chanpub.channels`.

Built-in adapters are declared in chanpub's own pyproject exactly as an outside package
declares its own, so there is one discovery path. Listing does not import anything;
loading imports only the types a config uses.
"""

from __future__ import annotations

import importlib.metadata as metadata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chanpub.errors import PluginError
from chanpub.i18n import _

if TYPE_CHECKING:
    from chanpub.contract import Channel

GROUP = "chanpub.channels"


@dataclass(frozen=True)
class AdapterInfo:
    """One installed adapter type: its name, where it lives, and who ships it."""

    type: str
    value: str  # "module:Class"
    distribution: str

    @property
    def builtin(self) -> bool:
        """Shipped with chanpub itself."""
        return self.distribution == "chanpub"


def _entry_points() -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=GROUP))


def _distribution(entry_point: metadata.EntryPoint, names: dict[int, str] | None = None) -> str:
    """The name of the distribution that ships an entry point. Its entry points share one
    Distribution, whose name is parsed from its METADATA file on every asking, so the
    name is kept per Distribution in `names` (chanpub alone ships fourteen adapters)."""
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return "?"
    if names is None:
        return str(dist.name)
    if id(dist) not in names:
        names[id(dist)] = str(dist.name)
    return names[id(dist)]


def available(entry_points: Iterable[metadata.EntryPoint] | None = None) -> list[AdapterInfo]:
    """Every installed adapter type, sorted, without importing any of them.

    Raises PluginError when two distributions claim the same type.
    """
    found: dict[str, AdapterInfo] = {}
    names: dict[int, str] = {}
    listed = list(_entry_points() if entry_points is None else entry_points)
    for entry_point in listed:  # (listed: kept alive, so that no id is reused meanwhile)
        info = AdapterInfo(entry_point.name, entry_point.value, _distribution(entry_point, names))
        other = found.get(info.type)
        if other is not None and (other.value, other.distribution) != (
            info.value,
            info.distribution,
        ):
            raise PluginError(
                _(
                    "channel type '{type}' is provided by both {first} and {second}: "
                    "uninstall one of them"
                ).format(type=info.type, first=other.distribution, second=info.distribution)
            )
        found[info.type] = info
    return sorted(found.values(), key=lambda i: i.type)


def load(
    channel_type: str, entry_points: Iterable[metadata.EntryPoint] | None = None
) -> type[Channel]:
    """Import the adapter class for a type; a broken adapter becomes a PluginError."""
    candidates = [
        ep
        for ep in (_entry_points() if entry_points is None else entry_points)
        if ep.name == channel_type
    ]
    if not candidates:
        raise PluginError(_("unknown channel type '{type}'").format(type=channel_type))
    entry_point = candidates[0]
    try:
        adapter = entry_point.load()
    except Exception as error:  # any import failure of a plugin is its own bug
        raise PluginError(
            _(
                "the '{type}' adapter from {dist} failed to load ({reason}): reinstall or "
                "update that package"
            ).format(
                type=channel_type,
                dist=_distribution(entry_point),
                reason=f"{type(error).__name__}: {error}",
            )
        ) from None
    missing = [
        attr
        for attr in ("Options", "capabilities", "preview", "publish")
        if not hasattr(adapter, attr)
    ]
    if missing:
        raise PluginError(
            _(
                "the '{type}' adapter from {dist} is incomplete (no {attrs}): report it to "
                "its authors"
            ).format(type=channel_type, dist=_distribution(entry_point), attrs=", ".join(missing))
        )
    return adapter  # type: ignore[no-any-return]  # checked for the protocol's members
