"""facebook-page against the strict Facebook Page stand-in (tests/standins/facebook.py):
the version in the path, the Page token and its expiry, Meta's error envelope and usage
headers, duplicate refusal, the deprecated `link` field, edit and delete.

Photos follow https://developers.facebook.com/docs/graph-api/reference/page/photos/ and
the Photo node https://developers.facebook.com/docs/graph-api/reference/photo/: a picture
in `source`, the text in `caption`, and the picture's description in `alt_text_custom`.
The stand-in is made stricter than Meta here (`require_alt_text`): chanpub sends alt text
wherever an API takes it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from standins.facebook import FacebookStandIn
from standins.graph import REALISTIC_BODY, SendRuns, graph_error

from chanpub.channels.facebook_page import FacebookPageChannel, FacebookPageOptions
from chanpub.contract import Action, Amendment, Links, Receipt
from chanpub.errors import (
    AuthError,
    ChannelError,
    DuplicateError,
    PermanentError,
    RetryableError,
)
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    check_receipt,
    make_context,
    sample_links,
    sample_release,
)

PAGE = "104857600123456"
TOKEN = f"EAAG-page-{SECRET_MARKER}"
OPTIONS = {"page_id": PAGE, "page_token": TOKEN}
DAY = 86400


def channel_for(tmp_path: Path, graph: Any, **options: Any) -> FacebookPageChannel:
    context = make_context(tmp_path, graph, secrets={"page_token": "FB_PAGE_TOKEN"})
    model = FacebookPageOptions.model_validate({**OPTIONS, **options})
    return FacebookPageChannel("facebook", model, context)


def realistic_release(folder: Path, body: str = REALISTIC_BODY, **fields: Any) -> Any:
    """The issue's release: a 2.4 MB portrait phone photo with its GPS position, the
    newest emoji, Javanese script and a Wikipedia address with parentheses."""
    from phone_photo import portrait_photo

    folder.mkdir(parents=True, exist_ok=True)
    portrait_photo(folder / "foto.jpg")
    return sample_release(
        folder,
        slug="adminduk-keliling",
        body=body,
        image="foto.jpg",
        image_alt="Petugas melayani warga",
        **fields,
    )


def test_contract(tmp_path: Path) -> None:
    release = sample_release(tmp_path, tags=["Adminduk"])
    preview = check_contract(
        FacebookPageChannel, OPTIONS, release, make_context(tmp_path), secrets=(TOKEN,)
    )
    assert "https://kominfo.example.go.id/siaran/contoh.html" in preview.text
    assert preview.text.endswith("#Adminduk")


def test_link_post_carries_message_and_canonical_link(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)
    channel = channel_for(tmp_path, page)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    receipt = check_receipt(channel.publish(preview, "k1"))
    (post,) = page.live()
    assert post["link"] == "https://kominfo.example.go.id/siaran/contoh.html"
    assert post["message"] == preview.text
    assert receipt.remote_id == post["id"]
    assert receipt.url == f"https://www.facebook.com/{post['id']}"
    assert all("access_token" not in r.url.params for r in page.requests if r.method == "POST"), (
        "a POST carries the token in its body, not its URL"
    )


def test_the_realistic_release_posts_the_upright_photo_without_location(tmp_path: Path) -> None:
    from phone_photo import metadata_of

    release = realistic_release(tmp_path)
    page = FacebookStandIn(TOKEN, require_alt_text=True)
    channel = channel_for(tmp_path, page)
    preview = channel.preview(release, sample_links())
    assert "location data removed" in "\n".join(preview.warnings)
    receipt = channel.publish(preview, "k1")
    (post,) = page.live()
    shown = metadata_of(post["photo"])
    assert shown["size"] == (1080, 1920) and shown["gps"] == {} and shown["exif"] == {}
    assert post["alt_text"] == "Petugas melayani warga"
    assert post["message"] == preview.text
    assert "ꦱꦸꦒꦼꦁꦫꦮꦸꦃ" in post["message"] and "🧑🏽‍💻🇮🇩🫶🏾" in post["message"]
    assert "https://id.wikipedia.org/wiki/Jawa_(pulau)" in post["message"]
    assert receipt.url == f"https://www.facebook.com/{post['id']}"
    assert receipt.details["kind"] == "photo"


def test_second_publish_with_the_same_key_posts_nothing(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)
    channel = channel_for(tmp_path, page)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    first = channel.publish(preview, "k1")
    again = channel.publish(preview, "k1")
    assert again.remote_id == first.remote_id
    assert len(page.live()) == 1


@pytest.mark.parametrize("photo", [False, True], ids=["link post", "photo post"])
def test_a_lost_answer_settles_as_one_post_in_the_same_run(tmp_path: Path, photo: bool) -> None:
    release = realistic_release(tmp_path) if photo else sample_release(tmp_path)
    page = FacebookStandIn(TOKEN)
    page.drop_answer("POST", "/photos" if photo else "/feed")
    channel = channel_for(tmp_path, page)
    receipt = SendRuns(channel).run(channel.preview(release, sample_links()), "k1")
    assert isinstance(receipt, Receipt), receipt
    (post,) = page.live()
    assert receipt.remote_id == post["id"]
    (read,) = page.calls("GET", "/feed")
    assert read.url.params["fields"].split(",") == ["id", "message", "created_time"], (
        "the lookup asks only for fields Graph still serves (`link` is refused since v3.3)"
    )


def test_a_lost_answer_and_a_lost_lookup_settle_on_the_next_run(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)
    page.drop_answer("POST", "/photos")
    page.drop_answer("GET", "/feed")
    channel = channel_for(tmp_path, page)
    preview = channel.preview(realistic_release(tmp_path), sample_links())
    runs = SendRuns(channel)
    first = runs.run(preview, "k1")
    assert isinstance(first, RetryableError)
    second = runs.run(preview, "k1")
    assert isinstance(second, Receipt)
    assert [p["id"] for p in page.live()] == [second.remote_id]
    assert page.calls("POST", "/photos") == page.requests[:1], "posted once, never again"


def test_a_lookup_that_cannot_read_the_feed_names_the_resolve_command(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)

    def no_feed_permission(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/feed"):
            return graph_error(10, "(#10) This endpoint requires pages_read_engagement")
        return page(request)

    page.drop_answer("POST", "/feed")
    channel = channel_for(tmp_path, no_feed_permission)
    preview = channel.preview(sample_release(tmp_path, slug="banjir"), sample_links())
    result = SendRuns(channel).run(preview, "k1")
    assert isinstance(result, ChannelError)
    assert "chanpub resolve banjir facebook --published URL" in result.message
    assert "--not-published" in result.message
    assert len(page.live()) == 1


def test_a_lookup_finds_nothing_when_nothing_was_sent(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, FacebookStandIn(TOKEN))
    assert channel.lookup("never-sent") is None


def test_expired_token_names_the_variable(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN, lifetime=3600)
    page.clock.advance(3601)
    channel = channel_for(tmp_path, page)
    with pytest.raises(AuthError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert "$FB_PAGE_TOKEN" in caught.value.message
    assert "expired" in caught.value.message
    assert caught.value.variable == "FB_PAGE_TOKEN"
    assert TOKEN not in caught.value.message


def test_throttling_waits_the_time_the_usage_header_gives(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)
    page.throttle(300)
    channel = channel_for(tmp_path, page)
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert caught.value.retry_after == 300.0


def test_app_level_limit_without_a_wait_is_retryable(tmp_path: Path) -> None:
    def app_limit(request: httpx.Request) -> httpx.Response:
        answer = graph_error(4, "(#4) Application request limit reached")
        answer.headers["X-App-Usage"] = '{"call_count":100,"total_cputime":20,"total_time":25}'
        return answer

    channel = channel_for(tmp_path, app_limit)
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert caught.value.retry_after is None


def test_duplicate_post_is_reported_as_duplicate(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)
    channel = channel_for(tmp_path, page)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    channel.publish(preview, "k1")
    with pytest.raises(DuplicateError) as caught:
        channel.publish(preview, "another key")
    assert "identical to the last one you posted. (code 506) [fbtrace_id AStandInTrace1]" in (
        caught.value.message
    )


def test_a_caption_that_cannot_be_shortened_is_refused_before_sending(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)
    channel = channel_for(tmp_path, page, template="{{ url }} " + "Pengumuman. " * 6000)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    assert preview.over_limit
    with pytest.raises(PermanentError, match="nothing more can be shortened"):
        channel.publish(preview, "k1")
    assert page.requests == []


# --- corrections and retractions (issue 16) ---------------------------------------------


def amendment(kind: str, note: str, previous: Receipt) -> Amendment:
    return Amendment(
        kind=kind, note=note, at=datetime(2026, 9, 7, 8, tzinfo=UTC), previous=previous
    )


def published(tmp_path: Path, page: FacebookStandIn) -> tuple[FacebookPageChannel, Receipt, Any]:
    """A channel that has published the realistic release, its receipt and the corrected
    release's preview (the new text: Tuesday, not Monday)."""
    channel = channel_for(tmp_path, page)
    receipt = channel.publish(channel.preview(realistic_release(tmp_path), sample_links()), "p")
    corrected = realistic_release(tmp_path / "v2", REALISTIC_BODY.replace("Senin", "Selasa"))
    return channel, receipt, channel.preview(corrected, sample_links())


