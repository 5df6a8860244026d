"""What the loopback SMTP servers (aiosmtpd) answer to EHLO: aiosmtpd's own list, plus
PIPELINING (RFC 2920), which aiosmtpd handles but does not list, and every MTA lists."""

from __future__ import annotations

from aiosmtpd.smtp import Session


def ehlo_reply(
    session: Session, hostname: str, responses: list[str], pipelining: bool
) -> list[str]:
    """The EHLO lines for a handler's handle_EHLO hook, PIPELINING listed or not."""
    session.host_name = hostname  # what aiosmtpd's own EHLO would have done
    if pipelining:
        return [*responses[:-1], "250-PIPELINING", responses[-1]]
    return responses
