"""Start-up time of `chanpub --help` and `chanpub --version`, against the framework's floor
measured in the same run: a minimal typer app with the same command names and no other
imports, and `python -c pass`.

    python benchmarks/startup.py [--runs 40]

Every command runs as a fresh process with this interpreter; runs are interleaved so load
on the machine hits all of them alike; the median is reported. Target: chanpub / minimal
typer app < 1.25.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINIMAL = '''
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(name="chanpub", no_args_is_help=True, pretty_exceptions_show_locals=False,
                  add_completion=True, rich_markup_mode="rich")


def _version(value: bool) -> None:
    if value:
        typer.echo("chanpub 0.1.0")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version,
                                               is_eager=True)] = False,
         lang: Annotated[Optional[str], typer.Option("--lang")] = None) -> None:
    """chanpub."""


@app.command()
def send(paths: list[Path], config: Optional[Path] = None, dry_run: bool = False,
         json: bool = False, update: bool = False, log_file: Optional[Path] = None) -> None:
    """Publish."""


@app.command()
def check(file: Path, config: Optional[Path] = None) -> None:
    """Check."""


@app.command()
def approve(file: Path, by: str = typer.Option(...)) -> None:
    """Approve."""


@app.command()
def channels(config: Optional[Path] = None, verify: bool = False) -> None:
    """Channels."""


@app.command()
def history(slug: Optional[str] = None, config: Optional[Path] = None,
            json: bool = False) -> None:
    """History."""


@app.command()
def resolve(slug: str, channel: str, published: Optional[str] = None,
            not_published: bool = False, config: Optional[Path] = None) -> None:
    """Resolve."""


@app.command()
def init(directory: Path = Path(".")) -> None:
    """Init."""


app()
'''


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
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        minimal = Path(folder) / "minimal_typer_app.py"
        minimal.write_text(MINIMAL, encoding="utf-8")
        chanpub = [python, str(chanpub_script())]
        result = measure(
            {
                "python -c pass": [python, "-c", "pass"],
                "minimal typer --help": [python, str(minimal), "--help"],
                "chanpub --help": [*chanpub, "--help"],
                "minimal typer --version": [python, str(minimal), "--version"],
                "chanpub --version": [*chanpub, "--version"],
            },
            runs,
        )
    for name, seconds in result.items():
        print(f"{name:26} {seconds * 1000:7.1f} ms (median of {runs})")
    for flag in ("--help", "--version"):
        ratio = result[f"chanpub {flag}"] / result[f"minimal typer {flag}"]
        floor = result[f"chanpub {flag}"] / result["python -c pass"]
        verdict = "ok" if ratio < 1.25 else "MISSED"
        print(
            f"chanpub {flag}: {ratio:.2f}x the minimal typer app (target < 1.25: {verdict}); "
            f"{floor:.2f}x python -c pass"
        )


if __name__ == "__main__":
    main()
