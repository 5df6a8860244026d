"""Corrections and retractions on X against the strict stand-in: an edit while X allows
it (a single post, within 30 minutes, at most 5 edits), otherwise a reply with the note
and the link; a retraction deletes every post. Each is done once per key, also when an
answer is lost in the middle (the next attempt with the same key doubles nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from standins.x import XStandIn

from chanpub.channels.x import XChannel, XOptions
from chanpub.contract import Action, Amendment, Receipt
from chanpub.errors import AmbiguousError, RetryableError
from chanpub.testing import make_context, sample_links, sample_release

NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."
LINK = "https://kominfo.example.go.id/siaran/contoh.html"


def setup(tmp_path: Path, **standin: Any) -> tuple[XStandIn, XChannel]:
    x = XStandIn(oauth2_token="user-token", **standin)
    context = make_context(tmp_path, x)
    channel = XChannel("x", XOptions(oauth2_token="user-token"), context)  # type: ignore[arg-type]
    channel.now = x.clock.now
    return x, channel


def publish(tmp_path: Path, channel: XChannel, **fields: Any) -> Receipt:
    release = sample_release(tmp_path / "v1", **fields)
    return channel.publish(channel.preview(release, sample_links()), "publish")


def amend(
    tmp_path: Path,
    channel: XChannel,
    previous: Receipt,
    key: str,
    *,
    kind: str = "correction",
    note: str = NOTE,
    **fields: Any,
) -> Receipt:
    release = sample_release(tmp_path / key, summary="Layanan dimulai Selasa.", **fields)
    preview = channel.preview(release, sample_links())
    amendment = Amendment(kind=kind, note=note, at=channel.now(), previous=previous)
    return channel.amend(preview, amendment, key)


def edits(x: XStandIn) -> list[Any]:
    return [r for r in x.calls("POST", "/2/tweets") if b"edit_options" in r.content]


def test_correct_correct_again_and_retract(tmp_path: Path) -> None:
    x, channel = setup(tmp_path)
    published = publish(tmp_path, channel)
    x.clock.advance(300)
    first = amend(tmp_path, channel, published, "ralat-1")
    assert first.action is Action.EDITED and first.remote_id != published.remote_id
    (post,) = x.live()
    assert post["id"] == first.remote_id and post["text"].startswith(f"Ralat: {NOTE}\n\n")
    assert "Layanan dimulai Selasa." in post["text"] and LINK in post["text"]
    assert post["edit_history_tweet_ids"] == [published.remote_id, first.remote_id]
    second = amend(tmp_path, channel, first, "ralat-2", note="Lokasi di Balai Kota.")
    assert second.action is Action.EDITED and second.details["edits"] == 2
    assert x.live()[0]["text"].startswith("Ralat: Lokasi di Balai Kota.")
    gone = amend(tmp_path, channel, second, "cabut", kind="retraction", note="Dibatalkan.")
    assert gone.action is Action.DELETED and x.live() == []
    again = amend(tmp_path, channel, second, "cabut-lagi", kind="retraction", note="Dibatalkan.")
    assert again.action is Action.UNCHANGED


def test_a_lost_edit_answer_is_found_not_edited_twice(tmp_path: Path) -> None:
    x, channel = setup(tmp_path)
    published = publish(tmp_path, channel)
    x.drop_answer("POST", "/2/tweets")
    with pytest.raises(AmbiguousError):
        amend(tmp_path, channel, published, "ralat-1")
    receipt = amend(tmp_path, channel, published, "ralat-1")
    assert receipt.action is Action.EDITED and len(edits(x)) == 1
    assert [p["id"] for p in x.live()] == [receipt.remote_id]


def test_the_same_edit_again_is_unchanged(tmp_path: Path) -> None:
    x, channel = setup(tmp_path)
    edited = amend(tmp_path, channel, publish(tmp_path, channel), "ralat-1")
    again = amend(tmp_path, channel, edited, "ralat-1-again")
    assert again.action is Action.UNCHANGED and len(edits(x)) == 1


@pytest.mark.parametrize("why", ["late", "not allowed", "thread"])
def test_otherwise_a_reply_with_the_note_and_link_once(tmp_path: Path, why: str) -> None:
    x, channel = setup(tmp_path, edits_allowed=why != "not allowed")
    if why == "thread":
        options = XOptions(oauth2_token="user-token", thread=True)  # type: ignore[arg-type]
        channel = XChannel("x", options, channel.context)
        channel.now = x.clock.now
    published = publish(tmp_path, channel)
    x.clock.advance(31 * 60 if why == "late" else 60)
    x.drop_answer("POST", "/2/tweets")  # the reply goes out, its answer is lost
    with pytest.raises(AmbiguousError):
        amend(tmp_path, channel, published, "ralat-1")
    receipt = amend(tmp_path, channel, published, "ralat-1")
    replies = [p for p in x.live() if p["in_reply_to"] == published.remote_id]
    ((reply),) = [p for p in replies if p["text"].startswith("Ralat:")]
    assert reply["text"] == f"Ralat: {NOTE}\n\n{LINK}"
    assert receipt.action is Action.REPLIED and receipt.remote_id == published.remote_id
    assert receipt.details["replies"] == [reply["id"]]
    gone = amend(tmp_path, channel, receipt, "cabut", kind="retraction", note="Dibatalkan.")
    assert gone.action is Action.DELETED and x.live() == [], "thread parts and reply deleted"


def test_a_lost_delete_answer_still_counts_as_deleted(tmp_path: Path) -> None:
    x, channel = setup(tmp_path)
    published = publish(tmp_path, channel)
    x.drop_answer("DELETE", "/2/tweets/")
    with pytest.raises(RetryableError):
        amend(tmp_path, channel, published, "cabut", kind="retraction", note="Dibatalkan.")
    receipt = amend(tmp_path, channel, published, "cabut", kind="retraction", note="Dibatalkan.")
    assert receipt.action is Action.DELETED and x.live() == []


def test_labels_follow_the_release_language(tmp_path: Path) -> None:
    x, channel = setup(tmp_path, edits_allowed=False)
    published = publish(tmp_path, channel)
    amend(tmp_path, channel, published, "ralat-en", language="en", note="Starts Tuesday.")
    assert any(p["text"].startswith("Correction: Starts Tuesday.") for p in x.live())
    assert len(edits(x)) == 1, "X refused the edit for this account: replied instead"


def test_an_edited_post_keeps_its_picture(tmp_path: Path) -> None:
    from PIL import Image

    x, channel = setup(tmp_path)
    for folder in ("v1", "ralat-1"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (120, 90), "navy").save(tmp_path / folder / "foto.png")
    picture = {"image": "foto.png", "image_alt": "Mobil layanan keliling"}
    published = publish(tmp_path, channel, **picture)
    assert x.live()[0]["media_ids"]
    first = amend(tmp_path, channel, published, "ralat-1", **picture)
    assert first.action is Action.EDITED
    (post,) = x.live()
    assert post["media_ids"], "an edit replaces the post: its picture must go with it"
