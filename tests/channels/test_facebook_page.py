"""facebook-page against a fake Graph API that checks what the real one checks: the
version in the path, the Page token, the required fields, and answers with Meta's error
envelope and usage headers.

Photos follow https://developers.facebook.com/docs/graph-api/reference/page/photos/ and
the Photo node https://developers.facebook.com/docs/graph-api/reference/photo/: a picture
in `source` (JPEG or PNG here, at most 4 MB), the text in `caption`, and the picture's
description in `alt_text_custom`. Stricter than Meta, which only takes the alt text: a
photo post without it is refused, as chanpub sends alt text wherever an API takes it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from chanpub.channels.facebook_page import FacebookPageChannel, FacebookPageOptions
from chanpub.contract import Links
from chanpub.errors import AmbiguousError, AuthError, DuplicateError, PermanentError, RetryableError
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
GRAPH = "https://graph.facebook.com/v26.0"
OPTIONS = {"page_id": PAGE, "page_token": TOKEN}


def graph_error(
    status: int,
    code: int,
    message: str,
    subcode: int | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf123",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error}, headers=headers)


def photo_problem(form: dict[str, Any]) -> str | None:
    """What this stand-in refuses in a photo post (see the module docstring)."""
    import io

    from PIL import Image, UnidentifiedImageError

    if not form.get("alt_text_custom"):
        return "alt_text_custom is required for a photo (describe the picture)"
    data = form["source"]
    if len(data) > 4_000_000:
        return "The photo is larger than 4 MB"
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind = picture.format
    except UnidentifiedImageError:
        kind = None
    return None if kind in ("JPEG", "PNG") else "Invalid image format"


@dataclass
class FakeGraph:
    """A Page on a fake Graph API; `fail` answers the next create with an error."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    fail: Callable[[], httpx.Response] | None = None
    me: dict[str, str] = field(default_factory=lambda: {"id": PAGE, "name": "Kominfo Kota"})
    expires_at: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.url.path.startswith("/v26.0/"), "the API version is pinned in the path"
        params = dict(request.url.params)
        form = self._form(request)
        token = params.get("access_token") or form.get("access_token")
        if token != TOKEN:
            return graph_error(400, 190, "Invalid OAuth access token.")
        usage = {
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    PAGE: [
                        {
                            "type": "pages",
                            "call_count": 12,
                            "total_cputime": 3,
                            "total_time": 4,
                            "estimated_time_to_regain_access": 0,
                        }
                    ]
                }
            )
        }
        path = request.url.path.removeprefix("/v26.0/")
        if request.method == "POST" and self.fail is not None:
            failure, self.fail = self.fail, None
            return failure()
        if request.method == "POST" and path == f"{PAGE}/feed":
            if not form.get("message") and not form.get("link"):
                return graph_error(400, 100, "(#100) Missing message or attachment")
            post_id = f"{PAGE}_{900 + len(self.posts)}"
            self.posts.append({"id": post_id, **form})
            return httpx.Response(200, json={"id": post_id}, headers=usage)
        if request.method == "POST" and path == f"{PAGE}/photos":
            if "source" not in form and "url" not in form:
                return graph_error(400, 324, "(#324) Requires upload file")
            if problem := photo_problem(form):
                return graph_error(400, 100, f"(#100) {problem}")
            post_id = f"{PAGE}_{900 + len(self.posts)}"
            self.posts.append({"id": post_id, **form})
            return httpx.Response(200, json={"id": "5550001", "post_id": post_id}, headers=usage)
        if request.method == "GET" and path == f"{PAGE}/feed":
            assert "since" in params
            data = [
                {
                    "id": p["id"],
                    "message": p.get("message") or p.get("caption"),
                    "link": p.get("link"),
                }
                for p in reversed(self.posts)
            ]
            return httpx.Response(200, json={"data": data})
        if request.method == "GET" and path == "me":
            return httpx.Response(200, json=self.me)
        if request.method == "GET" and path == "debug_token":
            return httpx.Response(
                200,
                json={
                    "data": {
                        "type": "PAGE",
                        "is_valid": True,
                        "expires_at": self.expires_at,
                        "scopes": ["pages_manage_posts", "pages_read_engagement"],
                    }
                },
            )
        return graph_error(400, 100, f"Unsupported {request.method} request.")

    @staticmethod
    def _form(request: httpx.Request) -> dict[str, Any]:
        content_type = request.headers.get("Content-Type", "")
        body = request.read()
        if content_type.startswith("application/x-www-form-urlencoded"):
            return dict(httpx.QueryParams(body.decode()))
        if content_type.startswith("multipart/form-data"):
            from email.parser import BytesParser
            from email.policy import HTTP

            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + body
            )
            parts: dict[str, Any] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                parts[str(name)] = payload if part.get_filename() else payload.decode()
            return parts
        return {}


