"""One SMTP connection (stdlib smtplib): connect, TLS, login, and one message at a time,
with every reply sorted into sent / deferred (4xx) / failed (5xx) / ambiguous. A message
costs two round trips where the server offers PIPELINING (envelope.py), four elsewhere.

Docs: RFC 5321 (replies), RFC 3207 (STARTTLS), RFC 8314 (implicit TLS), RFC 2920
(PIPELINING), Python smtplib.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from chanpub.channels.email.envelope import check_size, open_data, size_limit
from chanpub.channels.email.replies import halts_sending, reply_text
from chanpub.errors import AuthError, PermanentError, RetryableError
from chanpub.i18n import _

if TYPE_CHECKING:
    from chanpub.channels.email.options import EmailOptions

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)

Verdict = Literal["sent", "deferred", "failed", "ambiguous", "halted"]


@dataclass(frozen=True)
class Outcome:
    """What became of one message: the verdict and the server's words."""

    verdict: Verdict
    reason: str = ""


@dataclass(frozen=True)
class Outgoing:
    """One message ready for the wire: envelope and RFC 5322 bytes (CRLF line ends)."""

    item: str
    sender: str
    recipient: str
    data: bytes
    message_id: str
    utf8: bool = False  # needs SMTPUTF8 (an address outside ASCII)


class ConnectionLost(Exception):
    """The connection broke before the message was complete: nothing was delivered."""


def dot_stuffed(data: bytes) -> bytes:
    """The DATA payload without its end: leading dots doubled, CRLF at the end. The end of
    DATA (END_OF_DATA) is sent on its own, after the in-progress mark."""
    payload = _LEADING_DOT.sub(b"..", data)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return payload


END_OF_DATA = b".\r\n"  # with the CRLF that ends the payload: <CRLF>.<CRLF> (RFC 5321 4.1.1.4)