def test_a_correction_edits_the_message_once_across_a_lost_answer(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)
    channel, receipt, preview = published(tmp_path, page)
    note = "Layanan dimulai Selasa, 8 September, bukan Senin."
    page.drop_answer("POST", f"/{receipt.remote_id}")
    with pytest.raises(ChannelError):
        channel.amend(preview, amendment("correction", note, receipt), "c1")
    done = channel.amend(preview, amendment("correction", note, receipt), "c1")
    (post,) = page.live()
    assert done.action == Action.EDITED and done.remote_id == receipt.remote_id
    assert post["message"] == f"Ralat: {note}\n\n{preview.text}"
    assert len(post["edits"]) == 1, "the lost edit was not made twice"
    again = channel.amend(preview, amendment("correction", note, receipt), "c1-other-run")
    assert again.action == Action.UNCHANGED and len(post["edits"]) == 1


def test_a_second_correction_edits_again(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)
    channel, receipt, preview = published(tmp_path, page)
    channel.amend(preview, amendment("correction", "Selasa.", receipt), "c1")
    second = channel.amend(preview, amendment("correction", "Rabu.", receipt), "c2")
    (post,) = page.live()
    assert second.action == Action.EDITED
    assert post["message"].startswith("Ralat: Rabu.\n\n") and len(post["edits"]) == 2


