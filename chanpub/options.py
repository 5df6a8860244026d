"""Option types adapters share in their pydantic models, so one mistake gets one message."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator


def web_address(value: str) -> str:
    """An http(s) address with a host, without its trailing slash; else a ValueError
    that pydantic turns into `channels.yaml: channels.<name>.<option>: ...`."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise ValueError("must be a web address starting with https://, e.g. https://example.go.id")
    return text.rstrip("/")


WebAddress = Annotated[str, AfterValidator(web_address)]
