"""`chanpub approvals serve` and `chanpub approvers enroll/list/revoke`: approving from a
phone with a passkey. Typer sub-apps added to the main command in chanpub/cli.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from chanpub.cli_base import ConfigOption, language_option, run_command
from chanpub.i18n import _

approvals_app = typer.Typer(
    help="The approval page: approvers read a release on a phone and approve with a passkey."
    "\n\nExample: [bold]chanpub approvals serve releases/[/]",
    no_args_is_help=True,
)
approvers_app = typer.Typer(
    help="Approvers' keys: enroll a passkey, list keys, revoke them."
    '\n\nExample: [bold]chanpub approvers enroll "Kepala Dinas Kominfo"[/]',
    no_args_is_help=True,
)

OriginOption = Annotated[
    str | None,
    typer.Option(
        "--origin",
        help="The page's public address (https://..., behind a reverse proxy); default: "
        "approvals.origin in channels.yaml, else http://localhost:PORT.",
        show_default=False,
    ),
]


def _load(config: Path | None) -> Any:
    from chanpub import actions

    return actions.load(config, language=language_option())


@approvals_app.command("serve")
def serve(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Release files or folders (default: releases/).")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8750,
    origin: OriginOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve the approval page for the releases waiting for approval.

    Example: [bold]chanpub approvals serve releases/ --origin https://setuju.kominfo.example.go.id[/]
    """

    def work() -> None:
        import uvicorn

        from chanpub.approvals.admin import approvers_of, origin_for
        from chanpub.intake import release_files
        from chanpub.web.app import create_app
        from chanpub.web.pages import Pages

        cfg = _load(config)
        approvers_of(cfg)
        served = tuple(paths or [Path("releases")])
        release_files(served)  # a mistyped folder is an error, not a page with nothing on it
        pages = Pages(cfg, served, origin_for(cfg, origin, port))
        typer.echo(_("Approval page: {origin}/ (Ctrl-C stops it)").format(origin=pages.origin))
        uvicorn.run(create_app(cfg, pages=pages), host=host, port=port, log_level="warning")

    run_command(work)


@approvers_app.command("enroll")
def enroll(
    name: Annotated[str, typer.Argument(help="The approver, as listed under approvers:.")],
    origin: OriginOption = None,
    config: ConfigOption = None,
) -> None:
    """Print a one-time link (15 minutes) for NAME's phone to create a passkey.

    Example: [bold]chanpub approvers enroll "Kepala Dinas Kominfo"[/]
    """

    def work() -> None:
        from chanpub.approvals.admin import enrollment_link, origin_for

        cfg = _load(config)
        link = enrollment_link(cfg, name, origin_for(cfg, origin))
        typer.echo(link)
        typer.echo(
            _("Send this link to {name}'s phone: it works once, for 15 minutes.").format(name=name),
            err=True,
        )

    run_command(work)


@approvers_app.command("list")
def list_keys(config: ConfigOption = None) -> None:
    """List each approver's keys (SSH and passkeys), when added and last used.

    Example: [bold]chanpub approvers list[/]
    """

    def work() -> None:
        from rich.console import Console
        from rich.table import Table

        from chanpub.approvals.admin import key_rows

        table = Table(box=None)
        for column in (
            _("Approver"),
            _("Kind"),
            _("Key"),
            _("Added"),
            _("Last used"),
            _("Revoked"),
        ):
            table.add_column(column)
        for row in key_rows(_load(config)):
            table.add_row(row.name, row.kind, row.key_id, row.added, row.last_used, row.revoked)
        Console(width=160).print(table)

    run_command(work)


@approvers_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The approver.")],
    key_id: Annotated[
        str | None, typer.Argument(help="One key (see approvers list); default: all passkeys.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Revoke one of NAME's passkeys, or all of them: approvals made with it stop counting.

    Example: [bold]chanpub approvers revoke "Kepala Dinas Kominfo" passkey:1a2b3c4d5e6f[/]
    """

    def work() -> None:
        from chanpub.approvals.admin import revoke as revoke_keys

        for revoked in revoke_keys(_load(config), name, key_id):
            typer.echo(_("{name}: {key} revoked").format(name=name, key=revoked))

    run_command(work)


def print_page_log(config: Any, slug: str | None) -> None:
    """`chanpub history`: sign-ins, approvals and refusals on the approval page."""
    from chanpub.approvals.admin import log_entries

    entries = log_entries(config, slug)
    if entries:
        typer.echo(_("Approval page:"))
    for entry in entries[:50]:
        where = f" {entry['slug']}" if entry.get("slug") else ""
        detail = f": {entry['detail']}" if entry.get("detail") else ""
        typer.echo(
            f"  {entry['at']} {entry['event']}{where} {entry['who']} ({entry['address']}){detail}"
        )
