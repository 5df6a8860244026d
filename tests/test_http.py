"""`chanpub.http.send`, the one HTTP call every adapter makes: its classification of answers
and transport failures into the four ChannelError buckets, and its two hooks."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from chanpub.errors import (
    AmbiguousError,
    AuthError,
    ChannelError,
    PermanentError,
    RetryableError,
)
from chanpub.http import make_client, send

URL = "https://api.example.org/v1/posts"


def client_answering(status: int, headers: dict[str, str] | None = None) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, json={"error": "nope"})

    return make_client(httpx.MockTransport(answer))


def client_failing(error: Callable[[httpx.Request], Exception]) -> httpx.Client:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error(request)

    return make_client(httpx.MockTransport(fail))


@pytest.mark.parametrize(
    ("method", "status", "bucket"),
    [
        ("POST", 400, PermanentError),
        ("POST", 404, PermanentError),
        ("POST", 401, AuthError),
        ("POST", 429, RetryableError),
        ("POST", 503, RetryableError),
        ("POST", 500, AmbiguousError),  # a create that may have been applied
        ("POST", 502, AmbiguousError),
        ("GET", 500, RetryableError),  # reading again is harmless
        ("PUT", 502, RetryableError),  # an edit to the same text again is harmless
        ("DELETE", 500, RetryableError),
    ],
)
def test_answers_fall_into_the_buckets(method: str, status: int, bucket: type) -> None:
    with pytest.raises(ChannelError) as caught:
        send(client_answering(status), method, URL, channel="portal")
    assert type(caught.value) is bucket
    assert caught.value.message.startswith(f"portal: {method} api.example.org answered {status}")
    assert "/v1/posts" not in caught.value.message  # never the path (tokens travel there)


@pytest.mark.parametrize(
    ("method", "error", "bucket"),
    [
        ("POST", lambda r: httpx.ConnectError("refused", request=r), RetryableError),
        ("POST", lambda r: httpx.ConnectTimeout("slow", request=r), RetryableError),
        ("POST", lambda r: httpx.ReadTimeout("no answer", request=r), AmbiguousError),
        ("GET", lambda r: httpx.ReadTimeout("no answer", request=r), RetryableError),
    ],
)
def test_transport_failures_before_sending_retry_after_sending_are_ambiguous(
    method: str, error: Callable[[httpx.Request], Exception], bucket: type
) -> None:
    with pytest.raises(ChannelError) as caught:
        send(client_failing(error), method, URL, channel="portal")
    assert type(caught.value) is bucket


def test_retry_after_is_honoured_and_a_platform_wait_hook_wins() -> None:
    with pytest.raises(RetryableError) as plain:
        send(client_answering(429, {"Retry-After": "7"}), "POST", URL, channel="portal")
    assert plain.value.retry_after == 7.0
    with pytest.raises(RetryableError) as hooked:
        send(client_answering(429), "POST", URL, channel="portal", wait=lambda response: 42.0)
    assert hooked.value.retry_after == 42.0


def test_refine_turns_the_default_error_into_the_platforms_meaning() -> None:
    def expired_token(response: httpx.Response, error: ChannelError) -> ChannelError:
        return AuthError(error.message + ": the token expired", variable="PORTAL_TOKEN")

    with pytest.raises(AuthError) as caught:
        send(client_answering(400), "POST", URL, channel="portal", refine=expired_token)
    assert caught.value.variable == "PORTAL_TOKEN"


def test_accepted_statuses_come_back_as_answers() -> None:
    response = send(client_answering(404), "DELETE", URL, channel="portal", accept=(404,))
    assert response.status_code == 404  # a delete of something already gone


def test_a_token_in_the_url_never_shows() -> None:
    def fail(request: httpx.Request) -> Exception:
        return httpx.ConnectError("refused", request=request)

    secret = "https://api.telegram.example/bot12345:SECRET-TOKEN/sendMessage"
    with pytest.raises(RetryableError) as caught:
        send(
            client_failing(fail),
            "POST",
            secret,
            channel="tg",
            shown_url="https://api.telegram.example/bot***/sendMessage",
        )
    assert "SECRET-TOKEN" not in caught.value.message