class SmtpConnection:
    """A logged-in SMTP session that sends messages one after another."""

    def __init__(
        self,
        channel: str,
        options: EmailOptions,
        password_variable: str,
        username_variable: str,
        local_hostname: str,
    ) -> None:
        self.channel = channel
        self.options = options
        self.host = options.host or ""
        self.port = options.port or DEFAULT_PORTS[options.security]
        self.password_variable = password_variable
        self.username_variable = username_variable
        self.local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None

    @property
    def address(self) -> str:
        """host:port, for messages."""
        return f"{self.host}:{self.port}"

    @property
    def is_open(self) -> bool:
        """A session is open (it may still have been dropped by the server)."""
        return self._smtp is not None

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.options.verify_tls:  # the officer wrote `verify_tls: false` for this server
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def open(self) -> None:
        """Connect, secure the session as configured, and log in."""
        self.close()
        options = self.options
        try:
            if options.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    local_hostname=self.local_hostname,
                    timeout=options.timeout,
                    context=self._tls_context(),
                )
            else:
                smtp = smtplib.SMTP(
                    self.host,
                    self.port,
                    local_hostname=self.local_hostname,
                    timeout=options.timeout,
                )
            self._smtp = smtp
            # The end of DATA goes out as its own small write after the mark is committed;
            # with Nagle's algorithm it would wait for the ACK of the body (a delayed ACK:
            # ~40 ms a message), so small writes are sent at once.
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if options.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise PermanentError(
                        _(
                            "{channel}: the SMTP server {address} does not offer STARTTLS, so the "
                            "password would travel unencrypted: use 'security: tls' (port 465) or "
                            "ask the mail administrator"
                        ).format(channel=self.channel, address=self.address)
                    )
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            self._login(smtp)
        except (ssl.SSLCertVerificationError, ssl.CertificateError) as error:
            self.close()
            raise PermanentError(
                _(
                    "{channel}: the certificate of {address} cannot be trusted ({reason}): fix the "
                    "server's certificate, point SSL_CERT_FILE at your CA file, or set "
                    "'verify_tls: false' for this channel"
                ).format(
                    channel=self.channel,
                    address=self.address,
                    reason=getattr(error, "verify_message", None) or error,
                )
            ) from None
        except smtplib.SMTPResponseException as error:
            self.close()
            raise self._refused(error.smtp_code, error.smtp_error) from None
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise self._unreachable(error) from None
        except BaseException:
            self.close()
            raise

    def _login(self, smtp: smtplib.SMTP) -> None:
        options = self.options
        if not options.username:
            return
        if options.password is None:
            raise AuthError(
                _("{channel}: no SMTP password: set {variable}").format(
                    channel=self.channel, variable=self.password_variable
                ),
                variable=self.password_variable,
            )
        if not smtp.has_extn("auth"):
            raise PermanentError(
                _(
                    "{channel}: the SMTP server {address} does not offer AUTH on this connection: "
                    "check 'security:' and the port"
                ).format(channel=self.channel, address=self.address)
            )
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        try:
            # One mechanism only: smtplib.login() would try the next after a 535, and a
            # refused password would then be reported by whatever that one said.
            mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
            if mechanism is None:
                smtp.login(options.username, options.password.get_secret_value())
            else:
                smtp.user = options.username
                smtp.password = options.password.get_secret_value()
                try:
                    smtp.auth(mechanism, getattr(smtp, f"auth_{mechanism.lower()}"))
                finally:
                    smtp.password = ""
        except smtplib.SMTPAuthenticationError as error:
            raise AuthError(
                _(
                    "{channel}: the SMTP server {address} refused the login ({reply}): check "
                    "{user_variable} and {variable}"
                ).format(
                    channel=self.channel,
                    address=self.address,
                    reply=reply_text(error.smtp_code, error.smtp_error),
                    user_variable=self.username_variable,
                    variable=self.password_variable,
                ),
                variable=self.password_variable,
            ) from None

    def _unreachable(self, error: BaseException) -> PermanentError | RetryableError:
        reason = str(error) or type(error).__name__
        if isinstance(error, socket.gaierror):
            return PermanentError(
                _(
                    "{channel}: cannot find the SMTP server {address} ({reason}): check 'host:'"
                ).format(channel=self.channel, address=self.address, reason=reason)
            )
        return RetryableError(
            _(
                "{channel}: cannot reach the SMTP server {address} ({reason}): check 'host:', "
                "'port:' and 'security:', or try again later"
            ).format(channel=self.channel, address=self.address, reason=reason)
        )

    def _refused(self, code: int, reply: bytes | str) -> PermanentError | RetryableError:
        text = reply_text(code, reply)
        if code in (530, 534, 535, 538):
            return AuthError(
                _(
                    "{channel}: the SMTP server {address} wants a login ({reply}): "
                    "set 'username:' and {variable}"
                ).format(
                    channel=self.channel,
                    address=self.address,
                    reply=text,
                    variable=self.password_variable,
                ),
                variable=self.password_variable,
            )
        if 400 <= code < 500:
            return RetryableError(
                _("{channel}: the SMTP server {address} is busy ({reply}): try again later").format(
                    channel=self.channel, address=self.address, reply=text
                )
            )
        return PermanentError(
            _("{channel}: the SMTP server {address} refused the session ({reply})").format(
                channel=self.channel, address=self.address, reply=text
            )
        )

    def noop(self) -> int | None:
        """A cheap round trip (verify); returns the largest message the server takes."""
        smtp = self._require()
        try:
            smtp.noop()
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise self._unreachable(error) from None
        return size_limit(smtp)

    def close(self) -> None:
        """Say QUIT if the server still listens, and drop the socket."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _require(self) -> smtplib.SMTP:
        if self._smtp is None:
            raise ConnectionLost("not connected")
        return self._smtp

    def send(self, message: Outgoing, before_end: Callable[[], None]) -> Outcome:
        """Send one message; raise ConnectionLost when it surely did not arrive.

        Everything but the end of DATA goes out first; then `before_end` runs (it commits
        the in-progress mark), then the final dot. Only from that dot until the reply is
        read may the server take the message without chanpub knowing: a lost reply there is
        'ambiguous', since sending again could deliver twice (RFC 1047). A stop anywhere
        earlier leaves an unfinished transaction, which the server discards.
        """
        smtp = self._require()
        check_size(smtp, len(message.data), self.channel, self.address)
        options: list[str] = []
        if message.utf8:
            if not smtp.has_extn("smtputf8"):
                return Outcome(
                    "failed", _("the server does not accept addresses outside ASCII (no SMTPUTF8)")
                )
            options += ["SMTPUTF8", "BODY=8BITMIME"]
        elif smtp.has_extn("8bitmime") and not message.data.isascii():
            options.append("BODY=8BITMIME")
        try:
            refusal = open_data(smtp, message.sender, message.recipient, options, utf8=message.utf8)
            if refusal is not None:
                return self._after_refusal(smtp, refusal.code, refusal.reply, refusal.stage)
            smtp.send(dot_stuffed(message.data))
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise ConnectionLost(str(error) or type(error).__name__) from None
        try:
            before_end()
        except BaseException:  # no mark, no end: drop the line so the server discards it
            self._drop()
            raise
        try:
            smtp.send(END_OF_DATA)
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            return Outcome(
                "ambiguous",
                _(
                    "the connection broke after the whole message was sent ({reason}): it may "
                    "have been delivered; check with the recipient before sending again"
                ).format(reason=str(error) or type(error).__name__),
            )
        if code == 250:
            return Outcome("sent", reply_text(code, reply))
        return self._after_refusal(smtp, code, reply, stage="end")

    def _drop(self) -> None:
        """Close the socket without QUIT (inside DATA, QUIT would be message text)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _after_refusal(self, smtp: smtplib.SMTP, code: int, reply: bytes, stage: str) -> Outcome:
        text = reply_text(code, reply)
        if code == 421:  # the server is closing this session: nothing was taken
            self.close()
            raise ConnectionLost(text)
        try:
            if stage != "end":
                smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()
        if halts_sending(text):
            return Outcome("halted", text)
        if stage == "mail" and code >= 500:
            raise self._sender_refused(code, text)
        if 400 <= code < 500:
            return Outcome("deferred", text)
        return Outcome("failed", text)

    def _sender_refused(self, code: int, text: str) -> PermanentError:
        if code in (530, 534, 535, 538):
            return AuthError(
                _(
                    "{channel}: the SMTP server {address} wants a login before "
                    "sending ({reply}): set 'username:' and {variable}"
                ).format(
                    channel=self.channel,
                    address=self.address,
                    reply=text,
                    variable=self.password_variable,
                ),
                variable=self.password_variable,
            )
        return PermanentError(
            _(
                "{channel}: the SMTP server {address} refused the sender {sender} ({reply}): "
                "check 'from:' (it must be an address this account may send as)"
            ).format(
                channel=self.channel, address=self.address, sender=self.options.sender, reply=text
            )
        )
