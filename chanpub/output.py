"""What the user sees: a live table on a terminal, one plain line per outcome otherwise,
and the `--json` document (the `--log-file` lines: chanpub.run_log)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TextIO

from chanpub.i18n import _

if TYPE_CHECKING:
    from rich.console import Console

    from chanpub.actions import ChannelCheck, ChannelStatus
    from chanpub.ledger import Delivery
    from chanpub.outcomes import Outcome, RunResult
    from chanpub.release import Release

STATUS_STYLE = {
    "published": "green",
    "already-published": "cyan",
    "skipped": "yellow",
    "failed": "bold red",
    "invalid": "bold red",
}


def stderr_console() -> Console:
    """The console for warnings and errors."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout_console() -> Console:
    """The console for results."""
    from rich.console import Console

    return Console(highlight=False)


def warn(message: str) -> None:
    """One warning line on stderr."""
    from rich.markup import escape

    stderr_console().print(f"[yellow]chanpub: warning:[/] {escape(message)}")


def print_invalid(result: RunResult) -> None:
    """Each release held back as broken, on stderr: file, field and what to do."""
    errors = [line for r in result.broken if r.error for line in r.error.splitlines()]
    if not errors:  # the usual cron run: no terminal renderer to import
        return
    from rich.markup import escape

    console = stderr_console()
    for line in errors:
        console.print(f"[bold red]chanpub: error:[/] {escape(line)}")


def quiet_library_logs() -> None:
    """Retries show as chanpub's own lines (the 'retrying' event), never as stamina's
    `stamina.retry_scheduled` records, which reach stderr raw through logging's last-resort
    handler (or stdout through structlog's printer, when structlog is installed)."""
    from stamina.instrumentation import set_on_retry_hooks

    set_on_retry_hooks(())  # an empty list turns stamina's instrumentation off


class RetryReport:
    """Dispatch's observer when there is no terminal: one stderr line per retry."""

    events = frozenset({"retrying"})  # the only one it wants (chanpub.context.listens)

    def __call__(self, event: str, slug: str, channel: str, data: Mapping[str, Any]) -> None:
        if event == "retrying":
            seconds = data.get("seconds")
            state = _("retrying in {n}s").format(n=int(seconds)) if seconds else _("retrying")
            warn(f"{slug} {channel}: {state}")


report_retries = RetryReport()


def counts_text(details: Mapping[str, Any]) -> str:
    """'sent 3, invalid 1' for channels with many recipients (zero counts left out)."""
    return ", ".join(
        f"{key} {details[key]}"
        for key in ("sent", "delivered", "read", "failed", "deferred", "unknown", "invalid")
        if details.get(key)
    )


def plain_text(result: RunResult) -> str:
    """One line per channel outcome: slug, channel, status, then the URL or the reason."""
    # The releases a folder scan answered from memory (tens of thousands) share their
    # outcomes, one tuple per kind of "not now": each tuple's lines are made once, and a
    # release's text is its slug joining them ("" + slug + line 1 + slug + line 2 ...),
    # by C-level steps alone.
    outcomes = list(map(attrgetter("outcomes"), result.releases))
    keys = list(map(id, outcomes))
    distinct = dict(zip(keys, outcomes, strict=True))
    lines = {key: ["", *(f"  {_tail(o)}\n" for o in tuple_)] for key, tuple_ in distinct.items()}
    slugs = map(attrgetter("slug"), result.releases)
    return "".join(map(str.join, slugs, map(lines.__getitem__, keys)))


def _tail(outcome: Outcome) -> str:
    """An outcome's line after the slug: channel, status, then the URL or the reason."""
    detail = outcome.url or outcome.error or counts_text(outcome.details)
    status = f"{outcome.status} ({outcome.action})" if outcome.action else outcome.status
    return f"{outcome.channel}  {status}  {detail}".rstrip()


def print_result(result: RunResult, *, as_json: bool, stream: TextIO | None = None) -> None:
    """The run's outcome on stdout, as JSON or as plain lines."""
    out = stream or sys.stdout
    if as_json:
        out.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
        return
    # One write for all the lines: with PYTHONUNBUFFERED (usual in containers) every
    # write is a system call, and a cron run over a big folder prints thousands of lines.
    out.write(plain_text(result))
    out.flush()


def progress_bar(done: int, total: int, width: int = 20) -> str:
    """'██████░░░░ 120/500' for an e-mail list being sent."""
    filled = min(width, round(width * done / total)) if total else 0
    return "█" * filled + "░" * (width - filled) + f" {done}/{total}"


