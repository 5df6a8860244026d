"""The envelope of one message — MAIL, RCPT and DATA — sent in one write when the server
offers PIPELINING, one command at a time when it does not.

Over a real network each command waited for is a round trip: 30–200 ms to a provider,
so a list of 100,000 on one connection spends hours only waiting. RFC 2920 lets a client
send MAIL, RCPT and DATA together once EHLO lists PIPELINING (Postfix, Exim, Gmail and
Microsoft 365 all do), then read the three replies in order; DATA must end the group, and
the message itself goes only after its 354. A refused MAIL or RCPT makes the server refuse
the DATA after it too (503 or 554), so nothing is delivered for that message.
Docs: https://www.rfc-editor.org/rfc/rfc2920 (sections 3.1 and 3.2).
A server that lists no PIPELINING gets each command on its own: some refuse a client
that talks before its turn (Postfix's reject_unauth_pipelining).

Before any of it, the message's size against the SIZE the server lists (RFC 1870): over it,
the server would take every copy over the wire and then refuse it (552).
Docs: https://www.rfc-editor.org/rfc/rfc1870 (section 4).
"""

from __future__ import annotations

import smtplib
from typing import NamedTuple

from chanpub.errors import PermanentError
from chanpub.i18n import _
from chanpub.render.pictures import byte_label

ACCEPTED = {"mail": (250,), "rcpt": (250, 251), "data": (354,)}
CLOSING = 421  # the server ends the session: no reply follows this one


def size_limit(smtp: smtplib.SMTP) -> int | None:
    """The largest message the server takes, in bytes, or None when it announces none
    (no SIZE, SIZE without a number, or SIZE 0)."""
    limit = smtp.esmtp_features.get("size", "")
    return int(limit) if limit.isdigit() and int(limit) > 0 else None


def check_size(smtp: smtplib.SMTP, size: int, channel: str, address: str) -> None:
    """Refuse, for the whole channel, a message larger than the server takes. Its copies
    differ only in their addresses, so the first one over the limit stops the channel,
    before anyone is sent anything."""
    limit = size_limit(smtp)
    if limit is not None and size > limit:
        raise PermanentError(
            _(
                "{channel}: a message is {size}, more than the {limit} the SMTP server "
                "{address} takes (its SIZE): attach fewer or smaller files ('attach:') "
                "or ask the mail administrator to raise it"
            ).format(
                channel=channel,
                size=byte_label(size),
                limit=byte_label(limit),
                address=address,
            )
        )


class Refusal(NamedTuple):
    """Where the envelope was refused, and the server's reply there."""

    stage: str  # mail, rcpt or data
    code: int
    reply: bytes


def open_data(
    smtp: smtplib.SMTP, sender: str, recipient: str, options: list[str], *, utf8: bool
) -> Refusal | None:
    """Start one message: None once the server waits for its content (354), else the first
    refusal. smtplib's errors (a broken connection) are the caller's to handle."""
    if smtp.has_extn("pipelining"):
        return _pipelined(smtp, sender, recipient, options, utf8=utf8)
    return _one_by_one(smtp, sender, recipient, options)


def _one_by_one(
    smtp: smtplib.SMTP, sender: str, recipient: str, options: list[str]
) -> Refusal | None:
    code, reply = smtp.mail(sender, options)
    if code not in ACCEPTED["mail"]:
        return Refusal("mail", code, reply)
    code, reply = smtp.rcpt(recipient)
    if code not in ACCEPTED["rcpt"]:
        return Refusal("rcpt", code, reply)
    code, reply = smtp.docmd("data")
    if code not in ACCEPTED["data"]:
        return Refusal("data", code, reply)
    return None


def _pipelined(
    smtp: smtplib.SMTP, sender: str, recipient: str, options: list[str], *, utf8: bool
) -> Refusal | None:
    extra = "".join(f" {option}" for option in options)
    group = (
        f"MAIL FROM:{smtplib.quoteaddr(sender)}{extra}\r\n"
        f"RCPT TO:{smtplib.quoteaddr(recipient)}\r\n"
        "DATA\r\n"
    )
    # One write: with TCP_NODELAY, separate writes would leave as separate packets.
    smtp.send(group.encode("utf-8" if utf8 else "ascii"))  # SMTPUTF8 allows UTF-8 addresses
    refusal = None
    for stage in ACCEPTED:
        code, reply = smtp.getreply()
        if code == CLOSING:
            return Refusal(stage, code, reply)
        if code in ACCEPTED[stage]:
            if stage == "data" and refusal is not None:
                # DATA opened after a refused envelope breaks RFC 2920 3.1; a line closed
                # mid-DATA makes the server discard whatever it holds.
                smtp.close()
        elif refusal is None:
            refusal = Refusal(stage, code, reply)
    return refusal
