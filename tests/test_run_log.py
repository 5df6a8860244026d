"""The `--log-file` lines: one JSON object per outcome, appended, in the documented order."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from chanpub.outcomes import Outcome, ReleaseResult, RunResult
from chanpub.run_log import append_log, log_text
from chanpub.status import Status

MOMENT = datetime(2026, 9, 7, 2, 10, tzinfo=UTC)
NOT_YET = (
    Outcome("website", "static-site", Status.SKIPPED, error="draft: not approved yet"),
    Outcome("pers", "email", Status.SKIPPED, error='kata "tunggu" — menunggu persetujuan'),
)


def expected(result: RunResult) -> str:
    """The lines as the log has always written them: json.dumps of each entry."""
    lines = []
    for release in result.releases:
        start = {"time": "2026-09-07T02:10:00+00:00", "release": release.slug}
        if release.error is not None:
            lines.append({**start, "channel": None, "status": "invalid", "url": None})
            lines[-1]["error"] = release.error
        for o in release.outcomes:
            line = {**start, "channel": o.channel, "status": o.status, "url": o.url}
            line["error"] = o.error
            if o.action is not None:
                line["action"] = o.action
            lines.append(line)
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def a_cron_run() -> RunResult:
    """Drafts sharing their outcomes (as a remembered folder gives them), a correction
    that went out, and a broken file."""
    corrected = (
        Outcome(
            "website",
            "static-site",
            Status.PUBLISHED,
            url="https://kominfo.example.go.id/siaran/jadwal-adminduk.html",
            action="edited",
        ),
    )
    return RunResult(
        (
            ReleaseResult("siaran-1", "Siaran 1", "releases/1.md", NOT_YET),
            ReleaseResult("jadwal-adminduk", "Jadwal", "releases/j.md", corrected),
            ReleaseResult("siaran-ü", "Siaran ü", "releases/2.md", NOT_YET),
            ReleaseResult(
                "rusak.md", "", "releases/rusak.md", (), error="releases/rusak.md:3: date: ..."
            ),
        )
    )


def test_each_outcome_is_the_json_line_it_always_was() -> None:
    result = a_cron_run()
    assert log_text(result, MOMENT) == expected(result)


def test_lines_name_release_channel_status_and_action() -> None:
    lines = [json.loads(line) for line in log_text(a_cron_run(), MOMENT).splitlines()]
    assert [(x["release"], x["channel"], x["status"]) for x in lines] == [
        ("siaran-1", "website", "skipped"),
        ("siaran-1", "pers", "skipped"),
        ("jadwal-adminduk", "website", "published"),
        ("siaran-ü", "website", "skipped"),
        ("siaran-ü", "pers", "skipped"),
        ("rusak.md", None, "invalid"),
    ]
    assert lines[2]["action"] == "edited" and "action" not in lines[0]
    assert lines[1]["error"] == 'kata "tunggu" — menunggu persetujuan'


def test_runs_are_appended_to_a_file_others_can_read(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "chanpub.jsonl"
    append_log(log, a_cron_run(), MOMENT)
    append_log(log, a_cron_run(), MOMENT)
    assert log.read_text(encoding="utf-8") == expected(a_cron_run()) * 2
    assert os.stat(log).st_mode & 0o777 == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
