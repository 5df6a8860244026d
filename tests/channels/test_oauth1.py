"""OAuth 1.0a signing, checked against the worked example of X's "Creating a signature"
page (docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature)."""

from __future__ import annotations

import httpx
import pytest

from chanpub.channels.oauth1 import (
    OAuth1Signer,
    base_string_uri,
    hmac_sha1_signature,
    parse_authorization,
    percent_encode,
    signature_base_string,
)

SIGNER = OAuth1Signer(
    consumer_key="xvz1evFS4wEEPTGEFPHBog",
    consumer_secret="kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    token_secret="LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
)
NONCE = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
TIMESTAMP = 1318622958
STATUS = "Hello Ladies + Gentlemen, a signed OAuth request!"
PARAMS = [("status", STATUS), ("include_entities", "true")]


def test_base_string_matches_the_documented_one() -> None:
    oauth = SIGNER.oauth_params(NONCE, TIMESTAMP)
    base = signature_base_string(
        "post", "https://api.x.com/1.1/statuses/update.json", [*PARAMS, *oauth.items()]
    )
    assert base == (
        "POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue"
        "%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3"
        "uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D13186229"
        "58%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version"
        "%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520"
        "OAuth%2520request%2521"
    )


@pytest.mark.parametrize(
    ("host", "signature"),
    [
        # The page as first published (api.twitter.com), the signature the brief quotes.
        ("api.twitter.com", "hCtSmYh+iHYCEqBWrE7C7hYmtUk="),
        # The page today, rewritten for api.x.com; its bytes 2E CF 77 84 ... in base64.
        ("api.x.com", "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="),
    ],
)
def test_signature_matches_the_documented_example(host: str, signature: str) -> None:
    header = SIGNER.authorization(
        "POST", f"https://{host}/1.1/statuses/update.json", PARAMS, nonce=NONCE, timestamp=TIMESTAMP
    )
    assert parse_authorization(header)["oauth_signature"] == signature


def test_signing_an_httpx_request_signs_query_and_form_body() -> None:
    request = httpx.Request(
        "POST",
        "https://api.x.com/1.1/statuses/update.json?include_entities=true",
        data={"status": STATUS},
    )
    signed = OAuth1Signer(
        SIGNER.consumer_key, SIGNER.consumer_secret, SIGNER.token, SIGNER.token_secret
    )(request)
    fields = parse_authorization(signed.headers["Authorization"])
    oauth = {k: v for k, v in fields.items() if k != "oauth_signature"}
    base = signature_base_string(
        "POST", "https://api.x.com/1.1/statuses/update.json", [*PARAMS, *oauth.items()]
    )
    assert fields["oauth_signature"] == hmac_sha1_signature(
        base, SIGNER.consumer_secret, SIGNER.token_secret
    )
    assert fields["oauth_consumer_key"] == SIGNER.consumer_key


def test_a_json_body_is_not_signed() -> None:
    request = httpx.Request("POST", "https://api.x.com/2/tweets", json={"text": "Halo"})
    fields = parse_authorization(SIGNER(request).headers["Authorization"])
    oauth = {k: v for k, v in fields.items() if k != "oauth_signature"}
    base = signature_base_string("POST", "https://api.x.com/2/tweets", oauth.items())
    assert fields["oauth_signature"] == hmac_sha1_signature(
        base, SIGNER.consumer_secret, SIGNER.token_secret
    )


def test_nonces_differ_between_requests() -> None:
    first = SIGNER.oauth_params()["oauth_nonce"]
    assert first != SIGNER.oauth_params()["oauth_nonce"]


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("Ladies + Gentlemen", "Ladies%20%2B%20Gentlemen"),
        ("An encoded string!", "An%20encoded%20string%21"),
        ("Dogs, Cats & Mice", "Dogs%2C%20Cats%20%26%20Mice"),
        ("☃", "%E2%98%83"),
        ("-._~", "-._~"),
    ],
)
def test_percent_encoding_follows_the_documented_examples(value: str, encoded: str) -> None:
    assert percent_encode(value) == encoded


def test_base_uri_drops_default_port_query_and_case() -> None:
    assert base_string_uri("HTTPS://API.X.com:443/2/tweets?x=1#f") == "https://api.x.com/2/tweets"
    assert base_string_uri("http://127.0.0.1:8080/2/tweets") == "http://127.0.0.1:8080/2/tweets"


def test_secrets_stay_out_of_the_repr() -> None:
    assert SIGNER.consumer_secret not in repr(SIGNER)
    assert SIGNER.token_secret not in repr(SIGNER)
