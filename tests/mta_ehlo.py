"""What the loopback SMTP servers (aiosmtpd) answer to EHLO: aiosmtpd's own list, plus
PIPELINING (RFC 2920), which aiosmtpd handles but does not list, and every MTA lists."""

from __future__ import annotations

from aiosmtpd.smtp import SMTP, Envelope, Session


class ListsPipelining:
    """A handler's EHLO hook: PIPELINING listed while `pipelining` is true."""

    pipelining: bool = True

    def saw_ehlo(self, session: Session) -> None:
        """Called at every EHLO; a handler that keeps its sessions notes this one."""

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.saw_ehlo(session)
        session.host_name = hostname  # what aiosmtpd's own EHLO would have done
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses
