"""A cron run over a shared folder: one broken release never holds back the others, and
what can be checked before anything is sent is checked before anything is sent."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fake_channels import EditableChannel, FakeChannel, fresh_board, make_config
from offices import office_yaml
from typer.testing import CliRunner

from chanpub import actions
from chanpub.cli import app
from chanpub.errors import ExitCode, InputError, PermanentError
from chanpub.lock import send_lock
from chanpub.outcomes import RunResult
from chanpub.testing import write_release

CONFIG = office_yaml()

GOOD_SLUG = "pemkot-buka-layanan-adminduk-keliling"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    result = CliRunner().invoke(app, list(args))
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def statuses(result: RunResult) -> dict[str, str]:
    """release title -> 'invalid', or the channel statuses joined."""
    return {
        r.title or r.slug: "invalid"
        if r.error is not None
        else ",".join(o.status for o in r.outcomes)
        for r in result.releases
    }


def break_releases(folder: Path) -> dict[str, Path]:
    """Three broken releases beside the good ones: bad YAML, an edit after approval, a
    missing image."""
    folder.mkdir(parents=True, exist_ok=True)
    bad_yaml = folder / "bad-yaml.md"
    bad_yaml.write_text("---\ntitle: [Rapat Koordinasi\n---\nIsi.\n", encoding="utf-8")
    edited = write_release(folder, title="Jadwal Vaksinasi", name="edited.md")
    edited.write_text(edited.read_text().replace("Senin", "Selasa"))
    no_image = write_release(
        folder, title="Peresmian Taman", name="no-image.md", image="taman.jpg", image_alt="Taman"
    )
    return {"yaml": bad_yaml, "edited": edited, "image": no_image}


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A communications office's folder: config plus one approved release."""
    (tmp_path / "channels.yaml").write_text(CONFIG, encoding="utf-8")
    write_release(tmp_path / "releases")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- one broken release never holds back the others -------------------------------------


def test_broken_releases_in_a_folder_are_skipped_and_the_others_published(
    tmp_path: Path,
) -> None:
    board = fresh_board()
    folder = tmp_path / "releases"
    write_release(folder, title="Layanan Keliling", name="good.md")
    broken = break_releases(folder)
    config = make_config(tmp_path, {"social": (FakeChannel, {})})
    result = actions.send([folder], config)
    assert statuses(result) == {
        "bad-yaml": "invalid",
        "Jadwal Vaksinasi": "invalid",
        "Layanan Keliling": "published",
        "Peresmian Taman": "invalid",
    }
    assert [name for name, _key, _url in board.posts] == ["social"]
    assert result.exit_code == ExitCode.BAD_INPUT
    errors = {Path(r.path): r.error or "" for r in result.releases if r.error}
    assert "front matter is not valid YAML" in errors[broken["yaml"]]
    assert "changed after it was approved" in errors[broken["edited"]]
    assert "image: taman.jpg does not exist" in errors[broken["image"]]
    assert all(str(path) in errors[path] for path in errors)  # each names its file


def test_a_broken_release_does_not_stop_the_next_run_either(tmp_path: Path) -> None:
    fresh_board()
    folder = tmp_path / "releases"
    write_release(folder, title="Layanan Keliling", name="good.md")
    break_releases(folder)
    config = make_config(tmp_path, {"social": (FakeChannel, {})})
    actions.send([folder], config)
    again = actions.send([folder], config)
    assert statuses(again)["Layanan Keliling"] == "already-published"
    assert again.exit_code == ExitCode.BAD_INPUT  # still broken, still said


def test_a_failed_channel_and_a_broken_release_exit_2(tmp_path: Path) -> None:
    board = fresh_board()
    folder = tmp_path / "releases"
    write_release(folder, title="Layanan Keliling", name="good.md")
    break_releases(folder)
    board.fail("social", PermanentError("social: 500"))
    config = make_config(tmp_path, {"social": (FakeChannel, {})})
    result = actions.send([folder], config)
    assert statuses(result)["Layanan Keliling"] == "failed"
    assert result.exit_code == ExitCode.BAD_INPUT  # 2 outranks 1


