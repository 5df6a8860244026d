"""Bounded retries of a RetryableError, honouring the platform's `Retry-After`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chanpub import shutdown
from chanpub.errors import RetryableError

MAX_RETRY_WAIT = 60.0  # seconds; a longer Retry-After makes the channel failed-for-now
RETRY_ATTEMPTS = 4
RETRY_TIMEOUT = 120.0

T = TypeVar("T")


def with_retries(action: Callable[[], T], on_retry: Callable[[float | None], None]) -> T:
    """Run `action`, retrying a RetryableError with back-off (stamina), at most
    RETRY_ATTEMPTS times within RETRY_TIMEOUT; a wait longer than MAX_RETRY_WAIT is not
    waited for: the error goes up, and the next run tries again. `on_retry` hears the
    wait (None: stamina's back-off) before each retry."""
    import stamina

    def backoff(error: Exception) -> bool | float:
        if not isinstance(error, RetryableError) or shutdown.requested():
            return False  # not retryable, or SIGTERM asked the run to stop
        if error.retry_after is None:
            on_retry(None)
            return True
        if error.retry_after > MAX_RETRY_WAIT:
            return False
        on_retry(error.retry_after)
        return error.retry_after

    for attempt in stamina.retry_context(
        on=backoff, attempts=RETRY_ATTEMPTS, timeout=RETRY_TIMEOUT, wait_max=MAX_RETRY_WAIT
    ):
        with attempt:
            return action()
    raise AssertionError("unreachable: retry_context either returns or raises")
