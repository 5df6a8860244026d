"""instagram against the strict Instagram stand-in (tests/standins/instagram.py): a
container from a public image URL, IN_PROGRESS until it is ready, status queries at most
once a minute, one media per container, a publishing quota, caption and hashtag limits,
comments, and Instagram Login token refresh.

The stand-in fetches the image the way Instagram does, from its public address (here: the
static site's output folder under SITE), and refuses what
https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#image-specifications
refuses: not a JPEG, over 8 MB, an aspect ratio outside 4:5 to 1.91:1."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from standins.graph import REALISTIC_BODY, SendRuns
from standins.instagram import InstagramStandIn

from chanpub.channels.instagram import InstagramChannel, InstagramOptions, public_image_url
from chanpub.contract import Action, Amendment, Links, Receipt
from chanpub.errors import AuthError, ChannelError, PermanentError, RetryableError
from chanpub.testing import SECRET_MARKER, check_contract, check_receipt, make_context

ACCOUNT = "17841400000000001"
TOKEN = f"EAAG-ig-{SECRET_MARKER}"
OPTIONS = {"account_id": ACCOUNT, "access_token": TOKEN}
SITE = "https://kominfo.example.go.id/siaran/"
DAY = 86400


class Site:
    """The website's folder as Instagram sees it: bytes served at SITE, and what was fetched."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fetched: list[bytes] = []

    def __call__(self, url: str) -> bytes | None:
        local = self.folder / url.removeprefix(SITE) if url.startswith(SITE) else None
        if local is None or not local.is_file():
            return None
        self.fetched.append(local.read_bytes())
        return self.fetched[-1]


def instagram(tmp_path: Path, **kwargs: Any) -> InstagramStandIn:
    return InstagramStandIn(TOKEN, Site(tmp_path / "site"), ACCOUNT, **kwargs)


def fetched(ig: InstagramStandIn) -> list[bytes]:
    site: Site = ig.fetch  # type: ignore[assignment]  # the Site above
    return site.fetched


def release_with_image(tmp_path: Path, **fields: Any) -> Any:
    """A release with a square, clean JPEG: one Instagram takes as it is."""
    from PIL import Image

    from chanpub.testing import sample_release

    Image.new("RGB", (1080, 1080), "navy").save(tmp_path / "foto.jpg", quality=90)
    fields.setdefault("image", "foto.jpg")
    fields.setdefault("image_alt", "Petugas melayani warga")
    return sample_release(tmp_path, slug="adminduk-keliling", **fields)


def site_links(tmp_path: Path, **details: Any) -> Links:
    """Links after the static-site channel published the article to tmp_path/site."""
    url = f"{SITE}adminduk-keliling.html"
    receipt = Receipt(
        remote_id="adminduk-keliling",
        url=url,
        published_at=datetime.now(UTC),
        details={
            "path": str(tmp_path / "site" / "adminduk-keliling.html"),
            "media_dir": str(tmp_path / "site" / "media"),
            "media_url": f"{SITE}media/",
            **details,
        },
    )
    return Links(canonical_url=url, predicted=False, outputs={"website": receipt})


def channel_for(tmp_path: Path, api: Any, **options: Any) -> InstagramChannel:
    context = make_context(tmp_path, api, secrets={"access_token": "IG_ACCESS_TOKEN"})
    channel = InstagramChannel(
        "instagram", InstagramOptions.model_validate({**OPTIONS, **options}), context
    )
    if isinstance(api, InstagramStandIn):  # waiting is time that passes on the platform
        channel.sleep = api.clock.sleep
        channel.clock = lambda: api.clock.now().timestamp()
    return channel


def test_contract(tmp_path: Path) -> None:
    preview = check_contract(
        InstagramChannel,
        OPTIONS,
        release_with_image(tmp_path),
        make_context(tmp_path),
        secrets=(TOKEN,),
    )
    assert preview.limit == 2200


def test_image_url_is_where_the_website_published_the_image(tmp_path: Path) -> None:
    release = release_with_image(tmp_path)
    assert (
        public_image_url(release, site_links(tmp_path)) == f"{SITE}media/adminduk-keliling-foto.jpg"
    )
    assert (
        public_image_url(release, site_links(tmp_path, image_url="https://cdn.example/x.jpg"))
        == "https://cdn.example/x.jpg"
    )


