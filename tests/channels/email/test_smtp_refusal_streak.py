"""Every copy refused with the same answer, and the answer not about the address (a
provider's outbound filter: '550 5.7.1 Message rejected as spam'): the run stops after a
streak of them instead of recording the whole list as refused for good, and the next run
goes on with the recipients not reached. Refusals about addresses (RFC 3463 X.1, X.2) never
stop it. aiosmtpd on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from smtp_servers import RecordingHandler, SmtpServer, run_server

from chanpub.channels.email.channel import EmailChannel, EmailOptions
from chanpub.channels.email.smtp import REFUSAL_STREAK
from chanpub.errors import PartialFailure, RetryableError
from chanpub.ledger import Ledger
from chanpub.release import load_release
from chanpub.retry import MAX_RETRY_WAIT
from chanpub.testing import make_context, sample_links, write_release

KEY = "5a" * 32
SPAM = "550 5.7.1 Message rejected: suspected spam content"
LIST = [f"pelanggan{n:02}@warga.example" for n in range(REFUSAL_STREAK * 3)]


def send(server: SmtpServer, folder: Path, ledger: Ledger) -> None:
    release = load_release(write_release(folder / "r"))
    options = EmailOptions.model_validate(server.options(security="none", lists=LIST))
    channel = EmailChannel("press", options, make_context(folder, journal_factory=ledger.journal))
    channel.publish(channel.preview(release, sample_links()), KEY)


@pytest.fixture
def server() -> SmtpServer:
    running = run_server(RecordingHandler(), auth_required=False, auth_require_tls=True)
    yield next(running)
    running.close()


def test_a_streak_of_the_same_refusal_stops_the_run_and_the_next_goes_on(
    tmp_path: Path, server: SmtpServer
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    server.handler.content_refusal = SPAM
    with pytest.raises(RetryableError) as stopped:
        send(server, tmp_path, ledger)
    statuses = [ledger.journal(KEY).status(address) for address in LIST]

    server.handler.content_refusal = None  # the officer had the filter looked at
    send(server, tmp_path, ledger)  # the streak stays recorded as refused, from the first run

    assert f"{REFUSAL_STREAK} messages in a row" in stopped.value.message
    assert SPAM in stopped.value.message
    assert (stopped.value.retry_after or 0) > MAX_RETRY_WAIT  # not again in the same run
    assert statuses == ["failed"] * REFUSAL_STREAK + [None] * (len(LIST) - REFUSAL_STREAK)
    assert sorted(m.rcpt_tos[0] for m in server.handler.received) == LIST[REFUSAL_STREAK:]


def test_refusals_about_the_addresses_never_stop_the_run(
    tmp_path: Path, server: SmtpServer
) -> None:
    server.handler.refuse.update(LIST[: REFUSAL_STREAK * 2])  # 550 5.1.1, the same words
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    with pytest.raises(PartialFailure):
        send(server, tmp_path, ledger)

    journal = ledger.journal(KEY)
    assert [journal.status(a) for a in LIST] == ["failed"] * (REFUSAL_STREAK * 2) + [
        "sent"
    ] * REFUSAL_STREAK


def test_a_message_sent_between_refusals_breaks_the_streak(
    tmp_path: Path, server: SmtpServer
) -> None:
    refused = {address for n, address in enumerate(LIST) if n % REFUSAL_STREAK}
    handler = server.handler

    async def refuse_most(*args: object) -> str:
        envelope = args[2]
        return SPAM if envelope.rcpt_tos[0] in refused else "250 OK"  # type: ignore[attr-defined]

    handler.content_refusal = None
    handler.handle_DATA = refuse_most  # type: ignore[method-assign]
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    with pytest.raises(PartialFailure):
        send(server, tmp_path, ledger)

    journal = ledger.journal(KEY)
    assert all(journal.status(a) == "failed" for a in refused)


def test_an_address_refused_inside_the_streak_neither_counts_nor_breaks_it(
    tmp_path: Path, server: SmtpServer
) -> None:
    server.handler.content_refusal = SPAM
    server.handler.refuse.add(LIST[4])  # 550 5.1.1 at RCPT: this address's own refusal
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    with pytest.raises(RetryableError):
        send(server, tmp_path, ledger)

    journal = ledger.journal(KEY)
    refused = [address for address in LIST if journal.status(address) == "failed"]
    assert refused == LIST[: REFUSAL_STREAK + 1]  # ten refused alike, and the dead address
    assert "5.1.1" in dict(ledger.failed_items(KEY))[LIST[4]]
