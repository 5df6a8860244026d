"""`chanpub worker`: work the shared task queue (`database:` in channels.yaml), on any
number of hosts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from chanpub.cli_base import ConfigOption, app, language_option, run_command
from chanpub.i18n import _


@app.command()
def worker(
    config: ConfigOption = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Deliveries this process runs at once.")
    ] = 4,
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Exit once no job is left in the queue.")
    ] = False,
) -> None:
    """Send the deliveries queued by 'chanpub send' (needs database: in channels.yaml).

    Example: [bold]chanpub worker --concurrency 4[/] (one per host, as a systemd unit)
    """
    from chanpub import actions, database, output, queue
    from chanpub.ledger import Ledger

    def observe(event: str, slug: str, channel: str, data: Mapping[str, Any]) -> None:
        output.report_retries(event, slug, channel, data)
        if event == "error":
            output.warn(f"{slug} {channel}: {data['error']}")
        if event == "done":
            line = _("{slug} -> {channel}: {status}").format(
                slug=slug, channel=channel, status=data["status"]
            )
            typer.echo(line + (f" ({data['error']})" if data.get("error") else ""))

    def work() -> int:
        output.quiet_library_logs()
        cfg = actions.load(config, language=language_option())
        ledger = Ledger(database.database_url(cfg))
        try:
            queue.install_schema(ledger)
            jobs = queue.Work(cfg, ledger, observe)
            queue.run_jobs(jobs, concurrency=concurrency, until_empty=until_empty, signals=True)
        finally:
            ledger.close()
            actions.close_http()
        return 0

    raise typer.Exit(run_command(work))
