"""telegram: a release as a message (or a photo with its caption, or a thread) in a Telegram
channel, sent by a bot. The adapter is chanpub.channels.telegram.channel.TelegramChannel."""

from __future__ import annotations

from chanpub.channels.telegram.botapi import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    count_telegram_html,
    telegram_length,
)
from chanpub.channels.telegram.channel import PHOTO_SPEC, TelegramChannel, TelegramOptions

__all__ = [
    "CAPTION_LIMIT",
    "MESSAGE_LIMIT",
    "PHOTO_SPEC",
    "TelegramChannel",
    "TelegramOptions",
    "count_telegram_html",
    "telegram_length",
]
