"""When a Meta token expires: /debug_token, read for `channels --verify`.

Docs: https://developers.facebook.com/docs/graph-api/reference/debug_token (`expires_at`
in Unix seconds, 0 = never; `is_valid`; `scopes`). graph.instagram.com has no debug_token:
the instagram channel knows an Instagram Login token's expiry from its own refresh
(chanpub.channels.instagram.tokens).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chanpub.channels.meta_graph import graph_call
from chanpub.errors import AuthError, ChannelError
from chanpub.i18n import _

if TYPE_CHECKING:
    import httpx
    from pydantic import SecretStr


def days_left(expires_at: Any, now: datetime | None = None) -> int | None:
    """Whole days until a Unix `expires_at`; None when it never expires (0) or is unknown."""
    if not isinstance(expires_at, int) or expires_at <= 0:
        return None
    left = datetime.fromtimestamp(expires_at, UTC) - (now or datetime.now(UTC))
    return max(0, left.days)


def token_expiry(
    client: httpx.Client, graph: str, *, token: SecretStr, channel: str, token_variable: str
) -> dict[str, Any]:
    """What /debug_token says about a token: {'valid', 'days_left', 'scopes'}; {} when the
    host cannot tell (graph.instagram.com has no debug_token)."""
    try:
        payload, _response = graph_call(
            client,
            "GET",
            f"{graph}/debug_token",
            token=token,
            channel=channel,
            token_variable=token_variable,
            params={"input_token": token.get_secret_value()},
        )
    except AuthError:
        raise
    except ChannelError:
        return {}
    data = payload.get("data")
    if not isinstance(data, dict):
        return {}
    if data.get("is_valid") is False:
        raise AuthError(
            _(
                "{channel}: the access token in ${variable} is no longer valid: create a new "
                "one and set ${variable}"
            ).format(channel=channel, variable=token_variable),
            variable=token_variable,
        )
    return {
        "valid": True,
        "days_left": days_left(data.get("expires_at")),
        "scopes": list(data.get("scopes") or []),
    }
