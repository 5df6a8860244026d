"""What every chanpub command module shares: the typer app with its global options
(--version, --lang), the --config option, and the one error boundary. The commands live in
chanpub/cli.py and in their own modules (cli_approvals, cli_db, cli_worker), which import
this one and never each other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from chanpub import __version__
from chanpub.errors import ChanpubError, ExitCode
from chanpub.i18n import choose_language, set_language
from chanpub.translated_help import TranslatedGroup

app = typer.Typer(
    name="chanpub",
    cls=TranslatedGroup,
    help="Send one approved release to every official channel, exactly once.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=True,
    rich_markup_mode="rich",
)

T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="channels.yaml to use (else $CHANPUB_CONFIG, then ./channels.yaml).",
        show_default=False,
    ),
]


def run_command(action: Callable[[], T]) -> T:
    """The one error boundary: a ChanpubError becomes one clear stderr line and its code."""
    try:
        return action()
    except ChanpubError as error:
        from rich.markup import escape

        from chanpub.output import stderr_console

        console = stderr_console()
        for line in error.message.splitlines() or [""]:
            console.print(f"[bold red]chanpub: error:[/] {escape(line)}")
        if error.hint:
            console.print(f"[dim]hint:[/] {escape(error.hint)}")
        raise typer.Exit(int(error.exit_code)) from None
    except KeyboardInterrupt:
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


def run_stoppable(action: Callable[[], int]) -> int:
    """`run_command` for commands that send: on SIGTERM the work in flight finishes and is
    recorded, nothing new starts, and the exit code is 143."""
    from chanpub import shutdown

    with shutdown.on_sigterm():
        code = run_command(action)
        return int(ExitCode.TERMINATED) if shutdown.requested() else code


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chanpub {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            envvar="CHANPUB_LANG",
            help="Language of messages: en, id. Default: the config's, then the system's.",
        ),
    ] = None,
) -> None:
    """chanpub: one approved release to the website, social media, e-mail and print."""
    global _language_option
    _language_option = lang
    set_language(choose_language(lang))


_language_option: str | None = None  # --lang: when given, the config's language is not used


def language_option() -> str | None:
    """--lang as given on this command line (None: the config's, then the system's)."""
    return _language_option
