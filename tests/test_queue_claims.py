"""A queued delivery's claim (chanpub.queue.claim): a PostgreSQL advisory lock held by
the job's own connection, so a worker that is merely slow keeps its delivery, and a killed
one's connection frees it at once."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chanpub import queue


def test_a_claim_is_refused_while_another_session_holds_it_and_free_once_it_closes(
    postgres_url: str,
) -> None:
    with queue.claim(postgres_url, "press|part 1/5") as first:
        with queue.claim(postgres_url, "press|part 1/5") as second:
            assert (first, second) == (True, False)
        with queue.claim(postgres_url, "press|part 2/5") as other_part:
            assert other_part
    with queue.claim(postgres_url, "press|part 1/5") as again:
        assert again


def test_a_job_whose_delivery_another_worker_runs_sends_nothing_and_is_retried(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(queue, "_deliver", lambda *args: ran.append(args[3]))
    work = SimpleNamespace(config=SimpleNamespace(database=postgres_url))
    monkeypatch.setattr(queue, "_work", work)
    name = "releases/a.md|abc|press|0/1"

    with queue.claim(postgres_url, name), pytest.raises(queue.Claimed):
        queue.deliver("releases/a.md", "abc", "press")
    assert ran == []
    queue.deliver("releases/a.md", "abc", "press")
    assert ran == ["press"]

    retry = queue.worker_app(postgres_url, 1).tasks[queue.TASK].retry_strategy
    assert retry is not None
    job = SimpleNamespace(attempts=7)
    assert retry.get_retry_decision(exception=queue.Claimed(name), job=job)  # type: ignore[arg-type]
    assert retry.get_retry_decision(exception=ValueError(), job=job) is None  # type: ignore[arg-type]
