"""What the Meta stand-ins (Facebook Page, Instagram, WhatsApp Cloud API) share: the Graph
API's versioned path, its access token, its error envelope and /debug_token.

- Versioned paths `/vNN.N/...`: https://developers.facebook.com/docs/graph-api/guides/versioning
- The token is the `access_token` parameter (query or body) or `Authorization: Bearer`;
  without one -> code 104, a wrong one -> 190, an expired one -> 190 subcode 463:
  https://developers.facebook.com/docs/graph-api/guides/error-handling (codes 102/190,
  subcodes 460-467) and https://developers.facebook.com/docs/facebook-login/guides/access-tokens/debugging
- Errors: `{"error": {"message", "type", "code", "error_subcode"?, "error_user_title"?,
  "error_user_msg"?, "fbtrace_id"}}`: https://developers.facebook.com/docs/graph-api/guides/error-handling
- GET /debug_token?input_token=: https://developers.facebook.com/docs/graph-api/reference/debug_token
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx

from .base import Body, Clock, StandIn, Tokens, read_body

_VERSIONED = re.compile(r"/(v\d{1,3}\.\d)/(.+)")


def graph_error(
    code: int,
    message: str,
    *,
    status: int = 400,
    subcode: int | None = None,
    user_title: str | None = None,
    user_msg: str | None = None,
    kind: str = "OAuthException",
    error_data: dict[str, Any] | None = None,
) -> httpx.Response:
    """Meta's error envelope."""
    error: dict[str, Any] = {
        "message": message,
        "type": kind,
        "code": code,
        "fbtrace_id": "AStandInTrace1",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_title:
        error["error_user_title"] = user_title
    if user_msg:
        error["error_user_msg"] = user_msg
    if error_data is not None:
        error["error_data"] = error_data
    return httpx.Response(status, json={"error": error})


class GraphStandIn(StandIn):
    """A Graph API host; subclasses answer `graph_route(method, segments, params, body)`."""

    token_status = 400  # HTTP status of a token error on this product

    def __init__(
        self, token: str, *, clock: Clock | None = None, lifetime: float | None = None
    ) -> None:
        super().__init__(clock)
        self.tokens = Tokens(self.clock)
        self.tokens.add(token, lifetime=lifetime)
        self.token = token
        self.versions: set[str] = set()

    def route(self, request: httpx.Request) -> httpx.Response:
        match = _VERSIONED.fullmatch(request.url.path)
        if match is None:
            return graph_error(
                2500, "Unknown path components: " + request.url.path, kind="OAuthException"
            )
        self.versions.add(match.group(1))
        body = read_body(request)
        params: dict[str, str] = dict(request.url.params)
        bearer = request.headers.get("Authorization", "")
        token = (
            params.pop("access_token", None)
            or body.get("access_token")
            or (bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else None)
        )
        state = self.tokens.check(token)
        if state == "missing":
            return graph_error(
                104,
                "An access token is required to request this resource.",
                status=self.token_status,
            )
        if state == "wrong":
            return graph_error(
                190,
                "Invalid OAuth access token - Cannot parse access token",
                status=self.token_status,
            )
        if state == "expired":
            expired = self.tokens.expiry[str(token)]
            assert expired is not None
            when = expired.strftime("%A, %d-%b-%y %H:%M:%S UTC")
            return graph_error(
                190,
                f"Error validating access token: Session has expired on {when}. The current time is "
                f"{self.clock.now().strftime('%A, %d-%b-%y %H:%M:%S UTC')}.",
                subcode=463,
                status=self.token_status,
            )
        segments = match.group(2).strip("/").split("/")
        if segments == ["debug_token"] and request.method == "GET":
            return self.debug_token(params.get("input_token", ""))
        return self.graph_route(request.method, segments, params, body)

    def graph_route(
        self, method: str, segments: list[str], params: dict[str, str], body: Body
    ) -> httpx.Response:
        """Answer one authenticated call (subclasses)."""
        raise NotImplementedError

    def too_many(self, request: httpx.Request, until: datetime) -> httpx.Response:
        minutes = max(1, int((until - self.clock.now()).total_seconds() // 60))
        usage = (
            '{"0":[{"type":"pages","call_count":100,"total_cputime":10,"total_time":10,'
            f'"estimated_time_to_regain_access":{minutes}}}]}}'
        )
        response = graph_error(
            80001,
            "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
        )
        response.headers["X-Business-Use-Case-Usage"] = usage
        return response

    def debug_token(self, input_token: str) -> httpx.Response:
        expires = self.tokens.expiry.get(input_token)
        valid = self.tokens.check(input_token) == "ok"
        return httpx.Response(
            200,
            json={
                "data": {
                    "is_valid": valid,
                    "expires_at": int(expires.timestamp()) if expires else 0,
                    "scopes": [],
                }
            },
        )

    @staticmethod
    def unsupported(method: str, segments: list[str]) -> httpx.Response:
        """Graph's answer to a path or method it does not know."""
        object_id = segments[0] if segments else ""
        return graph_error(
            100,
            f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation.",
            subcode=33,
            kind="GraphMethodException",
        )


class SendRuns:
    """Drives one adapter's delivery the way successive `chanpub send` runs do
    (chanpub.dispatch): a delivery an earlier run left in progress is looked up first;
    a lost answer (AmbiguousError) is looked up at once; a RetryableError waits for the
    next run. Each `run` returns the Receipt, or the ChannelError that ended the run."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.in_progress: set[str] = set()

    def run(self, preview: Any, key: str) -> Any:
        """One run of `chanpub send` for this delivery."""
        from chanpub.errors import AmbiguousError, ChannelError

        try:
            if key in self.in_progress:
                found = self.channel.lookup(key)  # an error here leaves it in progress
                if found is not None:
                    self.in_progress.discard(key)
                    return found
            self.in_progress.add(key)
            try:
                receipt = self.channel.publish(preview, key)
            except AmbiguousError as lost:
                receipt = self.channel.lookup(key)
                if receipt is None:
                    self.in_progress.discard(key)  # recorded as failed: published afresh
                    return lost
            except ChannelError:
                self.in_progress.discard(key)  # recorded as failed
                raise
        except ChannelError as error:
            return error
        self.in_progress.discard(key)
        return receipt


# The realistic release text: the newest emoji (a ZWJ sequence with a skin tone,
# a flag), Javanese script, and a Wikipedia address with parentheses.
REALISTIC_BODY = (
    "Layanan Adminduk keliling dibuka mulai Senin di 12 kelurahan 🧑🏽‍💻🇮🇩🫶🏾, "
    "ꦱꦸꦒꦼꦁꦫꦮꦸꦃ ꦮꦂꦒ ꦏꦸꦛ. Latar belakang: https://id.wikipedia.org/wiki/Jawa_(pulau)\n\n"
    "Warga cukup membawa KTP lama. Informasi lengkap di situs resmi.\n"
)
