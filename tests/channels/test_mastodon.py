"""mastodon against a fake instance that checks what a real one checks: the bearer token,
the form fields, the length rule (URLs as 23), media that must be processed before use,
and the Idempotency-Key; it answers with Mastodon's JSON shapes and rate-limit headers.

Pictures follow https://docs.joinmastodon.org/methods/media/#v2 and the instance's own
limits (https://docs.joinmastodon.org/methods/instance/#v2, configuration.
media_attachments): a file over `image_size_limit` bytes or over `image_matrix_limit`
pixels, or no picture, is refused with 422 as MediaAttachment's validations do."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from chanpub.channels import mastodon
from chanpub.channels.mastodon import MastodonChannel, MastodonOptions
from chanpub.errors import AmbiguousError, AuthError, ConfigError, PermanentError, RetryableError
from chanpub.render.shaping import count_mastodon
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    check_receipt,
    make_context,
    sample_links,
    sample_release,
)

INSTANCE = "https://sosial.kotacontoh.go.id"
TOKEN = f"masto-{SECRET_MARKER}"
OPTIONS = {"instance": INSTANCE, "token": TOKEN}


def masto_error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": message}, headers=headers)


@dataclass
class FakeInstance:
    """One account on a fake Mastodon instance; `fail` answers the next status POST."""

    max_characters: int = 500
    statuses: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    fail: Callable[[httpx.Request], httpx.Response] | None = None
    processing_polls: int = 1
    image_size_limit: int = 16_777_216  # Mastodon 4.x
    image_matrix_limit: int = 33_177_600
    pictures: list[bytes] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return masto_error(401, "The access token is invalid")
        route = (request.method, request.url.path)
        if route == ("POST", "/api/v1/statuses"):
            return self.create_status(request)
        if route == ("POST", "/api/v2/media"):
            return self.upload(request)
        if request.method == "GET" and request.url.path.startswith("/api/v1/media/"):
            item = self.media[request.url.path.rsplit("/", 1)[1]]
            item["polls"] -= 1
            item["ready"] = item["polls"] < 0
            return httpx.Response(200 if item["ready"] else 206, json={"id": item["id"]})
        if route == ("GET", "/api/v1/accounts/verify_credentials"):
            return httpx.Response(200, json={"id": "109", "username": "kominfo", "acct": "kominfo"})
        if route == ("GET", "/api/v1/accounts/109/statuses"):
            assert request.url.params["limit"] == "40"
            return httpx.Response(200, json=list(reversed(self.statuses)))
        if route == ("GET", "/api/v2/instance"):
            return httpx.Response(
                200,
                json={
                    "domain": "sosial.kotacontoh.go.id",
                    "configuration": {
                        "statuses": {
                            "max_characters": self.max_characters,
                            "characters_reserved_per_url": 23,
                        },
                        "media_attachments": {
                            "supported_mime_types": ["image/jpeg", "image/png", "image/webp"],
                            "image_size_limit": self.image_size_limit,
                            "image_matrix_limit": self.image_matrix_limit,
                        },
                    },
                },
            )
        return masto_error(404, "Record not found")

    def create_status(self, request: httpx.Request) -> httpx.Response:
        form = httpx.QueryParams(request.read().decode())
        key = request.headers.get("Idempotency-Key")
        assert key, "every status is posted with an Idempotency-Key"
        if key in self.keys:  # the server returns the status it made for this key
            return httpx.Response(200, json=self.keys[key])
        if self.fail is not None:
            failure, self.fail = self.fail, None
            return failure(request)
        text = form.get("status", "")
        if not text and "media_ids[]" not in form:
            return masto_error(422, "Validation failed: Text can't be blank")
        if count_mastodon(text) > self.max_characters:
            return masto_error(
                422, f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )
        assert form["visibility"] in ("public", "unlisted", "private", "direct")
        for media_id in form.get_list("media_ids[]"):
            if not self.media.get(media_id, {}).get("ready"):
                return masto_error(422, "Validation failed: media not ready")
        status_id = str(111000 + len(self.statuses))
        content = "".join(f"<p>{line}</p>" for line in text.split("\n\n"))
        status = {
            "id": status_id,
            "url": f"{INSTANCE}/@kominfo/{status_id}",
            "uri": f"{INSTANCE}/users/kominfo/statuses/{status_id}",
            "created_at": datetime.now(UTC).isoformat(),
            "content": content,
            "in_reply_to_id": form.get("in_reply_to_id"),
            "language": form["language"],
            "visibility": form["visibility"],
            "media_ids": form.get_list("media_ids[]"),
        }
        self.statuses.append(status)
        self.keys[key] = status
        return httpx.Response(200, json=status)

    def upload(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        assert request.headers["Content-Type"].startswith("multipart/form-data")
        assert b'name="description"' in body
        picture = body.split(b'name="file"; filename="')[1].split(b"\r\n\r\n", 1)[1]
        picture = picture.split(b"\r\n--" + request.headers["Content-Type"].split("=")[1].encode())[
            0
        ]
        if problem := self.picture_problem(picture):
            return masto_error(422, f"Validation failed: File {problem}")
        self.pictures.append(picture)
        media_id = str(7000 + len(self.media))
        description = body.split(b'name="description"\r\n\r\n')[1].split(b"\r\n--")[0]
        self.media[media_id] = {
            "id": media_id,
            "ready": False,
            "polls": self.processing_polls,
            "description": description.decode(),
        }
        return httpx.Response(
            202,
            json={
                "id": media_id,
                "type": "image",
                "url": None,
                "preview_url": f"{INSTANCE}/m/{media_id}.png",
            },
        )

    def picture_problem(self, data: bytes) -> str | None:
        """What the instance refuses in an uploaded picture (see the module docstring)."""
        from PIL import Image, UnidentifiedImageError

        if len(data) > self.image_size_limit:
            return f"file size must be less than {self.image_size_limit} bytes"
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height, kind = image.width, image.height, image.format
        except UnidentifiedImageError:
            return "content type is invalid"
        if kind not in ("JPEG", "PNG", "WEBP"):
            return "content type is invalid"
        if width * height > self.image_matrix_limit:
            return f"dimensions must be at most {self.image_matrix_limit} pixels"
        return None


def channel_for(tmp_path: Path, fake: FakeInstance, **options: Any) -> MastodonChannel:
    context = make_context(tmp_path, fake, secrets={"token": "MASTODON_TOKEN"})
    return MastodonChannel(
        "mastodon", MastodonOptions.model_validate({**OPTIONS, **options}), context
    )


def test_the_adapter_keeps_the_contract(tmp_path: Path) -> None:
    preview = check_contract(
        MastodonChannel, OPTIONS, sample_release(tmp_path), make_context(tmp_path), secrets=(TOKEN,)
    )
    assert preview.limit == 500 and preview.length == count_mastodon(preview.text)


def test_preview_is_the_status_as_it_will_be_posted(tmp_path: Path, golden: Any) -> None:
    release = sample_release(
        tmp_path, summary="Layanan keliling di 12 kelurahan.", tags=["Adminduk", "layanan publik"]
    )
    preview = channel_for(tmp_path, FakeInstance()).preview(release, sample_links())
    golden("mastodon/status.txt", preview.text)
    assert preview.warnings == ()


def test_a_long_clarification_is_shortened_but_keeps_its_verdict_and_link(tmp_path: Path) -> None:
    long_url = "https://kominfo.kotacontoh.go.id/siaran/" + "klarifikasi-" * 12 + "bansos.html"
    release = sample_release(
        tmp_path,
        kind="clarification",
        claim="Bansos dipotong",
        verdict="HOAKS",
        summary="Penjelasan panjang sekali. " * 60,
    )
    channel = channel_for(tmp_path, FakeInstance(), max_chars=300)
    preview = channel.preview(release, sample_links(long_url))
    assert preview.text.startswith("[HOAKS] ")
    assert long_url in preview.text
    assert preview.length == count_mastodon(preview.text) <= 300
    assert len(preview.text) > 300, "the long link counts as 23, not its full length"
    assert any("shortened" in warning for warning in preview.warnings)


def test_publish_posts_once_with_the_delivery_key(tmp_path: Path) -> None:
    fake = FakeInstance()
    channel = channel_for(tmp_path, fake, visibility="unlisted")
    preview = channel.preview(sample_release(tmp_path), sample_links())
    receipt = check_receipt(channel.publish(preview, key="k" * 64))
    again = channel.publish(preview, key="k" * 64)
    assert receipt.remote_id == again.remote_id == "111000"
    assert receipt.url == f"{INSTANCE}/@kominfo/111000"
    assert len(fake.statuses) == 1
    assert fake.statuses[0]["visibility"] == "unlisted" and fake.statuses[0]["language"] == "id"
    assert fake.requests[0].headers["Idempotency-Key"] == "k" * 64


def test_the_image_is_uploaded_with_its_alt_text_and_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mastodon, "MEDIA_POLL_DELAYS", (0.0, 0.0, 0.0))
    from PIL import Image

    Image.new("RGB", (1080, 1080), "navy").save(tmp_path / "poster.png")
    release = sample_release(tmp_path, image="poster.png", image_alt="Poster layanan keliling")
    fake = FakeInstance(processing_polls=1)
    channel = channel_for(tmp_path, fake)
    channel.publish(channel.preview(release, sample_links()), key="img")
    assert fake.media["7000"]["description"] == "Poster layanan keliling"
    assert fake.statuses[0]["media_ids"] == ["7000"]
    assert fake.pictures == [(tmp_path / "poster.png").read_bytes()], "a clean picture as is"


def test_the_photo_is_fitted_to_the_limits_the_instance_states(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from phone_photo import metadata_of, portrait_photo

    monkeypatch.setattr(mastodon, "MEDIA_POLL_DELAYS", (0.0,))
    portrait_photo(tmp_path / "foto.jpg")
    release = sample_release(tmp_path, image="foto.jpg", image_alt="Petugas melayani warga")
    fake = FakeInstance(
        processing_polls=0, image_size_limit=1_500_000, image_matrix_limit=1_000_000
    )
    channel = channel_for(tmp_path, fake)
    preview = channel.preview(release, sample_links())
    assert "image: 1080x1920 (9:16), JPEG" in "\n".join(preview.warnings), "preview: defaults"
    check_receipt(channel.publish(preview, key="photo"))
    (picture,) = fake.pictures
    shown = metadata_of(picture)
    width, height = shown["size"]  # type: ignore[misc]
    assert len(picture) <= 1_500_000 and width * height <= 1_000_000 and shown["gps"] == {}
    assert height > width, "upright"


def test_rate_limited_waits_until_the_reset_time(tmp_path: Path) -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=90)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    fake = FakeInstance(
        fail=lambda r: masto_error(
            429,
            "Too many requests",
            {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        )
    )
    channel = channel_for(tmp_path, fake)
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="rl")
    assert caught.value.retry_after is not None and 80 < caught.value.retry_after <= 90


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (masto_error(401, "The access token is invalid"), AuthError, "MASTODON_TOKEN"),
        (
            masto_error(403, "This action is outside the authorized scopes"),
            AuthError,
            "MASTODON_TOKEN",
        ),
        (
            masto_error(422, "Validation failed: Text character limit of 500 exceeded"),
            PermanentError,
            "character limit",
        ),
        (masto_error(503, "Service unavailable", {"Retry-After": "30"}), RetryableError, "503"),
        (masto_error(500, "Internal error"), AmbiguousError, "500"),
    ],
)
def test_failures_are_classified_and_explained(
    tmp_path: Path, answer: httpx.Response, error: type[Exception], words: str
) -> None:
    channel = channel_for(tmp_path, FakeInstance(fail=lambda r: answer))
    with pytest.raises(error) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="f")
    shown = f"{caught.value} {getattr(caught.value, 'hint', '')}"
    assert words in shown and "mastodon" in shown and TOKEN not in shown


def test_a_timeout_after_the_server_posted_is_found_by_lookup(tmp_path: Path) -> None:
    fake = FakeInstance()

    def accept_then_time_out(request: httpx.Request) -> httpx.Response:
        fake.fail = None
        fake.create_status(request)
        raise httpx.ReadTimeout("no answer", request=request)

    fake.fail = accept_then_time_out
    channel = channel_for(tmp_path, fake)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    with pytest.raises(AmbiguousError):
        channel.publish(preview, key="t" * 64)
    fake.keys.clear()  # more than an hour later: the instance forgot the key
    found = channel.lookup("t" * 64)
    assert found is not None and found.remote_id == "111000"
    assert channel.publish(preview, key="t" * 64).remote_id == "111000"
    assert len(fake.statuses) == 1, "nothing was posted twice"
    assert channel.lookup("never-sent") is None


def test_a_thread_posts_replies_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    release = sample_release(tmp_path, summary="Kalimat ringkasan yang cukup panjang. " * 12)
    fake = FakeInstance()
    channel = channel_for(tmp_path, fake, thread=True, max_chars=200)
    preview = channel.preview(release, sample_links())
    parts = list(preview.parts)
    assert len(parts) >= 3 and sample_links().canonical_url in parts[0]
    assert all(count_mastodon(part) <= 200 for part in parts)
    fake.fail = None
    posted: list[str] = []

    def fail_third(request: httpx.Request) -> httpx.Response:
        return masto_error(503, "busy", {"Retry-After": "5"})

    original = fake.create_status

    def count_and_fail(request: httpx.Request) -> httpx.Response:
        posted.append("x")
        if len(posted) == 3:
            return fail_third(request)
        return original(request)

    fake.create_status = count_and_fail  # type: ignore[method-assign]  # the third post fails
    with pytest.raises(RetryableError):
        channel.publish(preview, key="thread")
    assert len(fake.statuses) == 2
    receipt = channel.publish(preview, key="thread")
    assert len(fake.statuses) == len(parts), "the first two were not posted again"
    assert receipt.remote_id == fake.statuses[0]["id"] and receipt.details["parts"] == len(parts)
    for parent, reply in zip(fake.statuses, fake.statuses[1:], strict=False):
        assert reply["in_reply_to_id"] == parent["id"]


def test_verify_checks_the_token_and_the_instance_limit(tmp_path: Path) -> None:
    channel_for(tmp_path, FakeInstance()).verify()
    with pytest.raises(ConfigError, match="max_chars to 500"):
        channel_for(tmp_path, FakeInstance(), max_chars=1000).verify()
    broken = MastodonChannel(
        "mastodon",
        MastodonOptions.model_validate({**OPTIONS, "token": "wrong"}),
        make_context(tmp_path, FakeInstance(), secrets={"token": "MASTODON_TOKEN"}),
    )
    with pytest.raises(AuthError, match="MASTODON_TOKEN") as caught:
        broken.verify()
    assert caught.value.variable == "MASTODON_TOKEN"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"instance": "sosial.kotacontoh.go.id"}, "web address"),
        ({"instance": "ftp://sosial.kotacontoh.go.id"}, "web address"),
        ({"visibility": "everyone"}, "public"),
        ({"max_chars": 10}, "greater than or equal"),
        ({"tokn": "x"}, "Extra inputs"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MastodonOptions.model_validate({**OPTIONS, **options})


def test_a_template_with_an_unknown_field_fails_the_check(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, FakeInstance(), template="{{ title }} {{ judul }}")
    with pytest.raises(ConfigError, match=r"channels\.mastodon\.template"):
        channel.check()
    channel_for(tmp_path, FakeInstance(), template="{{ title }} {{ url }}").check()
    channel_for(tmp_path, FakeInstance(), template="{{ body }}", thread=True).check()


def test_the_token_never_shows(tmp_path: Path) -> None:
    options = MastodonOptions.model_validate(OPTIONS)
    assert TOKEN not in repr(options) + str(options)
    assert json.dumps(options.model_dump(mode="json")).count(TOKEN) == 0
