"""static-site: the Atom feed (RFC 4287) written beside the index, checked by the RFC's rules
(tests/atom_rules.py) and by a golden file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from atom_rules import ATOM, atom_problems

from chanpub.channels.static_site import StaticSiteChannel, StaticSiteOptions
from chanpub.contract import Links
from chanpub.testing import make_context, sample_release

BASE = "https://kominfo.example.go.id/siaran/"
AWKWARD = "Tarif & <Pajak> \"Baru\" 'Kota' — Café Ñandú 税"


def site(tmp_path: Path, **options: Any) -> StaticSiteChannel:
    """A static site in tmp_path/public."""
    model = StaticSiteOptions.model_validate({"path": "public", **options})
    return StaticSiteChannel("website", model, make_context(tmp_path))


def publish_three(tmp_path: Path, channel: StaticSiteChannel) -> bytes:
    """An ordinary release, one with an awkward title, and a clarification; the feed."""
    releases = [
        sample_release(tmp_path / "a", title="Layanan Adminduk Keliling", date="2026-01-05"),
        sample_release(tmp_path / "b", title=AWKWARD, date="2026-02-10"),
        sample_release(
            tmp_path / "c",
            title="KTP Lama Tetap Berlaku",
            date="2026-03-01",
            kind="clarification",
            verdict="HOAKS",
            claim="KTP lama tidak berlaku",
        ),
    ]
    for number, release in enumerate(releases):
        channel.publish(channel.preview(release, Links()), key=str(number))
    return (tmp_path / "public" / "feed.xml").read_bytes()


def test_the_feed_keeps_every_rule_of_rfc_4287(tmp_path: Path) -> None:
    feed = publish_three(tmp_path, site(tmp_path, base_url=BASE, site_title="Siaran & Berita"))
    assert atom_problems(feed) == []


def test_without_a_base_url_the_feed_is_still_valid_with_file_iris(tmp_path: Path) -> None:
    feed = publish_three(tmp_path, site(tmp_path))
    assert atom_problems(feed) == []
    assert ET.fromstring(feed).findtext(f"{ATOM}id", "").startswith("file:///")


def test_the_feed_matches_golden(tmp_path: Path, golden) -> None:  # type: ignore[no-untyped-def]
    feed = publish_three(tmp_path, site(tmp_path, base_url=BASE, site_title="Siaran & Berita"))
    golden("static-site/feed.xml", feed.decode("utf-8"))


def test_markup_quotes_and_non_ascii_in_titles_come_back_as_written(tmp_path: Path) -> None:
    feed = publish_three(tmp_path, site(tmp_path, base_url=BASE, site_title=AWKWARD))
    assert feed.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    assert "Café Ñandú 税".encode() in feed  # UTF-8 as is, not character references
    assert b"&amp;" in feed and b"&lt;Pajak&gt;" in feed and b"<Pajak>" not in feed
    root = ET.fromstring(feed)
    assert root.findtext(f"{ATOM}title") == AWKWARD
    titles = [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]
    assert titles == ["[HOAKS] KTP Lama Tetap Berlaku", AWKWARD, "Layanan Adminduk Keliling"]


def test_entries_carry_their_url_as_id_and_link_and_their_dates(tmp_path: Path) -> None:
    feed = publish_three(tmp_path, site(tmp_path, base_url=BASE))
    root = ET.fromstring(feed)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "id"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"self": f"{BASE}feed.xml", "alternate": BASE}
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Dinas Kominfo Kota Contoh"
    assert root.findtext(f"{ATOM}updated") == "2026-03-01T00:00:00+00:00"  # the newest entry
    oldest = root.findall(f"{ATOM}entry")[-1]
    url = f"{BASE}layanan-adminduk-keliling.html"
    assert oldest.findtext(f"{ATOM}id") == url
    assert oldest.find(f"{ATOM}link").get("href") == url  # type: ignore[union-attr]
    assert oldest.findtext(f"{ATOM}published") == "2026-01-05T00:00:00+00:00"
    assert oldest.findtext(f"{ATOM}updated") == "2026-01-05T00:00:00+00:00"
    assert "layanan keliling" in oldest.findtext(f"{ATOM}summary", "")


def test_an_empty_site_has_a_valid_feed_dated_at_the_epoch(tmp_path: Path) -> None:
    feed = site(tmp_path, base_url=BASE)._listing()._feed([])
    assert atom_problems(feed) == []
    assert ET.fromstring(feed).findtext(f"{ATOM}updated") == "1970-01-01T00:00:00+00:00"


# --- the rules catch what they claim to catch ------------------------------------------

GOOD_ENTRY = (
    "<entry><id>https://e.example/1</id><title>T</title><updated>2026-01-01T00:00:00Z</updated>"
    '<link href="https://e.example/1"/></entry>'
)


def feed_of(inner: str, entry: str = GOOD_ENTRY) -> bytes:
    """A feed document with `inner` as its metadata and one entry."""
    return f'<feed xmlns="http://www.w3.org/2005/Atom">{inner}{entry}</feed>'.encode()


HEAD = (
    "<id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id><title>S</title>"
    "<updated>2026-01-01T00:00:00Z</updated><author><name>A</name></author>"
    '<link rel="self" href="https://e.example/feed.xml"/>'
)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (feed_of(HEAD), None),
        (feed_of(HEAD.replace("<title>S</title>", "")), "feed: atom:title is missing"),
        (feed_of(HEAD + "<title>again</title>"), "feed: atom:title appears 2 times"),
        (feed_of(HEAD.replace("<id>urn:uuid:", "<id>not an iri ")), "is not an IRI"),
        (feed_of(HEAD.replace("00:00:00Z", "00:00:00")), "is not an RFC 3339 date-time"),
        (feed_of(HEAD.replace("2026-01-01T", "2026-02-30T")), "is not an RFC 3339 date-time"),
        (feed_of(HEAD.replace('rel="self"', 'rel="related"')), "no link rel=self"),
        (feed_of(HEAD.replace("<author><name>A</name></author>", "")), "no author"),
        (feed_of(HEAD + "<generatr/>"), "atom:generatr is not allowed here"),
        (
            feed_of(HEAD.replace("<title>S</title>", '<title type="html"><b>S</b></title>')),
            "holds markup",
        ),
        (
            feed_of(HEAD, GOOD_ENTRY.replace("<id>https://e.example/1</id>", "")),
            "entry 1: atom:id is missing",
        ),
        (
            feed_of(HEAD, GOOD_ENTRY.replace('<link href="https://e.example/1"/>', "")),
            "no link rel=alternate",
        ),
        (feed_of(HEAD, GOOD_ENTRY * 2), "entry id https://e.example/1 appears 2 times"),
        (b'<rss version="2.0"/>', "not atom:feed"),
    ],
)
def test_the_rules_name_what_a_broken_feed_breaks(document: bytes, problem: str | None) -> None:
    problems = atom_problems(document)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems
