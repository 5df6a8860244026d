"""static-site: a standalone article page, an index and an Atom feed, served as is."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from chanpub.channels.static_site import StaticSiteChannel, StaticSiteOptions
from chanpub.contract import Links
from chanpub.testing import check_contract, check_receipt, make_context, sample_release

BASE = "https://kominfo.example.go.id/siaran/"


class Collector(HTMLParser):
    """Collects meta tags, JSON-LD and images; fails on unbalanced tags."""

    VOID: ClassVar[set[str]] = {"meta", "link", "img", "br", "hr", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.images: list[dict[str, str | None]] = []
        self.scripts: list[str] = []
        self.stack: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta":
            name = values.get("property") or values.get("name")
            if name:
                self.meta[name] = values.get("content") or ""
        if tag == "img":
            self.images.append(values)
        if tag == "script":
            self._in_script = True
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(path: Path) -> Collector:
    collector = Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    collector.close()
    assert collector.stack == [], "the page is not well formed"
    return collector


def channel(tmp_path: Path, **options: str) -> StaticSiteChannel:
    model = StaticSiteOptions.model_validate({"path": "public", "base_url": BASE, **options})
    return StaticSiteChannel("website", model, make_context(tmp_path))


def test_contract(tmp_path: Path) -> None:
    preview = check_contract(
        StaticSiteChannel,
        {"path": "public", "base_url": BASE},
        sample_release(tmp_path),
        make_context(tmp_path),
    )
    assert preview.html and "<h1>" in preview.html


def test_bad_options_are_rejected() -> None:
    from pydantic import ValidationError

    for options, message in [({}, "path"), ({"path": "p", "base_url": "ftp://x"}, "https://")]:
        with pytest.raises(ValidationError, match=message):
            StaticSiteOptions.model_validate(options)


def test_the_article_page_has_open_graph_and_alt_text(tmp_path: Path) -> None:
    from phone_photo import metadata_of, portrait_photo

    (tmp_path / "r").mkdir()
    portrait_photo(tmp_path / "r" / "foto.jpg")
    release = sample_release(
        tmp_path / "r",
        image="foto.jpg",
        image_alt="Mobil layanan biru",
        tags=["adminduk"],
        date="2026-09-03",
    )
    site = channel(tmp_path)
    preview = site.preview(release, Links(canonical_url=site.canonical_url(release)))
    receipt = check_receipt(site.publish(preview, key="k" * 64))
    page = tmp_path / "public" / f"{release.slug}.html"
    assert receipt.url == f"{BASE}{release.slug}.html" and receipt.files == (page,)
    html = parse(page)
    assert html.meta["og:title"] == release.title
    assert html.meta["og:url"] == receipt.url
    assert html.meta["og:image"] == f"{BASE}media/{release.slug}-foto.jpg"
    assert html.meta["og:image:alt"] == "Mobil layanan biru"
    assert html.meta["chanpub-key"] == "k" * 64
    assert html.images[0] == {"src": f"media/{release.slug}-foto.jpg", "alt": "Mobil layanan biru"}
    published = metadata_of(
        (tmp_path / "public" / "media" / f"{release.slug}-foto.jpg").read_bytes()
    )
    assert published["size"] == (1080, 1920) and published["gps"] == {}, "upright, no location"
    assert published["exif"] == {} and "exif" not in published["info"]
    assert receipt.details["media_url"] == f"{BASE}media/"
    assert receipt.details["media_dir"] == str(tmp_path / "public" / "media")
    assert "Kamis, 3 September 2026" in page.read_text(encoding="utf-8")
    article = json.loads(html.scripts[0])
    assert article["@type"] == "NewsArticle" and article["headline"] == release.title


def test_a_clarification_carries_claim_review_and_no_link_to_the_hoax(tmp_path: Path) -> None:
    release = sample_release(
        tmp_path,
        kind="clarification",
        claim="KTP-el dikenai biaya Rp150.000",
        verdict="HOAKS",
        body="Pesan berantai di [grup](https://hoax.example/pesan) itu salah.\n",
    )
    site = channel(tmp_path)
    site.publish(site.preview(release, Links(canonical_url=site.canonical_url(release))), "k")
    page = tmp_path / "public" / f"{release.slug}.html"
    review = json.loads(parse(page).scripts[0])
    assert review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == "KTP-el dikenai biaya Rp150.000"
    assert review["reviewRating"]["alternateName"] == "HOAKS"
    assert review["author"]["name"] == "Dinas Kominfo Kota Contoh"
    assert "hoax.example" not in json.dumps(review)
    text = page.read_text(encoding="utf-8")
    assert '<p class="verdict">HOAKS</p>' in text


def test_injected_html_never_reaches_the_page(tmp_path: Path) -> None:
    release = sample_release(
        tmp_path,
        title='<script>alert("t")</script>Judul',
        body="Teks <script>alert(1)</script> <img src=x onerror=alert(2)> "
        '[klik](javascript:alert(3))\n\n<iframe src="https://evil.example"></iframe>\n',
    )
    site = channel(tmp_path)
    site.publish(site.preview(release, Links()), "k")
    page = tmp_path / "public" / f"{release.slug}.html"
    tags = TagLog()
    tags.feed(page.read_text(encoding="utf-8").split("<body>")[1])
    assert "script" not in tags.names and "iframe" not in tags.names
    assert not any(name.startswith("on") for _tag, name, _value in tags.attributes)
    assert not any(str(value).startswith("javascript:") for _tag, _name, value in tags.attributes)
    assert "&lt;script&gt;" in page.read_text(encoding="utf-8")  # shown as text, never run


class TagLog(HTMLParser):
    """Every tag and attribute in a fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.append(tag)
        self.attributes.extend((tag, name, value) for name, value in attrs)


