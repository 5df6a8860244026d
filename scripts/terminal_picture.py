"""Pictures of chanpub in a terminal for docs/: runs commands in a real terminal (tmux),
captures the screen with its colours, and renders it to PNG (rich's SVG export, drawn by
Debian's chromium through Playwright).

    python scripts/terminal_picture.py docs/send-terminal.png "chanpub --lang id send examples/"

The commands run in a fresh copy of channels.yaml and examples/ in a temporary folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 132, 30
PROMPT = "humas@kominfo:~/siaran$ "


def capture(folder: Path, commands: list[str]) -> str:
    """The terminal's screen, with colours, after running the commands one by one."""
    session = f"chanpub-picture-{int(time.time())}"
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
            "bash",
            "--norc",
            "--noprofile",
        ],
        check=True,
        cwd=folder,
    )
    try:
        keys = f"export PS1='{PROMPT}' CHANPUB_STATE_DIR='{folder}/.chanpub' COLUMNS={WIDTH}; clear"
        subprocess.run(["tmux", "send-keys", "-t", session, keys, "Enter"], check=True)
        time.sleep(0.5)
        for command in commands:
            subprocess.run(["tmux", "send-keys", "-t", session, command, "Enter"], check=True)
            time.sleep(12)
        result = subprocess.run(
            ["tmux", "capture-pane", "-t", session, "-e", "-p"],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.rstrip() + "\n"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def render(ansi: str, title: str, target: Path) -> None:
    """Draw the captured screen as a PNG picture."""
    import io

    from playwright.sync_api import sync_playwright
    from rich.console import Console
    from rich.text import Text

    console = Console(record=True, width=WIDTH, force_terminal=True, file=io.StringIO())
    console.print(Text.from_ansi(ansi))
    with tempfile.TemporaryDirectory() as folder:
        svg = Path(folder) / "screen.svg"
        svg.write_text(console.export_svg(title=title), encoding="utf-8")
        html = Path(folder) / "screen.html"
        html.write_text('<body style="margin:0"><img src="screen.svg"></body>', encoding="utf-8")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
            )
            page = browser.new_page(viewport={"width": 1800, "height": 1200})
            page.goto(html.as_uri())
            page.locator("img").screenshot(path=str(target))
            browser.close()


def main(arguments: list[str]) -> int:
    """Make one picture: target PNG, then the commands to run."""
    if len(arguments) < 2:
        print(__doc__)
        return 2
    target, commands = Path(arguments[0]).resolve(), arguments[1:]
    folder = Path(tempfile.gettempdir()) / "humas" / "siaran"  # a short path to show
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        shutil.copy(ROOT / "channels.yaml", folder / "channels.yaml")
        shutil.copytree(ROOT / "examples", folder / "examples")
        screen = capture(folder, commands)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    render(screen, commands[-1], target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
