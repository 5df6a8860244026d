"""A stop asked for from outside (SIGTERM, what systemd and cron timeouts send): the work
in flight finishes and is recorded, nothing new starts, and the run exits 143.

Loops that send many items (e-mail recipients) check `requested()` between items; dispatch
checks it before starting a channel. Nothing here interrupts a call in the middle.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_STOP = threading.Event()


def requested() -> bool:
    """True once a stop was asked for in this run."""
    return _STOP.is_set()


def request() -> None:
    """Ask everything to stop after the item in flight."""
    _STOP.set()


@contextmanager
def on_sigterm() -> Iterator[None]:
    """While the block runs, SIGTERM asks for a stop instead of killing the process
    mid-write. Only the main thread can install a handler; elsewhere this does nothing."""
    _STOP.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(_signum: int, _frame: FrameType | None) -> None:
        request()

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
