"""The plain lines `chanpub send` prints for a run, as cron mails them."""

from __future__ import annotations

import io

from chanpub.outcomes import Outcome, ReleaseResult, RunResult
from chanpub.output import print_result
from chanpub.status import Status


class CountingStream(io.StringIO):
    """A stdout that counts writes: with PYTHONUNBUFFERED each one is a system call."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def folder_of_drafts(count: int) -> RunResult:
    skipped = (Outcome("website", "static-site", Status.SKIPPED, error="draft: not approved yet"),)
    return RunResult(
        tuple(
            ReleaseResult(f"siaran-{n}", f"Siaran {n}", f"releases/{n:05}.md", skipped)
            for n in range(count)
        )
    )


def test_each_outcome_is_one_line() -> None:
    stream = CountingStream()
    print_result(folder_of_drafts(2), as_json=False, stream=stream)
    assert stream.getvalue() == (
        "siaran-0  website  skipped  draft: not approved yet\n"
        "siaran-1  website  skipped  draft: not approved yet\n"
    )


def test_a_big_folder_is_printed_in_one_write_not_one_per_line() -> None:
    stream = CountingStream()
    print_result(folder_of_drafts(5000), as_json=False, stream=stream)
    assert stream.getvalue().count("\n") == 5000
    assert stream.writes == 1


def test_braces_in_a_reason_or_link_print_as_they_are() -> None:
    # Each kind of outcome is a str.format template filled with the slug: its own braces
    # must not be read as fields.
    failed = Outcome("social", "x", Status.FAILED, error="refused: {'code': 187}")
    published = Outcome("website", "static-site", Status.PUBLISHED, url="https://x.id/{0}/a")
    result = RunResult(
        (
            ReleaseResult("rapat-{0}", "Rapat", "a.md", (published, failed)),
            ReleaseResult("layanan", "Layanan", "b.md", (published, failed)),
            ReleaseResult("ditahan", "Ditahan", "c.md", (), error="c.md: title: missing"),
        )
    )
    stream = io.StringIO()
    print_result(result, as_json=False, stream=stream)
    assert stream.getvalue() == (
        "rapat-{0}  website  published  https://x.id/{0}/a\n"
        "rapat-{0}  social  failed  refused: {'code': 187}\n"
        "layanan  website  published  https://x.id/{0}/a\n"
        "layanan  social  failed  refused: {'code': 187}\n"
    )
    assert result.broken == (result.releases[2],)
