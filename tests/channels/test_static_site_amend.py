"""static-site corrections and retractions: the page re-rendered with a visible "Ralat" box
(note and time) above the text and `dateModified`, or replaced by a retraction notice at the
same URL and taken off the index; the feed entry updated either way."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from chanpub.channels.static_site import StaticSiteChannel, StaticSiteOptions
from chanpub.contract import Action, Amendment, Links, Receipt
from chanpub.testing import make_context, sample_release

BASE = "https://kominfo.example.go.id/siaran"
ATOM = "{http://www.w3.org/2005/Atom}"
NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."
AT = datetime(2026, 9, 7, 9, 30, tzinfo=UTC)


def site(tmp_path: Path) -> StaticSiteChannel:
    options = StaticSiteOptions.model_validate({"path": "public", "base_url": BASE})
    return StaticSiteChannel("website", options, make_context(tmp_path))


def published(tmp_path: Path, **fields: str) -> tuple[StaticSiteChannel, Receipt]:
    channel = site(tmp_path)
    other = sample_release(tmp_path / "lain", title="Rilis Lain", date="2026-01-01")
    channel.publish(channel.preview(other, Links()), key="other")
    release = sample_release(tmp_path, date="2026-09-03", **fields)
    return channel, channel.publish(channel.preview(release, Links()), key="first")


def json_ld(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def feed_entry(tmp_path: Path, url: str) -> ET.Element:
    feed = ET.parse(tmp_path / "public" / "feed.xml").getroot()
    (entry,) = [e for e in feed.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}id") == url]
    return entry


def test_a_correction_shows_a_ralat_box_above_the_text_and_updates_the_feed(
    tmp_path: Path,
) -> None:
    channel, receipt = published(tmp_path)
    new = sample_release(tmp_path, date="2026-09-03", summary="Mulai Selasa, 8 September.")
    amendment = Amendment(kind="correction", note=NOTE, at=AT, previous=receipt)
    done = channel.amend(channel.preview(new, Links()), amendment, key="c1")
    assert done.action is Action.EDITED and done.url == receipt.url
    page = Path(receipt.files[0]).read_text(encoding="utf-8")
    box = page.index('<aside class="correction"')
    assert box < page.index("<p>Dinas Kependudukan")
    assert (
        "<strong>Ralat</strong>" in page and NOTE in page and "7 September 2026 09.30 UTC" in page
    )
    assert json_ld(page)["dateModified"] == AT.isoformat()
    assert '<meta name="chanpub-key" content="first">' in page  # lookup still finds it
    entry = feed_entry(tmp_path, str(receipt.url))
    assert entry.findtext(f"{ATOM}updated") == AT.isoformat()
    assert NOTE in entry.findtext(f"{ATOM}summary", "")
    # The same correction again writes the same page: nothing changed.
    assert channel.amend(channel.preview(new, Links()), amendment, key="c1-again").action is (
        Action.UNCHANGED
    )
    # A second correction adds its box above the first.
    later = Amendment(
        kind="correction", note="Tempat: Balai Kota.", at=AT.replace(hour=11), previous=receipt
    )
    channel.amend(channel.preview(new, Links()), later, key="c2")
    page = Path(receipt.files[0]).read_text(encoding="utf-8")
    assert page.index("Tempat: Balai Kota.") < page.index(NOTE)


def test_a_retraction_replaces_the_page_with_a_notice_and_leaves_the_index(
    tmp_path: Path,
) -> None:
    channel, receipt = published(tmp_path)
    release = sample_release(tmp_path, date="2026-09-03")
    amendment = Amendment(kind="retraction", note="Acara dibatalkan.", at=AT, previous=receipt)
    done = channel.amend(channel.preview(release, Links()), amendment, key="r")
    assert done.action is Action.EDITED and done.url == receipt.url
    page = Path(receipt.files[0]).read_text(encoding="utf-8")
    assert '<div class="retracted"' in page and "Alasan: Acara dibatalkan." in page
    assert "Siaran pers ini telah dicabut." in page
    assert "Dinas Kependudukan" not in page  # the text is gone, the URL stays
    index = (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert release.title not in index and "Rilis Lain" in index
    entry = feed_entry(tmp_path, str(receipt.url))
    assert entry.findtext(f"{ATOM}title", "").startswith("[Dicabut]")
    assert entry.findtext(f"{ATOM}updated") == AT.isoformat()


def test_a_retracted_clarification_keeps_its_claim_review(tmp_path: Path) -> None:
    fields = {"kind": "clarification", "claim": "Air PDAM tercemar", "verdict": "HOAKS"}
    channel, receipt = published(tmp_path, **fields)
    release = sample_release(tmp_path, date="2026-09-03", **fields)
    amendment = Amendment(kind="retraction", note="Ditarik.", at=AT, previous=receipt)
    channel.amend(channel.preview(release, Links()), amendment, key="r")
    data = json_ld(Path(receipt.files[0]).read_text(encoding="utf-8"))
    assert data["@type"] == "ClaimReview" and data["dateModified"] == AT.isoformat()
