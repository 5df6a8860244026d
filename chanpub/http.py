"""The one httpx.Client factory, and HTTP failures classified into ChannelErrors.

Buckets (RFC 9110 §15 status classes, §10.2.3 Retry-After): connection refused or a
connect timeout is retryable; 429 and 503 are retryable after `Retry-After`; a timeout or
reset after the body was sent, or a 5xx answer to a create, is ambiguous; 401/403 are auth
errors; other 4xx are permanent. Messages give method, host, status and a short reason,
never headers, tokens or bodies.
"""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable, Container
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chanpub import __version__
from chanpub.errors import (
    AmbiguousError,
    AuthError,
    ChannelError,
    PermanentError,
    RetryableError,
    shorten_reason,
)
from chanpub.i18n import _

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"chanpub/{__version__} (+https://pypi.org/project/chanpub/)"
DEFAULT_TIMEOUT = 30.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# Tests replace this to make every undeclared request fail loudly.
transport_factory: Callable[[], httpx.BaseTransport | None] = lambda: None  # noqa: E731
_lock = threading.Lock()
_shared: list[httpx.Client] = []


def make_client(
    transport: httpx.BaseTransport | None = None, timeout: float = DEFAULT_TIMEOUT
) -> httpx.Client:
    """A client with chanpub's user agent, timeouts and certificate verification on."""
    import httpx

    return httpx.Client(
        transport=transport or transport_factory(),
        timeout=httpx.Timeout(timeout, connect=10.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def shared_client() -> httpx.Client:
    """One client for the process (thread-safe; httpx pools connections per host)."""
    with _lock:
        if not _shared:
            _shared.append(make_client())
        return _shared[0]


def close_shared_client() -> None:
    """Close the process-wide client (end of a run)."""
    with _lock:
        while _shared:
            _shared.pop().close()


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def short_reason(response: httpx.Response) -> str:
    """The service's own explanation, secrets masked, at most ~200 characters, from
    common JSON shapes."""
    reason = ""
    try:
        payload: Any = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        for key in ("error_description", "message", "error", "description", "detail", "title"):
            value = payload.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("error_user_msg")
            if isinstance(value, str) and value:
                reason = value
                break
    if not reason:
        reason = response.reason_phrase or ""
    return shorten_reason(reason)


def describe(method: str, url: str) -> str:
    """'POST example.org' — never the path's query (tokens travel there on some APIs)."""
    import httpx

    host = httpx.URL(url).host
    return f"{method} {host}"


def error_for_response(
    response: httpx.Response,
    *,
    channel: str,
    secret_variable: str | None = None,
    retry_after: float | None = None,
) -> ChannelError:
    """Classify a non-2xx response; the caller raises the result."""
    request = response.request
    where = describe(request.method, str(request.url))
    status = response.status_code
    reason = short_reason(response)
    text = (
        _("{channel}: {where} answered {status} {reason}")
        .format(channel=channel, where=where, status=status, reason=reason)
        .rstrip()
    )
    if status == 401:
        hint = (
            _("check or renew the credential in ${variable}").format(variable=secret_variable)
            if secret_variable
            else None
        )
        return AuthError(text, variable=secret_variable, hint=hint)
    if status in (429, 503) or (status == 502 and request.method in SAFE_METHODS):
        wait = (
            retry_after
            if retry_after is not None
            else retry_after_seconds(response.headers.get("Retry-After"))
        )
        return RetryableError(text, retry_after=wait)
    if status >= 500:
        if request.method in SAFE_METHODS:
            return RetryableError(text)
        return AmbiguousError(text)
    return PermanentError(text)


def error_for_exception(error: Exception, *, channel: str, method: str, url: str) -> ChannelError:
    """Classify a transport failure: before sending is retryable, after is ambiguous."""
    import httpx

    where = describe(method, url)
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return RetryableError(
            _("{channel}: cannot connect to {where}: {reason}").format(
                channel=channel, where=where, reason=type(error).__name__
            )
        )
    if method.upper() in SAFE_METHODS:
        return RetryableError(
            _("{channel}: {where} failed: {reason}").format(
                channel=channel, where=where, reason=type(error).__name__
            )
        )
    return AmbiguousError(
        _(
            "{channel}: {where} gave no answer after the request was sent ({reason}); "
            "it may have been applied"
        ).format(channel=channel, where=where, reason=type(error).__name__)
    )


WaitSignal = Callable[["httpx.Response"], "float | None"]  # a 429/503's own wait, in s
Refine = Callable[["httpx.Response", ChannelError], ChannelError]  # platform meaning


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    channel: str,
    secret_variable: str | None = None,
    shown_url: str | None = None,
    wait: WaitSignal | None = None,
    refine: Refine | None = None,
    accept: Container[int] = (),
    **kwargs: Any,
) -> httpx.Response:
    """The one way an adapter makes an HTTP call: the response when it is 2xx (or its
    status is in `accept`), else the classified ChannelError (see the buckets above).

    Hooks for what only the platform knows: `wait` reads how long a 429/503 asks to
    wait (default: `Retry-After`); `refine` turns the default error into a sharper one
    (e.g. a Graph error code that means an expired token). `shown_url` replaces `url` in
    messages when the URL holds a secret (Telegram's token)."""
    import httpx

    try:
        response = client.request(method, url, **kwargs)
    except httpx.TransportError as failure:
        raise error_for_exception(
            failure, channel=channel, method=method, url=shown_url or url
        ) from None
    if response.is_success or response.status_code in accept:
        return response
    retry_after = None
    if response.status_code in (429, 503):
        retry_after = (wait or _retry_after_header)(response)
    refused = error_for_response(
        response, channel=channel, secret_variable=secret_variable, retry_after=retry_after
    )
    raise refine(response, refused) if refine is not None else refused


def _retry_after_header(response: httpx.Response) -> float | None:
    return retry_after_seconds(response.headers.get("Retry-After"))
