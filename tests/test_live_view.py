"""`chanpub send` on a terminal: a live table while it runs, then a table of the outcomes.

A cron folder can hold thousands of releases that are only skipped; on a terminal both
tables stay one screen high, with what is moving or what happened first, so that a run by
hand over such a folder takes as long as the run itself, not seconds of drawing."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from chanpub import terminal_view
from chanpub.outcomes import Outcome, ReleaseResult, RunResult
from chanpub.status import Status
from chanpub.terminal_view import LiveView, print_summary_table

DRAFT = (Outcome("website", "static-site", Status.SKIPPED, error="draft: not approved yet"),)
PUBLISHED = (
    Outcome(
        "website",
        "static-site",
        Status.PUBLISHED,
        url="https://kominfo.example.go.id/siaran/banjir.html",
    ),
)
FAILED = (Outcome("press", "email", Status.FAILED, error="relay refused the sender"),)
DONE = (Outcome("website", "static-site", Status.ALREADY_PUBLISHED, url="https://x.example/a"),)


def screen(monkeypatch: pytest.MonkeyPatch, height: int = 24) -> Console:
    console = Console(file=io.StringIO(), force_terminal=True, width=120, height=height)
    monkeypatch.setattr(terminal_view, "stdout_console", lambda: console)
    return console


def shown(console: Console) -> str:
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def a_folder(drafts: int, *others: tuple[str, tuple[Outcome, ...]]) -> RunResult:
    releases = [ReleaseResult(slug, slug, f"releases/{slug}.md", o) for slug, o in others]
    releases += [
        ReleaseResult(f"siaran-{n}", f"Siaran {n}", f"releases/{n:05}.md", DRAFT)
        for n in range(drafts)
    ]
    return RunResult(tuple(releases))


def test_a_burst_of_events_is_drawn_a_few_times_not_once_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = LiveView()
    drawn: list[int] = []
    real = LiveView._table

    def counting(self: LiveView, height: int) -> object:
        drawn.append(len(self._rows))
        return real(self, height)

    monkeypatch.setattr(LiveView, "_table", counting)
    screen(monkeypatch)
    with view.running():
        for number in range(2000):
            view.observe("done", f"siaran-{number}", "website", {"status": "skipped"})
    assert len(view._rows) == 2000
    assert len(drawn) < 50  # the refresh rate's few frames, not 2,000 tables


def test_a_frame_is_one_screen_with_what_is_moving_first(monkeypatch: pytest.MonkeyPatch) -> None:
    console = screen(monkeypatch, height=20)
    view = LiveView()
    view.observe("publishing", "banjir", "press", {"total": 500})
    for number in range(2000):
        view.observe("done", f"siaran-{number}", "website", {"status": "skipped"})
    view.observe("progress", "banjir", "press", {"sent": 120})
    console.print(view)
    lines = shown(console).splitlines()
    assert len(lines) <= 20
    assert any("banjir" in line and "120/500" in line for line in lines)
    assert "siaran-1999" in shown(console)  # the latest to finish
    assert "siaran-0 " not in shown(console)
    assert "1,98" in lines[-1]  # "… and 1,98x more" (what did not fit)


def test_a_small_run_lists_every_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    console = screen(monkeypatch)
    print_summary_table(a_folder(3, ("banjir", PUBLISHED)))
    text = shown(console)
    assert "banjir" in text and "https://kominfo.example.go.id/siaran/banjir.html" in text
    assert all(f"siaran-{n}" in text for n in range(3))
    assert text.count("draft: not approved yet") == 3


def test_a_big_folder_lists_what_happened_and_counts_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = screen(monkeypatch, height=24)
    print_summary_table(a_folder(2000, ("banjir", PUBLISHED), ("rapat", FAILED), ("lama", DONE)))
    text = shown(console)
    assert len(text.splitlines()) <= 24
    assert "banjir" in text and "published" in text
    assert "rapat" in text and "relay refused the sender" in text
    assert "siaran-1999" not in text and "lama " not in text
    assert "2,000 skipped" in text and "1 already-published" in text
    assert "--json" in text  # where every line is


def test_what_happened_is_listed_even_when_it_is_more_than_a_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = screen(monkeypatch, height=24)
    published = [(f"rilis-{n}", PUBLISHED) for n in range(40)]
    print_summary_table(a_folder(500, *published))
    text = shown(console)
    assert all(f"rilis-{n} " in text for n in range(40))
    assert "500 skipped" in text
