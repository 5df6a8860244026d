"""The chanpub command: parse, call one function, render, exit with the contract's code."""

from __future__ import annotations

import atexit
import gc
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from chanpub import folder_stats
from chanpub.cli_approvals import approvals_app, approvers_app, print_page_log
from chanpub.cli_base import (
    ConfigOption,
    app,
    language_option,
    run_command,
    run_stoppable,
)
from chanpub.errors import ChanpubError, ExitCode
from chanpub.i18n import _

app.add_typer(approvals_app, name="approvals")
app.add_typer(approvers_app, name="approvers")


@app.command()
def send(
    paths: Annotated[list[Path], typer.Argument(help="Release files or folders of releases.")],
    config: ConfigOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Render everything; publish and record nothing.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    update: Annotated[
        bool,
        typer.Option(
            "--update", help="Edit posts of a re-approved release in place, where the channel can."
        ),
    ] = False,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file", help="Append JSON lines (time, release, channel, status, url, error)."
        ),
    ] = None,
    enqueue_only: Annotated[
        bool,
        typer.Option(
            "--enqueue-only", help="With database: queue the deliveries for 'chanpub worker'."
        ),
    ] = False,
) -> None:
    """Publish approved, due releases to their channels, exactly once.

    Example: [bold]chanpub send releases/[/] (cron: only approved and due releases go out)
    """
    from chanpub import actions, output, run_log, terminal_view

    def work() -> int:
        output.quiet_library_logs()
        cfg = actions.load(config, language=language_option())
        if log_file is not None:
            run_log.check_log_file(log_file)
        live = sys.stdout.isatty() and not json_output
        if live:
            view = terminal_view.LiveView()
            with view.running():
                result = actions.send(
                    paths,
                    cfg,
                    dry_run=dry_run,
                    update=update,
                    observer=view.observe,
                    enqueue_only=enqueue_only,
                )
            terminal_view.print_summary_table(result)
        else:
            result = actions.send(
                paths,
                cfg,
                dry_run=dry_run,
                update=update,
                observer=output.report_retries,
                enqueue_only=enqueue_only,
            )
            output.print_result(result, as_json=json_output)
        for message in result.warnings:
            output.warn(message)
        output.print_invalid(result)
        if log_file is not None:
            run_log.append_log(log_file, result)
        return int(result.exit_code)

    raise typer.Exit(run_stoppable(work))


def _print_release_warnings(path: Path) -> None:
    """Warnings about one release file (unknown fields) on stderr."""
    from chanpub.output import warn
    from chanpub.release import load_release

    try:
        release = load_release(path)
    except ChanpubError:
        return  # the command itself reports why the file cannot be used
    for message in release.warnings:
        warn(message)


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="The release file.")],
    config: ConfigOption = None,
) -> None:
    """Validate a release and the config; show what each channel would publish.

    Example: [bold]chanpub check releases/banjir.md[/]
    """
    from chanpub import actions, output

    def work() -> None:
        cfg = actions.load(config, language=language_option())
        release, checks = actions.check(file, cfg)
        for message in release.warnings:
            output.warn(message)
        output.print_check(release, checks)
        typer.echo(_("Approval: {note}").format(note=actions.approval_note(release, cfg)))

    run_command(work)


@app.command()
def preview(
    file: Annotated[Path, typer.Argument(help="The release file.")],
    config: ConfigOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the page (default: preview/ in the state folder).",
            show_default=False,
        ),
    ] = None,
    open_page: Annotated[
        bool, typer.Option("--open", help="Open the page in the web browser.")
    ] = False,
) -> None:
    """Write one HTML page showing what every channel would publish, to approve from.

    Example: [bold]chanpub preview releases/banjir.md --open[/]
    """
    from chanpub import actions
    from chanpub.preview import write_preview

    def work() -> None:
        cfg = actions.load(config, language=language_option())
        _print_release_warnings(file)
        page = write_preview(file, cfg, out)
        typer.echo(_("wrote {path}").format(path=page))
        if open_page:
            import webbrowser

            webbrowser.open(page.resolve().as_uri())

    run_command(work)


