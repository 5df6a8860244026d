"""Nothing links to a page that does not exist: when the canonical channel fails, every
channel that links to it waits for the next run."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import ClassVar

import pytest
from fake_channels import EditableChannel, FakeChannel, fresh_board, make_config
from offices import POSTER, WEBSITE, office_yaml, press
from typer.testing import CliRunner

from chanpub import actions
from chanpub.cli import app
from chanpub.contract import Capabilities
from chanpub.errors import ExitCode, PermanentError
from chanpub.outcomes import RunResult
from chanpub.testing import write_release

ARTICLE = "https://site.example/pemkot-buka-layanan-adminduk-keliling.html"


class NoLinkChannel(FakeChannel):
    """A channel whose output never mentions the article (an internal notice board)."""

    capabilities: ClassVar[Capabilities] = Capabilities(links_canonical=False)


def statuses(result: RunResult) -> dict[str, str]:
    return {o.channel: o.status for r in result.releases for o in r.outcomes}


def errors(result: RunResult) -> dict[str, str]:
    return {o.channel: o.error or "" for r in result.releases for o in r.outcomes}


def test_linking_channels_wait_when_the_canonical_channel_fails(tmp_path: Path) -> None:
    board = fresh_board()
    path = write_release(tmp_path / "releases")
    config = make_config(
        tmp_path,
        {
            "site": (EditableChannel, {"canonical": True}),
            "social": (FakeChannel, {}),
            "press": (FakeChannel, {}),
        },
    )
    board.fail("site", PermanentError("site: disk full"))
    result = actions.send([path], config)
    assert statuses(result) == {"site": "failed", "social": "failed", "press": "failed"}
    assert errors(result)["press"].startswith("waiting for the canonical channel 'site'")
    assert board.calls == ["site"]  # the predicted link is never handed out
    assert result.exit_code == ExitCode.CHANNEL_FAILED

    retry = actions.send([path], config)
    assert statuses(retry) == {"site": "published", "social": "published", "press": "published"}
    assert {url for name, _key, url in board.posts if name != "site"} == {
        "https://site.example/pemkot-buka-layanan-adminduk-keliling"
    }


def test_a_channel_that_does_not_link_goes_out_anyway(tmp_path: Path) -> None:
    board = fresh_board()
    path = write_release(tmp_path / "releases")
    config = make_config(
        tmp_path,
        {
            "site": (EditableChannel, {"canonical": True}),
            "board": (NoLinkChannel, {}),
            "social": (FakeChannel, {}),
        },
    )
    board.fail("site", PermanentError("site: disk full"))
    result = actions.send([path], config)
    assert statuses(result) == {"site": "failed", "board": "published", "social": "failed"}


def test_a_canonical_page_from_an_earlier_run_is_enough(tmp_path: Path) -> None:
    board = fresh_board()
    path = write_release(tmp_path / "releases")
    config = make_config(
        tmp_path, {"site": (EditableChannel, {"canonical": True}), "social": (FakeChannel, {})}
    )
    board.fail("social", PermanentError("social: 503"))
    first = actions.send([path], config)
    assert statuses(first) == {"site": "published", "social": "failed"}
    second = actions.send([path], config)
    assert statuses(second) == {"site": "already-published", "social": "published"}


OFFICE = office_yaml(WEBSITE, press(), POSTER)


def test_no_press_mail_or_poster_points_at_a_missing_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "channels.yaml").write_text(OFFICE, encoding="utf-8")
    write_release(tmp_path / "releases")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "public").write_text("a file where the website folder should be")
    result = CliRunner().invoke(app, ["send", "releases/"])
    done = subprocess.CompletedProcess([], result.exit_code, result.stdout, result.stderr)
    assert done.returncode == ExitCode.CHANNEL_FAILED
    lines = done.stdout.splitlines()
    assert "website  failed  website: cannot write to" in lines[0]
    assert lines[1].endswith(
        "press  failed  waiting for the canonical channel 'website', which did not "
        "publish: the next run retries"
    )
    assert "poster  failed  waiting for the canonical channel 'website'" in lines[2]
    assert not (tmp_path / "outbox").exists() and not (tmp_path / "posters").exists()
