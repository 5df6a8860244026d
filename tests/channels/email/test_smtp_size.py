"""A message larger than the server's SIZE (RFC 1870) is not sent to anyone: the channel
stops before the first recipient, naming both sizes, instead of pushing every copy over the
wire to be refused (552) at its end. aiosmtpd on loopback, with its data_size_limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from smtp_servers import RecordingHandler, SmtpServer, run_server

from chanpub.channels.email.channel import EmailChannel, EmailOptions
from chanpub.errors import PermanentError
from chanpub.ledger import Ledger
from chanpub.release import load_release
from chanpub.testing import make_context, sample_links, write_release

KEY = "3c" * 32
PRESS = ["budi@harian.example", "siti@radio.example"]
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 160 + b"\xff\xd9"  # 41 KB


def send_with_photo(server: SmtpServer, folder: Path) -> Ledger:
    """The release with its photo attached, to PRESS through `server`."""
    (folder / "r").mkdir(parents=True)
    (folder / "r" / "foto.jpg").write_bytes(PHOTO)
    release = load_release(write_release(folder / "r", image="foto.jpg", image_alt="Foto"))
    ledger = Ledger(folder / "ledger.sqlite3")
    options = server.options(security="none", lists=PRESS, attach=["image"])
    channel = EmailChannel(
        "press",
        EmailOptions.model_validate(options),
        make_context(folder, journal_factory=ledger.journal),
    )
    channel.publish(channel.preview(release, sample_links()), KEY)
    return ledger


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_message_over_the_servers_size_goes_to_no_one(tmp_path: Path, pipelining: bool) -> None:
    running = run_server(
        RecordingHandler(pipelining=pipelining),
        auth_required=False,
        auth_require_tls=True,
        data_size_limit=30_000,
    )
    server = next(running)
    try:
        with pytest.raises(PermanentError) as refused:
            send_with_photo(server, tmp_path)
    finally:
        running.close()

    message = refused.value.message
    assert "30 KB" in message and "SIZE" in message and "'attach:'" in message, message
    assert server.handler.received == [] and server.handler.pipelined == []
    journal = Ledger(tmp_path / "ledger.sqlite3").journal(KEY)
    assert [journal.status(address) for address in PRESS] == [None, None]  # the next run sends


def test_a_message_within_the_servers_size_goes_out(tmp_path: Path) -> None:
    running = run_server(
        RecordingHandler(), auth_required=False, auth_require_tls=True, data_size_limit=200_000
    )
    server = next(running)
    try:
        send_with_photo(server, tmp_path)
    finally:
        running.close()

    assert sorted(m.rcpt_tos[0] for m in server.handler.received) == PRESS


def test_channels_verify_tells_the_largest_message_the_server_takes(tmp_path: Path) -> None:
    facts: list[tuple[str, dict[str, object]]] = []
    running = run_server(
        RecordingHandler(), auth_required=False, auth_require_tls=True, data_size_limit=10_000_000
    )
    server = next(running)
    try:
        options = EmailOptions.model_validate(server.options(security="none", lists=PRESS))
        context = make_context(tmp_path, progress=lambda event, data: facts.append((event, data)))
        EmailChannel("press", options, context).verify()
    finally:
        running.close()

    assert facts == [("verified", {"account": "messages up to 10.0 MB"})]
    assert server.handler.received == []
