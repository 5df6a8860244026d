"""An account's sending limit reached mid-list (Gmail: '550 5.4.5 Daily user sending limit
exceeded'): a 5xx about the mail system, not the mailbox (RFC 3463, X.4.5). The run stops
there instead of recording every later recipient as refused for good, and the next run,
once the limit allows, sends exactly the ones not reached. aiosmtpd on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from smtp_servers import RecordingHandler, SmtpServer, run_server

from chanpub.channels.email.channel import EmailChannel, EmailOptions
from chanpub.errors import RetryableError
from chanpub.ledger import Ledger
from chanpub.release import load_release
from chanpub.retry import MAX_RETRY_WAIT
from chanpub.testing import make_context, sample_links, write_release

KEY = "4d" * 32
PRESS = [f"wartawan{n}@media.example" for n in range(5)]


def send(server: SmtpServer, folder: Path, ledger: Ledger) -> None:
    release = load_release(write_release(folder / "r"))
    options = EmailOptions.model_validate(server.options(security="none", lists=PRESS))
    context = make_context(folder, journal_factory=ledger.journal)
    channel = EmailChannel("press", options, context)
    channel.publish(channel.preview(release, sample_links()), KEY)


@pytest.mark.parametrize("stage", ["mail", "rcpt", "end"])
@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_the_run_stops_at_the_limit_and_the_next_sends_the_rest_once(
    tmp_path: Path, stage: str, pipelining: bool
) -> None:
    handler = RecordingHandler(quota=2, quota_stage=stage, pipelining=pipelining)
    running = run_server(handler, auth_required=False, auth_require_tls=True)
    server = next(running)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    try:
        with pytest.raises(RetryableError) as stopped:
            send(server, tmp_path, ledger)
        journal = ledger.journal(KEY)
        statuses = [journal.status(address) for address in PRESS]

        handler.quota = None  # a day later
        send(server, tmp_path, ledger)
    finally:
        running.close()

    assert "after 2 in this run (550 5.4.5 Daily user sending limit exceeded" in (
        stopped.value.message
    )
    assert "next run" in stopped.value.message
    assert (stopped.value.retry_after or 0) > MAX_RETRY_WAIT  # the run does not try again
    assert statuses == ["sent", "sent", "deferred", None, None]  # nobody refused for good
    assert sorted(m.rcpt_tos[0] for m in handler.received) == PRESS  # each exactly once
    assert [ledger.journal(KEY).status(address) for address in PRESS] == ["sent"] * 5


def test_a_mailbox_refused_for_good_is_still_that_recipients_alone(tmp_path: Path) -> None:
    handler = RecordingHandler(refuse={PRESS[1]})
    running = run_server(handler, auth_required=False, auth_require_tls=True)
    server = next(running)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    try:
        with pytest.raises(Exception, match="1 of 5"):
            send(server, tmp_path, ledger)
    finally:
        running.close()

    journal = ledger.journal(KEY)
    assert [journal.status(address) for address in PRESS] == ["sent", "failed", *["sent"] * 3]
