"""chanpub counts and links as the platforms' reference implementations do.

counting_table.json holds texts with the values twitter-text (X's weighted length) and
@atproto/api (detectFacets' spans, grapheme length) computed for them; counting_reference.js
beside this file regenerates it. The numbers are never typed by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chanpub.channels.atproto import detect_spans, facets
from chanpub.channels.x_text import count_x
from chanpub.render.shaping import count_graphemes

TABLE = json.loads((Path(__file__).parent / "counting_table.json").read_text(encoding="utf-8"))
ROWS: list[dict[str, Any]] = TABLE["rows"]


def test_the_table_covers_the_cases_the_issue_names() -> None:
    texts = "".join(row["text"] for row in ROWS)
    assert len(ROWS) >= 40 and TABLE["generated_by"].startswith("twitter-text 3.")
    for sample in [
        "👩‍👩‍👧‍👦",
        "🏳️‍🌈",
        "🧑🏽‍🚒",
        "1️⃣",
        "🇮🇩",
        "🫨",
        "🐦‍🔥",
        "ꦱꦸꦫꦏꦂꦠ",
        "日本語",
        "_(pulau)",
    ]:
        assert sample in texts
    for domain in ["example.go.id", "kominfo.go.id", "foo.bar", "www.example.com", ".invalidtld"]:
        assert domain in texts


@pytest.mark.parametrize("row", ROWS, ids=[row["note"] for row in ROWS])
def test_x_weighted_length_equals_twitter_text(row: dict[str, Any]) -> None:
    assert count_x(row["text"]) == row["x_weighted_length"]


@pytest.mark.parametrize("row", ROWS, ids=[row["note"] for row in ROWS])
def test_bluesky_spans_equal_detect_facets(row: dict[str, Any]) -> None:
    found = [[s.byte_start, s.byte_end, s.kind, s.value] for s in detect_spans(row["text"])]
    assert found == row["bluesky_facets"]


@pytest.mark.parametrize("row", ROWS, ids=[row["note"] for row in ROWS])
def test_bluesky_graphemes_equal_rich_text(row: dict[str, Any]) -> None:
    assert count_graphemes(row["text"]) == row["bluesky_graphemes"]


def test_the_issues_release_line_is_too_long_for_x() -> None:
    # chanpub once counted this line as 273 and sent it; twitter-text counts 285, because
    # twemoji-parser does not know Unicode 15.1's ZWJ sequences and weighs their parts.
    line = next(row["text"] for row in ROWS if "273" in row["note"])
    assert count_x(line) == 285 > 280


def test_a_wikipedia_link_keeps_its_closing_parenthesis_on_bluesky() -> None:
    text = "Baca https://id.wikipedia.org/wiki/Jawa_(pulau) dulu"
    [link] = facets(text)
    start, end = link["index"]["byteStart"], link["index"]["byteEnd"]
    assert text.encode()[start:end].decode() == "https://id.wikipedia.org/wiki/Jawa_(pulau)"
    assert link["features"] == [
        {
            "$type": "app.bsky.richtext.facet#link",
            "uri": "https://id.wikipedia.org/wiki/Jawa_(pulau)",
        }
    ]


def test_bare_and_www_domains_are_linked_with_https_on_bluesky() -> None:
    found = facets("Buka www.surakarta.go.id atau kominfo.go.id, bukan laporan.pdf")
    assert [f["features"][0]["uri"] for f in found] == [
        "https://www.surakarta.go.id",
        "https://kominfo.go.id",
    ]


def test_mentions_become_facets_only_when_the_handle_resolves() -> None:
    text = "Hubungi @humas.bsky.social atau @hilang.bsky.social"
    assert facets(text) == []  # without a resolver no mention facet: a DID is required
    dids = {"humas.bsky.social": "did:plc:humas"}
    [mention] = facets(text, resolve=dids.get)
    assert mention == {
        "index": {"byteStart": 8, "byteEnd": 26},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:humas"}],
    }
