"""wordpress: the article as a post on a WordPress site, through the core REST API. The
adapter is chanpub.channels.wordpress.channel.WordpressChannel."""

from __future__ import annotations

from chanpub.channels.wordpress.channel import WordpressChannel, WordpressOptions, marker

__all__ = ["WordpressChannel", "WordpressOptions", "marker"]
