"""An X OAuth 2.0 user token kept alive: renewed with the refresh token before it expires.

Docs: https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
("Refresh tokens": scope `offline.access`) and
https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token. An access
token lives two hours; POST /2/oauth2/token with `grant_type=refresh_token` (and
`client_id`; a confidential client authenticates with HTTP Basic client_id:client_secret)
returns a new access token, its `expires_in` and a NEW refresh token: the old one stops
working. The newest pair is kept in the state directory's database (`context.store("x")`,
readable by this account only), never in channels.yaml; once there, it wins over the
option, until the officer authorises again and sets a different refresh token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chanpub.contract import ChannelContext, Store
from chanpub.errors import AuthError, ChannelError
from chanpub.i18n import _

if TYPE_CHECKING:
    import httpx

    from chanpub.channels.x.options import XOptions

RENEW_BEFORE = timedelta(minutes=5)  # renew this long before the token expires


class BearerTokens:
    """The OAuth 2.0 user token of one x channel."""

    def __init__(
        self,
        name: str,
        options: XOptions,
        context: ChannelContext,
        now: Callable[[], datetime],
    ) -> None:
        self.name = name
        self.options = options
        self.context = context
        self.now = now
        self._given_tried = False  # the option's token (of unknown age) was used once
        self._store: Store | None = None

    @property
    def renewable(self) -> bool:
        """True when chanpub holds a refresh token and can renew the access token."""
        return self.options.oauth2_refresh_token is not None

    @property
    def variable(self) -> str:
        """The variable to fix when the token is refused."""
        option = "oauth2_refresh_token" if self.renewable else "oauth2_token"
        return self.context.variable_for(option)

    def _kept_in(self) -> Store:
        if self._store is None:
            self._store = self.context.store("x")
        return self._store

    def _key(self) -> str:
        return f"oauth2:{self.name}"

    def _seed(self) -> str:
        """A fingerprint of the option's refresh token: a new one (authorised again)
        starts a new chain instead of the stored, rotated one."""
        assert self.options.oauth2_refresh_token is not None
        secret = self.options.oauth2_refresh_token.get_secret_value()
        return hashlib.sha256(secret.encode()).hexdigest()[:16]

    def kept(self) -> dict[str, Any] | None:
        """The stored token pair of this channel's current chain, or None."""
        if not self.renewable:
            return None
        value = self._kept_in().get(self._key())
        return value if isinstance(value, dict) and value.get("seed") == self._seed() else None

    def expires_at(self) -> datetime | None:
        """When the access token in use expires (None: unknown)."""
        kept = self.kept()
        return datetime.fromisoformat(kept["expires_at"]) if kept else None

    def access_token(self) -> str:
        """A token to send now: the kept one while it has time left, else a renewed one;
        the option's own token (age unknown) until it is refused or a chain exists."""
        kept = self.kept()
        if kept is not None:
            if datetime.fromisoformat(kept["expires_at"]) - self.now() > RENEW_BEFORE:
                return str(kept["access_token"])
            return self.renew()
        if self.options.oauth2_token is not None and (not self.renewable or not self._given_tried):
            self._given_tried = True
            return self.options.oauth2_token.get_secret_value()
        return self.renew()

    def renew(self) -> str:
        """Exchange the refresh token for a new pair and keep it (before anything else)."""
        from chanpub.http import send

        assert self.options.oauth2_refresh_token is not None and self.options.client_id
        kept = self.kept()
        refresh = (
            str(kept["refresh_token"])
            if kept
            else self.options.oauth2_refresh_token.get_secret_value()
        )
        secret = self.options.client_secret
        response = send(
            self.context.http,
            "POST",
            f"{self.options.api_base}/2/oauth2/token",
            channel=self.name,
            secret_variable=self.variable,
            refine=self._refused,
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "client_id": self.options.client_id,
            },
            auth=(self.options.client_id, secret.get_secret_value()) if secret else None,
        )
        answer: Any = response.json()
        access = str(answer.get("access_token") or "")
        if not access:
            raise self._refused(response, None)
        lifetime = float(answer.get("expires_in") or 7200)
        self._kept_in().put(
            self._key(),
            {
                "seed": self._seed(),
                "access_token": access,
                "refresh_token": str(answer.get("refresh_token") or refresh),
                "expires_at": (self.now() + timedelta(seconds=lifetime)).isoformat(),
            },
        )
        return access

    def _refused(self, response: httpx.Response, error: ChannelError | None) -> ChannelError:
        if error is not None and response.status_code not in (400, 401, 403):
            return error
        return AuthError(
            _(
                "{channel}: X refused to renew the OAuth 2.0 token ({status}): the refresh "
                "token from {variable} is no longer valid; authorise the app again (with the "
                "offline.access scope) and set {variable} to the new refresh token"
            ).format(channel=self.name, status=response.status_code, variable=self.variable),
            variable=self.variable,
        )
