"""Telegram's HTTP helpers from before chanpub.http.send: the raw answer of a Bot API
call, its classification with Telegram's own wait (`parameters.retry_after`), and the
`api_base` check. Only telegram.py uses them; they go when it moves to http.send.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chanpub.errors import AuthError, ChannelError
from chanpub.http import error_for_exception, error_for_response, retry_after_seconds
from chanpub.i18n import _

if TYPE_CHECKING:
    import httpx


def http_url(value: str, example: str) -> str:
    """An http(s) URL with a host, without its trailing slash; else a ValueError."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value.strip():
        raise ValueError(f"must be a web address like {example}")
    return value.strip().rstrip("/")


def rate_limit_wait(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds a rate-limited answer asks us to wait: `Retry-After` (seconds or HTTP
    date), else Telegram's `parameters.retry_after` in the body."""
    moment = now or datetime.now(UTC)
    wait = retry_after_seconds(response.headers.get("Retry-After"), moment)
    if wait is not None:
        return wait
    try:
        payload: Any = response.json()
    except ValueError:
        return None
    parameters = payload.get("parameters") if isinstance(payload, dict) else None
    if isinstance(parameters, dict) and isinstance(parameters.get("retry_after"), int | float):
        return float(parameters["retry_after"])
    return None


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    channel: str,
    shown_url: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request and return any answer; a transport failure raises classified."""
    import httpx

    try:
        return client.request(method, url, **kwargs)
    except httpx.TransportError as error:
        raise error_for_exception(
            error, channel=channel, method=method, url=shown_url or url
        ) from None


def classify(
    response: httpx.Response,
    *,
    channel: str,
    secret_variable: str | None = None,
    forbidden_is_auth: bool = False,
) -> ChannelError:
    """The ChannelError for a non-2xx answer, with the platform's wait signal."""
    wait = rate_limit_wait(response) if response.status_code in (429, 503) else None
    error = error_for_response(
        response, channel=channel, secret_variable=secret_variable, retry_after=wait
    )
    if forbidden_is_auth and response.status_code == 403:
        return AuthError(
            _(
                "{message}: the credential in ${variable} lacks a permission this "
                "needs: renew it with the right scopes"
            ).format(message=error.message, variable=secret_variable),
            variable=secret_variable,
        )
    if isinstance(error, AuthError) and secret_variable:
        return AuthError(
            _("{message}: check or renew the credential in ${variable}").format(
                message=error.message, variable=secret_variable
            ),
            variable=secret_variable,
        )
    return error
