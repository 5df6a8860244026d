"""Guards for what the benchmarks measured and fixed: what `chanpub --version` imports
(benchmarks/startup.py) and how often a config reads the installed adapters
(benchmarks/fanout.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import chanpub

PROBE = """
import sys
sys.argv = ["chanpub", "--version"]
from chanpub.cli import app
try:
    app()
except SystemExit:
    pass
heavy = ["typer.rich_utils", "httpx", "pydantic", "markdown_it", "jinja2", "yaml", "json"]
print(" ".join(name for name in heavy if name in sys.modules) or "none")
"""


def test_version_in_english_imports_no_help_renderer_and_no_heavy_library() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHANPUB_", "LC_"))}
    env["LANG"] = "C.UTF-8"
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines() == [f"chanpub {chanpub.__version__}", "none"]


def test_a_config_reads_the_installed_adapters_once_however_many_channels(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib import metadata

    from chanpub.config import load_config

    calls: list[str] = []
    real = metadata.entry_points

    def counting(**kwargs: str) -> metadata.EntryPoints:
        calls.append(kwargs.get("group", ""))
        return real(**kwargs)

    monkeypatch.setattr(metadata, "entry_points", counting)
    monkeypatch.setenv("HOOK_SECRET", "rahasia-webhook")
    config = tmp_path / "channels.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "channels": {
                    f"portal{n}": {
                        "type": "webhook",
                        "url": f"https://portal{n}.example/hook",
                        "secret": "${HOOK_SECRET}",
                    }
                    for n in range(10)
                }
            }
        ),
        encoding="utf-8",
    )
    loaded = load_config(config)
    assert all(channel.ready for channel in loaded.channels.values())
    assert calls == ["chanpub.channels"]


def test_a_release_renders_its_summary_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chanpub import markdown
    from chanpub.intake import load_releases
    from chanpub.testing import write_release

    calls: list[str] = []
    real = markdown.first_paragraph

    def counting(text: str) -> str:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(markdown, "first_paragraph", counting)
    for number in range(5):
        write_release(tmp_path, name=f"{number}.md", title=f"Siaran {number}")
    releases = load_releases([tmp_path])
    assert len(releases) == 5 and calls == []  # a folder scan renders no Markdown
    first = releases[0][0]
    assert first.summary.startswith("Dinas Kependudukan membuka layanan keliling")
    assert first.summary == first.summary and len(calls) == 1  # rendered once, then kept


def test_help_leaves_the_postgres_driver_and_the_task_queue_unimported() -> None:
    probe = (
        "import sys\nsys.argv = ['chanpub', '--help']\nfrom chanpub.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "print('loaded:', [m for m in ('psycopg', 'procrastinate') if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.splitlines()[-1] == "loaded: []"
    assert " db " in result.stdout  # the db commands are there, their libraries are not


def test_a_cron_run_with_nothing_to_warn_about_leaves_the_terminal_renderer_unimported(
    tmp_path: Path,
) -> None:
    from chanpub.testing import write_release

    write_release(tmp_path / "releases", name="draft.md", approved=False)
    website = {"type": "static-site", "canonical": True, "path": "public"}
    website["base_url"] = "https://kominfo.example.go.id/siaran/"
    config = {"channels": {"website": website}}
    (tmp_path / "channels.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    probe = (
        "import sys\nsys.argv = ['chanpub', 'send', 'releases', '--config', 'channels.yaml']\n"
        "from chanpub.cli import app\ntry:\n    app()\nexcept SystemExit:\n    pass\n"
        "print('loaded:', [m for m in sys.modules if m.startswith('rich')])\n"
    )
    env = {**os.environ, "CHANPUB_STATE_DIR": str(tmp_path / "state")}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
        env=env,
    )
    assert "draft-" in result.stdout or "skipped" in result.stdout, result.stdout
    assert result.stdout.splitlines()[-1] == "loaded: []", result.stderr


EXIT_PROBE = """
import atexit, gc, sys
# Registered first, so it runs last: after chanpub's own exit handler.
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))
sys.argv = ["chanpub", "--version"]
from chanpub.cli import main
main()
"""


def test_the_console_script_freezes_what_it_built_before_the_interpreter_ends() -> None:
    # The interpreter's final collections walk every object still alive (four full passes:
    # about 80 ms of a 300 ms cron run, benchmarks/folder_scan.py); frozen, they are skipped.
    result = subprocess.run(
        [sys.executable, "-c", EXIT_PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.splitlines() == [f"chanpub {chanpub.__version__}", "frozen at exit: True"]
    scripts = dict(
        tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"][
            "scripts"
        ]
    )
    assert scripts == {"chanpub": "chanpub.cli:main"}
