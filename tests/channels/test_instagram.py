"""instagram against a fake Graph API that behaves like Instagram's content publishing: a
container from a public image URL, IN_PROGRESS until it is ready, one media per
container, a publishing quota, caption and hashtag limits.

The fake fetches the image the way Instagram does, from its public address (here: the
static site's output folder under SITE), and refuses what
https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#image-specifications
refuses: not a JPEG, over 8 MB, an aspect ratio outside 4:5 to 1.91:1 (error codes:
https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from chanpub.channels.instagram import InstagramChannel, InstagramOptions, public_image_url
from chanpub.contract import Links, Receipt
from chanpub.errors import AuthError, PermanentError, RetryableError
from chanpub.testing import SECRET_MARKER, check_contract, check_receipt, make_context

ACCOUNT = "17841400000000001"
TOKEN = f"EAAG-ig-{SECRET_MARKER}"
OPTIONS = {"account_id": ACCOUNT, "access_token": TOKEN}
SITE = "https://kominfo.example.go.id/siaran/"
IMAGE_MAX_BYTES = 8_000_000


def graph_error(code: int, message: str, subcode: int | None = None) -> httpx.Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AXyz",
    }
    if subcode:
        error["error_subcode"] = subcode
    return httpx.Response(400, json={"error": error})


@dataclass
class FakeInstagram:
    """One professional account; a container needs `ready_after` status checks."""

    ready_after: int = 1
    end_state: str = "FINISHED"
    quota_used: int = 0
    token_expired: bool = False
    site: Path | None = None  # the folder served at SITE
    fetched: list[bytes] = field(default_factory=list)
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v26.0/")
        self.calls.append(f"{request.method} {path}")
        form = dict(httpx.QueryParams(request.read().decode())) if request.method == "POST" else {}
        params = dict(request.url.params)
        if (params.get("access_token") or form.get("access_token")) != TOKEN:
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        if self.token_expired:
            return graph_error(190, "Error validating access token: Session has expired", 463)
        if request.method == "POST" and path == f"{ACCOUNT}/media":
            return self._create(form)
        if request.method == "POST" and path == f"{ACCOUNT}/media_publish":
            return self._publish(form)
        if request.method == "GET" and path == f"{ACCOUNT}/content_publishing_limit":
            return httpx.Response(
                200,
                json={
                    "data": [
                        {
                            "quota_usage": self.quota_used,
                            "config": {"quota_total": 50, "quota_duration": 86400},
                        }
                    ]
                },
            )
        if request.method == "GET" and path == f"{ACCOUNT}/media":
            return httpx.Response(200, json={"data": list(reversed(self.media))})
        if request.method == "GET" and path == ACCOUNT:
            return httpx.Response(200, json={"id": ACCOUNT, "username": "kominfokota"})
        if request.method == "GET" and path == "debug_token":
            return httpx.Response(200, json={"data": {"is_valid": True, "expires_at": 0}})
        if request.method == "GET" and path in self.containers:
            assert "status_code" in params["fields"]
            container = self.containers[path]
            container["checks"] += 1
            if (
                container["status_code"] == "IN_PROGRESS"
                and container["checks"] >= self.ready_after
            ):
                container["status_code"] = self.end_state
            return httpx.Response(200, json={"status_code": container["status_code"], "id": path})
        if request.method == "GET" and any(m["id"] == path for m in self.media):
            return httpx.Response(
                200, json={"permalink": f"https://www.instagram.com/p/C{path}/", "id": path}
            )
        return graph_error(100, f"Unsupported {request.method} request: {path}")

    def _create(self, form: dict[str, str]) -> httpx.Response:
        url = form.get("image_url", "")
        if not url.startswith(("http://", "https://")):
            return graph_error(9004, "Only photo or video can be accepted as media type.", 2207052)
        if problem := self.image_problem(url):
            return problem
        caption = form.get("caption", "")
        if len(caption) > 2200 or caption.count("#") > 30:
            return graph_error(100, "The caption is too long or has too many hashtags.")
        container = str(18000000000000001 + len(self.containers))
        self.containers[container] = {"status_code": "IN_PROGRESS", "checks": 0, **form}
        return httpx.Response(200, json={"id": container})

    def image_problem(self, url: str) -> httpx.Response | None:
        """Fetch the image from its public address and refuse what Instagram refuses."""
        import io

        from PIL import Image, UnidentifiedImageError

        local = self.site / url.removeprefix(SITE) if self.site and url.startswith(SITE) else None
        if local is None or not local.is_file():
            return graph_error(9004, "The media could not be fetched from this URI.", 2207052)
        data = local.read_bytes()
        self.fetched.append(data)
        if len(data) > IMAGE_MAX_BYTES:
            return graph_error(36001, "The image size is too large.", 2207004)
        try:
            with Image.open(io.BytesIO(data)) as image:
                kind, ratio = image.format, image.width / image.height
        except UnidentifiedImageError:
            kind, ratio = None, 1.0
        if kind != "JPEG":
            return graph_error(9004, "Only JPEG images are supported.", 2207026)
        if not 0.8 <= ratio <= 1.91:
            return graph_error(
                36003,
                f"The submitted image with aspect ratio ('{ratio:.4f}') cannot be published. "
                "Please submit an image with a valid aspect ratio.",
                2207009,
            )
        return None

    def _publish(self, form: dict[str, str]) -> httpx.Response:
        container = self.containers.get(form.get("creation_id", ""))
        if container is None:
            return graph_error(100, "Invalid parameter")
        if container["status_code"] != "FINISHED":
            return graph_error(9007, "Media ID is not available", 2207027)
        if self.quota_used >= 50:
            return graph_error(9, "Application request limit reached", 2207042)
        media_id = str(17900000000000001 + len(self.media))
        container["status_code"] = "PUBLISHED"
        self.media.append({"id": media_id, "caption": container["caption"]})
        return httpx.Response(200, json={"id": media_id})


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


def channel_for(tmp_path: Path, api: FakeInstagram, **options: Any) -> InstagramChannel:
    context = make_context(tmp_path, api, secrets={"access_token": "IG_ACCESS_TOKEN"})
    channel = InstagramChannel(
        "instagram", InstagramOptions.model_validate({**OPTIONS, **options}), context
    )
    channel.poll_interval = 0.0
    api.site = api.site or tmp_path / "site"
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


def test_publishes_through_a_container_after_it_is_ready(tmp_path: Path) -> None:
    api = FakeInstagram(ready_after=3)
    channel = channel_for(tmp_path, api)
    preview = channel.preview(release_with_image(tmp_path, tags=["Adminduk"]), site_links(tmp_path))
    receipt = check_receipt(channel.publish(preview, "k1"))
    (container,) = api.containers.values()
    assert container["image_url"] == f"{SITE}media/adminduk-keliling-foto-instagram.jpg"
    assert container["alt_text"] == "Petugas melayani warga"
    assert container["caption"] == preview.text and "#Adminduk" in preview.text
    assert container["checks"] == 3, "polled until FINISHED"
    assert receipt.remote_id == api.media[0]["id"]
    assert receipt.url == f"https://www.instagram.com/p/C{receipt.remote_id}/"


def website_then_instagram(tmp_path: Path, **options: Any) -> tuple[FakeInstagram, Any]:
    """The issue's release: a 2.4 MB portrait phone photo with its GPS position, published
    by the static-site channel, then to Instagram."""
    from phone_photo import portrait_photo

    from chanpub.channels.static_site import StaticSiteChannel, StaticSiteOptions
    from chanpub.testing import sample_release

    portrait_photo(tmp_path / "foto.jpg")
    release = sample_release(
        tmp_path, slug="adminduk-keliling", image="foto.jpg", image_alt="Petugas melayani warga"
    )
    site = StaticSiteChannel(
        "website",
        StaticSiteOptions(path=str(tmp_path / "site"), base_url=SITE),
        make_context(tmp_path),
    )
    receipt = site.publish(site.preview(release, Links(site.canonical_url(release))), "w")
    links = Links(canonical_url=receipt.url, predicted=False, outputs={"website": receipt})
    api = FakeInstagram()
    channel = channel_for(tmp_path, api, **options)
    preview = channel.preview(release, links)
    return api, (channel, preview)


def test_a_portrait_phone_photo_is_padded_to_4_5_and_fetched_from_the_website(
    tmp_path: Path,
) -> None:
    from phone_photo import metadata_of

    api, (channel, preview) = website_then_instagram(tmp_path)
    (note,) = [w for w in preview.warnings if w.startswith("image:")]
    assert note.startswith("image: 1080x1920 padded to 1440x1800 (4:5), JPEG")
    assert note.endswith("turned upright, location data removed")
    check_receipt(channel.publish(preview, "k1"))
    (container,) = api.containers.values()
    assert container["image_url"] == f"{SITE}media/adminduk-keliling-foto-instagram.jpg"
    shown = metadata_of(api.fetched[0])
    assert shown["format"] == "JPEG" and shown["size"] == (1440, 1800)
    assert shown["gps"] == {} and shown["exif"] == {}


def test_image_fit_crop_keeps_the_middle_at_4_5(tmp_path: Path) -> None:
    from phone_photo import metadata_of

    api, (channel, preview) = website_then_instagram(tmp_path, image_fit="crop")
    assert any("cropped to 1080x1350 (4:5)" in w for w in preview.warnings)
    channel.publish(preview, "k1")
    assert metadata_of(api.fetched[0])["size"] == (1080, 1350)


def test_the_stand_in_refuses_the_photo_as_the_website_shows_it(tmp_path: Path) -> None:
    api, _ = website_then_instagram(tmp_path)
    refused = api.image_problem(f"{SITE}media/adminduk-keliling-foto.jpg")
    assert refused is not None and b"aspect ratio ('0.5625')" in refused.read()


def test_a_retried_run_reuses_the_container_and_never_publishes_twice(tmp_path: Path) -> None:
    api = FakeInstagram(ready_after=100)
    channel = channel_for(tmp_path, api)
    channel.poll_attempts = 2
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    with pytest.raises(RetryableError, match="still preparing"):
        channel.publish(preview, "k1")
    api.ready_after = 0
    first = channel.publish(preview, "k1")
    again = channel.publish(preview, "k1")
    assert len(api.containers) == 1 and len(api.media) == 1
    assert again.remote_id == first.remote_id


def test_a_container_published_by_a_lost_run_is_found_not_republished(tmp_path: Path) -> None:
    api = FakeInstagram()
    channel = channel_for(tmp_path, api)
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    channel.publish(preview, "k1")
    # A fresh journal that only knows the container, as after a crash before the record.
    other = channel_for(tmp_path, api)
    journal = other.context.journal("k2")
    journal.sent("container", next(iter(api.containers)))
    found = other.lookup("k2")
    assert found is not None and found.remote_id == api.media[0]["id"]
    assert other.publish(preview, "k2").remote_id == api.media[0]["id"]
    assert len(api.media) == 1


def test_container_error_is_permanent(tmp_path: Path) -> None:
    api = FakeInstagram(end_state="ERROR")
    channel = channel_for(tmp_path, api)
    with pytest.raises(PermanentError, match="could not prepare the image"):
        channel.publish(channel.preview(release_with_image(tmp_path), site_links(tmp_path)), "k1")
    assert api.media == []


def test_full_publishing_quota_is_failed_for_now(tmp_path: Path) -> None:
    api = FakeInstagram(quota_used=50)
    channel = channel_for(tmp_path, api)
    with pytest.raises(RetryableError, match="50 posts") as caught:
        channel.publish(channel.preview(release_with_image(tmp_path), site_links(tmp_path)), "k1")
    assert caught.value.retry_after is not None and caught.value.retry_after > 60
    assert api.media == []


def test_no_public_image_means_no_post_and_says_why(tmp_path: Path) -> None:
    api = FakeInstagram()
    channel = channel_for(tmp_path, api)
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
    assert api.calls == []


def test_hashtags_beyond_the_cap_are_dropped_from_the_template_field(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, FakeInstagram(), max_hashtags=5)
    tags = [f"Topik{i}" for i in range(8)]
    preview = channel.preview(release_with_image(tmp_path, tags=tags), site_links(tmp_path))
    assert preview.text.count("#") == 5 and "#Topik5" not in preview.text


def test_hashtags_written_into_the_template_over_the_cap_are_refused(tmp_path: Path) -> None:
    api = FakeInstagram()
    template = "{{ title }} {{ url }} " + " ".join(f"#Tag{i}" for i in range(31))
    channel = channel_for(tmp_path, api, template=template)
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    with pytest.raises(PermanentError, match="31 hashtags"):
        channel.publish(preview, "k1")
    assert api.calls == []


def test_caption_that_cannot_be_shortened_is_refused(tmp_path: Path) -> None:
    api = FakeInstagram()
    channel = channel_for(tmp_path, api, template="{{ url }} " + "Pengumuman resmi. " * 130)
    preview = channel.preview(release_with_image(tmp_path), site_links(tmp_path))
    with pytest.raises(PermanentError, match="over Instagram's 2200"):
        channel.publish(preview, "k1")
    assert api.calls == []


def test_expired_token_names_the_variable(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, FakeInstagram(token_expired=True))
    with pytest.raises(AuthError, match=r"expired.*\$IG_ACCESS_TOKEN"):
        channel.publish(channel.preview(release_with_image(tmp_path), site_links(tmp_path)), "k1")


def test_verify_reports_account_and_quota(tmp_path: Path) -> None:
    events: list[tuple[str, Any]] = []
    context = make_context(
        tmp_path, FakeInstagram(quota_used=3), progress=lambda e, d: events.append((e, dict(d)))
    )
    InstagramChannel("instagram", InstagramOptions.model_validate(OPTIONS), context).verify()
    assert events == [("verified", {"account": "kominfokota", "quota_usage": 3, "days_left": None})]


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
    preview = channel_for(tmp_path, FakeInstagram()).preview(release, site_links(tmp_path))
    golden("instagram/release.txt", preview.text)
