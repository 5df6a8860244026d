"""`chanpub db`: the shared PostgreSQL database (`database:` in channels.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chanpub.cli_base import ConfigOption, app, run_command
from chanpub.i18n import _

db_app = typer.Typer(
    name="db",
    help=(
        "The shared PostgreSQL ledger: create its schema, import a SQLite ledger.\n\n"
        "Example: [bold]chanpub db upgrade[/]"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(db_app, name="db")


@db_app.command()
def upgrade(config: ConfigOption = None) -> None:
    """Create or update the ledger and task-queue schema; safe to run again.

    Example: [bold]chanpub db upgrade[/]
    """
    from chanpub import actions, database

    def work() -> int:
        for line in database.upgrade(actions.load(config)):
            typer.echo(line)
        return 0

    raise typer.Exit(run_command(work))


@db_app.command("import")
def import_ledger(
    path: Annotated[Path, typer.Argument(help="The SQLite ledger (state_dir/ledger.sqlite3).")],
    config: ConfigOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Copy a SQLite ledger into the database: nothing it recorded is sent again.

    Example: [bold]chanpub db import .chanpub/ledger.sqlite3[/]
    """
    from chanpub import actions, database

    def work() -> int:
        copied = database.import_sqlite(path, config=actions.load(config))
        if json_output:
            import json  # not at the top: `chanpub --version` needs no JSON

            typer.echo(json.dumps({"copied": copied}))
        else:
            for table, count in copied.items():
                typer.echo(_("{table}: {count} rows copied").format(table=table, count=count))
        return 0

    raise typer.Exit(run_command(work))