def test_publishes_through_a_container_polled_once_a_minute(tmp_path: Path) -> None:
    ig = instagram(tmp_path, processing_seconds=150)
    channel = channel_for(tmp_path, ig)
    preview = channel.preview(release_with_image(tmp_path, tags=["Adminduk"]), site_links(tmp_path))
    started = ig.clock.now()
    receipt = check_receipt(channel.publish(preview, "k1"))
    (container,) = ig.containers.values()
    assert container["image_url"] == f"{SITE}media/adminduk-keliling-foto-instagram.jpg"
    assert container["alt_text"] == "Petugas melayani warga"
    assert container["caption"] == preview.text and "#Adminduk" in preview.text
    assert [(t - started).total_seconds() for t in container["polls"]] == [0, 60, 120, 180]
    assert ig.fast_polls == 0
    (media,) = ig.media.values()
    assert receipt.remote_id == media["id"]
    assert receipt.url == f"https://www.instagram.com/p/SI{media['id'][-6:]}/"


def website_then_instagram(tmp_path: Path, **options: Any) -> tuple[InstagramStandIn, Any]:
    """The issue's release: a 2.4 MB portrait phone photo with its GPS position, the
    newest emoji, Javanese script and a Wikipedia address, published by the static-site
    channel, then to Instagram."""
    from phone_photo import portrait_photo

    from chanpub.channels.static_site import StaticSiteChannel, StaticSiteOptions
    from chanpub.testing import sample_release

    portrait_photo(tmp_path / "foto.jpg")
    release = sample_release(
        tmp_path,
        slug="adminduk-keliling",
        body=REALISTIC_BODY,
        image="foto.jpg",
        image_alt="Petugas melayani warga",
    )
    site = StaticSiteChannel(
        "website",
        StaticSiteOptions(path=str(tmp_path / "site"), base_url=SITE),
        make_context(tmp_path),
    )
    receipt = site.publish(site.preview(release, Links(site.canonical_url(release))), "w")
    links = Links(canonical_url=receipt.url, predicted=False, outputs={"website": receipt})
    ig = instagram(tmp_path)
    channel = channel_for(tmp_path, ig, **options)
    preview = channel.preview(release, links)
    return ig, (channel, preview)


def test_the_realistic_release_is_padded_to_4_5_and_fetched_from_the_website(
    tmp_path: Path,
) -> None:
    from phone_photo import metadata_of

    ig, (channel, preview) = website_then_instagram(tmp_path)
    (note,) = [w for w in preview.warnings if w.startswith("image:")]
    assert note.startswith("image: 1080x1920 padded to 1440x1800 (4:5), JPEG")
    assert note.endswith("turned upright, location data removed")
    check_receipt(channel.publish(preview, "k1"))
    (container,) = ig.containers.values()
    assert container["image_url"] == f"{SITE}media/adminduk-keliling-foto-instagram.jpg"
    (media,) = ig.media.values()
    assert "ꦱꦸꦒꦼꦁꦫꦮꦸꦃ" in media["caption"] and "🧑🏽‍💻🇮🇩🫶🏾" in media["caption"]
    shown = metadata_of(fetched(ig)[0])
    assert shown["format"] == "JPEG" and shown["size"] == (1440, 1800)
    assert shown["gps"] == {} and shown["exif"] == {}


def test_image_fit_crop_keeps_the_middle_at_4_5(tmp_path: Path) -> None:
    from phone_photo import metadata_of

    ig, (channel, preview) = website_then_instagram(tmp_path, image_fit="crop")
    assert any("cropped to 1080x1350 (4:5)" in w for w in preview.warnings)
    channel.publish(preview, "k1")
    assert metadata_of(fetched(ig)[0])["size"] == (1080, 1350)


def test_the_stand_in_refuses_the_photo_as_the_website_shows_it(tmp_path: Path) -> None:
    ig, _ = website_then_instagram(tmp_path)
    refused = ig._image_problem(f"{SITE}media/adminduk-keliling-foto.jpg")
    assert (
        refused is not None
        and "aspect ratio ('1080/1920')" in refused.json()["error"]["error_user_msg"]
    )


