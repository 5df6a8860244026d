"""The result of a run, from which the exit code follows, in the contract's outcome
vocabulary (`chanpub.status.Status`, shared by the ledger, dispatch, output and `--json`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, compress, repeat
from operator import attrgetter, is_not
from typing import Any, NamedTuple

from chanpub.contract import Action
from chanpub.errors import ExitCode
from chanpub.status import Status


@dataclass(frozen=True)
class Outcome:
    """What happened to one release on one channel."""

    channel: str
    type: str
    status: Status
    url: str | None = None
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    action: Action | None = None  # for a correction or retraction: what was done


class ReleaseResult(NamedTuple):
    """One release and the outcome on each of its channels (a named tuple: a folder of
    tens of thousands makes as many, and a tuple is made in half the time)."""

    slug: str
    title: str
    path: str  # the release file as the run named it (text: a folder may hold thousands)
    outcomes: tuple[Outcome, ...]
    error: str | None = None  # why a broken release was held back (status 'invalid')


_error, _outcomes, _status = attrgetter("error"), attrgetter("outcomes"), attrgetter("status")


@dataclass(frozen=True)
class RunResult:
    """Everything a send did; the exit code follows from it."""

    releases: tuple[ReleaseResult, ...]
    warnings: tuple[str, ...] = ()  # for stderr: unknown fields, files that are no release

    @cached_property
    def broken(self) -> tuple[ReleaseResult, ...]:
        """The releases held back as broken."""
        # map and attrgetter, not generators: a folder scan gives tens of thousands
        return tuple(compress(self.releases, map(is_not, map(_error, self.releases), repeat(None))))

    @property
    def exit_code(self) -> ExitCode:
        """2 when a release was broken (the others still went out), else 1 when any
        channel failed, else 0."""
        if self.broken:
            return ExitCode.BAD_INPUT
        outcomes = chain.from_iterable(map(_outcomes, self.releases))
        failed = Status.FAILED in map(_status, outcomes)
        return ExitCode.CHANNEL_FAILED if failed else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        """The `--json` document (its keys are a contract; see tests/test_cli.py and
        tests/test_folder_send.py)."""
        return {"releases": [_release_json(r) for r in self.releases]}


def _release_json(result: ReleaseResult) -> dict[str, Any]:
    """One release in the `--json` document; a broken one says so and why."""
    if result.error is not None:
        return {
            "slug": result.slug,
            "title": result.title,
            "status": Status.INVALID.value,
            "error": result.error,
            "path": result.path,
            "channels": [],
        }
    return {
        "slug": result.slug,
        "title": result.title,
        "channels": [_outcome_json(o) for o in result.outcomes],
    }


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    """One channel's outcome; `action` only for a correction or a retraction."""
    entry: dict[str, Any] = {
        "channel": outcome.channel,
        "type": outcome.type,
        "status": outcome.status.value,
        "url": outcome.url,
        "error": outcome.error,
    }
    if outcome.action is not None:
        entry["action"] = outcome.action.value
    return entry
