"""static-site: the article as a standalone HTML page, plus an index page and an Atom feed.
The adapter is chanpub.channels.static_site.channel.StaticSiteChannel."""

from __future__ import annotations

from chanpub.channels.static_site.channel import (
    OG_LOCALES,
    WEB_SPEC,
    StaticSiteChannel,
    StaticSiteOptions,
)
from chanpub.channels.static_site.listing import MANIFEST

__all__ = ["MANIFEST", "OG_LOCALES", "WEB_SPEC", "StaticSiteChannel", "StaticSiteOptions"]
