"""x against a fake X API v2 that checks what the real one checks: the OAuth 1.0a
signature (or the OAuth 2.0 bearer token), the weighted length, media ids it issued, and
answers with X's problem+json errors and x-rate-limit-* headers.

Media follow https://docs.x.com/x-api/media/upload-media and
https://docs.x.com/x-api/media/introduction ("Image 5 MB"; JPEG, PNG, WebP, GIF): the
upload refuses a file that is not one of those pictures or is over 5 MB (read as
5,000,000 bytes)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from chanpub.channels.oauth1 import (
    hmac_sha1_signature,
    parse_authorization,
    signature_base_string,
)
from chanpub.channels.x import XChannel, XOptions
from chanpub.errors import (
    AmbiguousError,
    AuthError,
    DuplicateError,
    PermanentError,
    ReleaseError,
    RetryableError,
)
from chanpub.render.shaping import URL_PATTERN, count_x
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    check_receipt,
    make_context,
    sample_links,
    sample_release,
)

KEYS = {
    "api_key": "consumer-key-1",
    "api_secret": f"consumer-secret-{SECRET_MARKER}",
    "access_token": "2244994945-usertoken",
    "access_secret": f"token-secret-{SECRET_MARKER}",
}
BEARER = f"oauth2-user-token-{SECRET_MARKER}"
VARIABLES = {
    "api_key": "X_API_KEY",
    "api_secret": "X_API_SECRET",
    "access_token": "X_ACCESS_TOKEN",
    "access_secret": "X_ACCESS_SECRET",
    "oauth2_token": "X_OAUTH2_TOKEN",
}
USER_ID = "2244994945"
IMAGE_MAX_BYTES = 5_000_000


def picture_format(data: bytes) -> str | None:
    """The picture format Pillow reads in `data`, or None when it is no picture."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format
    except UnidentifiedImageError:
        return None


def problem(status: int, title: str, detail: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        headers={"Content-Type": "application/problem+json", **headers},
        content=json.dumps(
            {"title": title, "detail": detail, "type": "about:blank", "status": status}
        ),
    )


def rate_headers(remaining: int = 99) -> dict[str, str]:
    return {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(int(time.time()) + 900),
    }


