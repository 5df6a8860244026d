"""The one pacer both e-mail and WhatsApp use: the first send at once, then one an
interval after the other, and slower after a platform's throughput limit."""

from __future__ import annotations

import pytest

from chanpub import pacing
from chanpub.pacing import Pacer


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A clock that only moves when the pacer sleeps; the sleeps are recorded."""
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    monkeypatch.setattr(pacing.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(pacing.time, "sleep", sleep)
    return slept


def test_a_throughput_limit_halves_the_rate_but_not_below_the_floor(clock: list[float]) -> None:
    pacer = Pacer(4.0)
    pacer.take()  # at once
    pacer.slow_down()  # two a second from now on
    pacer.take()  # a quarter second after the first (it was booked at four a second)
    pacer.take()  # half a second after that
    pacer.slow_down()
    pacer.slow_down()  # one a second: the floor
    pacer.take()
    pacer.take()
    assert clock == [0.25, 0.5, 0.5, 1.0] and pacer.per_second == 1.0
