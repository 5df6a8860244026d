"""Run a chanpub command in-process and check that its outcome is a clean one."""

from __future__ import annotations

import traceback
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from typer.testing import CliRunner

from chanpub.cli import app


@dataclass(frozen=True)
class Outcome:
    """What the officer (or cron) sees."""

    code: int
    stdout: str
    stderr: str


def invoke(args: list[str], env: Mapping[str, str] | None = None) -> Outcome:
    """`chanpub ARGS` through typer's CliRunner; an escaped exception fails the test."""
    result = CliRunner().invoke(app, args, env=dict(env or {}))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"chanpub {' '.join(args)} raised instead of exiting:\n{trace}")
    return Outcome(result.exit_code, result.stdout, result.stderr)


def assert_clean(outcome: Outcome, allowed: Collection[int] = (0, 2)) -> None:
    """Exit 0, or exit 2 with 'chanpub: error:' lines; never a traceback or an adapter bug."""
    shown = outcome.stdout + outcome.stderr
    assert outcome.code in allowed, (outcome.code, shown)
    assert "Traceback" not in shown, shown
    assert "internal error" not in shown, shown  # an adapter bug that dispatch contained
    if outcome.code == 2:
        lines = outcome.stderr.strip().splitlines()
        assert any(line.startswith("chanpub: error: ") for line in lines), outcome.stderr
