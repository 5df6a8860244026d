"""SMTP leaves one moment unknown: between the end of DATA (the final dot) and the server's
reply. These tests pin, on a SQLite and a PostgreSQL ledger, that only that moment makes a recipient 'unknown'; a run stopped
anywhere earlier leaves the recipient to the next run, like any unsent one."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from smtp_servers import SmtpServer
from test_smtp import KEY, SECRETS, SENDER, URL, channel_for, login, press_csv, send

from chanpub.channels.email.smtp import SmtpTransport
from chanpub.errors import PartialFailure
from chanpub.ledger import Ledger
from chanpub.release import load_release
from chanpub.testing import make_context, write_release

ADDRESSES = [f"wartawan{n:02}@media.example" for n in range(12)]


def test_the_mark_is_written_after_the_body_just_before_the_final_dot(
    tmp_path: Path, starttls_server: SmtpServer, ledger_at: Path | str
) -> None:
    media = press_csv(tmp_path, [(a, "") for a in ADDRESSES[:3]])
    ledger = Ledger(ledger_at)
    reader = Ledger(ledger_at)  # what a second process would see
    at_rcpt: list[str | None] = []
    at_data: list[str | None] = []
    handler = starttls_server.handler
    handler.on_rcpt = lambda address: at_rcpt.append(reader.item_status(KEY, address))
    handler.on_message = lambda m: at_data.append(reader.item_status(KEY, m.rcpt_tos[0]))
    context = make_context(tmp_path, secrets=SECRETS, journal_factory=ledger.journal)

    receipt = send(
        channel_for(tmp_path, login(starttls_server, lists=[media]), context),
        load_release(write_release(tmp_path / "r")),
    )

    assert receipt.details["sent"] == 3
    assert at_rcpt == [None, None, None], "no mark while the transaction can still be undone"
    assert at_data == ["in_progress"] * 3, "the mark is committed before the final dot"
    assert ledger.item_counts(KEY) == {"sent": 3}


def test_a_run_killed_before_the_end_of_data_is_sent_by_the_next_run(
    tmp_path: Path, starttls_server: SmtpServer, ledger_at: Path | str
) -> None:
    media = press_csv(tmp_path, [(a, "") for a in ADDRESSES])
    options = login(starttls_server, lists=[media])
    release = load_release(write_release(tmp_path / "r"))
    ledger_path = ledger_at
    args = {
        "ledger": str(ledger_path),
        "base": str(tmp_path),
        "options": options,
        "release": str(release.path),
        "url": URL,
        "key": KEY,
    }
    process = subprocess.Popen([sys.executable, "-c", SENDER, json.dumps(args)])

    def kill_at_the_fifth_rcpt(address: str) -> None:
        if address == ADDRESSES[4]:  # MAIL and RCPT sent, no DATA yet
            os.kill(process.pid, signal.SIGKILL)

    starttls_server.handler.on_rcpt = kill_at_the_fifth_rcpt
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    starttls_server.handler.on_rcpt = None
    ledger = Ledger(ledger_path)
    assert ledger.item_status(KEY, ADDRESSES[4]) is None

    context = make_context(tmp_path, secrets=SECRETS, journal_factory=ledger.journal)
    receipt = send(channel_for(tmp_path, options, context), release)

    assert receipt.details["sent"] == len(ADDRESSES)
    assert [len(starttls_server.handler.to(a)) for a in ADDRESSES] == [1] * len(ADDRESSES)
    assert ledger.unknown_items(KEY) == []


def test_a_lost_reply_stays_unknown_and_fails_every_run_until_resolved(
    tmp_path: Path, starttls_server: SmtpServer, ledger_at: Path | str
) -> None:
    handler = starttls_server.handler
    handler.drop_after_data.add(ADDRESSES[1])
    media = press_csv(tmp_path, [(a, "") for a in ADDRESSES[:3]])
    ledger = Ledger(ledger_at)
    context = make_context(tmp_path, secrets=SECRETS, journal_factory=ledger.journal)
    channel = channel_for(tmp_path, login(starttls_server, lists=[media]), context)
    release = load_release(write_release(tmp_path / "r"))

    for _run in range(2):
        with pytest.raises(PartialFailure) as failure:
            send(channel, release)
        assert "1 recipient" in failure.value.message
        assert "chanpub resolve" in failure.value.message and "--resend" in failure.value.message

    assert [len(handler.to(a)) for a in ADDRESSES[:3]] == [1, 1, 1], "never resent by itself"
    [(address, reason)] = ledger.unknown_items(KEY)
    assert address == ADDRESSES[1] and "may have been delivered" in reason
    assert ledger.item_counts(KEY) == {"sent": 2, "unknown": 1}


def test_a_run_stopped_after_the_mark_leaves_the_recipient_unknown(
    tmp_path: Path, starttls_server: SmtpServer, ledger_at: Path | str
) -> None:
    media = press_csv(tmp_path, [(a, "") for a in ADDRESSES[:3]])
    ledger = Ledger(ledger_at)
    ledger.set_item(KEY, ADDRESSES[0], "in_progress")  # a killed run's mark
    context = make_context(tmp_path, secrets=SECRETS, journal_factory=ledger.journal)
    channel = channel_for(tmp_path, login(starttls_server, lists=[media]), context)

    with pytest.raises(PartialFailure):
        send(channel, load_release(write_release(tmp_path / "r")))

    assert starttls_server.handler.to(ADDRESSES[0]) == []
    assert [a for a, _reason in ledger.unknown_items(KEY)] == [ADDRESSES[0]]


def test_the_end_of_data_is_not_held_back_by_nagle(tmp_path: Path, relay: SmtpServer) -> None:
    # The final dot is a small write of its own after the body: with Nagle's algorithm it
    # would wait for a delayed ACK (~40 ms a message, 20 messages a second at most).
    channel = channel_for(tmp_path, relay.options(security="none", lists=["a@b.example"]))
    session = SmtpTransport("press", channel.options, channel.context).connection()
    session.open()
    try:
        smtp = session._smtp
        assert smtp is not None and smtp.sock is not None
        assert smtp.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        session.close()
