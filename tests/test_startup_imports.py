"""What `chanpub --version` imports: the lean start-up benchmarks/startup.py measures."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
sys.argv = ["chanpub", "--version"]
from chanpub.cli import app
try:
    app()
except SystemExit:
    pass
heavy = ["typer.rich_utils", "httpx", "pydantic", "markdown_it", "jinja2", "yaml"]
print(" ".join(name for name in heavy if name in sys.modules) or "none")
"""


def test_version_in_english_imports_no_help_renderer_and_no_heavy_library() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHANPUB_", "LC_"))}
    env["LANG"] = "C.UTF-8"
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            env=env, timeout=60, check=True)
    assert result.stdout.splitlines() == ["chanpub 0.1.0", "none"]
