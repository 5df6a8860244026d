"""instagram: the channel (see chanpub.channels.instagram.channel for the service)."""

from __future__ import annotations

from chanpub.channels.instagram.channel import (
    IMAGE_SPEC,
    InstagramChannel,
    InstagramOptions,
    public_image_url,
)

__all__ = ["IMAGE_SPEC", "InstagramChannel", "InstagramOptions", "public_image_url"]