def test_a_retraction_deletes_the_post_once_across_a_lost_answer(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)
    channel, receipt, preview = published(tmp_path, page)
    page.drop_answer("DELETE", f"/{receipt.remote_id}")
    retraction = amendment("retraction", "Dibatalkan.", receipt)
    with pytest.raises(RetryableError):  # a DELETE can be repeated: retried, not ambiguous
        channel.amend(preview, retraction, "r1")
    done = channel.amend(preview, retraction, "r1")
    assert done.action == Action.DELETED and page.live() == []
    assert channel.amend(preview, retraction, "r1-again").action == Action.UNCHANGED
    assert len(page.calls("DELETE", receipt.remote_id)) == 1


def test_labels_follow_the_release_language(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN)
    channel, receipt, _ = published(tmp_path, page)
    english = channel.preview(
        sample_release(tmp_path / "en", language="en", title="Mobile registry"), sample_links()
    )
    channel.amend(english, amendment("correction", "Tuesday.", receipt), "c1")
    assert page.live()[0]["message"].startswith("Correction: Tuesday.\n\n")


# --- options and verify -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"page_id": "kominfo.kota"}, "numeric id"),
        ({"page_id": "12a4"}, "numeric id"),
        ({"api_version": "26"}, "v26.0"),
        ({"graph_base": "graph.facebook.com"}, "https://"),
        ({"page_token": None}, "page_token"),
        ({"page_name": "Kominfo"}, "page_name"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    values = {k: v for k, v in {**OPTIONS, **options}.items() if v is not None}
    with pytest.raises(ValidationError, match=message):
        FacebookPageOptions.model_validate(values)


def test_numeric_page_id_from_yaml_is_accepted() -> None:
    assert (
        FacebookPageOptions.model_validate({**OPTIONS, "page_id": 104857600123456}).page_id == PAGE
    )


def test_verify_reports_days_left_on_the_token(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN, lifetime=12 * DAY + 3600)
    events: list[tuple[str, Any]] = []
    context = make_context(tmp_path, page, progress=lambda e, d: events.append((e, dict(d))))
    channel = FacebookPageChannel("facebook", FacebookPageOptions.model_validate(OPTIONS), context)
    channel.verify()
    assert events == [("verified", {"account": "Kominfo Kota Contoh", "days_left": 12})]


def test_verify_refuses_a_token_of_another_account(tmp_path: Path) -> None:
    page = FacebookStandIn(TOKEN, page_id="100001234")
    channel = channel_for(tmp_path, page)
    with pytest.raises(PermanentError, match=r"\$FB_PAGE_TOKEN belongs to 'Kominfo Kota Contoh'"):
        channel.verify()


def test_preview_without_canonical_url_warns(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, FacebookStandIn(TOKEN))
    preview = channel.preview(sample_release(tmp_path), Links())
    assert any("no canonical URL" in w for w in preview.warnings)


def test_post_text(tmp_path: Path, golden: Any) -> None:
    release = sample_release(tmp_path, tags=["Adminduk", "layanan publik"])
    golden(
        "facebook-page/release.txt",
        channel_for(tmp_path, FacebookStandIn(TOKEN)).preview(release, sample_links()).text,
    )


@pytest.mark.parametrize(("days", "warned"), [(8, False), (6, True)])
def test_channels_verify_warns_seven_days_before_the_token_expires(
    tmp_path: Path, days: int, warned: bool
) -> None:
    from chanpub.actions import _verify
    from chanpub.handle import ChannelHandle

    page = FacebookStandIn(TOKEN, lifetime=days * DAY + 3600)
    facts: dict[str, Any] = {}
    context = make_context(tmp_path, page, progress=lambda _event, data: facts.update(data))
    channel = FacebookPageChannel("facebook", FacebookPageOptions.model_validate(OPTIONS), context)
    shown = _verify(ChannelHandle(channel), None, facts)  # type: ignore[arg-type]  # no error to redact
    assert f"token expires in {days} days" in shown
    assert ("renew it soon" in shown) == warned
