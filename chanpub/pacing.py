"""Spacing sends to a rate: e-mail's `rate_per_minute` and WhatsApp's `rate_per_second`,
shared by every sending thread of a run, and lowered when a platform says to slow down."""

from __future__ import annotations

import threading
import time


class Pacer:
    """At most `per_second` sends a second across all threads (0: no limit); a burst of one:
    the first send goes at once, each next one an interval after the one before."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._next = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def per_minute(cls, count: int) -> Pacer:
        """A pacer for a limit stated per minute (mail providers state theirs so)."""
        return cls(count / 60.0)

    def take(self) -> None:
        """Wait until the next send is allowed."""
        if not self.per_second:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + 1.0 / self.per_second
        if start > now:
            time.sleep(start - now)

    def slow_down(self, floor: float = 1.0) -> None:
        """Halve the rate, not below `floor` a second (a throughput limit was hit)."""
        with self._lock:
            self.per_second = max(floor, self.per_second / 2)
