"""mastodon corrections and retractions against the strict Mastodon stand-in: a correction
edits the status (every part of a thread) in place, the instance keeps the history; a
retraction deletes every part; each exactly once across a lost answer."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standins.mastodon import MastodonStandIn

from chanpub.channels.mastodon import MastodonChannel, MastodonOptions
from chanpub.channels.mastodon_text import count_mastodon
from chanpub.contract import Action, Amendment, Preview, Receipt
from chanpub.errors import RetryableError
from chanpub.testing import SECRET_MARKER, make_context, sample_links, sample_release

TOKEN = f"masto-{SECRET_MARKER}"
OPTIONS = {"instance": "https://sosial.kotacontoh.go.id", "token": TOKEN}
NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."


def channel_for(tmp_path: Path, instance: MastodonStandIn, **options: Any) -> MastodonChannel:
    context = make_context(tmp_path, instance, secrets={"token": "MASTODON_TOKEN"})
    return MastodonChannel(
        "mastodon", MastodonOptions.model_validate({**OPTIONS, **options}), context
    )


def amendment(kind: str, note: str, previous: Receipt) -> Amendment:
    return Amendment(kind=kind, note=note, at=datetime.now(UTC), previous=previous)


def published(
    tmp_path: Path, instance: MastodonStandIn, **options: Any
) -> tuple[MastodonChannel, Preview, Receipt]:
    channel = channel_for(tmp_path, instance, **options)
    release = sample_release(tmp_path, summary="Kalimat ringkasan yang cukup panjang. " * 12)
    preview = channel.preview(release, sample_links())
    return channel, preview, channel.publish(preview, key="first")


def test_a_correction_edits_in_place_once_even_when_its_answer_is_lost(tmp_path: Path) -> None:
    instance = MastodonStandIn(TOKEN)
    channel, preview, receipt = published(tmp_path, instance)
    instance.drop_answer("PUT", "/api/v1/statuses/")  # applied, answer lost
    with pytest.raises(RetryableError):
        channel.amend(preview, amendment("correction", NOTE, receipt), "fix-1")
    fixed = channel.amend(preview, amendment("correction", NOTE, receipt), "fix-1")
    assert fixed.action == Action.EDITED and fixed.remote_id == receipt.remote_id
    (status,) = instance.live()
    assert status["text"].startswith(f"Ralat: {NOTE}\n\n") and count_mastodon(status["text"]) <= 500
    assert sample_links().canonical_url in status["text"]
    assert len(instance.history[status["id"]]) == 2, "one edit, not two"

    again = channel.amend(preview, amendment("correction", "Lokasi: Balai Kota.", fixed), "fix-2")
    assert again.action == Action.EDITED and len(instance.history[status["id"]]) == 3
    same = channel.amend(preview, amendment("correction", "Lokasi: Balai Kota.", again), "fix-3")
    assert same.action == Action.UNCHANGED and len(instance.history[status["id"]]) == 3


def test_a_retraction_deletes_every_part_once(tmp_path: Path) -> None:
    instance = MastodonStandIn(TOKEN)
    channel, preview, receipt = published(tmp_path, instance, thread=True, max_chars=200)
    assert len(instance.live()) >= 3
    instance.drop_answer("DELETE", "/api/v1/statuses/")  # the first delete applied, lost
    with pytest.raises(RetryableError):
        channel.amend(preview, amendment("retraction", "Dibatalkan.", receipt), "pull")
    gone = channel.amend(preview, amendment("retraction", "Dibatalkan.", receipt), "pull")
    assert gone.action == Action.DELETED and instance.live() == []


def test_a_thread_is_corrected_as_a_whole(tmp_path: Path) -> None:
    instance = MastodonStandIn(TOKEN)
    channel, _, receipt = published(tmp_path, instance, thread=True, max_chars=200)
    before = [status["id"] for status in instance.live()]
    longer = sample_release(tmp_path / "v2", summary="Kalimat ringkasan yang diperbaiki. " * 20)
    preview = channel.preview(longer, sample_links())
    fixed = channel.amend(preview, amendment("correction", NOTE, receipt), "fix")
    statuses = instance.live()
    assert [status["id"] for status in statuses][: len(before)] == before, "edited in place"
    assert len(statuses) > len(before), "the longer thread got its new parts as replies"
    assert statuses[0]["text"].startswith("Ralat: ")
    assert all(count_mastodon(status["text"]) <= 200 for status in statuses)
    for parent, reply in itertools.pairwise(statuses):
        assert reply["in_reply_to_id"] == parent["id"]
    assert fixed.details["ids"] == [status["id"] for status in statuses]
    shorter = channel.preview(sample_release(tmp_path / "v3", summary="Ringkas."), sample_links())
    channel.amend(shorter, amendment("correction", NOTE, fixed), "fix-short")
    assert len(instance.live()) < len(statuses), "the surplus parts were deleted"


def test_the_label_follows_the_release_language(tmp_path: Path) -> None:
    instance = MastodonStandIn(TOKEN)
    channel = channel_for(tmp_path, instance)
    preview = channel.preview(sample_release(tmp_path, language="en"), sample_links())
    receipt = channel.publish(preview, key="en")
    channel.amend(preview, amendment("correction", "Opens Tuesday.", receipt), "fix")
    assert instance.live()[0]["text"].startswith("Correction: Opens Tuesday.\n\n")