def print_check(release: Release, checks: list[ChannelCheck]) -> None:
    """Per channel: what would be published and its length against the limit."""
    from rich.markup import escape
    from rich.panel import Panel

    console = stdout_console()
    state = _("approved") if release.is_approved else release.status
    console.print(
        f"[bold]{escape(release.title)}[/]  ({release.slug}, {state}, "
        f"sha256 {release.content_sha256[:16]}…)"
    )
    if release.amendment:  # the correction note or the retraction reason, as approved
        note = release.retraction or release.correction or ""
        console.print(f"[bold]{release.amendment}:[/] {escape(note)}", soft_wrap=True)
    for item in checks:
        if item.preview is None:
            console.print(f"[yellow]{item.name}[/] ({item.type}): {escape(item.reason or '')}")
            continue
        preview = item.preview
        measure = ""
        if preview.length is not None and preview.limit is not None:
            colour = "red" if preview.over_limit else "green"
            measure = f"  [{colour}]{preview.length}/{preview.limit} {_(preview.unit)}[/]"
        elif preview.recipients is not None:
            measure = "  " + _("{n} recipient(s)").format(n=preview.recipients)
        if item.reason:
            measure += (
                "  [yellow]" + escape(_("not sent: {reason}").format(reason=item.reason)) + "[/]"
            )
        body = preview.text or preview.title or ""
        if len(body) > 1200:
            body = body[:1200] + "…"
        console.print(
            Panel(escape(body), title=f"{item.name} ({item.type}){measure}", title_align="left")
        )
        for warning in preview.warnings:
            console.print(f"  [yellow]![/] {escape(warning)}")
        if item.amends:
            console.print(f"  [bold]{release.amendment}:[/] {escape(item.amends)}", soft_wrap=True)


def print_channels(statuses: list[ChannelStatus], adapters: list[Any]) -> None:
    """Installed adapter types and configured channels with their readiness."""
    console = stdout_console()
    console.print("[bold]" + _("Installed channel types") + "[/]")
    for info in adapters:
        source = "built-in" if info.builtin else info.distribution
        console.print(f"  {info.type:<15} {source}")
    console.print("[bold]" + _("Configured channels") + "[/]")
    for status in statuses:
        colour = "green" if status.ready else "yellow"
        canonical = " (canonical)" if status.canonical else ""
        line = f"  {status.name:<15} {status.type:<14} [{colour}]{status.readiness}[/]{canonical}"
        if status.verified is not None:
            verdict = "green" if status.verified.startswith("ok") else "red"
            if "renew it soon" in status.verified:
                verdict = "yellow"
            line += f"  [{verdict}]{status.verified}[/]"
        console.print(line)


def print_history(
    rows: list[Delivery], signers: Sequence[Mapping[str, str]] = (), slug: str | None = None
) -> None:
    """What went where and when (of the release `slug`, when given), and who signed each
    approval that went out."""
    from rich.table import Table

    if not rows and slug is not None:  # most often a slug mistyped or cut short
        stdout_console().print(
            _(
                "Nothing recorded for {slug}: check the name ('chanpub history' lists every "
                "release)."
            ).format(slug=slug),
            highlight=False,
            soft_wrap=True,
        )
        return
    if not rows:
        stdout_console().print(_("Nothing has been sent yet."))
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in (_("When (UTC)"), _("Release"), _("Channel"), _("Status"), _("Link / details")):
        table.add_column(column, overflow="fold")
    for row in rows:
        detail = row.url or row.error or ""
        detail = (detail + " " + counts_text(row.details)).strip()
        numbers = row.details.get("numbers")
        if isinstance(numbers, dict) and numbers:  # letters: the number each recipient got
            detail += " " + ", ".join(f"{number} ({who})" for who, number in numbers.items())
        when = (row.finished_at or row.started_at).replace("T", " ")[:16]
        table.add_row(when, row.slug, row.channel, row.status, detail)
    stdout_console().print(table)
    from chanpub.versions import print_versions

    print_versions(rows, stdout_console())
    for signer in signers:  # signed approvals: who approved each version that went out
        stdout_console().print(
            _("{slug} sha256 {hash}: signed by {name} ({kind} {fingerprint}) at {at}").format(
                slug=signer["slug"],
                hash=signer["content_hash"][:16],
                name=signer["name"],
                kind=signer["kind"],
                fingerprint=signer["fingerprint"],
                at=signer["signed_at"],
            ),
            markup=False,
        )


def history_json(rows: list[Delivery], signers: Sequence[Mapping[str, str]] = ()) -> str:
    """The history as JSON; `approvals` lists who signed (empty without signed approvals);
    `versions` groups the deliveries by release version."""
    from chanpub.versions import action_of, versions

    return json.dumps(
        {
            "deliveries": [
                {
                    "slug": r.slug,
                    "channel": r.channel,
                    "type": r.channel_type,
                    "status": r.status,
                    "url": r.url,
                    "remote_id": r.remote_id,
                    "error": r.error,
                    "content_hash": r.content_hash,
                    "started_at": r.started_at,
                    "finished_at": r.finished_at,
                    "details": {k: v for k, v in r.details.items() if k != "files"},
                    "kind": r.kind,
                    "approved_by": r.approved_by,
                    "approved_at": r.approved_at,
                    "action": action_of(r),
                }
                for r in rows
            ],
            "versions": [version.to_json() for version in versions(rows)],
            "approvals": [
                {
                    "slug": s["slug"],
                    "content_hash": s["content_hash"],
                    "by": s["name"],
                    "kind": s["kind"],
                    "fingerprint": s["fingerprint"],
                    "signed_at": s["signed_at"],
                }
                for s in signers
            ],
        },
        ensure_ascii=False,
        indent=2,
    )
