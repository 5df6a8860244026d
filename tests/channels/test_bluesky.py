"""bluesky against a fake PDS that checks what a real one checks: session tokens, the
record's required fields, TID record keys, the 300-grapheme cap, blobs; it answers with
XRPC error bodies and RateLimit-* headers. (test_bluesky_pds.py runs a real PDS.)

Images follow the lexicon https://github.com/bluesky-social/atproto/blob/main/lexicons/app/
bsky/embed/images.json (docs: https://docs.bsky.app/docs/advanced-guides/posts#images-embeds):
a blob of at most 2,000,000 bytes of the type it was uploaded as. Stricter than the PDS,
which leaves `aspectRatio` optional: this one refuses an image without it, or with one
that is not the picture's, because clients crop a picture whose shape they must guess."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from chanpub.channels.atproto import facets, tid_for
from chanpub.channels.bluesky import BlueskyChannel, BlueskyOptions
from chanpub.errors import AuthError, ConfigError, PermanentError, RetryableError
from chanpub.render.shaping import count_graphemes
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    check_receipt,
    make_context,
    sample_links,
    sample_release,
)

SERVICE = "https://pds.kotacontoh.go.id"
PASSWORD = f"abcd-efgh-{SECRET_MARKER}"
DID = "did:plc:kominfo7abc"
OPTIONS = {"service": SERVICE, "handle": "kominfo.kotacontoh.go.id", "app_password": PASSWORD}
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
IMAGE_MAX_BYTES = 2_000_000


def jwt(kind: str, seconds: int) -> str:
    claims = {"scope": kind, "sub": DID, "exp": int(datetime.now(UTC).timestamp()) + seconds}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln"


def xrpc_error(
    status: int, name: str, message: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json={"error": name, "message": message}, headers=headers)


@dataclass
class FakePds:
    """One account on a fake PDS; `fail` answers the next createRecord."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    access: set[str] = field(default_factory=set)
    refresh: set[str] = field(default_factory=set)
    blobs: list[bytes] = field(default_factory=list)
    blob_types: dict[str, str] = field(default_factory=dict)  # ref -> uploaded mime type
    access_lifetime: int = 7200
    fail: Callable[[httpx.Request], httpx.Response] | None = None

    def session(self) -> dict[str, Any]:
        access, refresh = (
            jwt("com.atproto.access", self.access_lifetime),
            jwt("com.atproto.refresh", 86400) + str(len(self.refresh)),
        )
        self.access.add(access)
        self.refresh.add(refresh)
        return {
            "did": DID,
            "handle": "kominfo.kotacontoh.go.id",
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        nsid = request.url.path.removeprefix("/xrpc/")
        self.calls.append(nsid)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if nsid == "com.atproto.server.createSession":
            body = json.loads(request.read())
            if body != {"identifier": "kominfo.kotacontoh.go.id", "password": PASSWORD}:
                return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
            return httpx.Response(200, json=self.session())
        if nsid == "com.atproto.server.refreshSession":
            if bearer not in self.refresh:
                return xrpc_error(400, "ExpiredToken", "Token has been revoked")
            self.refresh.discard(bearer)
            return httpx.Response(200, json=self.session())
        if bearer not in self.access:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        if nsid == "com.atproto.server.getSession":
            return httpx.Response(200, json={"did": DID, "handle": "kominfo.kotacontoh.go.id"})
        if nsid == "com.atproto.repo.uploadBlob":
            data = request.read()
            self.blobs.append(data)
            ref = f"bafkreiblob{len(self.blobs)}"
            self.blob_types[ref] = request.headers["Content-Type"]
            blob = {"$type": "blob", "ref": {"$link": ref}, "mimeType": "", "size": len(data)}
            blob["mimeType"] = request.headers["Content-Type"]
            return httpx.Response(200, json={"blob": blob})
        if nsid == "com.atproto.repo.getRecord":
            rkey = request.url.params["rkey"]
            if rkey not in self.records:
                return xrpc_error(400, "RecordNotFound", "Could not locate record")
            return httpx.Response(200, json=self.records[rkey])
        if nsid == "com.atproto.repo.createRecord":
            return self.create(request)
        return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")

    def create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read())
        if self.fail is not None:
            failure, self.fail = self.fail, None
            return failure(request)
        record = body["record"]
        assert body["repo"] == DID and body["collection"] == "app.bsky.feed.post"
        assert TID.fullmatch(body["rkey"]), "a post's record key must be a TID"
        assert record["$type"] == "app.bsky.feed.post" and record["createdAt"].endswith("Z")
        if count_graphemes(record["text"]) > 300:
            return xrpc_error(
                400,
                "InvalidRequest",
                "Invalid app.bsky.feed.post record: "
                "Record/text must not be longer than 300 graphemes",
            )
        if problem := self.image_problem(record.get("embed") or {}):
            return xrpc_error(
                400, "InvalidRequest", f"Invalid app.bsky.feed.post record: {problem}"
            )
        if body["rkey"] in self.records:  # what the real PDS answers for a used key
            return xrpc_error(500, "InternalServerError", "Internal Server Error")
        uri = f"at://{DID}/app.bsky.feed.post/{body['rkey']}"
        cid = f"bafyrei{len(self.records)}"
        self.records[body["rkey"]] = {"uri": uri, "cid": cid, "value": record}
        return httpx.Response(
            200,
            json={"uri": uri, "cid": cid, "validationStatus": "valid"},
            headers={"RateLimit-Limit": "5000", "RateLimit-Remaining": "4997"},
        )

    def image_problem(self, embed: dict[str, Any]) -> str | None:
        """What the lexicon (and this stricter stand-in) refuses in an images embed."""
        from PIL import Image

        if embed.get("$type") != "app.bsky.embed.images":
            return None
        for index, image in enumerate(embed["images"]):
            where = f"Record/embed/images/{index}"
            data = self.blobs[int(image["image"]["ref"]["$link"].removeprefix("bafkreiblob")) - 1]
            if len(data) > IMAGE_MAX_BYTES:
                return f"{where}/image file too big (max {IMAGE_MAX_BYTES} bytes)"
            if "alt" not in image:
                return f'{where} must have the property "alt"'
            with Image.open(io.BytesIO(data)) as picture:
                kind = Image.MIME[picture.format or ""]
                shape = {"width": picture.width, "height": picture.height}
            if kind != image["image"]["mimeType"]:
                return f"{where}/image is {kind}, uploaded as {image['image']['mimeType']}"
            if image.get("aspectRatio") != shape:
                return f"{where}/aspectRatio must be the picture's {shape}"
        return None


