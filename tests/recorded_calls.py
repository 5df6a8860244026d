"""Record what a library function is asked, while it still answers as it would."""

from __future__ import annotations

from typing import Any

import pytest


def record_calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[Any]:
    """Replace `owner.name` with a wrapper that notes each call's first argument (the
    address or number asked about) and calls the real function; returns the notes."""
    asked: list[Any] = []
    real = getattr(owner, name)

    def recording(first: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(first)
        return real(first, *args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return asked
