"""OAuth 1.0a signatures checked the way X checks them (HMAC-SHA1, RFC 5849 §3.4):
https://docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature. Written
apart from chanpub.channels.oauth1 on purpose, so a mistake there is not repeated here."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, quote, unquote

import httpx


def _pct(value: str) -> str:
    return quote(value, safe="-._~")


def oauth1_valid(request: httpx.Request, consumer: tuple[str, str], token: tuple[str, str]) -> bool:
    """Whether the request carries a correct HMAC-SHA1 OAuth 1.0a signature (RFC 5849)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("OAuth "):
        return False
    oauth = {
        unquote(k.strip()): unquote(v.strip().strip('"'))
        for k, _, v in (p.partition("=") for p in header[6:].split(","))
    }
    if oauth.get("oauth_consumer_key") != consumer[0] or oauth.get("oauth_token") != token[0]:
        return False
    params = [(k, v) for k, v in oauth.items() if k != "oauth_signature"]
    params += parse_qsl(request.url.query.decode(), keep_blank_values=True)
    if request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        params += parse_qsl(request.read().decode(), keep_blank_values=True)
    normal = "&".join(f"{k}={v}" for k, v in sorted((_pct(k), _pct(v)) for k, v in params))
    url = f"{request.url.scheme}://{request.url.host}{request.url.path}"
    base = "&".join((request.method, _pct(url), _pct(normal)))
    key = f"{_pct(consumer[1])}&{_pct(token[1])}".encode()
    expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(expected, oauth.get("oauth_signature", ""))