def channel_for(tmp_path: Path, graph: FakeGraph, **options: Any) -> FacebookPageChannel:
    context = make_context(tmp_path, graph, secrets={"page_token": "FB_PAGE_TOKEN"})
    model = FacebookPageOptions.model_validate({**OPTIONS, **options})
    return FacebookPageChannel("facebook", model, context)


def test_contract(tmp_path: Path) -> None:
    release = sample_release(tmp_path, tags=["Adminduk"])
    preview = check_contract(
        FacebookPageChannel, OPTIONS, release, make_context(tmp_path), secrets=(TOKEN,)
    )
    assert "https://kominfo.example.go.id/siaran/contoh.html" in preview.text
    assert preview.text.endswith("#Adminduk")


def test_link_post_carries_message_and_canonical_link(tmp_path: Path) -> None:
    graph = FakeGraph()
    channel = channel_for(tmp_path, graph)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    receipt = check_receipt(channel.publish(preview, "k1"))
    assert graph.posts[0]["link"] == "https://kominfo.example.go.id/siaran/contoh.html"
    assert graph.posts[0]["message"] == preview.text
    assert receipt.remote_id == f"{PAGE}_900"
    assert receipt.url == f"https://www.facebook.com/{PAGE}_900"
    assert all("access_token" not in r.url.params for r in graph.requests if r.method == "POST"), (
        "a POST carries the token in its body, not its URL"
    )


def test_photo_post_uploads_the_image_bytes_with_caption(tmp_path: Path) -> None:
    from phone_photo import metadata_of, portrait_photo

    portrait_photo(tmp_path / "foto.jpg")
    release = sample_release(tmp_path, image="foto.jpg", image_alt="Petugas melayani warga")
    graph = FakeGraph()
    channel = channel_for(tmp_path, graph)
    preview = channel.preview(release, sample_links())
    assert "location data removed" in "\n".join(preview.warnings)
    receipt = channel.publish(preview, "k1")
    shown = metadata_of(graph.posts[0]["source"])
    assert shown["size"] == (1080, 1920) and shown["gps"] == {} and shown["exif"] == {}
    assert graph.posts[0]["alt_text_custom"] == "Petugas melayani warga"
    assert graph.posts[0]["caption"] == preview.text
    assert receipt.url == f"https://www.facebook.com/{PAGE}_900"
    assert receipt.details["kind"] == "photo"


def test_second_publish_with_the_same_key_posts_nothing(tmp_path: Path) -> None:
    graph = FakeGraph()
    channel = channel_for(tmp_path, graph)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    first = channel.publish(preview, "k1")
    again = channel.publish(preview, "k1")
    assert again.remote_id == first.remote_id
    assert len(graph.posts) == 1


