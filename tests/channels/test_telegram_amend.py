"""telegram corrections and retractions against the strict Bot API stand-in: an edit in
place (the same text again is "message is not modified", which is no failure), a delete
within 48 hours, an edit saying it was withdrawn after that, threads as a whole, and a
lost answer in the middle of each step that the next attempt does not double."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standins.telegram import TelegramStandIn

from chanpub.channels.telegram import TelegramChannel, TelegramOptions
from chanpub.contract import Action, Amendment, Receipt
from chanpub.errors import AmbiguousError
from chanpub.testing import make_context, sample_links, sample_release

TOKEN = "123456:AA-amend"
OPTIONS = {"bot_token": TOKEN, "chat_id": "@kominfokota"}
NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."
AT = datetime(2026, 9, 7, 9, 30, tzinfo=UTC)


def channel_for(tmp_path: Path, api: TelegramStandIn, **options: Any) -> TelegramChannel:
    context = make_context(tmp_path, api, secrets={"bot_token": "TELEGRAM_BOT_TOKEN"})
    return TelegramChannel(
        "telegram", TelegramOptions.model_validate({**OPTIONS, **options}), context
    )


def published(
    tmp_path: Path, api: TelegramStandIn, **options: Any
) -> tuple[TelegramChannel, Receipt]:
    """A channel and the receipt of a release it sent (now, on the stand-in's clock)."""
    channel = channel_for(tmp_path, api, **options)
    release = sample_release(tmp_path, body="Isi siaran pers yang panjang. " * 200)
    receipt = channel.publish(channel.preview(release, sample_links()), key="first")
    return channel, replace(receipt, published_at=api.clock.now())


def corrected(tmp_path: Path, channel: TelegramChannel, receipt: Receipt, note: str = NOTE) -> Any:
    release = sample_release(tmp_path, summary="Layanan dimulai Selasa, 8 September 2026.")
    preview = channel.preview(release, sample_links())
    return preview, Amendment(kind="correction", note=note, at=AT, previous=receipt)


def retraction(receipt: Receipt) -> Amendment:
    return Amendment(kind="retraction", note="Acara dibatalkan.", at=AT, previous=receipt)


def test_a_correction_edits_the_message_in_place_with_the_note(tmp_path: Path) -> None:
    api = TelegramStandIn(TOKEN)
    channel, receipt = published(tmp_path, api)
    preview, amendment = corrected(tmp_path, channel, receipt)
    done = channel.amend(preview, amendment, key="c1")
    assert done.action is Action.EDITED and done.remote_id == receipt.remote_id
    (message,) = api.live()
    assert message["edits"] == 1 and message["text"].startswith(
        f"Ralat (7 September 2026 09.30 UTC): {NOTE}"
    )
    assert "Selasa, 8 September 2026" in message["text"]
    assert sample_links().canonical_url in message["text"]
    # The same correction again: Telegram answers "message is not modified": no failure.
    assert channel.amend(preview, amendment, key="c1-again").action is Action.UNCHANGED
    # A second correction is another edit.
    preview2, amendment2 = corrected(tmp_path, channel, receipt, note="Tempat: Balai Kota.")
    assert channel.amend(preview2, amendment2, key="c2").action is Action.EDITED
    assert api.live()[0]["edits"] == 2 and "Tempat: Balai Kota." in api.live()[0]["text"]


def test_an_english_release_says_correction(tmp_path: Path) -> None:
    api = TelegramStandIn(TOKEN)
    channel, receipt = published(tmp_path, api)
    release = sample_release(tmp_path, language="en", summary="The service starts Tuesday.")
    amendment = Amendment(kind="correction", note="Tuesday, not Monday.", at=AT, previous=receipt)
    channel.amend(channel.preview(release, sample_links()), amendment, key="en")
    assert api.live()[0]["text"].startswith("Correction (7 September 2026 09:30 UTC)")


def test_a_lost_answer_to_an_edit_is_settled_by_the_next_attempt(tmp_path: Path) -> None:
    api = TelegramStandIn(TOKEN)
    channel, receipt = published(tmp_path, api)
    preview, amendment = corrected(tmp_path, channel, receipt)
    api.drop_answer("POST", "/editMessageText")
    with pytest.raises(AmbiguousError):
        channel.amend(preview, amendment, key="c1")
    # The edit was applied; repeating it is answered "not modified", which is done.
    assert channel.amend(preview, amendment, key="c1").action is Action.EDITED
    assert api.live()[0]["edits"] == 1


def test_a_photo_caption_is_corrected_with_editmessagecaption(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (800, 800), "navy").save(tmp_path / "poster.png")
    api = TelegramStandIn(TOKEN)
    channel = channel_for(tmp_path, api)
    release = sample_release(tmp_path, image="poster.png", image_alt="Poster")
    receipt = channel.publish(channel.preview(release, sample_links()), key="p")
    new = sample_release(
        tmp_path, image="poster.png", image_alt="Poster", summary="Ringkasan baru. " * 80
    )
    amendment = Amendment(kind="correction", note=NOTE * 3, at=AT, previous=receipt)
    assert (
        channel.amend(channel.preview(new, sample_links()), amendment, "c").action is Action.EDITED
    )
    assert len(api.calls("POST", "/editMessageCaption")) == 1
    caption = api.live()[0]["text"]
    assert len(caption.encode("utf-16-le")) // 2 <= 1024 and sample_links().canonical_url in caption


def test_a_retraction_deletes_within_48_hours(tmp_path: Path) -> None:
    api = TelegramStandIn(TOKEN)
    channel, receipt = published(tmp_path, api)
    api.drop_answer("POST", "/deleteMessage")
    with pytest.raises(AmbiguousError):
        channel.amend(
            channel.preview(sample_release(tmp_path), sample_links()), retraction(receipt), "r"
        )
    assert api.live() == []
    done = channel.amend(
        channel.preview(sample_release(tmp_path), sample_links()), retraction(receipt), "r"
    )
    assert done.action is Action.DELETED and done.url is None
    # Asked again with a new key: the message is already gone, nothing to do.
    again = channel.amend(
        channel.preview(sample_release(tmp_path), sample_links()), retraction(receipt), "r2"
    )
    assert again.action is Action.UNCHANGED


def test_after_48_hours_a_retraction_edits_the_message_into_a_notice(tmp_path: Path) -> None:
    api = TelegramStandIn(TOKEN)
    channel, receipt = published(tmp_path, api)
    api.clock.advance(timedelta(hours=49).total_seconds())
    old = replace(receipt, published_at=datetime.now(UTC) - timedelta(hours=49))
    preview = channel.preview(sample_release(tmp_path), sample_links())
    done = channel.amend(preview, retraction(old), "r")
    assert done.action is Action.EDITED and not api.calls("POST", "/deleteMessage")
    (message,) = api.live()
    assert message["text"].startswith("Dicabut (7 September 2026 09.30 UTC)")
    assert "Alasan: Acara dibatalkan." in message["text"]


def test_when_telegram_refuses_the_delete_the_message_becomes_a_notice(tmp_path: Path) -> None:
    api = TelegramStandIn(TOKEN)
    channel, receipt = published(tmp_path, api)
    api.clock.advance(timedelta(hours=48).total_seconds())  # the receipt thinks it is newer
    preview = channel.preview(sample_release(tmp_path), sample_links())
    assert channel.amend(preview, retraction(receipt), "r").action is Action.EDITED
    assert len(api.calls("POST", "/deleteMessage")) == 1
    assert "Dicabut" in api.live()[0]["text"]


def test_a_thread_is_corrected_and_retracted_as_a_whole(tmp_path: Path) -> None:
    api = TelegramStandIn(TOKEN)
    channel, receipt = published(tmp_path, api, thread=True)
    count = len(api.live())
    assert count >= 2 and receipt.details["ids"] == [m["message_id"] for m in api.live()]
    preview, amendment = corrected(tmp_path, channel, receipt)
    api.drop_answer("POST", "/editMessageText", times=1)
    with pytest.raises(AmbiguousError):
        channel.amend(preview, amendment, "c")
    assert channel.amend(preview, amendment, "c").action is Action.EDITED
    assert all(m.get("edits") == 1 for m in api.live()[: len(preview.parts)])
    assert len(api.calls("POST", "/editMessageText")) == 1 + min(count, len(preview.parts))
    done = channel.amend(preview, retraction(receipt), "r")
    assert done.action is Action.DELETED and api.live() == []
