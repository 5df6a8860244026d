"""Discovery through the `chanpub.channels` entry points, with fakes passed in."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from chanpub import registry
from chanpub.errors import PluginError


class FakeDist:
    def __init__(self, name: str) -> None:
        self.name = name


def entry(name: str, value: str, dist: str) -> EntryPoint:
    point = EntryPoint(name, value, registry.GROUP)
    return point._for(FakeDist(dist))  # type: ignore[attr-defined,arg-type]  # as metadata does


def test_builtins_are_listed_through_entry_points_without_importing() -> None:
    import sys

    sys.modules.pop("chanpub.channels.static_site", None)
    types = {info.type: info for info in registry.available()}
    assert {"static-site", "email"} <= set(types)
    assert types["static-site"].builtin
    assert "chanpub.channels.static_site" not in sys.modules


class CountingDist(FakeDist):
    """A distribution whose name is read from its metadata each time, as metadata's is."""

    def __init__(self, name: str) -> None:
        self._name, self.reads = name, 0

    @property  # type: ignore[override]
    def name(self) -> str:
        self.reads += 1
        return self._name


def test_a_distribution_s_metadata_is_read_once_however_many_adapters_it_ships() -> None:
    dist = CountingDist("chanpub")
    points = [
        EntryPoint(name, f"chanpub.channels.{name}:Channel", registry.GROUP)._for(dist)  # type: ignore[attr-defined]
        for name in ("email", "telegram", "mastodon")
    ]
    assert [info.distribution for info in registry.available(points)] == ["chanpub"] * 3
    assert dist.reads == 1


def test_two_distributions_claiming_one_type_is_an_error_naming_both() -> None:
    points = [entry("mastodon", "a:A", "chanpub"), entry("mastodon", "b:B", "chanpub-toot")]
    with pytest.raises(PluginError, match="both chanpub and chanpub-toot"):
        registry.available(points)


def test_a_broken_adapter_becomes_a_plugin_error_naming_the_package() -> None:
    points = [entry("broken", "chanpub_no_such_module:Channel", "chanpub-broken")]
    with pytest.raises(PluginError, match="'broken' adapter from chanpub-broken failed to load"):
        registry.load("broken", points)


def test_an_incomplete_adapter_is_refused() -> None:
    points = [entry("half", "collections:OrderedDict", "chanpub-half")]
    with pytest.raises(PluginError, match="is incomplete"):
        registry.load("half", points)


def test_loading_returns_the_adapter_class() -> None:
    points = [entry("static-site", "chanpub.channels.static_site:StaticSiteChannel", "chanpub")]
    assert registry.load("static-site", points).channel_type == "static-site"
    with pytest.raises(PluginError, match="unknown channel type 'nope'"):
        registry.load("nope", points)