@app.command()
def approve(
    file: Annotated[Path, typer.Argument(help="The release file.")],
    by: Annotated[str, typer.Option("--by", help="Who approves (name and position).")],
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Your SSH key file, when channels.yaml lists approvers."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Approve a release: record (and sign, with approvers configured) exactly this content.

    Example: [bold]chanpub approve releases/banjir.md --by "Kepala Dinas Kominfo"[/]
    """
    from chanpub import actions

    def work() -> None:
        release, signer = actions.approve(file, by, key, config, language=language_option())
        if signer is not None:
            typer.echo(
                _("{path}: signed by {signer} (sha256 {hash})").format(
                    path=file, signer=signer.describe(), hash=release.content_sha256
                )
            )
            return
        typer.echo(
            _("{path}: approved by {by} (sha256 {hash})").format(
                path=file, by=release.approved_by, hash=release.content_sha256
            )
        )

    run_command(work)


@app.command()
def channels(
    config: ConfigOption = None,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Check credentials and reachability without publishing."),
    ] = False,
) -> None:
    """List installed channel types and configured channels with their readiness.

    Example: [bold]chanpub channels --verify[/]
    """
    from chanpub import actions, output, registry

    def work() -> int:
        adapters = registry.available()
        cfg = actions.load(config, language=language_option())
        statuses = actions.channel_statuses(cfg, verify=verify)
        output.print_channels(statuses, adapters)
        failed = verify and any(
            s.verified is not None and not s.verified.startswith("ok") for s in statuses
        )
        return int(ExitCode.CHANNEL_FAILED if failed else ExitCode.OK)

    raise typer.Exit(run_command(work))


@app.command()
def history(
    slug: Annotated[str | None, typer.Argument(help="Only this release.")] = None,
    config: ConfigOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what went where and when, with the links.

    Example: [bold]chanpub history pemkot-buka-layanan[/]
    """
    from chanpub import actions, output, settling

    def work() -> None:
        cfg = actions.load(config, language=language_option())
        rows = actions.history(cfg, slug)
        signers = actions.approval_history(cfg, slug)
        if json_output:
            typer.echo(output.history_json(rows, signers))
            return
        output.print_history(rows, signers, slug)
        print_page_log(cfg, slug)
        for line in settling.open_items(cfg, rows):
            typer.echo(line)

    run_command(work)


@app.command()
def resolve(
    slug: Annotated[str, typer.Argument(help="The release's slug.")],
    channel: Annotated[str, typer.Argument(help="The channel's name.")],
    published: Annotated[
        str | None,
        typer.Option(
            "--published", help="It is there: its URL ('-' for e-mail recipients that got it)."
        ),
    ] = None,
    not_published: Annotated[
        bool, typer.Option("--not-published", help="It is not there: the next send publishes it.")
    ] = False,
    resend: Annotated[
        bool,
        typer.Option("--resend", help="Send again now to the recipients nobody knows about."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask (for scripts).")] = False,
    config: ConfigOption = None,
) -> None:
    """Settle a delivery, or e-mail recipients, that a stopped run left for a person to check.

    Example: [bold]chanpub resolve banjir telegram --not-published[/]
    """
    from chanpub import actions, settling
    from chanpub.errors import InputError

    def work() -> int:
        if [published is not None, not_published, resend].count(True) != 1:
            raise InputError(_("give one of --published URL, --not-published or --resend"))
        cfg = actions.load(config, language=language_option())
        if resend:
            return _resend(cfg, slug, channel, yes=yes)
        changed = settling.resolve(
            cfg, slug, channel, published=published is not None, url=published or None
        )
        if not changed:
            raise InputError(
                _(
                    "nothing to resolve for {slug} on {channel}: see 'chanpub history {slug}'"
                ).format(slug=slug, channel=channel)
            )
        typer.echo(_("{slug} on {channel}: recorded").format(slug=slug, channel=channel))
        return int(ExitCode.OK)

    raise typer.Exit(run_stoppable(work))


def _resend(cfg: Any, slug: str, channel: str, *, yes: bool) -> int:
    """Say how many may get the message twice, ask (or need --yes), then send to them."""
    from chanpub import output, settling

    def ask(question: str) -> bool:
        return yes or bool(typer.confirm(question, default=False))

    result = settling.resend_after_asking(
        cfg, slug, channel, ask=ask, can_ask=yes or _stdin_is_terminal(), say=typer.echo
    )
    if result is None:
        return int(ExitCode.CHANNEL_FAILED)
    output.print_result(result, as_json=False)
    return int(result.exit_code)


def _interactive() -> bool:
    """True on a terminal; cron, pipes and scripts are never asked anything."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _stdin_is_terminal() -> bool:
    """A person can answer a question (cron and scripts cannot)."""
    return sys.stdin.isatty()


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to start.")] = Path("."),
) -> None:
    """Write a starter channels.yaml, a releases/ folder and an example release.

    Example: [bold]chanpub init humas && cd humas && chanpub send releases/[/]
    """
    from chanpub.starter import ask_office, check_free, write_starter

    def work() -> None:
        check_free(directory)
        answers = ask_office(typer.prompt, typer.BadParameter) if _interactive() else {}
        for path in write_starter(directory, **answers):
            typer.echo(_("wrote {path}").format(path=path))

    run_command(work)


from chanpub import cli_db, cli_worker  # noqa: E402, F401  # `chanpub db`, `chanpub worker`


def main() -> None:
    """The console script: the app, in a process that ends with it."""
    # What a command built lives until the process ends, so at exit it is frozen: the
    # interpreter's final collections (four full passes over every object, about 80 ms of
    # a 300 ms cron run) then skip it. chanpub leaves nothing to them: files and the
    # ledger are closed where they are used, and the interpreter flushes stdout and stderr.
    atexit.register(gc.freeze)
    folder_stats.start(sys.argv[1:])  # the folders' stats, on the other core meanwhile
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
