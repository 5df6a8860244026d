"""The envelope (MAIL, RCPT, DATA) in one write to a server that offers PIPELINING (RFC 2920),
one command at a time to one that does not, and every refusal inside a pipelined envelope
read in its place: aiosmtpd on loopback, which sees whether the client waited for replies."""

from __future__ import annotations

from pathlib import Path

import pytest
from smtp_servers import RecordingHandler, SmtpServer, run_server

from chanpub.channels.email.channel import EmailChannel, EmailOptions
from chanpub.contract import Receipt
from chanpub.errors import PartialFailure, PermanentError
from chanpub.ledger import Ledger
from chanpub.release import Release, load_release
from chanpub.testing import make_context, sample_links, write_release

KEY = "2f" * 32
URL = "https://kominfo.example.go.id/siaran/pipelining.html"
PRESS = ["budi@harian.example", "siti@radio.example", "rina@tv.example"]


def release(folder: Path) -> Release:
    folder.mkdir(parents=True, exist_ok=True)
    return load_release(write_release(folder))


def send_to(server: SmtpServer, folder: Path, addresses: list[str]) -> tuple[Receipt, Ledger]:
    """Send the release to `addresses` through `server`; the receipt, even of a partial
    failure, and the ledger it was recorded in."""
    ledger = Ledger(folder / "ledger.sqlite3")
    options = EmailOptions.model_validate(server.options(security="none", lists=addresses))
    channel = EmailChannel("press", options, make_context(folder, journal_factory=ledger.journal))
    try:
        return channel.publish(
            channel.preview(release(folder / "r"), sample_links(URL)), KEY
        ), ledger
    except PartialFailure as partial:
        assert isinstance(partial.receipt, Receipt)
        return partial.receipt, ledger


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def server(request: pytest.FixtureRequest) -> SmtpServer:
    """A plain relay that offers PIPELINING, or one that refuses a client talking early."""
    running = run_server(
        RecordingHandler(pipelining=request.param), auth_required=False, auth_require_tls=True
    )
    request.addfinalizer(running.close)
    return next(running)


def test_the_envelope_is_one_write_exactly_when_the_server_offers_pipelining(
    tmp_path: Path, server: SmtpServer
) -> None:
    receipt, _ledger = send_to(server, tmp_path, PRESS)

    assert receipt.details["sent"] == 3
    assert sorted(m.rcpt_tos[0] for m in server.handler.received) == sorted(PRESS)
    assert server.handler.pipelined == [server.handler.pipelining] * 3


def test_refusals_are_read_in_their_place_and_the_others_are_delivered_once(
    tmp_path: Path, server: SmtpServer
) -> None:
    server.handler.refuse.add("hilang@harian.example")
    server.handler.defer_once.add("siti@radio.example")
    receipt, ledger = send_to(server, tmp_path, [*PRESS, "hilang@harian.example"])

    assert (receipt.details["sent"], receipt.details["failed"]) == (3, 1)
    assert sorted(m.rcpt_tos[0] for m in server.handler.received) == sorted(PRESS)
    [(address, reason)] = ledger.failed_items(KEY)
    assert address == "hilang@harian.example" and "550 5.1.1 No such user" in reason


def test_a_server_closing_at_rcpt_delivers_nothing_and_the_message_goes_on_a_new_line(
    tmp_path: Path, server: SmtpServer
) -> None:
    server.handler.close_at_rcpt_once.add("siti@radio.example")
    receipt, _ledger = send_to(server, tmp_path, PRESS)

    assert receipt.details["sent"] == 3
    assert sorted(m.rcpt_tos[0] for m in server.handler.received) == sorted(PRESS)
    assert len({m.peer for m in server.handler.received}) == 2  # one reconnect


def test_a_server_opening_data_after_refusing_the_recipient_gets_no_message(
    tmp_path: Path,
) -> None:
    running = run_server(RecordingHandler(), auth_required=False, auth_require_tls=True)
    server = next(running)
    try:
        server.handler.open_data_anyway.add("hilang@harian.example")
        receipt, ledger = send_to(server, tmp_path, ["hilang@harian.example", *PRESS])
    finally:
        running.close()

    assert (receipt.details["sent"], receipt.details["failed"]) == (3, 1)
    assert sorted(m.rcpt_tos[0] for m in server.handler.received) == sorted(PRESS)
    assert [address for address, _reason in ledger.failed_items(KEY)] == ["hilang@harian.example"]


def test_a_refused_sender_in_a_pipelined_envelope_stops_the_channel_naming_from(
    tmp_path: Path,
) -> None:
    running = run_server(
        RecordingHandler(sender_refusal="553 5.7.1 Sender address rejected: not owned by user"),
        auth_required=False,
        auth_require_tls=True,
    )
    server = next(running)
    try:
        with pytest.raises(PermanentError) as refused:
            send_to(server, tmp_path, PRESS)
    finally:
        running.close()

    assert "'from:'" in refused.value.message and "553 5.7.1" in refused.value.message
    assert server.handler.received == [] and server.handler.pipelined[0] is True