def test_polling_stops_after_five_minutes_and_the_next_run_reuses_the_container(
    tmp_path: Path,
) -> None:
    ig = instagram(tmp_path, processing_seconds=600)
    channel = channel_for(tmp_path, ig)
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    started = ig.clock.now()
    with pytest.raises(RetryableError, match="still preparing") as caught:
        channel.publish(preview, "k1")
    (container,) = ig.containers.values()
    assert (container["polls"][-1] - started).total_seconds() <= 300
    assert len(container["polls"]) == 6 and ig.fast_polls == 0
    assert caught.value.retry_after is not None and caught.value.retry_after > 60, (
        "longer than dispatch waits within a run: the next run continues"
    )
    ig.clock.advance(600)
    first = channel.publish(preview, "k1")
    again = channel.publish(preview, "k1")
    assert len(ig.containers) == 1 and len(ig.media) == 1
    assert again.remote_id == first.remote_id


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/media"), ("GET", "/1790"), ("POST", "/media_publish")],
    ids=["container created", "status read", "published"],
)
def test_a_lost_first_answer_settles_as_one_post_within_three_runs(
    tmp_path: Path, method: str, path: str
) -> None:
    ig, (channel, preview) = website_then_instagram(tmp_path)
    ig.drop_answer(method, path)
    runs = SendRuns(channel)
    results = []
    for _ in range(3):  # cron runs every five minutes
        results.append(runs.run(preview, "k1"))
        ig.clock.advance(300)
    (media,) = ig.media.values()
    receipts = [r for r in results if isinstance(r, Receipt)]
    assert receipts and {r.remote_id for r in receipts} == {media["id"]}
    assert len(ig.calls("POST", "/media_publish")) == 1 or path == "/media_publish"
    assert ig.fast_polls == 0


def test_a_container_published_by_a_lost_run_is_found_not_republished(tmp_path: Path) -> None:
    ig = instagram(tmp_path)
    channel = channel_for(tmp_path, ig)
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    ig.drop_answer("POST", "/media_publish")
    with pytest.raises(ChannelError):
        channel.publish(preview, "k1")
    found = channel.lookup("k1")
    (media,) = ig.media.values()
    assert found is not None and found.remote_id == media["id"]
    assert channel.publish(preview, "k1").remote_id == media["id"]
    assert len(ig.media) == 1


def test_a_published_container_whose_post_cannot_be_found_names_resolve(tmp_path: Path) -> None:
    ig = instagram(tmp_path)
    channel = channel_for(tmp_path, ig)
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    ig.drop_answer("POST", "/media_publish")
    with pytest.raises(ChannelError):
        channel.publish(preview, "k1")
    next(iter(ig.media.values()))["caption"] = "changed by hand in the app"
    with pytest.raises(PermanentError, match="chanpub resolve adminduk-keliling instagram"):
        channel.lookup("k1")


def test_container_error_is_permanent(tmp_path: Path) -> None:
    ig = instagram(tmp_path)

    def failing(request: httpx.Request) -> httpx.Response:
        container = request.url.path.rsplit("/", 1)[-1]
        if request.method == "GET" and container in ig.containers:
            return httpx.Response(200, json={"id": container, "status_code": "ERROR"})
        return ig(request)

    channel = channel_for(tmp_path, failing)
    with pytest.raises(PermanentError, match="could not prepare the image"):
        channel.publish(channel.preview(release_with_image(tmp_path), site_links(tmp_path)), "k1")
    assert ig.media == {}


def test_full_publishing_quota_is_failed_for_now(tmp_path: Path) -> None:
    ig = instagram(tmp_path)
    ig.media = {str(n): {"published": ig.clock.now()} for n in range(50)}
    channel = channel_for(tmp_path, ig)
    with pytest.raises(RetryableError, match="50 posts") as caught:
        channel.publish(channel.preview(release_with_image(tmp_path), site_links(tmp_path)), "k1")
    assert caught.value.retry_after is not None and caught.value.retry_after > 60
    assert ig.calls("POST", "/media_publish") == []


def test_no_public_image_means_no_post_and_says_why(tmp_path: Path) -> None:
    ig = instagram(tmp_path)
    channel = channel_for(tmp_path, ig)
    local = Links(
        canonical_url=(tmp_path / "site/adminduk-keliling.html").as_uri(), predicted=False
    )
    preview = channel.preview(release_with_image(tmp_path), local)
    assert any("public address" in w for w in preview.warnings)
    with pytest.raises(PermanentError, match="public address"):
        channel.publish(preview, "k1")
    from chanpub.testing import sample_release

    no_image = channel.preview(sample_release(tmp_path / "plain"), site_links(tmp_path))
    with pytest.raises(PermanentError, match="need an image"):
        channel.publish(no_image, "k2")
    assert ig.requests == []


