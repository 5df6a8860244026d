"""Sending: canonical first, the rest concurrently, exactly once, failures kept apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_channels import (
    EditableChannel,
    FakeChannel,
    LookupChannel,
    fresh_board,
    make_config,
)

from chanpub import actions, settling
from chanpub.approval import approve
from chanpub.errors import (
    AmbiguousError,
    ApprovalError,
    InputError,
    LockHeld,
    PermanentError,
    RetryableError,
)
from chanpub.ledger import Ledger
from chanpub.lock import send_lock
from chanpub.outcomes import RunResult
from chanpub.plan import delivery_key
from chanpub.release import load_release
from chanpub.testing import write_release


def statuses(result: RunResult) -> dict[str, str]:
    return {o.channel: o.status for r in result.releases for o in r.outcomes}


@pytest.fixture
def board():  # type: ignore[no-untyped-def]
    return fresh_board()


@pytest.fixture
def release_path(tmp_path: Path) -> Path:
    return write_release(tmp_path / "releases")


def test_canonical_first_and_everyone_links_to_it(tmp_path: Path, board, release_path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(
        tmp_path,
        {
            "social": (FakeChannel, {}),
            "website": (EditableChannel, {"canonical": True}),
            "press": (FakeChannel, {}),
        },
    )
    result = actions.send([release_path], config)
    assert statuses(result) == {"social": "published", "website": "published", "press": "published"}
    assert board.calls[0] == "website"
    article = "https://website.example/pemkot-buka-layanan-adminduk-keliling"
    assert {url for _name, _key, url in board.posts[1:]} == {article}
    assert int(result.exit_code) == 0


def test_a_second_run_publishes_nothing_new(tmp_path: Path, board, release_path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, {"a": (FakeChannel, {}), "b": (FakeChannel, {})})
    actions.send([release_path], config)
    again = actions.send([release_path], config)
    assert statuses(again) == {"a": "already-published", "b": "already-published"}
    assert len(board.posts) == 2


def test_one_failing_channel_never_stops_the_others_and_is_retried_alone(
    tmp_path: Path,
    board,
    release_path,  # type: ignore[no-untyped-def]
) -> None:
    config = make_config(
        tmp_path, {"a": (FakeChannel, {}), "b": (FakeChannel, {}), "c": (FakeChannel, {})}
    )
    board.fail("b", PermanentError("b: POST b.example answered 422 text too long"))
    first = actions.send([release_path], config)
    assert statuses(first) == {"a": "published", "b": "failed", "c": "published"}
    assert int(first.exit_code) == 1
    assert first.releases[0].outcomes[1].error == "b: POST b.example answered 422 text too long"
    second = actions.send([release_path], config)
    assert statuses(second) == {
        "a": "already-published",
        "b": "published",
        "c": "already-published",
    }
    assert [name for name, _key, _url in board.posts].count("b") == 1


def test_retryable_errors_are_retried_with_the_same_key(
    tmp_path: Path, board, release_path
) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, {"a": (FakeChannel, {})})
    board.fail("a", RetryableError("429", retry_after=1), RetryableError("503"))
    result = actions.send([release_path], config)
    assert statuses(result) == {"a": "published"}
    assert board.calls == ["a", "a", "a"]


def test_a_long_retry_after_fails_for_now(tmp_path: Path, board, release_path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, {"a": (FakeChannel, {})})
    board.fail("a", RetryableError("a: rate limited", retry_after=3600))
    result = actions.send([release_path], config)
    assert statuses(result) == {"a": "failed"}
    assert board.calls == ["a"]


def test_ambiguous_failure_is_looked_up_not_resent(tmp_path: Path, board, release_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from chanpub.contract import Receipt

    config = make_config(tmp_path, {"m": (LookupChannel, {})})
    release = load_release(release_path)
    board.found[delivery_key(release, "m")] = Receipt(
        "99", "https://m.example/99", datetime.now(UTC)
    )
    board.fail("m", AmbiguousError("m: timeout after sending"))
    result = actions.send([release_path], config)
    assert statuses(result) == {"m": "published"}
    assert result.releases[0].outcomes[0].url == "https://m.example/99"
    assert board.calls == ["m", "lookup:m"]


def test_an_ambiguous_failure_without_lookup_waits_for_a_person(
    tmp_path: Path,
    board,
    release_path,  # type: ignore[no-untyped-def]
) -> None:
    config = make_config(tmp_path, {"tg": (FakeChannel, {})})
    board.fail("tg", AmbiguousError("tg: no answer after sending"))
    assert statuses(actions.send([release_path], config)) == {"tg": "failed"}
    second = actions.send([release_path], config)
    assert statuses(second) == {"tg": "failed"}
    assert "chanpub resolve" in (second.releases[0].outcomes[0].error or "")
    assert board.calls == ["tg"]  # never resent blindly
    slug = load_release(release_path).slug
    assert settling.resolve(config, slug, "tg", published=False, url=None) == 1
    assert statuses(actions.send([release_path], config)) == {"tg": "published"}
    assert board.calls == ["tg", "tg"]


def test_a_crash_between_call_and_record_is_resolved_by_lookup(
    tmp_path: Path,
    board,
    release_path,  # type: ignore[no-untyped-def]
) -> None:
    from datetime import UTC, datetime

    from chanpub.contract import Receipt

    config = make_config(tmp_path, {"m": (LookupChannel, {})})
    release = load_release(release_path)
    key = delivery_key(release, "m")
    ledger = Ledger(config.state_dir / "ledger.sqlite3")
    ledger.begin(
        slug=release.slug,
        content_hash=release.content_sha256,
        channel="m",
        channel_type="fake",
        title=release.title,
        key=key,
    )  # the crashed run's mark
    ledger.close()
    board.found[key] = Receipt("7", "https://m.example/7", datetime.now(UTC))
    result = actions.send([release_path], config)
    assert statuses(result) == {"m": "published"}
    assert board.posts == []  # found, not posted again


def test_a_re_approved_release_without_a_correction_note_is_refused_or_updated(
    tmp_path: Path,
    board,
    release_path,  # type: ignore[no-untyped-def]
) -> None:
    config = make_config(
        tmp_path, {"site": (EditableChannel, {"canonical": True}), "social": (FakeChannel, {})}
    )
    actions.send([release_path], config)
    release_path.write_text(release_path.read_text().replace("12 kelurahan", "14 kelurahan"))
    approve(release_path, "Kepala Dinas")
    with pytest.raises(InputError) as refused:
        actions.send([release_path], config)
    assert "correction: ..." in refused.value.message and "new 'slug:'" in refused.value.message
    assert len(board.posts) == 2  # nothing went out
    updated = actions.send([release_path], config, update=True)
    assert statuses(updated) == {"site": "published", "social": "failed"}
    assert "cannot edit a published post in place" in (updated.releases[0].outcomes[1].error or "")
    assert any(call.startswith("update:site:") for call in board.calls)
    assert len(board.posts) == 2


def test_when_the_canonical_channel_fails_a_predicted_link_is_not_handed_out(
    tmp_path: Path,
    board,
    release_path,  # type: ignore[no-untyped-def]
) -> None:
    config = make_config(
        tmp_path, {"site": (EditableChannel, {"canonical": True}), "social": (FakeChannel, {})}
    )
    board.fail("site", PermanentError("site: disk full"))
    result = actions.send([release_path], config)
    assert statuses(result) == {"site": "failed", "social": "failed"}
    assert "waiting for the canonical channel 'site'" in (
        result.releases[0].outcomes[1].error or ""
    )
    assert board.posts == []  # nothing points at the page that is not there


def test_without_any_link_the_others_wait_for_the_canonical_channel(
    tmp_path: Path,
    board,
    release_path,  # type: ignore[no-untyped-def]
) -> None:
    config = make_config(
        tmp_path, {"site": (FakeChannel, {"canonical": True}), "social": (FakeChannel, {})}
    )
    board.fail("site", PermanentError("site: 500"))
    result = actions.send([release_path], config)
    assert statuses(result) == {"site": "failed", "social": "failed"}
    assert "waiting for the canonical channel 'site'" in (
        result.releases[0].outcomes[1].error or ""
    )
    assert board.calls == ["site"]


def test_drafts_and_scheduled_releases_in_a_folder_are_skipped_with_reasons(
    tmp_path: Path,
    board,  # type: ignore[no-untyped-def]
) -> None:
    folder = tmp_path / "releases"
    write_release(folder, title="Draf", approved=False, name="draft.md")
    write_release(folder, title="Nanti", publish_at="2099-01-01T08:00:00+07:00", name="later.md")
    write_release(folder, title="Sekarang", name="now.md")
    config = make_config(tmp_path, {"a": (FakeChannel, {})})
    result = actions.send([folder], config)
    reasons = {r.title: (r.outcomes[0].status, r.outcomes[0].error) for r in result.releases}
    assert reasons["Draf"] == ("skipped", "draft: not approved yet")
    assert reasons["Nanti"][0] == "skipped" and "scheduled for 2099" in (reasons["Nanti"][1] or "")
    assert reasons["Sekarang"] == ("published", None)


def test_a_draft_named_on_the_command_line_is_refused(tmp_path: Path, board) -> None:  # type: ignore[no-untyped-def]
    path = write_release(tmp_path, approved=False)
    config = make_config(tmp_path, {"a": (FakeChannel, {})})
    with pytest.raises(ApprovalError, match="is a draft, not approved"):
        actions.send([path], config)
    assert board.calls == []


def test_an_edit_after_approval_of_a_named_file_stops_the_whole_run(
    tmp_path: Path,
    board,  # type: ignore[no-untyped-def]
) -> None:
    folder = tmp_path / "releases"
    good = write_release(folder, title="Baik", name="a.md")
    edited = write_release(folder, title="Diubah", name="b.md")
    edited.write_text(edited.read_text().replace("Senin", "Selasa"))
    config = make_config(tmp_path, {"a": (FakeChannel, {})})
    with pytest.raises(ApprovalError, match="changed after it was approved by Kepala Dinas"):
        actions.send([good, edited], config)
    assert board.calls == []  # in a folder, only b.md is held back: tests/test_folder_send.py


def test_a_release_may_name_its_channels(tmp_path: Path, board) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, {"a": (FakeChannel, {}), "b": (FakeChannel, {})})
    only_b = write_release(tmp_path, channels=["b"])
    assert statuses(actions.send([only_b], config)) == {"b": "published"}
    unknown = write_release(tmp_path / "x", channels=["b", "tiktok"])
    with pytest.raises(InputError, match="unknown channel"):
        actions.send([unknown], config)


def test_a_channel_with_a_missing_secret_is_left_out(tmp_path: Path, board, release_path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(
        tmp_path,
        {
            "a": (FakeChannel, {}),
            "b": (FakeChannel, {"missing": ["B_TOKEN"]}),
            "c": (FakeChannel, {"enabled": False}),
        },
    )
    result = actions.send([release_path], config)
    assert statuses(result) == {"a": "published", "b": "skipped"}  # c is switched off
    errors = {o.channel: o.error for o in result.releases[0].outcomes}
    assert errors["b"] == "missing secret B_TOKEN"
    assert int(result.exit_code) == 0


def test_a_bug_in_one_adapter_stays_in_that_channel(tmp_path: Path, board, release_path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, {"a": (FakeChannel, {}), "b": (FakeChannel, {})})
    board.fail("a", ZeroDivisionError("division by zero"))
    result = actions.send([release_path], config)
    assert statuses(result) == {"a": "failed", "b": "published"}
    assert "internal error in the 'fake' adapter" in (result.releases[0].outcomes[0].error or "")


def test_dry_run_sends_and_records_nothing(tmp_path: Path, board, release_path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, {"a": (FakeChannel, {})})
    result = actions.send([release_path], config, dry_run=True)
    assert statuses(result) == {"a": "skipped"}
    assert board.calls == []
    assert not (config.state_dir / "ledger.sqlite3").exists()


def test_a_second_send_while_one_runs_gets_lock_held(tmp_path: Path, board, release_path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, {"a": (FakeChannel, {})})
    with send_lock(config.state_dir), pytest.raises(LockHeld, match="another chanpub send"):
        actions.send([release_path], config)
    assert board.calls == []