def test_a_release_naming_an_unknown_channel_is_skipped_alone(tmp_path: Path) -> None:
    fresh_board()
    folder = tmp_path / "releases"
    write_release(folder, title="Layanan Keliling", name="good.md")
    write_release(folder, title="Video Kegiatan", name="video.md", channels=["tiktok"])
    config = make_config(tmp_path, {"social": (FakeChannel, {})})
    result = actions.send([folder], config)
    assert statuses(result) == {"Layanan Keliling": "published", "Video Kegiatan": "invalid"}
    invalid = next(r for r in result.releases if r.error)
    assert "video.md: channels: unknown channel(s) tiktok" in (invalid.error or "")


def test_two_releases_with_one_slug_in_a_folder_are_both_held_back(tmp_path: Path) -> None:
    board = fresh_board()
    folder = tmp_path / "releases"
    write_release(folder, title="Layanan Keliling", name="good.md")
    write_release(folder, title="Banjir", name="banjir.md")
    write_release(folder, title="Banjir", name="banjir-salinan.md", summary="Salinan.")
    config = make_config(tmp_path, {"social": (FakeChannel, {})})
    result = actions.send([folder], config)
    assert [r.error is not None for r in result.releases] == [True, True, False]
    assert "slug 'banjir' is also used by" in (result.releases[0].error or "")
    assert len(board.posts) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        ["releases", "releases"],  # the folder twice
        ["releases", "./releases/"],  # the same folder written another way
        ["releases", "releases/good.md"],  # a file beside its own folder
        ["releases/good.md", "releases"],
        ["releases/good.md", "releases/good.md"],
    ],
)
def test_a_file_given_twice_is_one_release_not_a_slug_clash_with_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str]
) -> None:
    board = fresh_board()
    write_release(tmp_path / "releases", title="Layanan Keliling", name="good.md")
    monkeypatch.chdir(tmp_path)
    config = make_config(tmp_path, {"social": (FakeChannel, {})})
    result = actions.send([Path(argument) for argument in arguments], config)
    assert statuses(result) == {"Layanan Keliling": "published"}
    assert len(board.posts) == 1
    assert result.exit_code == ExitCode.OK


def test_a_broken_file_named_among_several_paths_refuses_the_whole_run(
    tmp_path: Path,
) -> None:
    board = fresh_board()
    folder = tmp_path / "releases"
    write_release(folder, title="Layanan Keliling", name="good.md")
    named = write_release(tmp_path / "other", title="Jadwal", name="edited.md")
    named.write_text(named.read_text().replace("Senin", "Selasa"))
    config = make_config(tmp_path, {"social": (FakeChannel, {})})
    with pytest.raises(InputError, match="changed after it was approved"):
        actions.send([folder, named], config)
    assert board.calls == []


def test_the_lock_outranks_a_broken_release(tmp_path: Path) -> None:
    from chanpub.errors import LockHeld

    fresh_board()
    folder = tmp_path / "releases"
    break_releases(folder)
    config = make_config(tmp_path, {"social": (FakeChannel, {})})
    with send_lock(config.state_dir), pytest.raises(LockHeld):
        actions.send([folder], config)


def test_cli_folder_run_publishes_the_valid_and_names_each_broken_file(office: Path) -> None:
    broken = break_releases(office / "releases")
    result = run("send", "releases/")
    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stdout.splitlines() == [
        f"{GOOD_SLUG}  website  published  https://kominfo.example.go.id/siaran/{GOOD_SLUG}.html",
        f"{GOOD_SLUG}  press  published  sent 1",
    ]
    errors = [line for line in result.stderr.splitlines() if line.startswith("chanpub: error:")]
    for path in broken.values():
        assert any(f"releases/{path.name}" in line for line in errors), (path, errors)
    assert "Traceback" not in result.stderr
    assert (office / "public" / f"{GOOD_SLUG}.html").is_file()


def test_cli_json_lists_broken_releases_as_invalid(office: Path) -> None:
    break_releases(office / "releases")
    result = run("send", "releases/", "--json")
    assert result.returncode == ExitCode.BAD_INPUT
    releases = json.loads(result.stdout)["releases"]
    valid = [r for r in releases if "status" not in r]
    assert [list(r) for r in valid] == [["slug", "title", "channels"]]
    invalid = {r["slug"]: r for r in releases if r.get("status") == "invalid"}
    assert set(invalid) == {"bad-yaml", "jadwal-vaksinasi", "peresmian-taman"}
    edited = invalid["jadwal-vaksinasi"]
    assert list(edited) == ["slug", "title", "status", "error", "path", "channels"]
    assert edited["title"] == "Jadwal Vaksinasi" and edited["channels"] == []
    assert edited["path"] == "releases/edited.md"
    assert "changed after it was approved" in edited["error"]
    assert invalid["bad-yaml"]["title"] == ""  # nothing readable: the file's name stands in


