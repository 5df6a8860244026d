"""bluesky, beyond the first post, against the strict PDS stand-in: the issue's realistic
release with its first answer lost, link cards with a picture, mentions resolved, and
corrections (a reply with the note and the link) and retractions (every record deleted),
each exactly once across a lost answer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standins.bluesky import PdsStandIn

from chanpub.channels.bluesky import BlueskyChannel, BlueskyOptions
from chanpub.contract import Action, Amendment, Links, Preview, Receipt
from chanpub.errors import AmbiguousError, RetryableError
from chanpub.testing import SECRET_MARKER, make_context, sample_links, sample_release

PASSWORD = f"abcd-efgh-{SECRET_MARKER}"
OPTIONS = {
    "service": "https://pds.kotacontoh.go.id",
    "handle": "kominfo.kotacontoh.go.id",
    "app_password": PASSWORD,
}
WIKIPEDIA = "https://id.wikipedia.org/wiki/Kartu_Tanda_Penduduk_(Indonesia)"


def channel_for(tmp_path: Path, pds: PdsStandIn, **options: Any) -> BlueskyChannel:
    context = make_context(tmp_path, pds, secrets={"app_password": "BLUESKY_APP_PASSWORD"})
    return BlueskyChannel("bluesky", BlueskyOptions.model_validate({**OPTIONS, **options}), context)


def a_run(channel: BlueskyChannel, preview: Preview, key: str) -> Receipt | None:
    """What one `chanpub send` does for this channel: publish; after an unanswered request,
    look the delivery up; a failure that may pass waits for the next run."""
    try:
        return channel.publish(preview, key)
    except AmbiguousError:
        return channel.lookup(key)
    except RetryableError:
        return None


def realistic_release(folder: Path, **fields: Any) -> Any:
    """The issue's release: a 2.4 MB portrait phone photo, the newest emoji, Javanese
    script and a Wikipedia address with parentheses."""
    from phone_photo import portrait_photo

    portrait_photo(folder / "foto.jpg")
    return sample_release(
        folder,
        title="Pemkot Buka Layanan Adminduk Keliling 🪪🫶🏽",
        summary=f"Warga 👩🏽‍💻👨‍👩‍👧 urus KTP-el 🇮🇩. ꦱꦸꦒꦺꦁꦫꦮꦸꦲ꧀. Latar: {WIKIPEDIA}",
        image="foto.jpg",
        image_alt="Petugas melayani warga di balai kelurahan",
        **fields,
    )


def linked(record: dict[str, Any]) -> list[str]:
    """The text each facet of a record covers."""
    encoded = record["text"].encode()
    return [
        encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode()
        for f in record.get("facets", [])
    ]


def test_the_realistic_release_with_its_first_answer_lost_is_posted_once(tmp_path: Path) -> None:
    pds = PdsStandIn(PASSWORD)
    pds.drop_answer("POST", "createRecord")
    channel = channel_for(tmp_path, pds)
    preview = channel.preview(realistic_release(tmp_path), sample_links())
    assert not preview.over_limit
    runs = [a_run(channel, preview, "real") for _ in range(3)]
    (post,) = pds.live()
    assert runs[0] is not None and all(r and r.remote_id == post["uri"] for r in runs)
    record = post["value"]
    assert record["text"] == preview.text and WIKIPEDIA in linked(record)
    assert record["embed"]["images"][0]["aspectRatio"] == {"width": 1080, "height": 1920}


def test_a_link_card_carries_the_release_image_fitted_under_1_mb(tmp_path: Path) -> None:
    pds = PdsStandIn(PASSWORD)
    channel = channel_for(tmp_path, pds, link_card=True)
    channel.publish(channel.preview(realistic_release(tmp_path), sample_links()), key="card")
    external = pds.live()[0]["value"]["embed"]["external"]
    assert external["uri"] == sample_links().canonical_url
    thumb = pds.blob(external["thumb"])
    assert 0 < len(thumb) <= 1_000_000 and external["thumb"]["mimeType"] == "image/jpeg"


def test_without_an_image_the_card_shows_the_posters_card(tmp_path: Path) -> None:
    from PIL import Image

    card = tmp_path / "out" / "siaran-poster-card.png"
    card.parent.mkdir()
    Image.new("RGB", (1080, 1080), "teal").save(card)
    poster = Receipt("poster", None, datetime.now(UTC), files=(card.with_suffix(".pdf"), card))
    links = Links(sample_links().canonical_url, predicted=False, outputs={"poster": poster})
    pds = PdsStandIn(PASSWORD)
    channel = channel_for(tmp_path, pds, card_image="poster")
    assert channel.depends_on() == ("poster",)
    channel.publish(channel.preview(sample_release(tmp_path), links), key="poster-card")
    thumb = pds.live()[0]["value"]["embed"]["external"]["thumb"]
    assert pds.blob(thumb).startswith(b"\xff\xd8"), "the poster card, as a JPEG"
    plain = PdsStandIn(PASSWORD)
    channel_for(tmp_path / "b", plain).publish(
        channel.preview(sample_release(tmp_path / "b"), sample_links()), key="no-card"
    )
    assert "thumb" not in plain.live()[0]["value"]["embed"]["external"]


def test_mentions_that_resolve_become_facets_the_others_stay_text(tmp_path: Path) -> None:
    pds = PdsStandIn(PASSWORD, handles={"dukcapil.kotacontoh.go.id": "did:plc:dukcapil1"})
    channel = channel_for(tmp_path, pds)
    release = sample_release(
        tmp_path, summary="Bersama @dukcapil.kotacontoh.go.id dan @nobody.kotacontoh.go.id."
    )
    channel.publish(channel.preview(release, sample_links()), key="mention")
    record = pds.live()[0]["value"]
    mentions = [
        (text, f["features"][0])
        for text, f in zip(linked(record), record["facets"], strict=True)
        if f["features"][0]["$type"].endswith("#mention")
    ]
    assert mentions == [
        (
            "@dukcapil.kotacontoh.go.id",
            {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:dukcapil1"},
        )
    ]
    assert "@nobody.kotacontoh.go.id" in record["text"]


def published_thread(tmp_path: Path, pds: PdsStandIn) -> tuple[BlueskyChannel, Preview, Receipt]:
    channel = channel_for(tmp_path, pds, thread=True)
    release = sample_release(tmp_path, summary="Kalimat ringkasan yang panjang. " * 25)
    preview = channel.preview(release, sample_links())
    return channel, preview, channel.publish(preview, key="first")


def amendment(kind: str, note: str, previous: Receipt) -> Amendment:
    return Amendment(kind=kind, note=note, at=datetime.now(UTC), previous=previous)


def test_corrections_reply_once_each_and_a_retraction_deletes_everything(tmp_path: Path) -> None:
    pds = PdsStandIn(PASSWORD)
    channel, preview, published = published_thread(tmp_path, pds)
    thread = len(pds.records)
    assert thread >= 3
    root = {"uri": published.remote_id, "cid": pds.live()[0]["cid"]}

    pds.drop_answer("POST", "createRecord")  # the reply is stored, its answer lost
    note = "Layanan dimulai Selasa, 8 September, bukan Senin."
    first = channel.amend(preview, amendment("correction", note, published), "fix-1")
    again = channel.amend(preview, amendment("correction", note, published), "fix-1")
    assert first.action == again.action == Action.REPLIED
    assert len(pds.records) == thread + 1, "the retried reply landed on the same key"
    reply = pds.records[first.details["replies"][0].rsplit("/", 1)[-1]]["value"]
    assert (
        reply["text"].startswith(f"Ralat: {note}") and sample_links().canonical_url in reply["text"]
    )
    assert reply["reply"] == {"root": root, "parent": root}
    assert sample_links().canonical_url in linked(reply)

    second = channel.amend(preview, amendment("correction", "Lokasi: Balai Kota.", first), "fix-2")
    assert len(pds.records) == thread + 2 and len(second.details["replies"]) == 2

    pds.drop_answer("POST", "deleteRecord")  # one delete applied, its answer lost
    with pytest.raises(RetryableError):
        channel.amend(preview, amendment("retraction", "Dibatalkan.", second), "pull")
    gone = channel.amend(preview, amendment("retraction", "Dibatalkan.", second), "pull")
    assert gone.action == Action.DELETED and pds.records == {}


def test_a_retraction_finds_the_replies_even_from_the_first_receipt(tmp_path: Path) -> None:
    pds = PdsStandIn(PASSWORD)
    channel, preview, published = published_thread(tmp_path, pds)
    channel.amend(preview, amendment("correction", "Jam buka 08.00.", published), "fix")
    channel.amend(preview, amendment("retraction", "Dibatalkan.", published), "pull")
    assert pds.records == {}, "the correction reply was deleted too"


def test_the_labels_follow_the_release_language(tmp_path: Path) -> None:
    pds = PdsStandIn(PASSWORD)
    channel = channel_for(tmp_path, pds)
    preview = channel.preview(sample_release(tmp_path, language="en"), sample_links())
    published = channel.publish(preview, key="en")
    done = channel.amend(preview, amendment("correction", "Opens Tuesday.", published), "fix")
    reply = pds.records[done.details["replies"][0].rsplit("/", 1)[-1]]["value"]
    assert reply["text"].startswith("Correction: Opens Tuesday.") and reply["langs"] == ["en"]
