"""A plain local SMTP relay on loopback (aiosmtpd) that records every message and can hold
the connection open after the N-th message was stored, until the client is killed."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from mta_ehlo import ListsPipelining


@dataclass
class Relay(ListsPipelining):
    """Stores messages; `hold_at` makes the N-th message's reply wait (the message is kept)."""

    hold_at: int | None = None
    delay: float = 0.0  # seconds before each reply to the end of DATA (a slow server)
    victim: int | None = None  # a process to SIGKILL at `kill_stage`, after `kill_after` more
    kill_stage: str = "data"  # 'rcpt': before DATA; 'data': message stored, reply not sent
    kill_after: int = 0
    killed: list[tuple[str, str]] = field(default_factory=list)  # (stage, address)
    received: list[tuple[str, str]] = field(default_factory=list)  # (recipient, subject)
    held: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    refuse: frozenset[str] = frozenset()  # addresses refused for good (550) at RCPT
    sources: dict[tuple[str, int], int | None] = field(default_factory=dict)  # peer: its pid

    def _maybe_kill(self, stage: str, address: str, session: Session) -> None:
        if self.victim is None or stage != self.kill_stage:
            return
        if self._source(session) != self.victim:
            return  # another worker's recipients do not bring the victim's kill point nearer
        self.kill_after -= 1
        if self.kill_after <= 0:
            os.kill(self.victim, signal.SIGKILL)
            self.killed.append((stage, address.lower()))
            self.victim = None

    def _source(self, session: Session) -> int | None:
        """The victim's pid when the session is one of its connections (looked up once per
        connection, in the victim's open sockets)."""
        peer = (str(session.peer[0]), int(session.peer[1]))
        if peer not in self.sources:
            victim = self.victim
            try:
                ports = {c.laddr.port for c in psutil.Process(victim).net_connections("tcp")}
            except (psutil.Error, ValueError):
                ports = set()
            self.sources[peer] = victim if peer[1] in ports else None
        return self.sources[peer]

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        self._maybe_kill("rcpt", address, session)
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient.lower(), str(message["Subject"])))
            self._maybe_kill("data", recipient, session)  # stored; the 250 never reaches the client
        if self.hold_at is not None and len(self.received) >= self.hold_at:
            self.hold_at = None
            self.held.set()
            await asyncio.sleep(60)  # the client is killed while waiting for our 250
        return "250 2.0.0 OK queued"

    def count(self, recipient: str, title: str) -> int:
        """How many messages about `title` reached `recipient`."""
        return sum(
            1 for to, subject in self.received if to == recipient.lower() and title in subject
        )


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(relay: Relay) -> Iterator[Relay]:
    """Run the relay until the block ends."""
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    relay.port = controller.port
    try:
        yield relay
    finally:
        controller.stop()
        controller.loop.close()  # else a ResourceWarning fails the next test


def press_list(folder: Path, count: int) -> tuple[str, list[str]]:
    """A CSV of `count` journalists; returns its name (relative to folder) and addresses."""
    addresses = [f"wartawan{n:02}@media.example" for n in range(count)]
    (folder / "media.csv").write_text(
        "email,name\n" + "".join(f"{a},Wartawan {n}\n" for n, a in enumerate(addresses)),
        encoding="utf-8",
    )
    return "media.csv", addresses
