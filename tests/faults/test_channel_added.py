"""A channel added to a working office gets the releases approved from then on, not the
archive: cron's next run must not post a year of releases to a new Mastodon account, or
send them to every WhatsApp subscriber at once. `backfill: true` on the channel asks for
the archive too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from chanpub.testing import write_release

from .office import chanpub, write_office
from .test_workers import _jobs_queued


def _outbox(path: str) -> dict[str, Any]:
    return {
        "type": "email",
        "transport": "outbox",
        "path": path,
        "from": "Diskominfo <humas@example.go.id>",
        "lists": ["Warga <warga@example.com>"],
    }


def _add_channel(folder: Path, name: str, entry: dict[str, Any]) -> None:
    config = folder / "channels.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    _set(folder, "channels", {**data["channels"], name: entry})


def _set(folder: Path, key: str, value: Any) -> None:
    config = folder / "channels.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    config.write_text(yaml.safe_dump({**data, key: value}), encoding="utf-8")


def _statuses(run: Any) -> dict[tuple[str, str], tuple[str, str | None]]:
    assert run.returncode == 0, run.stderr
    return {
        (release["slug"], channel["channel"]): (channel["status"], channel["error"])
        for release in json.loads(run.stdout)["releases"]
        for channel in release["channels"]
    }


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """An office that has published two releases to its website and press list."""
    folder = tmp_path / "humas"
    write_office(folder, {"press": _outbox("outbox")}, releases=2)
    first = chanpub(folder, "send", "releases/", "--json")
    assert {status for status, _error in _statuses(first).values()} == {"published"}
    return folder


@pytest.mark.parametrize("ledger", ["sqlite", "postgres"])
def test_a_channel_added_later_gets_new_releases_not_the_archive(
    tmp_path: Path, ledger: str, request: pytest.FixtureRequest
) -> None:
    office = tmp_path / "humas"
    write_office(office, {"press": _outbox("outbox")}, releases=2)
    env = {}
    if ledger == "postgres":  # several hosts: the joining time is in the shared ledger
        env["CHANPUB_DATABASE_URL"] = request.getfixturevalue("postgres_url")
        _set(office, "database", "${CHANPUB_DATABASE_URL}")
    assert chanpub(office, "send", "releases/", **env).returncode == 0
    _add_channel(office, "subscribers", _outbox("subscribers"))
    write_release(office / "releases", name="baru.md", title="Rilis Baru Setelah Kanal Ditambah")

    run = chanpub(office, "send", "releases/", "--json", **env)

    statuses = _statuses(run)
    old = [key for key in statuses if key[0] != "rilis-baru-setelah-kanal-ditambah"]
    for slug, _channel in old:
        status, error = statuses[(slug, "subscribers")]
        assert status == "skipped"
        assert error is not None and "channels.subscribers.backfill" in error
    assert statuses[("rilis-baru-setelah-kanal-ditambah", "subscribers")][0] == "published"
    sent = sorted(path.parent.name for path in (office / "subscribers").rglob("*.eml"))
    assert sent == ["rilis-baru-setelah-kanal-ditambah"]

    queued = _jobs_queued(env["CHANPUB_DATABASE_URL"]) if env else 0
    again = _statuses(chanpub(office, "send", "releases/", "--json", **env))  # cron, later
    assert [again[(slug, "subscribers")][0] for slug, _c in old] == ["skipped"] * len(old)
    assert sorted(p.parent.name for p in (office / "subscribers").rglob("*.eml")) == sent
    if env:  # and the queue is left alone: nothing was due
        assert _jobs_queued(env["CHANPUB_DATABASE_URL"]) == queued


def test_backfill_true_sends_the_archive_to_the_added_channel(office: Path) -> None:
    _add_channel(office, "subscribers", {**_outbox("subscribers"), "backfill": True})

    statuses = _statuses(chanpub(office, "send", "releases/", "--json"))

    assert {s for (_slug, c), (s, _e) in statuses.items() if c == "subscribers"} == {"published"}
    assert len(list((office / "subscribers").rglob("*.eml"))) == 2


def test_a_correction_goes_only_where_the_release_went(office: Path) -> None:
    _add_channel(office, "subscribers", _outbox("subscribers"))
    _correct(office / "releases" / "rilis-0000.md")

    statuses = _statuses(chanpub(office, "send", "releases/rilis-0000.md", "--json"))

    slug = "siaran-pers-nomor-0-kota-contoh"
    assert statuses[(slug, "press")][0] == "published"  # the correction notice
    assert statuses[(slug, "subscribers")][0] == "skipped"
    assert not (office / "subscribers").exists()


def test_check_and_preview_say_a_correction_will_not_reach_the_added_channel(
    office: Path,
) -> None:
    _add_channel(office, "subscribers", _outbox("subscribers"))
    _correct(office / "releases" / "rilis-0000.md")

    checked = chanpub(office, "check", "releases/rilis-0000.md")

    assert checked.returncode == 0, checked.stderr
    effects = [line.strip() for line in checked.stdout.splitlines() if "  correction:" in line]
    assert effects[0] == "correction: a notice goes to 1 recipient(s)", checked.stdout  # press
    assert "correction: subscribers was added after this release" in effects[1]
    assert "channels.subscribers.backfill" in effects[1]
    assert effects[2] == "correction: will be edited"
    assert not (office / "subscribers").exists()


def test_check_says_a_retraction_has_nothing_to_withdraw_on_the_added_channel(
    office: Path,
) -> None:
    _add_channel(office, "subscribers", _outbox("subscribers"))
    path = office / "releases" / "rilis-0000.md"
    text = path.read_text(encoding="utf-8").replace("status: approved", "status: retracted")
    path.write_text(text.replace("---\n", "---\nretraction: Dibatalkan.\n", 1))
    assert chanpub(office, "approve", "releases/rilis-0000.md", "--by", "Kadis").returncode == 0

    checked = chanpub(office, "check", "releases/rilis-0000.md")
    sent = _statuses(chanpub(office, "send", "releases/rilis-0000.md", "--json"))

    effects = [line.strip() for line in checked.stdout.splitlines() if "  retraction:" in line]
    said = "retraction: withdrawn before it was published here: nothing to do"
    assert effects == [
        "retraction: a notice goes to 1 recipient(s)",
        said,
        "retraction: will be edited",
    ]
    slug = "siaran-pers-nomor-0-kota-contoh"
    assert sent[(slug, "subscribers")] == ("skipped", said.removeprefix("retraction: "))


def _correct(path: Path) -> None:
    """Correct a published release and approve the correction."""
    text = path.read_text(encoding="utf-8").replace("12 kelurahan", "14 kelurahan")
    path.write_text(text.replace("---\n", "---\ncorrection: 14 kelurahan, bukan 12.\n", 1))
    approved = chanpub(path.parents[1], "approve", f"releases/{path.name}", "--by", "Kadis")
    assert approved.returncode == 0, approved.stderr


def test_a_channel_present_from_the_first_run_gets_everything(tmp_path: Path) -> None:
    folder = tmp_path / "humas"
    write_office(folder, {"press": _outbox("outbox"), "subscribers": _outbox("subs")}, releases=2)

    statuses = _statuses(chanpub(folder, "send", "releases/", "--json"))

    assert {status for status, _error in statuses.values()} == {"published"}


def test_a_channel_switched_off_and_on_again_skips_what_went_out_meanwhile(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "humas"
    write_office(folder, {"press": _outbox("outbox")}, releases=1)
    assert chanpub(folder, "send", "releases/").returncode == 0
    _add_channel(folder, "press", {**_outbox("outbox"), "enabled": False})  # quiet period
    write_release(folder / "releases", name="sepi.md", title="Rilis Masa Tenang")
    assert chanpub(folder, "send", "releases/").returncode == 0
    _add_channel(folder, "press", _outbox("outbox"))  # on again
    write_release(folder / "releases", name="baru.md", title="Rilis Setelah Masa Tenang")

    statuses = _statuses(chanpub(folder, "send", "releases/", "--json"))

    assert statuses[("siaran-pers-nomor-0-kota-contoh", "press")][0] == "already-published"
    assert statuses[("rilis-masa-tenang", "press")][0] == "skipped"
    assert statuses[("rilis-setelah-masa-tenang", "press")][0] == "published"


def test_a_channel_without_its_secret_for_a_while_catches_up(tmp_path: Path) -> None:
    folder = tmp_path / "humas"
    write_office(folder, {"press": _outbox("outbox")}, releases=1)
    assert chanpub(folder, "send", "releases/").returncode == 0
    missing = {**_outbox("outbox"), "from": "${PRESS_FROM_MISSING}"}
    _add_channel(folder, "press", missing)  # the .env lost for a day
    write_release(folder / "releases", name="hari-itu.md", title="Rilis Hari Itu")
    that_day = _statuses(chanpub(folder, "send", "releases/", "--json"))
    assert that_day[("rilis-hari-itu", "press")] == ("skipped", "missing secret PRESS_FROM_MISSING")
    _add_channel(folder, "press", _outbox("outbox"))

    statuses = _statuses(chanpub(folder, "send", "releases/", "--json"))

    assert statuses[("rilis-hari-itu", "press")][0] == "published"


def test_a_new_official_website_gets_the_archive_and_the_channels_waiting_for_it_go(
    tmp_path: Path, postgres_url: str
) -> None:
    folder = tmp_path / "humas"
    write_office(folder, {"press": _outbox("outbox")}, releases=1, website=False)
    _set(folder, "database", "${CHANPUB_DATABASE_URL}")
    env = {"CHANPUB_DATABASE_URL": postgres_url}
    assert chanpub(folder, "send", "releases/", **env).returncode == 0
    website = {"type": "static-site", "canonical": True, "path": "public"}
    _add_channel(folder, "website", {**website, "base_url": "https://kominfo.example.go.id/"})
    _add_channel(folder, "subscribers", {**_outbox("subscribers"), "backfill": True})

    statuses = _statuses(chanpub(folder, "send", "releases/", "--json", **env))

    slug = "siaran-pers-nomor-0-kota-contoh"
    assert statuses[(slug, "website")][0] == "published"  # the official article, always
    assert statuses[(slug, "subscribers")][0] == "published"  # it waited for the article
    assert statuses[(slug, "press")][0] == "already-published"
