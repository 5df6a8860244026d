"""The live table on a terminal: drawn at its refresh rate, not once per event, so a folder
of thousands of skipped releases does not redraw thousands of times."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from chanpub import output
from chanpub.output import LiveView


def test_a_burst_of_events_is_drawn_a_few_times_not_once_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = LiveView()
    drawn: list[int] = []
    real = LiveView._table

    def counting(self: LiveView) -> object:
        drawn.append(len(self._rows))
        return real(self)

    monkeypatch.setattr(LiveView, "_table", counting)
    screen = Console(file=io.StringIO(), force_terminal=True)
    monkeypatch.setattr(output, "stdout_console", lambda: screen)
    with view.running():
        for number in range(2000):
            view.observe("done", f"siaran-{number}", "website", {"status": "skipped"})
    assert len(view._rows) == 2000
    assert len(drawn) < 50  # the refresh rate's few frames, not 2,000 tables
