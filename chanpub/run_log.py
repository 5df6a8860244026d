"""`--log-file`: one JSON line per outcome of a run, appended, for cron.

Each line is `{"time", "release", "channel", "status", "url", "error"}` (and `"action"` for
a correction or a retraction), in that order; a release held back as broken gets one line
with `"channel": null` and `"status": "invalid"`.

A cron run over a big folder logs every release of it, and the releases a folder scan
answered from memory (tens of thousands) share their outcomes, one tuple per kind of "not
now". So each distinct tuple's lines are encoded once, after the release's slug, and a
release's lines are its start ('{"time": ..., "release": "SLUG", ') joining them: the same
text as `json.dumps` of each line, without encoding the same outcome again per release.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from chanpub.i18n import _

if TYPE_CHECKING:
    from chanpub.outcomes import Outcome, ReleaseResult, RunResult


def check_log_file(path: Path) -> None:
    """Refuse, before anything is sent, a --log-file that cannot be appended to."""
    refusal = _(
        "--log-file {path}: cannot be written ({reason}): give a file in a folder this "
        "account can write to"
    )
    with _appending(path, refusal):
        pass


def append_log(path: Path, result: RunResult, moment: datetime | None = None) -> None:
    """Append the run's lines (`log_text`) to `path`, in one write. The run is over by
    then: a log that cannot take them (a disk that filled up) is an InputError (exit 2)
    that says where the outcomes are kept, not a traceback."""
    refusal = _(
        "--log-file {path}: this run's lines could not be written ({reason}); what was sent "
        "is recorded in the ledger: see 'chanpub history'"
    )
    with _appending(path, refusal) as file:
        file.write(log_text(result, moment or datetime.now(UTC)))


@contextmanager
def _appending(path: Path, refusal: str) -> Iterator[TextIO]:
    """The log opened for appending (its folder made); any OSError, in opening, writing or
    closing, becomes an InputError with `refusal` ({path}, {reason}) filled in."""
    from chanpub.errors import InputError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            yield file
    except OSError as error:
        reason = error.strerror or error
        raise InputError(refusal.format(path=path, reason=reason)) from None


def log_text(result: RunResult, moment: datetime) -> str:
    """The run's log lines, all stamped with `moment` (the run's end)."""
    encode = json.JSONEncoder(ensure_ascii=False).encode  # what json.dumps does, per value
    head = '{"time": ' + encode(moment.isoformat(timespec="seconds")) + ', "release": '
    tails: dict[int, list[str]] = {}  # id of an outcomes tuple -> ["", its line tails...]
    parts: list[str] = []
    for release in result.releases:
        start = head + encode(release.slug) + ", "
        if release.error is not None:
            parts.append(start + _tail(_invalid(release)))
        lines = tails.get(id(release.outcomes))
        if lines is None:
            lines = tails[id(release.outcomes)] = ["", *map(_outcome_tail, release.outcomes)]
        parts.append(start.join(lines))
    return "".join(parts)


def _outcome_tail(outcome: Outcome) -> str:
    fields: dict[str, Any] = {
        "channel": outcome.channel,
        "status": outcome.status,
        "url": outcome.url,
        "error": outcome.error,
    }
    if outcome.action is not None:  # a correction or a retraction
        fields["action"] = outcome.action
    return _tail(fields)


def _invalid(release: ReleaseResult) -> dict[str, Any]:
    return {"channel": None, "status": "invalid", "url": None, "error": release.error}


def _tail(fields: dict[str, Any]) -> str:
    """A line's fields after "release", as json.dumps writes them, and its newline."""
    return json.dumps(fields, ensure_ascii=False)[1:] + "\n"
