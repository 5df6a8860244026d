"""bluesky against the strict PDS stand-in (tests/standins/bluesky.py): session tokens,
the record's required fields, TID record keys, the 300-grapheme cap, blobs with their
aspect ratio; it answers with XRPC error bodies and RateLimit-* headers.
(test_bluesky_pds.py runs a real PDS; test_bluesky_amend.py corrections and retractions.)"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from standins.bluesky import IMAGE_MAX_BYTES, TID, PdsStandIn, xrpc_error

from chanpub.channels.atproto import facets, tid_time
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

PASSWORD = f"abcd-efgh-{SECRET_MARKER}"
DID = "did:plc:kominfo7abc"
OPTIONS = {
    "service": "https://pds.kotacontoh.go.id",
    "handle": "kominfo.kotacontoh.go.id",
    "app_password": PASSWORD,
}
Handler = Callable[[httpx.Request], httpx.Response]


def channel_for(tmp_path: Path, pds: Handler, **options: Any) -> BlueskyChannel:
    context = make_context(tmp_path, pds, secrets={"app_password": "BLUESKY_APP_PASSWORD"})
    return BlueskyChannel("bluesky", BlueskyOptions.model_validate({**OPTIONS, **options}), context)


def answering_creates_with(pds: PdsStandIn, *answers: httpx.Response) -> Handler:
    """The PDS, except that the next createRecord calls get these answers."""
    waiting = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("createRecord") and waiting:
            pds.requests.append(request)
            return waiting.pop(0)
        return pds(request)

    return handler


def test_the_adapter_keeps_the_contract(tmp_path: Path) -> None:
    preview = check_contract(
        BlueskyChannel,
        OPTIONS,
        sample_release(tmp_path),
        make_context(tmp_path),
        secrets=(PASSWORD,),
    )
    assert preview.limit == 300 and preview.unit == "graphemes"


def test_thread_record_keys_are_tids_in_time_order_reused_by_every_retry(
    tmp_path: Path,
) -> None:
    pds = PdsStandIn(PASSWORD)
    channel = channel_for(tmp_path, pds, thread=True)
    release = sample_release(tmp_path, summary="Kalimat ringkasan yang panjang. " * 25)
    preview = channel.preview(release, sample_links())
    before = datetime.now(UTC)
    pds.drop_answer("POST", "createRecord")
    channel.publish(preview, key="th")  # the lost answer is read back at its key
    keys = [record["uri"].rsplit("/", 1)[-1] for record in pds.live()]
    assert len(keys) == len(preview.parts) >= 3
    assert all(TID.fullmatch(key) for key in keys)
    tried = [json.loads(request.content)["rkey"] for request in pds.calls("POST", "createRecord")]
    assert tried == keys, "the lost answer was read back at its key, not posted again"
    assert len(set(keys)) == len(keys) and keys == sorted(keys), "part i's key > part i-1's"
    assert before - timedelta(seconds=1) <= tid_time(keys[0]) <= datetime.now(UTC)
    again = channel_for(tmp_path, pds, thread=True).publish(preview, key="th")
    assert again.remote_id.endswith(keys[0]) and len(pds.records) == len(keys)


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
    pds = PdsStandIn(PASSWORD)
    channel = channel_for(tmp_path, pds)
    release = sample_release(tmp_path, tags=["Adminduk"], summary="Layanan 🚐 keliling. " * 30)
    preview = channel.preview(release, sample_links())
    receipt = check_receipt(channel.publish(preview, key="d" * 64))
    (rkey,) = pds.records
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
    pds = PdsStandIn(PASSWORD)
    channel = channel_for(tmp_path, pds)
    channel.publish(channel.preview(release, sample_links()), key="img")
    embed = pds.live()[0]["value"]["embed"]
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
    pds = PdsStandIn(PASSWORD)
    channel = channel_for(tmp_path, pds)
    preview = channel.preview(release, sample_links())
    (note,) = [w for w in preview.warnings if w.startswith("image:")]
    assert note.startswith("image: 1080x1920 (9:16), JPEG") and "location data removed" in note
    check_receipt(channel.publish(preview, key="photo"))
    (blob,) = pds.blobs
    shown = metadata_of(blob)
    assert len(blob) <= IMAGE_MAX_BYTES and shown["gps"] == {} and shown["exif"] == {}
    image = pds.live()[0]["value"]["embed"]["images"][0]
    assert image["aspectRatio"] == {"width": 1080, "height": 1920}


def test_the_stand_in_refuses_what_the_lexicon_refuses(tmp_path: Path) -> None:
    from phone_photo import portrait_photo

    pds = PdsStandIn(PASSWORD)
    pds.blobs.append(portrait_photo(tmp_path / "foto.jpg").read_bytes())
    image = {"image": {"ref": {"$link": "bafkreiblob1"}, "mimeType": "image/jpeg"}, "alt": ""}
    embed = {"$type": "app.bsky.embed.images", "images": [image]}
    assert "too big" in (pds.embed_problem(embed) or "")
    pds.blobs[0] = (Path(__file__).parents[2] / "examples" / "layanan-keliling.jpg").read_bytes()
    assert "aspectRatio" in (pds.embed_problem(embed) or "")
    card = {"$type": "app.bsky.embed.external", "external": {"uri": "https://x.id", "thumb": image}}
    pds.blobs[0] = b"\0" * 1_000_001
    image["image"]["mimeType"] = "image/jpeg"
    card["external"]["thumb"] = {**image["image"]}
    assert "thumb file too big" in (pds.embed_problem(card) or "")


def test_the_session_is_kept_between_runs_and_refreshed(tmp_path: Path) -> None:
    pds = PdsStandIn(PASSWORD, access_lifetime=3600)
    preview = channel_for(tmp_path, pds).preview(sample_release(tmp_path), sample_links())
    channel_for(tmp_path, pds).publish(preview, key="one")
    ledger = tmp_path / ".chanpub" / "ledger.sqlite3"
    assert ledger.stat().st_mode & 0o777 == 0o600, "the store is the private state database"
    with sqlite3.connect(ledger) as db:
        stored = " ".join(value for (value,) in db.execute("SELECT value FROM store"))
    assert "refresh" in stored and PASSWORD not in stored, "the session, never the password"
    assert not (tmp_path / ".chanpub" / "bluesky").exists(), "no session files any more"
    channel_for(tmp_path, pds).publish(preview, key="two")  # the next cron run
    assert pds.calls_by_name.count("com.atproto.server.createSession") == 1
    pds.access.clear()  # every access token expired on the server
    channel_for(tmp_path, pds).publish(preview, key="three")
    assert pds.calls_by_name.count("com.atproto.server.refreshSession") == 1
    assert pds.calls_by_name.count("com.atproto.server.createSession") == 1
    pds.access.clear()
    pds.refresh.clear()  # the refresh token is gone too: only then log in again
    channel_for(tmp_path, pds).publish(preview, key="four")
    assert pds.calls_by_name.count("com.atproto.server.createSession") == 2
    assert len(pds.records) == 4


def test_a_wrong_app_password_names_the_variable(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, PdsStandIn(PASSWORD), app_password="wrong-password")
    with pytest.raises(AuthError, match=r"\$BLUESKY_APP_PASSWORD") as caught:
        channel.verify()
    assert caught.value.variable == "BLUESKY_APP_PASSWORD"


def test_a_timeout_after_the_pds_stored_the_post_is_not_a_failure(tmp_path: Path) -> None:
    pds = PdsStandIn(PASSWORD)
    channel = channel_for(tmp_path, pds)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    pds.drop_answer("POST", "createRecord")
    receipt = channel.publish(preview, key="t" * 64)
    (record,) = pds.live()
    assert receipt.remote_id == record["uri"]
    assert channel.publish(preview, key="t" * 64).remote_id == receipt.remote_id
    assert channel.lookup("t" * 64) is not None and channel.lookup("other") is None
    assert len(pds.records) == 1


def test_a_server_error_before_storing_is_retried_on_the_same_key(tmp_path: Path) -> None:
    pds = PdsStandIn(PASSWORD)
    busy = xrpc_error(502, "UpstreamFailure", "Upstream Failure")
    channel = channel_for(tmp_path, answering_creates_with(pds, busy))
    preview = channel.preview(sample_release(tmp_path), sample_links())
    with pytest.raises(RetryableError):
        channel.publish(preview, key="r")
    (tried,) = pds.calls("POST", "createRecord")
    receipt = channel.publish(preview, key="r")
    assert receipt.remote_id.endswith(json.loads(tried.content)["rkey"])


def test_rate_limits_wait_until_ratelimit_reset(tmp_path: Path) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 120
    limited = xrpc_error(
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
    channel = channel_for(tmp_path, answering_creates_with(PdsStandIn(PASSWORD), limited))
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="rl")
    assert caught.value.retry_after is not None and 110 < caught.value.retry_after <= 120


def test_an_invalid_record_is_a_permanent_error(tmp_path: Path) -> None:
    invalid = xrpc_error(
        400, "InvalidRequest", "Invalid app.bsky.feed.post record: Record/text too long"
    )
    channel = channel_for(tmp_path, answering_creates_with(PdsStandIn(PASSWORD), invalid))
    with pytest.raises(PermanentError, match="too long"):
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="bad")


def test_a_thread_replies_to_its_root_and_parent(tmp_path: Path) -> None:
    pds = PdsStandIn(PASSWORD)
    channel = channel_for(tmp_path, pds, thread=True)
    release = sample_release(tmp_path, summary="Kalimat ringkasan yang panjang. " * 25)
    preview = channel.preview(release, sample_links())
    parts = list(preview.parts)
    assert len(parts) >= 3 and sample_links().canonical_url in parts[0]
    channel.publish(preview, key="th")
    posts = pds.live()
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
        channel_for(tmp_path, PdsStandIn(PASSWORD), template="{{ judul }}").check()