def channel_for(tmp_path: Path, pds: FakePds, **options: Any) -> BlueskyChannel:
    context = make_context(tmp_path, pds, secrets={"app_password": "BLUESKY_APP_PASSWORD"})
    return BlueskyChannel("bluesky", BlueskyOptions.model_validate({**OPTIONS, **options}), context)


def test_the_adapter_keeps_the_contract(tmp_path: Path) -> None:
    preview = check_contract(
        BlueskyChannel,
        OPTIONS,
        sample_release(tmp_path),
        make_context(tmp_path),
        secrets=(PASSWORD,),
    )
    assert preview.limit == 300 and preview.unit == "graphemes"


def test_record_keys_are_valid_tids_derived_from_the_delivery_key() -> None:
    keys = {tid_for("k1"), tid_for("k1", 1), tid_for("k2")}
    assert len(keys) == 3 and all(TID.fullmatch(key) for key in keys)
    assert tid_for("k1") == tid_for("k1"), "the same on every retry and every run"


def test_facets_carry_utf8_byte_offsets_in_indonesian_and_emoji_text() -> None:
    text = (
        "Ayo urus KTP-el 🪪 di kelurahan! Info: https://kominfo.kotacontoh.go.id/s/ktp#jadwal "
        "#LayananPublik #Adminduk2026 👨‍👩‍👧"
    )
    encoded = text.encode()
    found = facets(text)
    spans = [encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in found]
    assert spans == [
        "https://kominfo.kotacontoh.go.id/s/ktp#jadwal",
        "#LayananPublik",
        "#Adminduk2026",
    ]
    assert found[0]["features"][0] == {
        "$type": "app.bsky.richtext.facet#link",
        "uri": "https://kominfo.kotacontoh.go.id/s/ktp#jadwal",
    }
    assert found[1]["features"][0] == {
        "$type": "app.bsky.richtext.facet#tag",
        "tag": "LayananPublik",
    }
    assert found[0]["index"]["byteStart"] != text.index("https"), "bytes, not str indices"


