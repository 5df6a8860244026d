"""mastodon against the strict Mastodon stand-in (tests/standins/mastodon.py): the bearer
token, the form fields, the length rule (URLs as 23), media that must be processed before
use, the instance's picture limits (https://docs.joinmastodon.org/methods/instance/#v2),
the Idempotency-Key, rate limits on the stand-in's clock, edits that keep history and
deletes."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from standins.base import Clock
from standins.mastodon import MastodonStandIn

from chanpub.channels import mastodon
from chanpub.channels.mastodon import MastodonChannel, MastodonOptions
from chanpub.channels.mastodon_text import count_mastodon
from chanpub.contract import Preview, Receipt
from chanpub.errors import AmbiguousError, AuthError, ConfigError, PermanentError, RetryableError
from chanpub.retry import with_retries
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
Handler = Callable[[httpx.Request], httpx.Response]


def masto_error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": message}, headers=headers)


def channel_for(tmp_path: Path, handler: Handler, **options: Any) -> MastodonChannel:
    context = make_context(tmp_path, handler, secrets={"token": "MASTODON_TOKEN"})
    return MastodonChannel(
        "mastodon", MastodonOptions.model_validate({**OPTIONS, **options}), context
    )


def answering_posts_with(instance: MastodonStandIn, *answers: httpx.Response) -> Handler:
    """The instance, except that the next status POSTs get these answers."""
    waiting = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.path) == ("POST", "/api/v1/statuses") and waiting:
            instance.requests.append(request)
            return waiting.pop(0)
        return instance(request)

    return handler


def a_run(channel: MastodonChannel, preview: Preview, key: str) -> Receipt | None:
    """What one `chanpub send` does for this channel: publish; after an unanswered request,
    look the delivery up; a failure that may pass waits for the next run."""
    try:
        return channel.publish(preview, key)
    except AmbiguousError:
        return channel.lookup(key)
    except RetryableError:
        return None


def realistic_release(folder: Path, **fields: Any) -> Any:
    """The issue's release: a 2.4 MB portrait phone photo, the newest emoji, Javanese
    script and a Wikipedia address with parentheses."""
    from phone_photo import portrait_photo

    portrait_photo(folder / "foto.jpg")
    return sample_release(
        folder,
        title="Pemkot Buka Layanan Adminduk Keliling 🪪🫶🏽",
        summary=(
            "Warga 👩🏽‍💻👨‍👩‍👧 bisa mengurus KTP-el di 12 kelurahan 🇮🇩. ꦱꦸꦒꦺꦁꦫꦮꦸꦲ꧀. "
            "Latar: https://id.wikipedia.org/wiki/Kartu_Tanda_Penduduk_(Indonesia)"
        ),
        image="foto.jpg",
        image_alt="Petugas melayani warga di balai kelurahan",
        **fields,
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
    preview = channel_for(tmp_path, MastodonStandIn(TOKEN)).preview(release, sample_links())
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
    channel = channel_for(tmp_path, MastodonStandIn(TOKEN), max_chars=300)
    preview = channel.preview(release, sample_links(long_url))
    assert preview.text.startswith("[HOAKS] ")
    assert long_url in preview.text
    assert preview.length == count_mastodon(preview.text) <= 300
    assert len(preview.text) > 300, "the long link counts as 23, not its full length"
    assert any("shortened" in warning for warning in preview.warnings)


def test_publish_posts_once_with_the_delivery_key(tmp_path: Path) -> None:
    instance = MastodonStandIn(TOKEN)
    channel = channel_for(tmp_path, instance, visibility="unlisted")
    preview = channel.preview(sample_release(tmp_path), sample_links())
    receipt = check_receipt(channel.publish(preview, key="k" * 64))
    again = channel.publish(preview, key="k" * 64)
    assert receipt.remote_id == again.remote_id
    assert receipt.url == f"{INSTANCE}/@kominfo/{receipt.remote_id}"
    (status,) = instance.live()
    assert status["visibility"] == "unlisted" and status["language"] == "id"
    assert instance.calls("POST", "/api/v1/statuses")[0].headers["Idempotency-Key"] == "k" * 64


def test_the_image_is_uploaded_with_its_alt_text_and_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mastodon, "MEDIA_POLL_DELAYS", (0.0, 0.0, 0.0))
    from PIL import Image

    Image.new("RGB", (1080, 1080), "navy").save(tmp_path / "poster.png")
    release = sample_release(tmp_path, image="poster.png", image_alt="Poster layanan keliling")
    instance = MastodonStandIn(TOKEN, processing_polls=1)
    channel = channel_for(tmp_path, instance)
    channel.publish(channel.preview(release, sample_links()), key="img")
    (status,) = instance.live()
    assert status["media_attachments"][0]["description"] == "Poster layanan keliling"
    assert instance.calls("GET", "/api/v1/media/"), "the upload was waited for"
    upload = instance.calls("POST", "/api/v2/media")[0].read()
    assert (tmp_path / "poster.png").read_bytes() in upload, "a clean picture goes as is"


def test_the_photo_is_fitted_to_the_limits_the_instance_states(tmp_path: Path) -> None:
    from phone_photo import metadata_of, portrait_photo
    from standins.base import read_body

    portrait_photo(tmp_path / "foto.jpg")
    release = sample_release(tmp_path, image="foto.jpg", image_alt="Petugas melayani warga")
    instance = MastodonStandIn(TOKEN, image_size_limit=1_500_000, image_matrix_limit=1_000_000)
    channel = channel_for(tmp_path, instance)
    preview = channel.preview(release, sample_links())
    assert "image: 1080x1920 (9:16), JPEG" in "\n".join(preview.warnings), "preview: defaults"
    check_receipt(channel.publish(preview, key="photo"))
    (upload,) = instance.calls("POST", "/api/v2/media")
    picture = read_body(upload).files["file"][1]
    shown = metadata_of(picture)
    width, height = shown["size"]  # type: ignore[misc]
    assert len(picture) <= 1_500_000 and width * height <= 1_000_000 and shown["gps"] == {}
    assert height > width, "upright"


def test_verify_reads_the_instance_picture_limits_for_the_preview(tmp_path: Path) -> None:
    from phone_photo import portrait_photo

    portrait_photo(tmp_path / "foto.jpg")
    release = sample_release(tmp_path, image="foto.jpg", image_alt="Petugas melayani warga")
    channel = channel_for(tmp_path, MastodonStandIn(TOKEN, image_matrix_limit=1_000_000))
    channel.verify()
    (note,) = [w for w in channel.preview(release, sample_links()).warnings if "image:" in w]
    assert "scaled down to" in note, note


def test_a_429_with_only_x_ratelimit_reset_waits_for_the_reset_on_the_server_clock(
    tmp_path: Path,
) -> None:
    clock = Clock(datetime(2024, 3, 1, 8, 0, tzinfo=UTC))  # far from this machine's clock
    instance = MastodonStandIn(TOKEN, clock=clock)
    instance.throttle(45)
    channel = channel_for(tmp_path, instance)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    with pytest.raises(RetryableError) as caught:
        channel.publish(preview, key="rl")
    assert caught.value.retry_after == 45, "the reset, read against the answer's Date"
    waits: list[float | None] = []

    def wait(seconds: float | None) -> None:  # dispatch's retry, sleeping on the stand-in
        waits.append(seconds)
        clock.advance(seconds or 0)

    receipt = with_retries(lambda: channel.publish(preview, key="rl"), wait)
    assert waits == [45.0] and receipt.remote_id == instance.live()[0]["id"]


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
    channel = channel_for(tmp_path, answering_posts_with(MastodonStandIn(TOKEN), answer))
    with pytest.raises(error) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="f")
    shown = f"{caught.value} {getattr(caught.value, 'hint', '')}"
    assert words in shown and "mastodon" in shown and TOKEN not in shown


def test_a_timeout_after_the_server_posted_is_found_by_lookup(tmp_path: Path) -> None:
    instance = MastodonStandIn(TOKEN)
    instance.drop_answer("POST", "/api/v1/statuses")
    channel = channel_for(tmp_path, instance)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    with pytest.raises(AmbiguousError):
        channel.publish(preview, key="t" * 64)
    instance.clock.advance(2 * 3600)  # more than an hour later: the instance forgot the key
    found = channel.lookup("t" * 64)
    (status,) = instance.live()
    assert found is not None and found.remote_id == status["id"]
    assert channel.publish(preview, key="t" * 64).remote_id == status["id"]
    assert len(instance.live()) == 1, "nothing was posted twice"
    assert channel.lookup("never-sent") is None


def test_the_realistic_release_with_its_first_answer_lost_is_posted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mastodon, "MEDIA_POLL_DELAYS", (0.0, 0.0))
    instance = MastodonStandIn(TOKEN, processing_polls=1)
    instance.drop_answer("POST", "/api/v1/statuses")
    channel = channel_for(tmp_path, instance)
    preview = channel.preview(realistic_release(tmp_path), sample_links())
    assert not preview.over_limit
    instance.clock.advance(2 * 3600)  # the Idempotency-Key is no help: lookup must find it
    runs = [a_run(channel, preview, "real") for _ in range(3)]
    (status,) = instance.live()
    assert runs[0] is not None and all(r and r.remote_id == status["id"] for r in runs)
    assert status["text"] == preview.text and len(status["media_attachments"]) == 1
    assert len(instance.calls("POST", "/api/v2/media")) == 1, "the picture went up once"


def test_a_thread_posts_replies_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    release = sample_release(tmp_path, summary="Kalimat ringkasan yang cukup panjang. " * 12)
    instance = MastodonStandIn(TOKEN)
    busy = masto_error(503, "busy", {"Retry-After": "5"})
    posted: list[httpx.Request] = []

    def third_post_fails(request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.path) == ("POST", "/api/v1/statuses"):
            posted.append(request)
            if len(posted) == 3:
                return busy
        return instance(request)

    channel = channel_for(tmp_path, third_post_fails, thread=True, max_chars=200)
    preview = channel.preview(release, sample_links())
    parts = list(preview.parts)
    assert len(parts) >= 3 and sample_links().canonical_url in parts[0]
    assert all(count_mastodon(part) <= 200 for part in parts)
    with pytest.raises(RetryableError):
        channel.publish(preview, key="thread")
    assert len(instance.live()) == 2
    receipt = channel.publish(preview, key="thread")
    statuses = instance.live()
    assert len(statuses) == len(parts), "the first two were not posted again"
    assert receipt.remote_id == statuses[0]["id"] and receipt.details["parts"] == len(parts)
    for parent, reply in itertools.pairwise(statuses):
        assert reply["in_reply_to_id"] == parent["id"]


def test_verify_checks_the_token_and_the_instance_limit(tmp_path: Path) -> None:
    channel_for(tmp_path, MastodonStandIn(TOKEN)).verify()
    with pytest.raises(ConfigError, match="max_chars to 500"):
        channel_for(tmp_path, MastodonStandIn(TOKEN), max_chars=1000).verify()
    broken = MastodonChannel(
        "mastodon",
        MastodonOptions.model_validate({**OPTIONS, "token": "wrong"}),
        make_context(tmp_path, MastodonStandIn(TOKEN), secrets={"token": "MASTODON_TOKEN"}),
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
    instance = MastodonStandIn(TOKEN)
    channel = channel_for(tmp_path, instance, template="{{ title }} {{ judul }}")
    with pytest.raises(ConfigError, match=r"channels\.mastodon\.template"):
        channel.check()
    channel_for(tmp_path, instance, template="{{ title }} {{ url }}").check()
    channel_for(tmp_path, instance, template="{{ body }}", thread=True).check()


def test_the_token_never_shows(tmp_path: Path) -> None:
    options = MastodonOptions.model_validate(OPTIONS)
    assert TOKEN not in repr(options) + str(options)
    assert json.dumps(options.model_dump(mode="json")).count(TOKEN) == 0


def test_the_rate_limit_reset_is_read_against_the_answers_date() -> None:
    answer = masto_error(
        429,
        "Too many requests",
        {"X-RateLimit-Reset": "2024-03-01T08:01:30.000Z", "Date": "Fri, 01 Mar 2024 08:00:00 GMT"},
    )
    assert mastodon.rate_limit_wait(answer) == 90
    later = datetime.now(UTC) + timedelta(seconds=60)
    undated = masto_error(429, "Too many requests", {"X-RateLimit-Reset": later.isoformat()})
    assert 55 < (mastodon.rate_limit_wait(undated) or 0) <= 60
