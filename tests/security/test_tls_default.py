"""TLS certificates are verified by default: HTTP through chanpub.http.make_client, and SMTP
unless the channel says `verify_tls: false`. The servers present a certificate from a CA
nobody trusts (trustme), as a man in the middle would."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from aiosmtpd.controller import Controller
from faults.smtp_relay import Relay, free_port

from chanpub.channels.email.channel import EmailChannel
from chanpub.errors import ChannelError, RetryableError
from chanpub.http import make_client, send
from chanpub.testing import make_context, sample_links, sample_release, serve_on_loopback


@pytest.fixture(scope="module")
def stranger() -> trustme.CA:
    """A certificate authority the system does not trust."""
    return trustme.CA()


@pytest.fixture
def https_server(stranger: trustme.CA) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    stranger.issue_cert("127.0.0.1").configure_cert(context)
    with serve_on_loopback(
        Handler, wrap=lambda sock: context.wrap_socket(sock, server_side=True)
    ) as base:
        yield f"{base}/"


def test_http_refuses_a_certificate_it_cannot_verify(https_server: str) -> None:
    with make_client(httpx.HTTPTransport()) as client, pytest.raises(RetryableError) as caught:
        send(client, "GET", https_server, channel="portal")
    assert "cannot connect to GET 127.0.0.1" in caught.value.message


def test_http_accepts_the_same_server_once_its_ca_is_trusted(
    https_server: str,
    stranger: trustme.CA,
    tmp_path: Path,
) -> None:
    context = ssl.create_default_context()
    stranger.configure_trust(context)  # what an office does for its own internal CA
    with make_client(httpx.HTTPTransport(verify=context)) as client:
        assert send(client, "GET", https_server, channel="portal").text == "ok"


@pytest.fixture
def relay() -> Relay:
    return Relay()


@pytest.fixture
def starttls_relay(stranger: trustme.CA, relay: Relay) -> Iterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    stranger.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    controller = Controller(
        relay, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True
    )
    controller.start()
    yield controller.port
    controller.stop()
    controller.loop.close()


def email_channel(tmp_path: Path, port: int, **options: Any) -> EmailChannel:
    model = EmailChannel.Options.model_validate(
        {
            "transport": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "security": "starttls",
            "from": "Humas <humas@example.go.id>",
            "lists": ["redaksi@media.example"],
            **options,
        }
    )
    return EmailChannel("press", model, make_context(tmp_path))


def test_smtp_refuses_a_certificate_it_cannot_verify(tmp_path: Path, starttls_relay: int) -> None:
    with pytest.raises(ChannelError) as caught:
        email_channel(tmp_path, starttls_relay).verify()
    assert "certificate" in caught.value.message.lower()
    assert "verify_tls" in caught.value.message + (caught.value.hint or "")


def test_smtp_sends_over_starttls_when_the_channel_turns_verification_off(
    tmp_path: Path, starttls_relay: int, relay: Relay
) -> None:
    channel = email_channel(tmp_path, starttls_relay, verify_tls=False)
    channel.verify()  # the login and the TLS handshake go through
    release = sample_release(tmp_path)
    receipt = channel.publish(channel.preview(release, sample_links()), key="tls-off")
    assert receipt.counts["sent"] == 1
    assert [address for address, _subject in relay.received] == ["redaksi@media.example"]