def test_expired_token_names_the_variable(tmp_path: Path) -> None:
    graph = FakeGraph(
        fail=lambda: graph_error(
            400, 190, "Error validating access token: Session has expired on Monday.", 463
        )
    )
    channel = channel_for(tmp_path, graph)
    with pytest.raises(AuthError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert "$FB_PAGE_TOKEN" in caught.value.message
    assert "expired" in caught.value.message
    assert caught.value.variable == "FB_PAGE_TOKEN"
    assert TOKEN not in caught.value.message


def test_throttling_waits_the_time_the_usage_header_gives(tmp_path: Path) -> None:
    header = json.dumps(
        {
            PAGE: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 40,
                    "total_time": 30,
                    "estimated_time_to_regain_access": 5,
                }
            ]
        }
    )
    graph = FakeGraph(
        fail=lambda: graph_error(
            400,
            80001,
            "There have been too many calls to this Page account.",
            headers={"X-Business-Use-Case-Usage": header},
        )
    )
    channel = channel_for(tmp_path, graph)
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert caught.value.retry_after == 300.0


def test_app_level_limit_without_a_wait_is_retryable(tmp_path: Path) -> None:
    graph = FakeGraph(
        fail=lambda: graph_error(
            400,
            4,
            "(#4) Application request limit reached",
            headers={"X-App-Usage": '{"call_count":100,"total_cputime":20,"total_time":25}'},
        )
    )
    channel = channel_for(tmp_path, graph)
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert caught.value.retry_after is None


def test_duplicate_post_is_reported_as_duplicate(tmp_path: Path) -> None:
    graph = FakeGraph(fail=lambda: graph_error(400, 506, "Duplicate status message"))
    channel = channel_for(tmp_path, graph)
    with pytest.raises(DuplicateError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert "Duplicate status message (code 506) [fbtrace_id AbCdEf123]" in caught.value.message


def test_a_temporary_error_on_create_is_ambiguous_and_lookup_reads_the_feed(
    tmp_path: Path,
) -> None:
    graph = FakeGraph()

    def created_anyway() -> httpx.Response:
        graph.posts.append(
            {
                "id": f"{PAGE}_777",
                "message": "…",
                "link": "https://kominfo.example.go.id/siaran/contoh.html",
            }
        )
        return graph_error(500, 2, "An unexpected error has occurred. Please retry.")

    graph.fail = created_anyway
    channel = channel_for(tmp_path, graph)
    with pytest.raises(AmbiguousError):
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    found = channel.lookup("k1")
    assert found is not None and found.remote_id == f"{PAGE}_777"
    assert channel.lookup("never-sent") is None


def test_a_caption_that_cannot_be_shortened_is_refused_before_sending(tmp_path: Path) -> None:
    graph = FakeGraph()
    channel = channel_for(tmp_path, graph, template="{{ url }} " + "Pengumuman. " * 6000)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    assert preview.over_limit
    with pytest.raises(PermanentError, match="nothing more can be shortened"):
        channel.publish(preview, "k1")
    assert graph.requests == []


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
    graph = FakeGraph(expires_at=int((datetime.now(UTC) + timedelta(days=12, hours=1)).timestamp()))
    events: list[tuple[str, Any]] = []
    context = make_context(tmp_path, graph, progress=lambda e, d: events.append((e, dict(d))))
    channel = FacebookPageChannel("facebook", FacebookPageOptions.model_validate(OPTIONS), context)
    channel.verify()
    assert events == [("verified", {"account": "Kominfo Kota", "days_left": 12})]


def test_verify_refuses_a_token_of_another_account(tmp_path: Path) -> None:
    graph = FakeGraph(me={"id": "100001234", "name": "Budi (user token)"})
    channel = channel_for(tmp_path, graph)
    with pytest.raises(PermanentError, match=r"\$FB_PAGE_TOKEN belongs to 'Budi"):
        channel.verify()


def test_preview_without_canonical_url_warns(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, FakeGraph())
    preview = channel.preview(sample_release(tmp_path), Links())
    assert any("no canonical URL" in w for w in preview.warnings)


def test_post_text(tmp_path: Path, golden: Any) -> None:
    release = sample_release(tmp_path, tags=["Adminduk", "layanan publik"])
    golden(
        "facebook-page/release.txt",
        channel_for(tmp_path, FakeGraph()).preview(release, sample_links()).text,
    )
