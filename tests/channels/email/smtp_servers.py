"""Real SMTP servers on loopback (aiosmtpd) for the email tests and the benchmark: a
handler that records what it received and can answer 451, 550 or drop the line."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from mta_ehlo import ListsPipelining

USER = "humas"
PASSWORD = "s3cr3t-CANARY-7f2a"  # chanpub.testing.SECRET_MARKER: must never show anywhere
# Gmail's reply once an account's rolling 24-hour limit is reached, to every message after:
# https://support.google.com/a/answer/3726730 (Gmail SMTP errors and codes)
QUOTA_REPLY = "550 5.4.5 Daily user sending limit exceeded. - gsmtp"


@dataclass(frozen=True)
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    peer: Any
    tls: bool
    authenticated: bool

    @property
    def message(self) -> EmailMessage:
        """The message parsed back."""
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class RecordingHandler(ListsPipelining):
    """Accepts mail and keeps it; chosen recipients get 451 once, 550, or a dropped line."""

    defer_once: set[str] = field(default_factory=set)  # 451 4.3.0 the first time
    refuse: set[str] = field(default_factory=set)  # 550 5.1.1 always
    drop_at_rcpt_once: set[str] = field(default_factory=set)  # connection cut before DATA
    drop_after_data: set[str] = field(default_factory=set)  # message kept, reply never sent
    close_at_rcpt_once: set[str] = field(default_factory=set)  # 421, then the line is closed
    open_data_anyway: set[str] = field(default_factory=set)  # 550 at RCPT, yet 354 at DATA
    sender_refusal: str | None = None  # the reply to every MAIL, instead of 250
    quota: int | None = None  # messages taken before the account's sending limit is reached
    content_refusal: str | None = None  # the reply to every end of DATA, instead of 250
    quota_stage: str = "end"  # where the limit's 550 5.4.5 comes: mail, rcpt or end
    pipelining: bool = True  # EHLO lists PIPELINING, as providers' servers do
    pipelined: list[bool] = field(default_factory=list)  # per MAIL: RCPT and DATA came with it
    on_message: Callable[[Received], None] | None = None
    on_rcpt: Callable[[str], None] | None = None  # called with each address, before the reply
    received: list[Received] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)
    sessions: set[Any] = field(default_factory=set)  # peers that said EHLO
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw_ehlo(self, session: Session) -> None:
        self.sessions.add(session.peer)

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # What the client sent after MAIL without waiting for its reply (aiosmtpd's reader).
        early = bool(server._reader._buffer)  # type: ignore[attr-defined]
        self.pipelined.append(early)
        if early and not self.pipelining:  # what Postfix's reject_unauth_pipelining says
            return "503 5.5.0 Improper use of SMTP command pipelining"
        if self.sender_refusal is not None:
            return self.sender_refusal
        if self._over_quota("mail"):
            return QUOTA_REPLY
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        folded = address.lower()
        if self.on_rcpt is not None:
            self.on_rcpt(folded)
        if folded in self.refuse:
            return "550 5.1.1 No such user here"
        if folded in self.defer_once:
            self.defer_once.discard(folded)
            return "451 4.3.0 Mailbox busy, try again later"
        if self._over_quota("rcpt"):
            return QUOTA_REPLY
        if folded in self.close_at_rcpt_once:
            self.close_at_rcpt_once.discard(folded)
            await server.push("421 4.3.2 Service shutting down, closing channel")
            assert server.transport is not None
            server.transport.close()
            return "421 4.3.2 Service shutting down, closing channel"  # lost: the line is shut
        if folded in self.open_data_anyway:
            envelope.rcpt_tos.append(address)  # aiosmtpd then opens DATA for it
            return "550 5.1.1 No such user here"
        if folded in self.drop_at_rcpt_once:
            self.drop_at_rcpt_once.discard(folded)
            assert server.transport is not None
            server.transport.abort()
            return "250 OK"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert server.transport is not None
        if self._over_quota("end"):
            return QUOTA_REPLY
        if self.content_refusal is not None:
            return self.content_refusal
        content = envelope.original_content or b""
        message = Received(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=content,
            peer=session.peer,
            authenticated=bool(session.authenticated),
            tls=session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
        )
        with self.lock:
            self.received.append(message)
        if self.on_message is not None:
            self.on_message(message)
        if {r.lower() for r in envelope.rcpt_tos} & self.drop_after_data:
            server.transport.abort()
        return "250 2.0.0 OK queued"

    def _over_quota(self, stage: str) -> bool:
        return (
            stage == self.quota_stage
            and self.quota is not None
            and (len(self.received) >= self.quota)
        )

    def to(self, address: str) -> list[Received]:
        """Every message that was addressed to `address`."""
        return [m for m in self.received if address.lower() in {r.lower() for r in m.rcpt_tos}]

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """The one account: humas / the canary password."""
        if isinstance(auth_data, LoginPassword):
            self.logins.append(auth_data.login)
            return AuthResult(
                success=auth_data.login == USER.encode()
                and auth_data.password == PASSWORD.encode(),
                handled=False,
            )
        return AuthResult(success=False, handled=False)  # unhandled: the server says 535


@dataclass(frozen=True)
class SmtpServer:
    """A running server: where it listens and what it received."""

    host: str
    port: int
    handler: RecordingHandler

    def options(self, **overrides: Any) -> dict[str, Any]:
        """Email channel options pointing at this server."""
        return {
            "transport": "smtp",
            "host": self.host,
            "port": self.port,
            "from": "Diskominfo <humas@example.go.id>",
            **overrides,
        }


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A server-side TLS context with a certificate for localhost and 127.0.0.1."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return context


def run_server(handler: RecordingHandler, **kwargs: Any) -> Iterator[SmtpServer]:
    """Run an aiosmtpd Controller on a free loopback port until the generator closes."""
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=handler.authenticate,
        **kwargs,
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, handler)
    finally:
        controller.stop()
        controller.loop.close()  # or a ResourceWarning would fail the next test
