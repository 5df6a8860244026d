"""Start-up time of `chanpub --help`, `chanpub --version` and `chanpub COMMAND --help` for
every top-level command (and sub-app) the app has, against the framework's floor measured
in the same run: a minimal typer app generated from chanpub's own commands (same names,
options and help texts, no other imports), and `python -c pass`.

    python benchmarks/startup.py [--runs 30]

The commands are discovered from `chanpub.cli.app`, so a new command is measured without
editing this file. Every command runs as a fresh process with this interpreter; runs are
interleaved so load on the machine hits all of them alike; the median is reported.
Targets: `--help` at most 1.15x the minimal app (also for each command), `--version` at
most 1.1x.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HEADER = """
from typing import Annotated, Optional

import typer

app = typer.Typer(name="chanpub", no_args_is_help=True, pretty_exceptions_show_locals=False,
                  add_completion=True, rich_markup_mode="rich", help={help!r})


def _version(value: bool) -> None:
    if value:
        typer.echo("chanpub 0.1.0")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version,
                                               is_eager=True)] = False,
         lang: Annotated[Optional[str], typer.Option("--lang")] = None) -> None:
    \"\"\"chanpub.\"\"\"
"""

TARGETS = {"--help": 1.15, "--version": 1.1}


def _parameter(number: int, param: Any) -> str:
    """One parameter of a stub command, declared as chanpub declares it (names, help)."""
    help_text = getattr(param, "help", None)
    if param.param_type_name == "argument":
        kind = "Optional[list[str]]" if param.nargs == -1 else "Optional[str]"
        return f"p{number}: Annotated[{kind}, typer.Argument(help={help_text!r})] = None"
    names = list(param.opts)
    if getattr(param, "is_flag", False):
        if param.secondary_opts:
            names = [f"{param.opts[0]}/{param.secondary_opts[0]}", *param.opts[1:]]
        option = f"typer.Option(*{names!r}, help={help_text!r})"
        return f"p{number}: Annotated[bool, {option}] = False"
    kind = "Optional[list[str]]" if param.multiple else "Optional[str]"
    return f"p{number}: Annotated[{kind}, typer.Option(*{names!r}, help={help_text!r})] = None"


def _stub(owner: str, name: str, command: Any) -> list[str]:
    """Source of one stub command (or sub-app, with its commands) registered on `owner`."""
    ident = f"c_{owner}_{name}".replace("-", "_")
    if hasattr(command, "commands"):  # a sub-app
        lines = [f"{ident} = typer.Typer(help={command.help!r})"]
        lines.append(f"{owner}.add_typer({ident}, name={name!r})")
        for sub_name, sub in command.commands.items():
            lines += _stub(ident, sub_name, sub)
        return lines
    params = ", ".join(_parameter(n, p) for n, p in enumerate(command.params))
    return [
        f"@{owner}.command(name={name!r}, help={command.help!r})",
        f"def {ident}({params}) -> None:",
        "    pass",
        "",
    ]


def chanpub_commands() -> tuple[str, dict[str, Any]]:
    """chanpub's help text and its top-level commands and sub-apps, by name."""
    import typer

    from chanpub.cli import app

    group = typer.main.get_command(app)
    return group.help or "", dict(group.commands)  # type: ignore[attr-defined]


def minimal_app(help_text: str, commands: dict[str, Any]) -> str:
    """Source of a bare typer app with the same commands, options and help texts."""
    lines = [HEADER.format(help=help_text)]
    for name, command in commands.items():
        lines += _stub("app", name, command)
    lines.append("app()")
    return "\n".join(lines)


def chanpub_script() -> Path:
    """The installed console script next to this interpreter (not a pyenv shim)."""
    script = Path(sys.executable).parent / "chanpub"
    if not script.exists():
        sys.exit("chanpub is not installed for this interpreter: pip install -e .")
    return script


def measure(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time in seconds of each command, runs interleaved."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm the file cache and .pyc files
        subprocess.run(command, capture_output=True, check=True)
    for _ in range(runs):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    """Measure and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    python = sys.executable
    help_text, commands = chanpub_commands()
    with tempfile.TemporaryDirectory() as folder:
        minimal = Path(folder) / "minimal_typer_app.py"
        minimal.write_text(minimal_app(help_text, commands), encoding="utf-8")
        chanpub = [python, str(chanpub_script())]
        bare = [python, str(minimal)]
        pairs = {"--help": ["--help"], "--version": ["--version"]}
        pairs.update({f"{name} --help": [name, "--help"] for name in commands})
        todo = {"python -c pass": [python, "-c", "pass"]}
        for label, arguments in pairs.items():
            todo[f"minimal {label}"] = [*bare, *arguments]
            todo[f"chanpub {label}"] = [*chanpub, *arguments]
        result = measure(todo, runs)
    print(f"median of {runs} runs each; python -c pass: {result['python -c pass'] * 1000:.1f} ms")
    missed = 0
    for label in pairs:
        ours, floor = result[f"chanpub {label}"], result[f"minimal {label}"]
        target = TARGETS.get(label, TARGETS["--help"])
        ratio = ours / floor
        verdict = "ok" if ratio <= target else "MISSED"
        missed += verdict == "MISSED"
        print(
            f"chanpub {label:22} {ours * 1000:7.1f} ms  minimal {floor * 1000:7.1f} ms  "
            f"{ratio:.2f}x (target <= {target}x: {verdict})"
        )
    print(f"{len(pairs)} commands measured, {missed} over target")


if __name__ == "__main__":
    main()