def test_publish_creates_the_post_with_facets_and_a_link_card(tmp_path: Path) -> None:
    pds = FakePds()
    channel = channel_for(tmp_path, pds)
    release = sample_release(tmp_path, tags=["Adminduk"], summary="Layanan 🚐 keliling. " * 30)
    preview = channel.preview(release, sample_links())
    receipt = check_receipt(channel.publish(preview, key="d" * 64))
    rkey = tid_for("d" * 64)
    assert receipt.remote_id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert receipt.url == f"https://bsky.app/profile/kominfo.kotacontoh.go.id/post/{rkey}"
    record = pds.records[rkey]["value"]
    assert count_graphemes(record["text"]) <= 300 and sample_links().canonical_url in record["text"]
    assert [f["features"][0]["$type"] for f in record["facets"]] == [
        "app.bsky.richtext.facet#link",
        "app.bsky.richtext.facet#tag",
    ]
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": sample_links().canonical_url,
            "title": release.title,
            "description": release.summary,
        },
    }
    assert record["langs"] == ["id"]


def test_the_image_goes_up_as_a_blob_with_its_alt_text(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (900, 600), "navy").save(tmp_path / "poster.png")
    release = sample_release(tmp_path, image="poster.png", image_alt="Poster layanan")
    pds = FakePds()
    channel = channel_for(tmp_path, pds)
    channel.publish(channel.preview(release, sample_links()), key="img")
    embed = pds.records[tid_for("img")]["value"]["embed"]
    assert pds.blobs == [(tmp_path / "poster.png").read_bytes()], "a clean picture goes as is"
    assert embed["$type"] == "app.bsky.embed.images"
    assert embed["images"][0]["alt"] == "Poster layanan"
    assert embed["images"][0]["image"]["ref"] == {"$link": "bafkreiblob1"}
    assert embed["images"][0]["aspectRatio"] == {"width": 900, "height": 600}


def test_a_2_4_mb_portrait_phone_photo_is_fitted_under_2_mb_with_its_shape(
    tmp_path: Path,
) -> None:
    from phone_photo import metadata_of, portrait_photo

    portrait_photo(tmp_path / "foto.jpg")
    release = sample_release(tmp_path, image="foto.jpg", image_alt="Petugas melayani warga")
    pds = FakePds()
    channel = channel_for(tmp_path, pds)
    preview = channel.preview(release, sample_links())
    (note,) = [w for w in preview.warnings if w.startswith("image:")]
    assert note.startswith("image: 1080x1920 (9:16), JPEG") and "location data removed" in note
    check_receipt(channel.publish(preview, key="photo"))
    (blob,) = pds.blobs
    shown = metadata_of(blob)
    assert len(blob) <= IMAGE_MAX_BYTES and shown["gps"] == {} and shown["exif"] == {}
    image = pds.records[tid_for("photo")]["value"]["embed"]["images"][0]
    assert image["aspectRatio"] == {"width": 1080, "height": 1920}


def test_the_stand_in_refuses_what_the_lexicon_refuses(tmp_path: Path) -> None:
    from phone_photo import portrait_photo

    pds = FakePds()
    pds.blobs.append(portrait_photo(tmp_path / "foto.jpg").read_bytes())
    image = {"image": {"ref": {"$link": "bafkreiblob1"}, "mimeType": "image/jpeg"}, "alt": ""}
    embed = {"$type": "app.bsky.embed.images", "images": [image]}
    assert "too big" in (pds.image_problem(embed) or "")
    pds.blobs[0] = (Path(__file__).parents[2] / "examples" / "layanan-keliling.jpg").read_bytes()
    assert "aspectRatio" in (pds.image_problem(embed) or "")


def test_the_session_is_kept_between_runs_and_refreshed(tmp_path: Path) -> None:
    pds = FakePds(access_lifetime=3600)
    preview = channel_for(tmp_path, pds).preview(sample_release(tmp_path), sample_links())
    channel_for(tmp_path, pds).publish(preview, key="one")
    session_file = next((tmp_path / ".chanpub" / "bluesky").glob("session-*.json"))
    assert session_file.stat().st_mode & 0o777 == 0o600
    assert PASSWORD not in session_file.read_text()
    channel_for(tmp_path, pds).publish(preview, key="two")  # the next cron run
    assert pds.calls.count("com.atproto.server.createSession") == 1
    pds.access.clear()  # every access token expired on the server
    channel_for(tmp_path, pds).publish(preview, key="three")
    assert pds.calls.count("com.atproto.server.refreshSession") == 1
    assert pds.calls.count("com.atproto.server.createSession") == 1
    pds.access.clear()
    pds.refresh.clear()  # the refresh token is gone too: only then log in again
    channel_for(tmp_path, pds).publish(preview, key="four")
    assert pds.calls.count("com.atproto.server.createSession") == 2
    assert len(pds.records) == 4