def test_hashtags_beyond_the_cap_are_dropped_from_the_template_field(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, instagram(tmp_path), max_hashtags=5)
    tags = [f"Topik{i}" for i in range(8)]
    preview = channel.preview(release_with_image(tmp_path, tags=tags), site_links(tmp_path))
    assert preview.text.count("#") == 5 and "#Topik5" not in preview.text


def test_hashtags_written_into_the_template_over_the_cap_are_refused(tmp_path: Path) -> None:
    ig = instagram(tmp_path)
    template = "{{ title }} {{ url }} " + " ".join(f"#Tag{i}" for i in range(31))
    channel = channel_for(tmp_path, ig, template=template)
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    with pytest.raises(PermanentError, match="31 hashtags"):
        channel.publish(preview, "k1")
    assert ig.requests == []


def test_caption_that_cannot_be_shortened_is_refused(tmp_path: Path) -> None:
    ig = instagram(tmp_path)
    channel = channel_for(tmp_path, ig, template="{{ url }} " + "Pengumuman resmi. " * 130)
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    with pytest.raises(PermanentError, match="over Instagram's 2200"):
        channel.publish(preview, "k1")
    assert ig.requests == []


def test_expired_token_names_the_variable(tmp_path: Path) -> None:
    ig = instagram(tmp_path, lifetime=3600)
    ig.clock.advance(3601)
    channel = channel_for(tmp_path, ig)
    with pytest.raises(AuthError, match=r"expired.*\$IG_ACCESS_TOKEN"):
        channel.publish(channel.preview(release_with_image(tmp_path), site_links(tmp_path)), "k1")


# --- tokens -----------------------------------------------------------------------------


def events_of(tmp_path: Path, api: Any, **options: Any) -> tuple[InstagramChannel, list[Any]]:
    events: list[tuple[str, Any]] = []
    context = make_context(
        tmp_path,
        api,
        secrets={"access_token": "IG_ACCESS_TOKEN"},
        progress=lambda e, d: events.append((e, dict(d))),
    )
    model = InstagramOptions.model_validate({**OPTIONS, **options})
    channel = InstagramChannel("instagram", model, context)
    channel.sleep, channel.clock = api.clock.sleep, lambda: api.clock.now().timestamp()
    return channel, events


def test_verify_reports_account_quota_and_days_left_from_debug_token(tmp_path: Path) -> None:
    ig = instagram(tmp_path, lifetime=30 * DAY + 3600)
    ig.media = {str(n): {"published": ig.clock.now()} for n in range(3)}
    channel, events = events_of(tmp_path, ig)
    channel.verify()
    assert events == [("verified", {"account": "kominfokota", "quota_usage": 3, "days_left": 30})]


LOGIN = {"graph_base": "https://graph.instagram.com"}


def test_an_instagram_login_token_is_refreshed_and_kept_in_the_store(tmp_path: Path) -> None:
    ig = instagram(tmp_path, lifetime=20 * DAY)
    ig.clock.advance(2 * DAY)  # refreshable once a day old
    channel, events = events_of(tmp_path, ig, **LOGIN)
    channel.publish(channel.preview(release_with_image(tmp_path), site_links(tmp_path)), "k1")
    (refresh,) = ig.calls("GET", "/refresh_access_token")
    assert refresh.url.host == "graph.instagram.com"
    assert refresh.url.params["grant_type"] == "ig_refresh_token"
    fresh = [t for t in ig.tokens.expiry if t != TOKEN]
    assert len(fresh) == 1
    kept = channel.context.store("instagram:instagram").get("token")
    assert kept["token"] == fresh[0], "the refreshed token is kept in the state directory"
    assert ig.requests[-1].url.params["access_token"] == fresh[0], "and used from then on"
    ig.tokens.expire(TOKEN)  # the configured one may now run out: no matter
    channel.verify()
    assert events[-1][1]["days_left"] == 59  # 60 days from the refresh, a moment later
    assert len(ig.calls("GET", "/refresh_access_token")) == 1, "not refreshed on every run"


def test_a_token_too_young_to_refresh_still_publishes_and_waits_a_day(tmp_path: Path) -> None:
    ig = instagram(tmp_path)
    channel, events = events_of(tmp_path, ig, **LOGIN)
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    check_receipt(channel.publish(preview, "k1"))
    assert [e for e, _ in events] == ["token-refresh-failed"]
    channel.publish(preview, "k2-no-refresh-within-a-day")
    assert len(ig.calls("GET", "/refresh_access_token")) == 1


