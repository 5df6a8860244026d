"""Keeping an Instagram Login token alive: refresh it before it expires, keep the new one
in the state directory's store (never in channels.yaml), know when it expires.

Docs: https://developers.facebook.com/docs/instagram-platform/reference/refresh_access_token
`GET https://graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token
&access_token=...` refreshes a long-lived Instagram User token that is at least 24 hours
old and not expired; the answer `{access_token, token_type, expires_in}` is valid for 60
days. Only Instagram Login tokens (host graph.instagram.com) can be refreshed this way; a
Facebook Login token (graph.facebook.com) cannot be refreshed without the app secret, and
its expiry comes from /debug_token instead (see chanpub.channels.meta_graph).

The configured token stays the source: the store remembers which configured token a
refreshed one descends from (a fingerprint), so setting a new token in the variable wins.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chanpub.errors import ChannelError

if TYPE_CHECKING:
    from pydantic import SecretStr

    from chanpub.contract import ChannelContext

INSTAGRAM_LOGIN_HOST = "graph.instagram.com"
DAY = 86400
REFRESH_BELOW = 50 * DAY  # refresh when fewer days than this are left (about every 10 days)
RETRY_AFTER = DAY  # a refused refresh (a token under 24 h old) is tried again a day later
STORE_KEY = "token"


def fingerprint(token: SecretStr) -> str:
    """A short one-way tag of a configured token, to tell when the officer replaced it."""
    return hashlib.sha256(token.get_secret_value().encode()).hexdigest()[:16]


class TokenKeeper:
    """The token one instagram channel sends, refreshed where the platform allows it."""

    def __init__(
        self,
        context: ChannelContext,
        channel: str,
        graph_base: str,
        configured: SecretStr,
        token_variable: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.context = context
        self.channel = channel
        self.graph_base = graph_base
        self.configured = configured
        self.token_variable = token_variable
        self.clock = clock

    @property
    def refreshable(self) -> bool:
        """True for an Instagram Login token (the only kind refresh_access_token takes)."""
        import httpx

        return httpx.URL(self.graph_base).host == INSTAGRAM_LOGIN_HOST

    def _record(self) -> dict[str, Any] | None:
        if not self.refreshable:
            return None
        record = self.context.store(f"instagram:{self.channel}").get(STORE_KEY)
        if isinstance(record, dict) and record.get("from") == fingerprint(self.configured):
            return record
        return None  # never refreshed, or the officer set a new token since

    def current(self) -> SecretStr:
        """The newest token: the refreshed one when it descends from the configured one."""
        from pydantic import SecretStr

        record = self._record()
        if record and record.get("token"):
            return SecretStr(str(record["token"]))
        return self.configured

    def days_left(self) -> int | None:
        """Whole days until the kept token expires; None when unknown."""
        record = self._record()
        expires = record.get("expires_at") if record else None
        if not isinstance(expires, int | float):
            return None
        return max(0, int((expires - self.clock()) // DAY))

    def refresh_if_due(self) -> None:
        """Refresh the token when it is refreshable and due; a refused refresh is reported
        and tried again a day later (the token in use still works until it expires)."""
        if not self.refreshable:
            return
        now = self.clock()
        record = self._record() or {"from": fingerprint(self.configured)}
        if now - float(record.get("tried_at", 0)) < RETRY_AFTER:
            return
        expires = record.get("expires_at")
        if isinstance(expires, int | float) and expires - now > REFRESH_BELOW:
            return
        from chanpub.channels.meta_graph import graph_call

        store = self.context.store(f"instagram:{self.channel}")
        try:
            payload, _response = graph_call(
                self.context.http,
                "GET",
                f"{self.graph_base}/refresh_access_token",
                token=self.current(),
                channel=self.channel,
                token_variable=self.token_variable,
                params={"grant_type": "ig_refresh_token"},
            )
        except ChannelError as error:
            store.put(STORE_KEY, record | {"tried_at": now})
            self.context.report("token-refresh-failed", reason=error.message)
            return
        token, lifetime = payload.get("access_token"), payload.get("expires_in")
        if not isinstance(token, str) or not token:
            store.put(STORE_KEY, record | {"tried_at": now})
            return
        kept = record | {"token": token, "refreshed_at": now, "tried_at": now}
        if isinstance(lifetime, int | float):
            kept["expires_at"] = int(now + lifetime)
        store.put(STORE_KEY, kept)