def test_a_wrong_app_password_names_the_variable(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, FakePds(), app_password="wrong-password")
    with pytest.raises(AuthError, match=r"\$BLUESKY_APP_PASSWORD") as caught:
        channel.verify()
    assert caught.value.variable == "BLUESKY_APP_PASSWORD"


def test_a_timeout_after_the_pds_stored_the_post_is_not_a_failure(tmp_path: Path) -> None:
    pds = FakePds()

    def store_then_time_out(request: httpx.Request) -> httpx.Response:
        pds.create(request)
        raise httpx.ReadTimeout("no answer", request=request)

    channel = channel_for(tmp_path, pds)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    pds.fail = store_then_time_out
    receipt = channel.publish(preview, key="t" * 64)
    assert receipt.remote_id.endswith(tid_for("t" * 64)) and len(pds.records) == 1
    assert channel.publish(preview, key="t" * 64).remote_id == receipt.remote_id
    assert channel.lookup("t" * 64) is not None and channel.lookup("other") is None
    assert len(pds.records) == 1


def test_a_server_error_before_storing_is_retried_on_the_same_key(tmp_path: Path) -> None:
    pds = FakePds(fail=lambda r: xrpc_error(502, "UpstreamFailure", "Upstream Failure"))
    channel = channel_for(tmp_path, pds)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    with pytest.raises(RetryableError):
        channel.publish(preview, key="r")
    assert channel.publish(preview, key="r").remote_id.endswith(tid_for("r"))


def test_rate_limits_wait_until_ratelimit_reset(tmp_path: Path) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 120
    pds = FakePds(
        fail=lambda r: xrpc_error(
            429,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
            {
                "RateLimit-Limit": "5000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "5000;w=3600",
            },
        )
    )
    channel = channel_for(tmp_path, pds)
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="rl")
    assert caught.value.retry_after is not None and 110 < caught.value.retry_after <= 120


def test_an_invalid_record_is_a_permanent_error(tmp_path: Path) -> None:
    pds = FakePds(
        fail=lambda r: xrpc_error(
            400, "InvalidRequest", "Invalid app.bsky.feed.post record: Record/text too long"
        )
    )
    channel = channel_for(tmp_path, pds)
    with pytest.raises(PermanentError, match="too long"):
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="bad")


def test_a_thread_replies_to_its_root_and_parent(tmp_path: Path) -> None:
    pds = FakePds()
    channel = channel_for(tmp_path, pds, thread=True)
    release = sample_release(tmp_path, summary="Kalimat ringkasan yang panjang. " * 25)
    preview = channel.preview(release, sample_links())
    parts = list(preview.parts)
    assert len(parts) >= 3 and sample_links().canonical_url in parts[0]
    channel.publish(preview, key="th")
    posts = [pds.records[tid_for("th", index)] for index in range(len(parts))]
    assert [post["value"]["text"] for post in posts] == parts
    assert "embed" in posts[0]["value"] and "reply" not in posts[0]["value"]
    for index, post in enumerate(posts[1:], start=1):
        assert post["value"]["reply"]["root"] == {"uri": posts[0]["uri"], "cid": posts[0]["cid"]}
        assert post["value"]["reply"]["parent"] == {
            "uri": posts[index - 1]["uri"],
            "cid": posts[index - 1]["cid"],
        }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"handle": "kominfo"}, "handle like"),
        ({"handle": "humas@kotacontoh.go.id"}, "handle like"),
        ({"handle": "https://bsky.app/profile/kominfo.bsky.social"}, "handle like"),
        ({"service": "bsky.social"}, "web address"),
        ({"password": "x"}, "Extra inputs"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BlueskyOptions.model_validate({**OPTIONS, **options})


def test_a_handle_may_be_written_with_at_and_capitals(tmp_path: Path) -> None:
    options = BlueskyOptions.model_validate({**OPTIONS, "handle": "@Kominfo.BSKY.social"})
    assert options.handle == "kominfo.bsky.social"
    assert (
        BlueskyOptions.model_validate(
            {"handle": "kominfo.bsky.social", "app_password": "x"}
        ).service
        == "https://bsky.social"
    )


def test_a_template_with_an_unknown_field_fails_the_check(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"channels\.bluesky\.template"):
        channel_for(tmp_path, FakePds(), template="{{ judul }}").check()
