"""Real adapters over a real HTTP client against a service that misbehaves: each fault ends
with the right outcome in bounded time, and a second run leaves exactly one post where the
platform deduplicates, and never more than one plus a flag for a person where it does not."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chanpub import actions, http, settling
from chanpub.config import load_config
from chanpub.outcomes import RunResult
from chanpub.status import Status

from .fault_server import Fault, FaultServer
from .office import SECRETS, ledger_rows, mastodon, telegram, webhook, write_office

CLIENT_TIMEOUT = 1.0  # seconds; the service "times out" by answering after 3


class ShortTimeouts(httpx.BaseTransport):
    """A real HTTP transport whose requests give up after CLIENT_TIMEOUT seconds."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions["timeout"] = httpx.Timeout(CLIENT_TIMEOUT).as_dict()
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(autouse=True)
def real_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """chanpub.http.make_client builds its clients on a real transport for these tests."""
    monkeypatch.setattr(http, "transport_factory", ShortTimeouts)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


Channel = Callable[[str], dict[str, Any]]


def send(folder: Path) -> RunResult:
    """One cron run on the office's releases folder."""
    return actions.send([folder / "releases"], load_config(folder / "channels.yaml"))


def outcome(result: RunResult, channel: str = "social") -> Any:
    (release,) = result.releases
    return next(o for o in release.outcomes if o.channel == channel)


def timed(folder: Path) -> tuple[RunResult, float]:
    started = time.monotonic()
    result = send(folder)
    return result, time.monotonic() - started


SLUG = "siaran-pers-nomor-0-kota-contoh"


# --- faults that are retried inside the run -------------------------------------------------


@pytest.mark.parametrize(
    "make", [webhook, telegram, mastodon], ids=["webhook", "telegram", "mastodon"]
)
def test_503_and_429_are_retried_in_the_same_run(
    tmp_path: Path, server: FaultServer, make: Channel
) -> None:
    write_office(tmp_path, {"social": make(server.url)})
    server.next(Fault.status(503), Fault.status(429, retry_after="0"))
    result, seconds = timed(tmp_path)
    assert outcome(result).status == "published", outcome(result).error
    assert len(server.creates()) == 3 and len(server.posts) == 1
    assert ledger_rows(tmp_path)[(SLUG, "social")] == Status.PUBLISHED
    assert seconds < 10


def test_retry_after_is_honoured_before_the_next_attempt(
    tmp_path: Path, server: FaultServer
) -> None:
    import stamina

    stamina.set_testing(False)  # really wait, to measure that the wait is the service's
    write_office(tmp_path, {"social": webhook(server.url)})
    server.next(Fault.status(429, retry_after="1"))
    result, seconds = timed(tmp_path)
    assert outcome(result).status == "published"
    first, second = server.creates()
    assert second[0] - first[0] >= 0.95, "the second attempt came before Retry-After"
    assert seconds < 5


def test_a_long_retry_after_fails_for_now_and_the_next_run_publishes(
    tmp_path: Path,
    server: FaultServer,
) -> None:
    write_office(tmp_path, {"social": webhook(server.url)})
    server.next(Fault.status(429, retry_after="3600"))
    result, seconds = timed(tmp_path)
    assert outcome(result).status == "failed" and "429" in (outcome(result).error or "")
    assert result.exit_code == 1 and seconds < 5 and server.posts == []
    again = send(tmp_path)
    assert outcome(again).status == "published" and len(server.posts) == 1


def test_a_service_that_is_down_fails_after_bounded_retries(tmp_path: Path) -> None:
    with FaultServer() as gone:
        url = gone.url
    write_office(tmp_path, {"social": webhook(url)})
    result, seconds = timed(tmp_path)
    assert outcome(result).status == "failed"
    assert "cannot connect" in (outcome(result).error or "") and seconds < 10
    assert ledger_rows(tmp_path)[(SLUG, "social")] == Status.FAILED  # the next run tries again
    assert outcome(result, "website").status == "published"


def test_a_slow_answer_within_the_timeout_is_a_success(tmp_path: Path, server: FaultServer) -> None:
    write_office(tmp_path, {"social": webhook(server.url)})
    server.next(Fault.sleep(0.5))
    result = send(tmp_path)
    assert outcome(result).status == "published"
    assert outcome(result).url == f"{server.url}/berita/1"
    assert len(server.creates()) == 1


