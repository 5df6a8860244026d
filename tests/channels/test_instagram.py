"""instagram against a fake Graph API that behaves like Instagram's content publishing: a
container from a public image URL, IN_PROGRESS until it is ready, one media per
container, a publishing quota, caption and hashtag limits."""

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
JPEG = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"


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
        caption = form.get("caption", "")
        if len(caption) > 2200 or caption.count("#") > 30:
            return graph_error(100, "The caption is too long or has too many hashtags.")
        container = str(18000000000000001 + len(self.containers))
        self.containers[container] = {"status_code": "IN_PROGRESS", "checks": 0, **form}
        return httpx.Response(200, json={"id": container})

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
    from chanpub.testing import sample_release

    (tmp_path / "foto.jpg").write_bytes(JPEG)
    fields.setdefault("image", "foto.jpg")
    fields.setdefault("image_alt", "Petugas melayani warga")
    return sample_release(tmp_path, slug="adminduk-keliling", **fields)


def site_links(**details: Any) -> Links:
    """Links after the static-site channel published the article."""
    url = f"{SITE}adminduk-keliling.html"
    receipt = Receipt(
        remote_id="adminduk-keliling",
        url=url,
        published_at=datetime.now(UTC),
        details={"path": "/srv/www", **details},
    )
    return Links(canonical_url=url, predicted=False, outputs={"website": receipt})


def channel_for(tmp_path: Path, api: FakeInstagram, **options: Any) -> InstagramChannel:
    context = make_context(tmp_path, api, secrets={"access_token": "IG_ACCESS_TOKEN"})
    channel = InstagramChannel(
        "instagram", InstagramOptions.model_validate({**OPTIONS, **options}), context
    )
    channel.poll_interval = 0.0
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
    assert public_image_url(release, site_links()) == f"{SITE}media/adminduk-keliling-foto.jpg"
    assert (
        public_image_url(release, site_links(image_url="https://cdn.example/x.jpg"))
        == "https://cdn.example/x.jpg"
    )


def test_publishes_through_a_container_after_it_is_ready(tmp_path: Path) -> None:
    api = FakeInstagram(ready_after=3)
    channel = channel_for(tmp_path, api)
    preview = channel.preview(release_with_image(tmp_path, tags=["Adminduk"]), site_links())
    receipt = check_receipt(channel.publish(preview, "k1"))
    (container,) = api.containers.values()
    assert container["image_url"] == f"{SITE}media/adminduk-keliling-foto.jpg"
    assert container["alt_text"] == "Petugas melayani warga"
    assert container["caption"] == preview.text and "#Adminduk" in preview.text
    assert container["checks"] == 3, "polled until FINISHED"
    assert receipt.remote_id == api.media[0]["id"]
    assert receipt.url == f"https://www.instagram.com/p/C{receipt.remote_id}/"


def test_a_retried_run_reuses_the_container_and_never_publishes_twice(tmp_path: Path) -> None:
    api = FakeInstagram(ready_after=100)
    channel = channel_for(tmp_path, api)
    channel.poll_attempts = 2
    preview = channel.preview(release_with_image(tmp_path), site_links())
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
    preview = channel.preview(release_with_image(tmp_path), site_links())
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
        channel.publish(channel.preview(release_with_image(tmp_path), site_links()), "k1")
    assert api.media == []


def test_full_publishing_quota_is_failed_for_now(tmp_path: Path) -> None:
    api = FakeInstagram(quota_used=50)
    channel = channel_for(tmp_path, api)
    with pytest.raises(RetryableError, match="50 posts") as caught:
        channel.publish(channel.preview(release_with_image(tmp_path), site_links()), "k1")
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

    no_image = channel.preview(sample_release(tmp_path / "plain"), site_links())
    with pytest.raises(PermanentError, match="need an image"):
        channel.publish(no_image, "k2")
    assert api.calls == []


def test_hashtags_beyond_the_cap_are_dropped_from_the_template_field(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, FakeInstagram(), max_hashtags=5)
    tags = [f"Topik{i}" for i in range(8)]
    preview = channel.preview(release_with_image(tmp_path, tags=tags), site_links())
    assert preview.text.count("#") == 5 and "#Topik5" not in preview.text


def test_hashtags_written_into_the_template_over_the_cap_are_refused(tmp_path: Path) -> None:
    api = FakeInstagram()
    template = "{{ title }} {{ url }} " + " ".join(f"#Tag{i}" for i in range(31))
    channel = channel_for(tmp_path, api, template=template)
    preview = channel.preview(release_with_image(tmp_path), site_links())
    with pytest.raises(PermanentError, match="31 hashtags"):
        channel.publish(preview, "k1")
    assert api.calls == []


def test_caption_that_cannot_be_shortened_is_refused(tmp_path: Path) -> None:
    api = FakeInstagram()
    channel = channel_for(tmp_path, api, template="{{ url }} " + "Pengumuman resmi. " * 130)
    preview = channel.preview(release_with_image(tmp_path), site_links())
    with pytest.raises(PermanentError, match="over Instagram's 2200"):
        channel.publish(preview, "k1")
    assert api.calls == []


def test_expired_token_names_the_variable(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, FakeInstagram(token_expired=True))
    with pytest.raises(AuthError, match=r"expired.*\$IG_ACCESS_TOKEN"):
        channel.publish(channel.preview(release_with_image(tmp_path), site_links()), "k1")


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
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    values = {k: v for k, v in {**OPTIONS, **options}.items() if v is not None}
    with pytest.raises(ValidationError, match=message):
        InstagramOptions.model_validate(values)


def test_caption_text(tmp_path: Path, golden: Any) -> None:
    release = release_with_image(tmp_path, tags=["Adminduk", "layanan publik"])
    preview = channel_for(tmp_path, FakeInstagram()).preview(release, site_links())
    golden("instagram/release.txt", preview.text)
