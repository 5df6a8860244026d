"""OAuth 1.0a request signing (HMAC-SHA1, RFC 5849 §3.4), as the X API expects it.

Docs: https://docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature
Only the query string and an `application/x-www-form-urlencoded` body are signed; JSON and
multipart bodies are not part of the signature (RFC 5849 §3.4.1.3.1). Written here with the
standard library (about sixty lines) rather than pulling in a library for one algorithm.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

if TYPE_CHECKING:
    import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding: everything but ALPHA, DIGIT and '-._~' (UTF-8 first)."""
    return quote(value, safe="-._~")


def base_string_uri(url: str) -> str:
    """The URL without query or fragment; scheme and host lower case, default port dropped."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    return urlunsplit((scheme, host, parts.path or "/", "", ""))


def signature_base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """METHOD&encoded-URL&encoded-sorted-parameters (RFC 5849 §3.4.1)."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    parameter_string = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join(
        (method.upper(), percent_encode(base_string_uri(url)), percent_encode(parameter_string))
    )


def hmac_sha1_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    """Base64 HMAC-SHA1 of the base string, keyed with both secrets."""
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class OAuth1Signer:
    """Signs httpx requests for one user: pass an instance as `auth=` to httpx."""

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token: str = field(repr=False)
    token_secret: str = field(repr=False)

    def oauth_params(
        self, nonce: str | None = None, timestamp: int | None = None
    ) -> dict[str, str]:
        """The oauth_* protocol parameters of one request (fresh nonce and time)."""
        return {
            "oauth_consumer_key": self.consumer_key,
            "oauth_nonce": nonce or secrets.token_hex(16),
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
            "oauth_token": self.token,
            "oauth_version": "1.0",
        }

    def authorization(
        self,
        method: str,
        url: str,
        params: Iterable[tuple[str, str]] = (),
        *,
        nonce: str | None = None,
        timestamp: int | None = None,
    ) -> str:
        """The `Authorization: OAuth ...` header value for a request with these parameters
        (query string and form body, unencoded)."""
        oauth = self.oauth_params(nonce, timestamp)
        base = signature_base_string(method, url, [*params, *oauth.items()])
        oauth["oauth_signature"] = hmac_sha1_signature(
            base, self.consumer_secret, self.token_secret
        )
        return "OAuth " + ", ".join(
            f'{percent_encode(k)}="{percent_encode(v)}"' for k, v in sorted(oauth.items())
        )

    def __call__(self, request: httpx.Request) -> httpx.Request:
        """Sign a request in place (httpx calls this for `auth=`)."""
        params = list(parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True))
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            params += parse_qsl(request.read().decode("utf-8"), keep_blank_values=True)
        request.headers["Authorization"] = self.authorization(
            request.method, str(request.url), params
        )
        return request


def parse_authorization(value: str) -> dict[str, str]:
    """The parameters of an `OAuth k="v", ...` header, decoded (for servers and tests)."""
    from urllib.parse import unquote

    if not value.startswith("OAuth "):
        return {}
    result: dict[str, str] = {}
    for part in value[len("OAuth ") :].split(","):
        name, _, quoted = part.strip().partition("=")
        result[unquote(name)] = unquote(quoted.strip('"'))
    return result