def test_a_new_token_set_by_the_officer_wins_over_the_kept_one(tmp_path: Path) -> None:
    ig = instagram(tmp_path)
    channel, _ = events_of(tmp_path, ig, **LOGIN)
    channel.context.store("instagram:instagram").put(
        "token", {"from": "an older token", "token": "stale", "expires_at": 0}
    )
    assert channel._token().get_secret_value() == TOKEN


def test_a_facebook_login_token_is_not_refreshed(tmp_path: Path) -> None:
    ig = instagram(tmp_path)
    ig.clock.advance(2 * DAY)
    channel = channel_for(tmp_path, ig)
    channel.publish(channel.preview(release_with_image(tmp_path), site_links(tmp_path)), "k1")
    assert ig.calls("GET", "/refresh_access_token") == []


# --- corrections and retractions (issue 16) ---------------------------------------------


def amendment(kind: str, note: str, previous: Receipt) -> Amendment:
    return Amendment(
        kind=kind, note=note, at=datetime(2026, 9, 7, 8, tzinfo=UTC), previous=previous
    )


def posted(tmp_path: Path) -> tuple[InstagramStandIn, InstagramChannel, Receipt, Any]:
    ig = instagram(tmp_path)
    channel = channel_for(tmp_path, ig)
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    return ig, channel, channel.publish(preview, "p"), preview


def test_a_correction_is_one_comment_across_a_lost_answer(tmp_path: Path) -> None:
    ig, channel, receipt, preview = posted(tmp_path)
    note = "Layanan dimulai Selasa, 8 September, bukan Senin."
    ig.drop_answer("POST", "/comments")
    with pytest.raises(ChannelError):
        channel.amend(preview, amendment("correction", note, receipt), "c1")
    done = channel.amend(preview, amendment("correction", note, receipt), "c1")
    assert done.action == Action.REPLIED and done.remote_id == receipt.remote_id
    assert [c["text"] for c in ig.comments] == [f"Ralat: {note}"]
    again = channel.amend(preview, amendment("correction", note, receipt), "c1")
    assert again.details["comment_id"] == done.details["comment_id"] and len(ig.comments) == 1
    channel.amend(preview, amendment("correction", "Rabu.", receipt), "c2")
    assert [c["text"] for c in ig.comments][-1] == "Ralat: Rabu."
    (media,) = ig.media.values()
    assert media["caption"] == preview.text, "captions cannot be edited through the API"


def test_a_retraction_comments_and_tells_the_officer_what_is_left(tmp_path: Path) -> None:
    ig, channel, receipt, preview = posted(tmp_path)
    done = channel.amend(preview, amendment("retraction", "Dibatalkan.", receipt), "r1")
    assert done.action == Action.REPLIED
    assert [c["text"] for c in ig.comments] == ["Dicabut: Dibatalkan."]
    assert "delete or archive the post by hand" in done.details["todo"]
    assert str(receipt.url) in done.details["todo"]
    assert len(ig.media) == 1, "Instagram's API has no delete: the post stays up"


# --- options ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"account_id": "@kominfokota"}, "numeric id"),
        ({"access_token": None}, "access_token"),
        ({"max_hashtags": 31}, "max_hashtags"),
        ({"graph_base": "graph.instagram.com"}, "https://"),
        ({"caption": "x"}, "caption"),
        ({"image_fit": "stretch"}, "image_fit"),
        ({"pad_color": "navy"}, "colour like #ffffff"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    values = {k: v for k, v in {**OPTIONS, **options}.items() if v is not None}
    with pytest.raises(ValidationError, match=message):
        InstagramOptions.model_validate(values)


def test_caption_text(tmp_path: Path, golden: Any) -> None:
    release = release_with_image(tmp_path, tags=["Adminduk", "layanan publik"])
    preview = channel_for(tmp_path, instagram(tmp_path)).preview(release, site_links(tmp_path))
    golden("instagram/release.txt", preview.text)


def test_a_lost_status_answer_waits_a_minute_before_the_next_query(tmp_path: Path) -> None:
    ig = instagram(tmp_path)
    ig.drop_answer("GET", "/1790")
    channel = channel_for(tmp_path, ig)
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(release_with_image(tmp_path), site_links(tmp_path)), "k1")
    assert caught.value.retry_after == 60.0, "dispatch's retry within the run waits a minute"
