"""HTML and script written into a release (its Markdown or its front matter) never reaches
the website, the e-mails or WordPress as something a browser or mail client would run."""

from __future__ import annotations

import email
import email.policy
import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from chanpub.channels.wordpress import WordpressChannel
from chanpub.cli import app
from chanpub.contract import Links
from chanpub.testing import make_context, sample_release, write_release

from .html_check import active_content

BODY = """Warga diminta waspada banjir.

<script>alert('body')</script>
<img src=x onerror="alert('img')">
<iframe src="https://evil.example/"></iframe>
<svg onload=alert('svg')></svg>
<a href="javascript:alert('a')">klik</a>
[tautan](javascript:alert('md')) dan [data](data:text/html;base64,PHNjcmlwdD4=)
![gambar](javascript:alert('image'))
<div onclick="alert('div')">teks</div> <style>body{display:none}</style>
"""

FIELDS = {
    "summary": "\"><img src=x onerror=alert('summary')>",
    "tags": ["<b onmouseover=alert('tag')>banjir</b>", "</title><script>alert(1)</script>"],
    "source": "<script>alert('source')</script>",
}
TITLE = "Banjir <script>alert('title')</script> \"'><img src=x onerror=alert(1)>"

CONFIG = """organisation: "Diskominfo <script>alert('org')</script>"
channels:
  website:
    type: static-site
    canonical: true
    path: public
    base_url: https://kominfo.example.go.id/siaran/
    site_title: "Siaran <img src=x onerror=alert('site')>"
  press:
    type: email
    transport: outbox
    path: outbox
    from: "Humas <humas@example.go.id>"
    lists: ["Redaksi <redaksi@media.example.com>"]
"""


@pytest.fixture
def published(tmp_path: Path) -> Path:
    (tmp_path / "channels.yaml").write_text(CONFIG, encoding="utf-8")
    release = write_release(tmp_path / "releases", title=TITLE, body=BODY, **FIELDS)
    result = CliRunner().invoke(
        app, ["send", str(release), "--config", str(tmp_path / "channels.yaml")]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    return tmp_path


def test_the_website_pages_run_nothing_injected(published: Path) -> None:
    pages = sorted((published / "public").glob("*.html"))
    assert len(pages) >= 2  # the article and the index
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert active_content(html) == [], page.name
        assert "alert('title')" not in html or "&lt;script&gt;" in html  # shown, as text
    article = next(p for p in pages if p.name != "index.html").read_text(encoding="utf-8")
    assert "Warga diminta waspada banjir." in article


def test_the_feed_carries_the_injection_only_as_text(published: Path) -> None:
    feed = published / "public" / "feed.xml"
    root = ElementTree.fromstring(feed.read_bytes())
    atom = "{http://www.w3.org/2005/Atom}"
    titles = [e for e in root.iter(f"{atom}title")]
    assert any("<script>alert('title')" in (e.text or "") for e in titles)
    for element in root.iter():
        kind = element.get("type", "text")  # Atom: no type means plain text, shown as is
        if kind in ("html", "xhtml"):
            assert active_content(element.text or "") == [], element.tag
        else:
            assert kind == "text" or element.tag == f"{atom}link", element.tag


def test_the_e_mail_runs_nothing_injected(published: Path) -> None:
    (message_file,) = (published / "outbox").rglob("*.eml")
    message = email.message_from_bytes(message_file.read_bytes(), policy=email.policy.default)
    html_part = message.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert active_content(html, allowed_tags=frozenset({"meta"})) == []
    assert "\n" not in str(message["Subject"]) and "<script>" in str(message["Subject"])
    plain = message.get_body(("plain",))
    assert plain is not None and "Warga diminta waspada banjir." in plain.get_content()


def wordpress_site(posted: list[dict[str, object]]) -> httpx.MockTransport:
    """Just enough of the WordPress REST API to create a post; keeps what was posted."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/wp-json/":
            return httpx.Response(200, json={"namespaces": ["wp/v2"]})
        if request.method == "GET":
            if path.endswith("/users/me"):
                return httpx.Response(
                    200,
                    json={
                        "id": 1,
                        "capabilities": {
                            "publish_posts": True,
                            "edit_posts": True,
                            "upload_files": True,
                        },
                    },
                )
            return httpx.Response(200, json=[])
        if path.endswith(("/tags", "/categories")):
            return httpx.Response(201, json={"id": 7})
        if path.endswith("/posts"):
            body = json.loads(request.content)
            posted.append(body)
            return httpx.Response(
                201,
                json={
                    "id": 1,
                    "link": "https://kominfo.example.go.id/banjir/",
                    "status": "publish",
                    "slug": body["slug"],
                    "date_gmt": "2026-01-01T00:00:00",
                    "featured_media": 0,
                    "content": {"raw": body["content"]},
                },
            )
        return httpx.Response(404, json={"code": "rest_no_route"})

    return httpx.MockTransport(handler)


def test_wordpress_gets_sanitised_content(tmp_path: Path) -> None:
    posted: list[dict[str, object]] = []
    release = sample_release(tmp_path, title=TITLE, body=BODY, **FIELDS)
    context = make_context(
        tmp_path, client_factory=lambda: httpx.Client(transport=wordpress_site(posted))
    )
    options = WordpressChannel.Options.model_validate(
        {
            "site": "https://kominfo.example.go.id",
            "username": "humas",
            "app_password": "xxxx xxxx xxxx xxxx",
        }
    )
    channel = WordpressChannel("website", options, context)
    preview = channel.preview(release, Links("https://kominfo.example.go.id/banjir/"))
    assert active_content(preview.html or "") == []
    channel.publish(preview, "k" * 64)
    (post,) = posted
    assert active_content(str(post["content"])) == []
    assert "Warga diminta waspada banjir." in str(post["content"])


def test_wordpress_gets_the_title_and_excerpt_as_text_not_html(tmp_path: Path) -> None:
    posted: list[dict[str, object]] = []
    release = sample_release(tmp_path, title=TITLE, body=BODY, **FIELDS)
    context = make_context(
        tmp_path, client_factory=lambda: httpx.Client(transport=wordpress_site(posted))
    )
    options = WordpressChannel.Options.model_validate(
        {
            "site": "https://kominfo.example.go.id",
            "username": "humas",
            "app_password": "xxxx xxxx xxxx xxxx",
        }
    )
    channel = WordpressChannel("website", options, context)
    channel.publish(channel.preview(release, Links("https://kominfo.example.go.id/b/")), "k" * 64)
    (post,) = posted
    assert active_content(str(post["title"])) == []
    assert active_content(str(post["excerpt"])) == []
