"""`chanpub init` asks for the office's name and website address on a terminal, and asks
nothing anywhere else (cron, pipes, scripts)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from chanpub import cli
from chanpub.config import load_config
from chanpub.errors import ExitCode
from chanpub.starter import STARTER_BASE_URL, STARTER_ORGANISATION


def test_without_a_terminal_nothing_is_asked(tmp_path: Path) -> None:
    # CliRunner's input is not a terminal: the answers below must stay unread.
    result = CliRunner().invoke(
        cli.app, ["init", str(tmp_path / "humas")], input="Should not be read\n"
    )
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "?" not in result.stdout and "Name of the office" not in result.stdout
    config = yaml.safe_load((tmp_path / "humas" / "channels.yaml").read_text(encoding="utf-8"))
    assert config["organisation"] == STARTER_ORGANISATION
    assert config["channels"]["website"]["base_url"] == STARTER_BASE_URL


def test_on_a_terminal_the_answers_go_into_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    answers = (
        'Dinas Kominfo Kota "Baru": Humas\nkominfo.baru.go.id\nhttps://kominfo.baru.go.id/rilis\n'
    )
    result = CliRunner().invoke(cli.app, ["init", str(tmp_path / "humas")], input=answers)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "Name of the office" in result.stdout
    assert "is not a web address" in result.stdout  # asked again after a bad answer
    config = load_config(tmp_path / "humas" / "channels.yaml")
    assert config.organisation == 'Dinas Kominfo Kota "Baru": Humas'
    assert config.channels["website"].raw["base_url"] == "https://kominfo.baru.go.id/rilis/"


def test_on_a_terminal_enter_keeps_the_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    result = CliRunner().invoke(cli.app, ["init", str(tmp_path)], input="\n\n")
    assert result.exit_code == ExitCode.OK, result.stderr
    config = load_config(tmp_path / "channels.yaml")
    assert config.organisation == STARTER_ORGANISATION


def test_an_occupied_folder_is_refused_before_any_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    (tmp_path / "channels.yaml").write_text("channels: {}\n", encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["init", str(tmp_path)], input="")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "never overwrites" in result.stderr
    assert result.stdout == ""
