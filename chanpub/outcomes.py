"""The result of a run, from which the exit code follows, in the contract's outcome
vocabulary (`chanpub.contract.Status`, shared by the ledger, dispatch, output and `--json`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chanpub.contract import Status
from chanpub.errors import ExitCode


@dataclass(frozen=True)
class Outcome:
    """What happened to one release on one channel."""

    channel: str
    type: str
    status: Status
    url: str | None = None
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReleaseResult:
    """One release and the outcome on each of its channels."""

    slug: str
    title: str
    path: Path
    outcomes: tuple[Outcome, ...]


@dataclass(frozen=True)
class RunResult:
    """Everything a send did; the exit code follows from it."""

    releases: tuple[ReleaseResult, ...]
    warnings: tuple[str, ...] = ()  # for stderr: unknown fields, files that are no release

    @property
    def exit_code(self) -> ExitCode:
        """1 when any channel failed, else 0."""
        failed = any(o.status == Status.FAILED for r in self.releases for o in r.outcomes)
        return ExitCode.CHANNEL_FAILED if failed else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        """The `--json` document (its keys are a contract; see tests/test_json_contract)."""
        return {
            "releases": [
                {
                    "slug": r.slug,
                    "title": r.title,
                    "channels": [
                        {
                            "channel": o.channel,
                            "type": o.type,
                            "status": str(o.status),
                            "url": o.url,
                            "error": o.error,
                        }
                        for o in r.outcomes
                    ],
                }
                for r in self.releases
            ]
        }