def test_cli_log_file_records_broken_releases(office: Path) -> None:
    break_releases(office / "releases")
    run("send", "releases/", "--log-file", "chanpub.jsonl")
    entries = [json.loads(line) for line in (office / "chanpub.jsonl").read_text().splitlines()]
    invalid = [e for e in entries if e["status"] == "invalid"]
    assert {e["release"] for e in invalid} == {"bad-yaml", "jadwal-vaksinasi", "peresmian-taman"}
    assert all(e["channel"] is None and e["error"] for e in invalid)


def test_cli_a_broken_config_still_stops_everything(office: Path) -> None:
    break_releases(office / "releases")
    (office / "channels.yaml").write_text(CONFIG + "  toots:\n    type: mastodon\n")
    result = run("send", "releases/", "--json")
    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stdout == ""
    assert "channels.toots.instance" in result.stderr
    assert not (office / "public").exists() and not (office / "outbox").exists()


def test_cli_a_single_broken_file_sends_nothing(office: Path) -> None:
    broken = break_releases(office / "releases")
    result = run("send", str(broken["image"]))
    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stdout == ""
    assert not (office / "public").exists()


# --- reported before anything is sent -------------------------------------------------------


def config_with(office: Path, extra: str) -> None:
    (office / "channels.yaml").write_text(CONFIG + extra, encoding="utf-8")


