"""`chanpub send` on a terminal: a live table of the deliveries while the run goes on, then
a table of the outcomes (cron and pipes get plain lines instead: chanpub.output).

Both stay one screen high. A folder that cron works through can hold thousands of
releases that are only skipped (drafts, releases scheduled for later) or were published
long ago; a person who runs `send` by hand over it wants to see what is moving and what
happened, and a table of thousands of rows would take seconds to draw and scroll it away.
So the live table shows the deliveries in motion, then the latest to finish, and says how
many more there are; the final table lists every outcome where something happened and
counts those where nothing did, when listing them all would not fit. Every line is in the
plain output (`send ... | cat`) and in `--json`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from typing import TYPE_CHECKING, Any

from chanpub.i18n import _
from chanpub.output import STATUS_STYLE, counts_text, progress_bar, stdout_console
from chanpub.status import Status

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table

    from chanpub.outcomes import ReleaseResult, RunResult

NOTHING_HAPPENED = (Status.SKIPPED, Status.ALREADY_PUBLISHED)  # counted, on a big run
FRAME = 5  # lines a table takes besides its rows: its header and rule, a count, a margin


class LiveView:
    """A live table of channel states while `send` runs on a terminal."""

    def __init__(self) -> None:
        # (slug, channel) -> state; a row moves to the end when it changes, so the latest
        # to finish are last
        self._rows: dict[tuple[str, str], str] = {}
        self._moving: set[tuple[str, str]] = set()  # rows not done yet
        self._totals: dict[tuple[str, str], int] = {}  # recipients per e-mail delivery
        self._lock = threading.Lock()

    def observe(self, event: str, slug: str, channel: str, data: Mapping[str, Any]) -> None:
        """Dispatch's observer: record the new state (rich redraws at its own rate)."""
        state = _state(event, data, self._totals.get((slug, channel)))
        if state is None or not slug:
            return
        row = (slug, channel)
        with self._lock:
            if event == "publishing" and data.get("total"):
                self._totals[row] = int(data["total"])
            self._rows.pop(row, None)
            self._rows[row] = state
            if event == "done":
                self._moving.discard(row)
            else:
                self._moving.add(row)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The table as it stands, one screen high: rich asks at its refresh rate, not at
        every event."""
        with self._lock:
            table = self._table(options.height or console.size.height)
        yield table

    def _table(self, height: int) -> Table:
        room = max(1, height - FRAME)
        moving = [row for row in self._rows if row in self._moving][:room]
        finished = (row for row in reversed(self._rows) if row not in self._moving)
        latest = list(islice(finished, room - len(moving)))[::-1]
        table = _table((_("Release"), _("Channel"), _("State")))
        for slug, channel in moving + latest:
            table.add_row(slug, channel, self._rows[(slug, channel)])
        hidden = len(self._rows) - len(moving) - len(latest)
        if hidden:
            table.caption = _("… and {count:,} more").format(count=hidden)
        return table

    @contextmanager
    def running(self) -> Iterator[LiveView]:
        """Show the table while the block runs."""
        from rich.live import Live

        with Live(self, console=stdout_console(), refresh_per_second=8, transient=True):
            yield self


def _state(event: str, data: Mapping[str, Any], total: int | None) -> str | None:
    """What the live table says of a delivery after `event`; None: nothing to show."""
    if event == "retrying":
        seconds = data.get("seconds")
        return _("retrying in {n}s").format(n=int(seconds)) if seconds else _("retrying")
    if event == "progress":
        sent = int(data.get("sent", 0))
        return progress_bar(sent, total) if total else _("sending: {sent} sent").format(sent=sent)
    if event == "done":
        return f"{data.get('status')} {data.get('url') or data.get('error') or ''}"
    return {
        "waiting": _("waiting"),
        "publishing": _("publishing…"),
        "skipped": _("skipped"),
    }.get(event)


def print_summary_table(result: RunResult) -> None:
    """The final table on a terminal: every outcome when they fit on the screen; else
    every outcome where something happened, and the others counted by status."""
    console = stdout_console()
    rows = sum(len(release.outcomes) or 1 for release in result.releases)
    fits = rows <= max(1, console.size.height - FRAME)
    table = _table((_("Release"), _("Channel"), _("Status"), _("Link or reason")))
    quiet: Counter[str] = Counter()
    for release in result.releases:
        _add_rows(table, release, quiet if not fits else None)
    if table.rows:
        console.print(table)
    if quiet:
        counted = ", ".join(f"{count:,} {status}" for status, count in quiet.most_common())
        line = _("Not listed: {counted}. Every line: pipe the output, or use --json.")
        console.print(line.format(counted=counted), style="dim", highlight=False)


def _add_rows(table: Table, release: ReleaseResult, quiet: Counter[str] | None) -> None:
    """The release's rows; with `quiet`, outcomes where nothing happened are counted in it
    instead."""
    if release.error is not None:  # the reason is on stderr, line by line
        table.add_row(release.slug, "", "[bold red]invalid[/]", release.error.splitlines()[0])
    for outcome in release.outcomes:
        if quiet is not None and outcome.status in NOTHING_HAPPENED and not outcome.action:
            quiet[outcome.status] += 1
            continue
        style = STATUS_STYLE.get(outcome.status, "")
        table.add_row(
            release.slug,
            outcome.channel,
            f"[{style}]{outcome.status}[/]",
            outcome.url or outcome.error or counts_text(outcome.details),
        )


def _table(columns: tuple[str, ...]) -> Table:
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False, caption_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table