@dataclass
class FakeX:
    """One account on a fake X API; `next_failure` answers the next POST /2/tweets."""

    bearer: bool = False
    posts: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    next_failure: httpx.Response | None = None
    drop_connection_after_create: bool = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        if not self._authorised(request):
            return problem(401, "Unauthorized", "Unauthorized")
        route = (request.method, request.url.path)
        if route == ("POST", "/2/media/upload"):
            return self._upload(request)
        if route == ("POST", "/2/media/metadata"):
            body = json.loads(request.content)
            text = body["metadata"]["alt_text"]["text"]
            assert body["id"] in self.media and len(text) <= 1000
            self.media[body["id"]]["alt_text"] = text
            return httpx.Response(
                200, json={"data": {"id": body["id"], "associated_metadata": True}}
            )
        if route == ("POST", "/2/tweets"):
            return self._create(request)
        if route == ("GET", "/2/users/me"):
            return httpx.Response(
                200,
                json={"data": {"id": USER_ID, "name": "Kominfo Kota", "username": "KominfoKota"}},
            )
        if route == ("GET", f"/2/users/{USER_ID}/tweets"):
            assert "start_time" in request.url.params
            shown = [
                {
                    "id": p["id"],
                    "text": URL_PATTERN.sub("https://t.co/AbCdEf1234", p["text"]).replace(
                        "&", "&amp;"
                    ),
                }
                for p in reversed(self.posts)
            ]
            return httpx.Response(200, json={"data": shown, "meta": {"result_count": 1}})
        return problem(404, "Not Found Error", f"no route {route}")

    def _authorised(self, request: httpx.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.bearer:
            return header == f"Bearer {BEARER}"
        fields = parse_authorization(header)
        if (
            fields.get("oauth_consumer_key") != KEYS["api_key"]
            or fields.get("oauth_token") != KEYS["access_token"]
        ):
            return False
        if abs(int(fields["oauth_timestamp"]) - time.time()) > 300:
            return False
        oauth = [(k, v) for k, v in fields.items() if k != "oauth_signature"]
        query = list(request.url.params.multi_items())
        base_url = str(request.url.copy_with(query=None))
        base = signature_base_string(request.method, base_url, [*query, *oauth])
        return fields["oauth_signature"] == hmac_sha1_signature(
            base, KEYS["api_secret"], KEYS["access_secret"]
        )

    def _upload(self, request: httpx.Request) -> httpx.Response:
        content_type = request.headers["Content-Type"]
        assert content_type.startswith("multipart/form-data")
        body = request.read()
        assert b'name="media_category"\r\n\r\ntweet_image' in body
        match = re.search(rb'name="media"; filename="[^"]+"\r\nContent-Type: [^\r]+\r\n\r\n', body)
        assert match, "the image goes as the multipart field 'media'"
        boundary = content_type.split("boundary=")[1].encode()
        picture = body[match.end() :].split(b"\r\n--" + boundary)[0]
        if len(picture) > IMAGE_MAX_BYTES:
            return problem(400, "Invalid Request", "File size exceeds 5 MB")
        if picture_format(picture) not in ("JPEG", "PNG", "WEBP", "GIF"):
            return problem(400, "Invalid Request", "Unsupported media type")
        media_id = str(1146654567674912769 + len(self.media))
        self.media[media_id] = {"bytes": len(picture), "data": picture}
        return httpx.Response(
            200,
            json={
                "data": {
                    "id": media_id,
                    "media_key": f"3_{media_id}",
                    "expires_after_secs": 86400,
                    "size": len(body),
                }
            },
        )

    def _create(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Content-Type"] == "application/json"
        body = json.loads(request.content)
        media_ids = (body.get("media") or {}).get("media_ids", [])
        if not body.get("text") and not media_ids:
            return problem(400, "Invalid Request", "One or more parameters are invalid.")
        if any(m not in self.media for m in media_ids):
            return problem(400, "Invalid Request", "Your media IDs are invalid.")
        if count_x(body.get("text", "")) > 280:
            return problem(400, "Invalid Request", "Your Tweet text is too long.")
        if self.next_failure is not None:
            failure, self.next_failure = self.next_failure, None
            return failure
        if any(p["text"] == body["text"] for p in self.posts):
            return problem(
                403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
            )
        post_id = str(1445880548472328192 + len(self.posts))
        self.posts.append({"id": post_id, "text": body["text"], "media_ids": media_ids})
        if self.drop_connection_after_create:
            raise httpx.ReadTimeout("the answer never came", request=request)
        return httpx.Response(
            201, json={"data": {"id": post_id, "text": body["text"]}}, headers=rate_headers()
        )


def channel_for(tmp_path: Path, api: FakeX, **options: Any) -> XChannel:
    context = make_context(tmp_path, api, secrets=VARIABLES)
    values = {"oauth2_token": BEARER} if api.bearer else dict(KEYS)
    return XChannel("x", XOptions.model_validate({**values, **options}), context)


def test_contract(tmp_path: Path) -> None:
    preview = check_contract(
        XChannel,
        KEYS,
        sample_release(tmp_path),
        make_context(tmp_path),
        secrets=tuple(KEYS.values()),
    )
    assert preview.unit == "weighted characters" and preview.limit == 280


def test_signed_post_with_the_canonical_link(tmp_path: Path) -> None:
    api = FakeX()
    channel = channel_for(tmp_path, api)
    preview = channel.preview(sample_release(tmp_path, tags=["Adminduk"]), sample_links())
    receipt = check_receipt(channel.publish(preview, "k1"))
    assert api.posts[0]["text"] == preview.text
    assert "https://kominfo.example.go.id/siaran/contoh.html" in preview.text
    assert receipt.url == f"https://x.com/i/web/status/{api.posts[0]['id']}"


def test_image_is_uploaded_with_alt_text_before_the_post(tmp_path: Path) -> None:
    from phone_photo import metadata_of, portrait_photo

    portrait_photo(tmp_path / "foto.jpg")
    release = sample_release(tmp_path, image="foto.jpg", image_alt="Petugas melayani warga")
    api = FakeX()
    channel = channel_for(tmp_path, api, upload_base="https://api.x.com")
    preview = channel.preview(release, sample_links())
    assert "image: 1080x1920 (9:16), JPEG" in "\n".join(preview.warnings)
    channel.publish(preview, "k1")
    assert api.calls == ["POST /2/media/upload", "POST /2/media/metadata", "POST /2/tweets"]
    (media_id,) = api.posts[0]["media_ids"]
    assert api.media[media_id]["alt_text"] == "Petugas melayani warga"
    shown = metadata_of(api.media[media_id]["data"])
    assert shown["size"] == (1080, 1920) and shown["gps"] == {}, "upright, no location"


def test_an_image_over_5_mb_is_fitted_under_5_mb(tmp_path: Path) -> None:
    import random

    from PIL import Image

    noise = random.Random(3).randbytes(1400 * 1400 * 3)
    Image.frombytes("RGB", (1400, 1400), noise).save(tmp_path / "besar.png")
    assert (tmp_path / "besar.png").stat().st_size > IMAGE_MAX_BYTES
    release = sample_release(tmp_path, image="besar.png", image_alt="Foto besar")
    api = FakeX()
    channel = channel_for(tmp_path, api)
    channel.publish(channel.preview(release, sample_links()), "k1")
    (media,) = api.media.values()
    assert media["bytes"] <= IMAGE_MAX_BYTES and picture_format(media["data"]) == "JPEG"


def test_a_file_that_is_no_picture_is_refused_before_sending(tmp_path: Path) -> None:
    (tmp_path / "foto.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a photo")
    release = sample_release(tmp_path, image="foto.jpg", image_alt="Foto")
    api = FakeX()
    channel = channel_for(tmp_path, api)
    with pytest.raises(ReleaseError, match="not a picture"):
        channel.check_release(release)
    with pytest.raises(PermanentError, match="not a picture"):
        channel.publish(channel.preview(release, sample_links()), "k1")
    assert api.calls == []


def test_oauth2_user_token_goes_as_bearer(tmp_path: Path) -> None:
    api = FakeX(bearer=True)
    channel = channel_for(tmp_path, api)
    channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert len(api.posts) == 1


def test_wide_characters_and_links_are_counted_the_way_x_counts(tmp_path: Path) -> None:
    title = "東京都との協力協定 " * 12  # CJK weighs 2: this title alone is over 200
    channel = channel_for(tmp_path, FakeX())
    preview = channel.preview(sample_release(tmp_path, title=title.strip()), sample_links())
    assert preview.length == count_x(preview.text) <= 280
    assert preview.text.endswith("https://kominfo.example.go.id/siaran/contoh.html")
    assert any("shortened" in w for w in preview.warnings)


def test_rate_limit_waits_until_the_reset(tmp_path: Path) -> None:
    api = FakeX(
        next_failure=problem(
            429,
            "Too Many Requests",
            "Too Many Requests",
            **{**rate_headers(0), "x-rate-limit-reset": str(int(time.time()) + 120)},
        )
    )
    channel = channel_for(tmp_path, api)
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert caught.value.retry_after is not None and 110 <= caught.value.retry_after <= 120


def test_duplicate_content_is_reported_as_duplicate(tmp_path: Path) -> None:
    api = FakeX()
    channel = channel_for(tmp_path, api)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    channel.publish(preview, "k1")
    with pytest.raises(DuplicateError):
        channel.publish(preview, "another-key")


def test_refused_credentials_name_the_variables(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, FakeX(), access_secret="wrong-secret")
    with pytest.raises(AuthError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert "X_ACCESS_TOKEN" in caught.value.message and "X_ACCESS_SECRET" in caught.value.message
    assert "wrong-secret" not in caught.value.message


def test_expired_oauth2_token_names_its_variable(tmp_path: Path) -> None:
    api = FakeX(bearer=True)
    channel = channel_for(tmp_path, api, oauth2_token="expired")
    with pytest.raises(AuthError, match=r"2 hours.*X_OAUTH2_TOKEN"):
        channel.verify()


def test_lost_answer_is_ambiguous_and_lookup_finds_the_post(tmp_path: Path) -> None:
    api = FakeX(drop_connection_after_create=True)
    channel = channel_for(tmp_path, api)
    preview = channel.preview(sample_release(tmp_path, title="Harga & Stok Aman"), sample_links())
    with pytest.raises(AmbiguousError):
        channel.publish(preview, "k1")
    found = channel.lookup("k1")
    assert found is not None and found.remote_id == api.posts[0]["id"]
    assert channel.lookup("never-sent") is None


def test_text_that_cannot_be_shortened_is_refused_before_sending(tmp_path: Path) -> None:
    api = FakeX()
    channel = channel_for(tmp_path, api, template="{{ url }} " + "Info resmi. " * 30)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    with pytest.raises(PermanentError, match="nothing more can be shortened"):
        channel.publish(preview, "k1")
    assert api.calls == []


def test_verify_names_the_account(tmp_path: Path) -> None:
    events: list[tuple[str, Any]] = []
    context = make_context(tmp_path, FakeX(), progress=lambda e, d: events.append((e, dict(d))))
    XChannel("x", XOptions.model_validate(KEYS), context).verify()
    assert events == [("verified", {"account": "KominfoKota"})]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({k: v for k, v in KEYS.items() if k != "access_secret"}, r"access_secret\n.*required"),
        ({"api_key": "k"}, r"api_secret\n.*required"),
        ({**KEYS, "oauth2_token": BEARER}, "not both"),
        ({"oauth2_token": BEARER, "api_base": "api.x.com"}, "https://"),
        ({"oauth2_token": BEARER, "upload_base": "ftp://upload"}, "https://"),
        ({"oauth2_token": BEARER, "bearer_token": "app-only"}, "bearer_token"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        XOptions.model_validate(options)


def test_no_credentials_at_all_fail_the_check_before_sending(tmp_path: Path) -> None:
    from chanpub.errors import ConfigError

    api = FakeX()
    channel = XChannel("x", XOptions.model_validate({}), make_context(tmp_path, api))
    with pytest.raises(ConfigError, match="no credentials"):
        channel.check()
    with pytest.raises(AuthError, match="no credentials"):
        channel.verify()
    assert api.calls == []


def test_a_key_whose_variable_is_unset_makes_the_channel_not_ready(tmp_path: Path) -> None:
    from chanpub.config import load_config

    (tmp_path / "channels.yaml").write_text(
        "channels:\n  x:\n    type: x\n"
        + "".join(
            f"    {option}: ${{{variable}}}\n"
            for option, variable in VARIABLES.items()
            if option != "oauth2_token"
        ),
        encoding="utf-8",
    )
    (tmp_path / ".env").write_text(
        "X_API_KEY=key-k1k1k1\nX_API_SECRET=secret-s2s2\nX_ACCESS_TOKEN=token-t3t3\n",
        encoding="utf-8",
    )
    channel = load_config(tmp_path / "channels.yaml").channels["x"]
    assert not channel.ready
    assert channel.missing == ("X_ACCESS_SECRET",)


def test_clarification_post_text(tmp_path: Path, golden: Any) -> None:
    release = sample_release(
        tmp_path,
        title="Pesan Berantai Soal Pemadaman Air Tidak Benar",
        kind="clarification",
        claim="PDAM memadamkan air selama tiga hari",
        verdict="HOAKS",
        tags=["cek fakta", "PDAM"],
        summary="PDAM Kota Contoh tidak menjadwalkan pemadaman; layanan berjalan normal dan "
        "warga diminta tidak menyebarkan pesan berantai tersebut. " * 3,
    )
    preview = channel_for(tmp_path, FakeX()).preview(release, sample_links())
    assert preview.length is not None and preview.length <= 280
    golden("x/clarification.txt", preview.text)