def assert_nothing_sent(office: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == ExitCode.BAD_INPUT, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stdout
    assert not (office / "public").exists()
    assert not (office / "outbox").exists()


def test_a_recipients_csv_that_is_not_utf8_is_refused_before_sending(office: Path) -> None:
    (office / "media.csv").write_bytes(
        b"email,name\nredaksi@media.example.com,Redaksi\ndesi@media.example.com,D\xe9si\n"
    )
    config_with(
        office,
        """  subscribers:
    type: email
    transport: outbox
    path: outbox
    from: "Humas <humas@example.go.id>"
    lists: [media.csv]
""",
    )
    result = run("send", "releases/")
    assert_nothing_sent(office, result)
    assert "channels.subscribers.lists" in result.stderr
    assert "media.csv" in result.stderr and "UTF-8" in result.stderr


def test_attaching_a_channel_that_does_not_exist_is_refused_before_sending(office: Path) -> None:
    config_with(office, "    attach: [poster]\n")
    result = run("send", "releases/")
    assert_nothing_sent(office, result)
    assert "channels.press: uses the output of 'poster'" in result.stderr


def test_an_empty_channels_list_is_refused(office: Path) -> None:
    (office / "channels.yaml").write_text("organisation: Diskominfo\nchannels:\n")
    result = run("send", "releases/")
    assert result.returncode == ExitCode.BAD_INPUT
    assert "channels.yaml: channels:" in result.stderr
    assert not (office / ".chanpub" / "ledger.sqlite3").exists()


def test_a_log_file_that_cannot_be_written_is_refused_before_sending(office: Path) -> None:
    (office / "logs").mkdir()
    result = run("send", "releases/", "--log-file", "logs")
    assert_nothing_sent(office, result)
    assert "--log-file logs" in result.stderr


def test_a_log_that_cannot_take_the_lines_after_sending_is_an_error_not_a_traceback(
    office: Path,
) -> None:
    # /dev/full opens for appending, as a log on a disk that fills up during the run does,
    # and refuses every write with ENOSPC.
    result = run("send", "releases/", "--log-file", "/dev/full")
    assert result.returncode == ExitCode.BAD_INPUT, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert "--log-file /dev/full" in result.stderr
    assert "No space left on device" in result.stderr
    assert "chanpub history" in result.stderr  # where the run's outcomes are kept
    assert f"{GOOD_SLUG}  website  published" in result.stdout
    assert (office / "public" / f"{GOOD_SLUG}.html").is_file()


# --- a default slug that is already taken -----------------------------------------------


def test_a_new_file_whose_title_gives_a_published_slug_is_refused(tmp_path: Path) -> None:
    board = fresh_board()
    config = make_config(tmp_path, {"site": (EditableChannel, {"canonical": True})})
    first = write_release(tmp_path / "2025", title="Banjir Rob", name="banjir.md")
    actions.send([first], config)
    second = write_release(
        tmp_path / "2026", title="Banjir Rob", name="banjir.md", summary="Tahun ini."
    )
    with pytest.raises(InputError) as refused:
        actions.send([second], config)
    assert str(first.resolve()) in refused.value.message
    assert str(second) in refused.value.message
    assert "slug:" in refused.value.message
    assert len(board.posts) == 1


def test_in_a_folder_the_slug_collision_holds_back_only_that_release(tmp_path: Path) -> None:
    board = fresh_board()
    config = make_config(tmp_path, {"site": (EditableChannel, {"canonical": True})})
    first = write_release(tmp_path / "arsip", title="Banjir Rob", name="banjir.md")
    actions.send([first], config)
    folder = tmp_path / "releases"
    write_release(folder, title="Banjir Rob", name="banjir-2026.md", summary="Tahun ini.")
    write_release(folder, title="Layanan Keliling", name="good.md")
    result = actions.send([folder], config)
    assert statuses(result) == {"Banjir Rob": "invalid", "Layanan Keliling": "published"}
    assert result.exit_code == ExitCode.BAD_INPUT
    assert len(board.posts) == 2


def test_an_explicit_slug_from_another_file_is_a_moved_release(tmp_path: Path) -> None:
    fresh_board()
    config = make_config(tmp_path, {"site": (EditableChannel, {"canonical": True})})
    first = write_release(tmp_path / "lama", title="Banjir Rob", name="banjir.md")
    actions.send([first], config)
    moved = write_release(tmp_path / "baru", title="Banjir Rob", name="rob.md", slug="banjir-rob")
    with pytest.raises(InputError) as refused:  # the same release, changed: say what changed
        actions.send([moved], config)
    assert "correction: ..." in refused.value.message
    result = actions.send([moved], config, update=True)  # or edit it in place, no note
    assert statuses(result) == {"Banjir Rob": "published"}


def test_the_same_file_re_approved_is_no_collision(tmp_path: Path) -> None:
    from chanpub.approval import approve

    fresh_board()
    config = make_config(tmp_path, {"site": (EditableChannel, {"canonical": True})})
    path = write_release(tmp_path, title="Banjir Rob", name="banjir.md")
    actions.send([path], config)
    path.write_text(path.read_text().replace("12 kelurahan", "14 kelurahan"))
    approve(path, "Kepala Dinas")
    result = actions.send([path], config, update=True)
    assert statuses(result) == {"Banjir Rob": "published"}


def test_a_ledger_from_before_sources_were_kept_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    from chanpub.ledger import Ledger

    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE deliveries (slug TEXT NOT NULL, content_hash TEXT NOT NULL, "
            "channel TEXT NOT NULL, channel_type TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', "
            "delivery_key TEXT NOT NULL, status TEXT NOT NULL, remote_id TEXT, url TEXT, "
            "error TEXT, details TEXT NOT NULL DEFAULT '{}', attempts INTEGER NOT NULL DEFAULT 0,"
            " started_at TEXT NOT NULL, finished_at TEXT, "
            "PRIMARY KEY (slug, content_hash, channel))"
        )
        db.execute(
            "INSERT INTO deliveries (slug, content_hash, channel, channel_type, delivery_key, "
            "status, started_at) VALUES ('banjir', 'h', 'site', 'fake', 'k', 'published', 't')"
        )
    db.close()
    ledger = Ledger(path)
    try:
        assert ledger.published_sources("banjir") == set()  # unknown: never a collision
        ledger.begin(
            slug="banjir",
            content_hash="h2",
            channel="site",
            channel_type="fake",
            title="Banjir",
            key="k2",
            source="/srv/humas/releases/banjir.md",
        )
        ledger.finish(slug="banjir", content_hash="h2", channel="site", status="published")
        assert ledger.published_sources("banjir") == {"/srv/humas/releases/banjir.md"}
        sources = {row.content_hash: row.source for row in ledger.history("banjir")}
        assert sources == {"h": None, "h2": "/srv/humas/releases/banjir.md"}
    finally:
        ledger.close()
