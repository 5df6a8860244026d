"""XRPC calls of the bluesky channel: one session per account kept in the channel's store
and renewed with refreshSession (logins are limited to 30 per 5 minutes and 300 a day),
every call through chanpub.http.send with Bluesky's wait signal and error names.

Docs: https://docs.bsky.app/docs/advanced-guides/rate-limits (`RateLimit-Reset` is Unix
seconds), lexicons com.atproto.server.createSession / refreshSession / getSession.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chanpub.channels.atproto import Session
from chanpub.errors import AuthError, ChannelError
from chanpub.http import retry_after_seconds, send
from chanpub.i18n import _

if TYPE_CHECKING:
    import httpx

    from chanpub.contract import ChannelContext


class SessionExpired(AuthError):
    """The PDS no longer takes this access (or refresh) token: renew, then retry once."""


class Xrpc:
    """A PDS reached with the session of one account (`handle` on `service`)."""

    def __init__(
        self,
        context: ChannelContext,
        channel: str,
        service: str,
        handle: str,
        password: str,
    ) -> None:
        self.context = context
        self.channel = channel
        self.service = service
        self.handle = handle
        self._password = password
        self._session: Session | None = None
        self.variable = context.variable_for("app_password")

    def call(self, method: str, nsid: str, **kwargs: Any) -> Any:
        """One XRPC call with the session, its JSON answer; an expired access token is
        renewed once."""
        headers = dict(kwargs.pop("headers", {}))
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self.session().access}"
            try:
                return self._send(method, nsid, headers=headers, **kwargs).json()
            except SessionExpired:
                if attempt == 2:
                    raise
                self._renew()
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, nsid: str, **kwargs: Any) -> httpx.Response:
        return send(
            self.context.http,
            method,
            f"{self.service}/xrpc/{nsid}",
            channel=self.channel,
            secret_variable=self.variable,
            wait=rate_limit_wait,
            refine=self._refine,
            **kwargs,
        )

    def _refine(self, response: httpx.Response, error: ChannelError) -> ChannelError:
        name = error_name(response)
        if name in ("ExpiredToken", "InvalidToken"):
            return SessionExpired(error.message, variable=self.variable)
        if name == "AuthenticationRequired":
            return AuthError(error.message, variable=self.variable)
        return error

    # --- the session --------------------------------------------------------------------

    def _store_key(self) -> str:
        return f"session:{self.service}|{self.handle}"

    @property
    def current(self) -> Session | None:
        """The session in use, if one was made or loaded."""
        return self._session

    def session(self) -> Session:
        """The stored session, refreshed when its access token has expired, else a login."""
        if self._session is None:
            stored = self.context.store("bluesky").get(self._store_key())
            self._session = Session.from_stored(stored) or self._login()
        if self._session.expired():
            self._renew()
        assert self._session is not None
        return self._session

    def _keep(self, session: Session) -> Session:
        self.context.store("bluesky").put(self._store_key(), session.stored())
        self._session = session
        return session

    def _renew(self) -> None:
        current = self._session or Session.from_stored(
            self.context.store("bluesky").get(self._store_key())
        )
        if current is not None:
            answer = self._send(
                "POST",
                "com.atproto.server.refreshSession",
                headers={"Authorization": f"Bearer {current.refresh}"},
                accept=(400, 401),  # a refresh token that is gone too: log in again
            )
            if answer.is_success:
                self._keep(Session.from_answer(answer.json()))
                return
        self._session = self._login()

    def _login(self) -> Session:
        try:
            answer = self._send(
                "POST",
                "com.atproto.server.createSession",
                json={"identifier": self.handle, "password": self._password},
            )
        except AuthError:
            raise self._refused() from None
        return self._keep(Session.from_answer(answer.json()))

    def _refused(self) -> AuthError:
        return AuthError(
            _(
                "{channel}: Bluesky refused the login of {handle}: check the app password "
                "in ${variable} (Settings > Privacy and security > App passwords)"
            ).format(channel=self.channel, handle=self.handle, variable=self.variable),
            variable=self.variable,
        )


def rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds a 429/503 asks to wait: `Retry-After`, else `RateLimit-Reset` (Unix
    seconds) measured from the answer's `Date` when it has one."""
    wait = retry_after_seconds(response.headers.get("Retry-After"))
    if wait is not None:
        return wait
    reset = response.headers.get("RateLimit-Reset", "").strip()
    if not reset.isdigit():
        return None
    now = datetime.now(UTC).timestamp()
    if date := response.headers.get("Date"):
        now = retry_after_seconds(date, now=datetime(1970, 1, 1, tzinfo=UTC)) or now
    return max(0.0, float(reset) - now)


def error_name(response: httpx.Response) -> str:
    """The XRPC error name of an answer (`{"error": "ExpiredToken", ...}`), or ''."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    return str(payload.get("error", "")) if isinstance(payload, dict) else ""