def test_index_and_feed_list_every_article_newest_first(tmp_path: Path) -> None:
    site = channel(tmp_path, site_title="Siaran Pers")
    for title, day in (("Lama", "2026-01-01"), ("Baru", "2026-02-01")):
        release = sample_release(tmp_path / title, title=title, date=day)
        site.publish(site.preview(release, Links()), key=title)
    index = (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert index.index("Baru") < index.index("Lama")
    feed = ET.parse(tmp_path / "public" / "feed.xml").getroot()
    atom = "{http://www.w3.org/2005/Atom}"
    titles = [entry.findtext(f"{atom}title") for entry in feed.findall(f"{atom}entry")]
    assert sorted(titles) == ["Baru", "Lama"]
    assert feed.findtext(f"{atom}updated", "").startswith("2026-02-01")


def test_publishing_again_rewrites_instead_of_duplicating(tmp_path: Path) -> None:
    release = sample_release(tmp_path)
    site = channel(tmp_path)
    for _ in range(2):
        site.publish(site.preview(release, Links()), key="same")
    manifest = json.loads((tmp_path / "public" / ".chanpub-site.json").read_text())
    assert [entry["slug"] for entry in manifest] == [release.slug]
    found = site.lookup("same")
    assert found is not None and found.url == f"{BASE}{release.slug}.html"
    assert site.lookup("other") is None


def test_a_page_left_by_a_killed_run_is_listed_when_the_next_run_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from chanpub import files

    site = channel(tmp_path)
    site.publish(site.preview(sample_release(tmp_path / "a", title="Pertama"), Links()), key="a")
    release = sample_release(tmp_path / "b", title="Kedua Terbit")
    real_write = files.write_atomically

    def killed_after_the_page(path: Path, content: str | bytes, **kwargs: bool) -> None:
        if path.name in ("index.html", "feed.xml"):
            raise SystemExit("killed")  # the run dies after the page, before the listing
        real_write(path, content, **kwargs)

    for module in ("chanpub.channels.static_site.channel", "chanpub.channels.static_site.listing"):
        monkeypatch.setattr(
            importlib.import_module(module), "write_atomically", killed_after_the_page
        )
    with pytest.raises(SystemExit):
        site.publish(site.preview(release, Links()), key="b")
    monkeypatch.undo()
    public = tmp_path / "public"
    assert (public / f"{release.slug}.html").is_file()
    assert "Kedua Terbit" not in (public / "index.html").read_text(encoding="utf-8")

    found = channel(tmp_path).lookup("b")  # the next run resolves the in-progress mark
    assert found is not None and found.url == f"{BASE}{release.slug}.html"
    assert "Kedua Terbit" in (public / "index.html").read_text(encoding="utf-8")
    feed = (public / "feed.xml").read_text(encoding="utf-8")
    assert "Kedua Terbit" in feed and "Pertama" in feed


def test_page_matches_golden(tmp_path: Path, golden) -> None:  # type: ignore[no-untyped-def]
    release = sample_release(
        tmp_path, date="2026-09-03", tags=["adminduk"], source="Dinas Kominfo Kota Contoh"
    )
    site = channel(tmp_path)
    preview = site.preview(release, Links())
    golden("static-site/release.html", preview.html or "")