# --- faults after the post was applied: the outcome is unknown to chanpub ------------------

AMBIGUOUS = {
    "reset": Fault.reset(),
    "timeout": Fault.sleep(3.0),
    "500-after-write": Fault.status(500, store=True),
}


@pytest.mark.parametrize("fault", list(AMBIGUOUS))
def test_idempotent_channel_a_lost_answer_then_a_rerun_leaves_exactly_one_post(
    tmp_path: Path,
    server: FaultServer,
    fault: str,
) -> None:
    write_office(tmp_path, {"social": webhook(server.url)})
    server.next(AMBIGUOUS[fault])
    first, seconds = timed(tmp_path)
    assert outcome(first).status == "failed" and seconds < 10
    assert ledger_rows(tmp_path)[(SLUG, "social")] == Status.FAILED  # safe to send again
    second = send(tmp_path)
    assert outcome(second).status == "published"
    assert len(server.creates()) == 2, "the rerun sent it again with the same key"
    assert len(server.posts) == 1, "the service deduplicated: exactly one post"
    third = send(tmp_path)
    assert outcome(third).status == "already-published" and len(server.creates()) == 2


@pytest.mark.parametrize("fault", list(AMBIGUOUS))
def test_channel_with_lookup_finds_the_post_a_lost_answer_made(
    tmp_path: Path,
    server: FaultServer,
    fault: str,
) -> None:
    write_office(tmp_path, {"social": mastodon(server.url)})
    server.next(AMBIGUOUS[fault])
    result, seconds = timed(tmp_path)
    assert outcome(result).status == "published", outcome(result).error
    assert outcome(result).url == f"{server.url}/@kominfo/1"
    assert len(server.posts) == 1 and len(server.creates()) == 1 and seconds < 10
    assert send(tmp_path).releases[0].outcomes[1].status == "already-published"
    assert len(server.posts) == 1


@pytest.mark.parametrize("fault", list(AMBIGUOUS))
def test_channel_without_idempotency_flags_a_person_and_never_posts_twice(
    tmp_path: Path,
    server: FaultServer,
    fault: str,
) -> None:
    write_office(tmp_path, {"social": telegram(server.url)})
    server.next(AMBIGUOUS[fault])
    first, seconds = timed(tmp_path)
    assert outcome(first).status == "failed" and seconds < 10
    assert ledger_rows(tmp_path)[(SLUG, "social")] == Status.NEEDS_CHECK
    second = send(tmp_path)
    assert outcome(second).status == "failed"
    assert "chanpub resolve" in (outcome(second).error or "")
    assert ledger_rows(tmp_path)[(SLUG, "social")] == Status.NEEDS_CHECK
    assert len(server.creates()) == 1 and len(server.posts) == 1, "never sent twice"
    config = load_config(tmp_path / "channels.yaml")
    assert (
        settling.resolve(config, SLUG, "social", published=True, url="https://t.me/kominfokota/1")
        == 1
    )
    third = send(tmp_path)
    assert outcome(third).status == "already-published" and len(server.posts) == 1


def test_a_person_saying_not_published_lets_the_next_run_send_it(
    tmp_path: Path,
    server: FaultServer,
) -> None:
    write_office(tmp_path, {"social": telegram(server.url)})
    server.next(Fault.status(502))  # a proxy error: the post never reached the Bot API
    send(tmp_path)
    assert ledger_rows(tmp_path)[(SLUG, "social")] == Status.NEEDS_CHECK and server.posts == []
    settling.resolve(
        load_config(tmp_path / "channels.yaml"), SLUG, "social", published=False, url=None
    )
    assert outcome(send(tmp_path)).status == "published" and len(server.posts) == 1


def test_other_channels_go_on_while_one_service_misbehaves(
    tmp_path: Path, server: FaultServer
) -> None:
    with FaultServer() as healthy:
        write_office(tmp_path, {"social": telegram(server.url), "portal": webhook(healthy.url)})
        server.next(Fault.reset())
        result = send(tmp_path)
        assert outcome(result, "website").status == "published"
        assert outcome(result, "portal").status == "published"
        assert outcome(result, "social").status == "failed"
        assert result.exit_code == 1 and len(healthy.posts) == 1
