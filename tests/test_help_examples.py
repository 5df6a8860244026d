"""Every command's --help ends with an example of its use, and shell completion is
offered through typer's own --install-completion."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from chanpub.cli import app

COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_every_command_is_covered() -> None:
    assert {"send", "check", "preview", "approve", "channels", "history", "resolve", "init"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    example = [line for line in result.stdout.splitlines() if "Example:" in line]
    assert example, f"'chanpub {command} --help' shows no 'Example:' line"
    assert f"chanpub {command}" in example[0]


def test_shell_completion_is_offered() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "--install-completion" in result.stdout
    assert "--show-completion" in result.stdout


def test_completion_names_commands() -> None:
    # What the installed completion script asks the program when TAB is pressed in bash.
    result = CliRunner().invoke(
        app,
        [],
        prog_name="chanpub",
        env={"_CHANPUB_COMPLETE": "complete_bash", "COMP_WORDS": "chanpub pr", "COMP_CWORD": "1"},
    )
    assert result.stdout.split() == ["preview"]


def test_the_officers_guide_shows_pictures_that_exist() -> None:
    import re
    from pathlib import Path

    docs = Path(__file__).parent.parent / "docs"
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (docs / "guide-officer.md").read_text())
    assert len(pictures) >= 5
    assert [p for p in pictures if not (docs / p).is_file()] == []
