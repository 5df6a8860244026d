"""The installed `chanpub` command, run the way an officer and cron run it."""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """A copy of the repository's default config and examples in a fresh folder."""
    shutil.copy(REPO / "channels.yaml", tmp_path / "channels.yaml")
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    return tmp_path


def chanpub(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = shutil.which("chanpub")
    assert command, "chanpub is not installed: pip install -e '.[test]'"
    environment = {**os.environ, "CHANPUB_STATE_DIR": str(folder / ".chanpub"), **(env or {})}
    return subprocess.run(
        [command, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_the_readme_command_publishes_the_example(office: Path) -> None:
    result = chanpub(office, "send", "examples/release.md")
    assert result.returncode == 0, result.stderr
    slug = "layanan-adminduk-keliling"
    assert (
        f"{slug}  website  published  https://kominfo.example.go.id/siaran/{slug}.html"
        in result.stdout
    )
    assert (office / "public" / f"{slug}.html").is_file()
    assert (office / "public" / "media" / f"{slug}-layanan-keliling.jpg").is_file()
    messages = sorted((office / "outbox" / slug).glob("*.eml"))
    assert [m.name for m in messages] == [
        "budi.santoso@tv-lokal.example.com.eml",
        "newsroom@radio-kota.example.com.eml",
        "redaksi@harian-contoh.example.com.eml",
    ]  # the duplicate and the broken one left out
    message = email.message_from_bytes(messages[0].read_bytes(), policy=email.policy.default)
    assert (
        message["Subject"] == "[Siaran Pers] Pemkot Buka Layanan Adminduk Keliling di 12 Kelurahan"
    )
    assert message["To"] == "Budi Santoso <budi.santoso@tv-lokal.example.com>"
    assert message.get_content_type() == "multipart/mixed"  # text + HTML, and the poster
    assert [p.get_content_type() for p in message.get_payload()] == [  # type: ignore[union-attr]
        "multipart/alternative",
        "application/pdf",
    ]
    assert next(message.iter_attachments()).get_filename() == f"{slug}-poster.pdf"
    assert (office / "posters" / f"{slug}-poster.pdf").read_bytes().startswith(b"%PDF")
    plain = message.get_body(("plain",))
    assert plain is not None and "Yth. Budi Santoso," in plain.get_content()
    assert f"https://kominfo.example.go.id/siaran/{slug}.html" in plain.get_content()


def test_a_second_run_publishes_nothing_new(office: Path) -> None:
    chanpub(office, "send", "examples/release.md")
    page = office / "public" / "layanan-adminduk-keliling.html"
    before = page.stat().st_mtime_ns
    again = chanpub(office, "send", "examples/release.md", "--json")
    assert again.returncode == 0
    statuses = {c["status"] for c in json.loads(again.stdout)["releases"][0]["channels"]}
    assert statuses == {"already-published"}
    assert page.stat().st_mtime_ns == before


def test_cron_run_on_the_folder_skips_drafts_and_scheduled(office: Path) -> None:
    result = chanpub(office, "send", "examples/", "--json")
    assert result.returncode == 0, result.stderr
    by_slug = {
        r["slug"]: {c["status"] for c in r["channels"]}
        for r in json.loads(result.stdout)["releases"]
    }
    assert by_slug["klarifikasi-biaya-ktp-el"] == {"published"}
    assert by_slug["layanan-adminduk-keliling"] == {"published"}
    assert by_slug["rencana-festival-budaya-kota-contoh-2026"] == {"skipped"}
    assert by_slug["pemadaman-listrik-terjadwal-di-kecamatan-utara"] == {"skipped"}
    assert "\x1b[" not in result.stdout  # no colours when not on a terminal


def test_an_edit_after_approval_is_refused(office: Path) -> None:
    release = office / "examples" / "release.md"
    release.write_text(
        release.read_text(encoding="utf-8").replace("12 kelurahan", "13 kelurahan"),
        encoding="utf-8",
    )
    result = chanpub(office, "send", "examples/release.md")
    assert result.returncode == 2
    assert "changed after it was approved by Kepala Dinas Kominfo Kota Contoh" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (office / "public").exists()


def test_cron_notices_a_draft_approved_in_place(office: Path, tmp_path: Path) -> None:
    # The installed command takes a folder's stats in a second process while it starts
    # up (chanpub.folder_stats); a draft approved in place, its size and mtime kept (an
    # editor saving twice within one timestamp tick), still goes out on the next run.
    from test_folder_scan_cache import rewrite_keeping_stat

    from chanpub.testing import write_release

    approved = write_release(tmp_path / "elsewhere", name="a.md").read_text(encoding="utf-8")
    draft = write_release(office / "rilis", name="a.md", approved=False)
    draft.write_text(draft.read_text(encoding="utf-8").ljust(len(approved)), encoding="utf-8")
    time.sleep(2.1)  # the file's timestamps settle: the runs remember it (chanpub.file_stats)

    def statuses() -> list[str]:
        result = chanpub(office, "send", "rilis/", "--json")
        assert result.returncode == 0, result.stderr
        return [c["status"] for r in json.loads(result.stdout)["releases"] for c in r["channels"]]

    assert set(statuses()) == {"skipped"}
    assert set(statuses()) == {"skipped"}  # answered from what the first run remembered
    rewrite_keeping_stat(draft, approved)
    assert "published" in statuses()
    assert (office / "public").is_dir()


def test_a_concurrent_run_exits_75(office: Path) -> None:
    from filelock import FileLock

    (office / ".chanpub").mkdir()
    with FileLock(office / ".chanpub" / "send.lock"):
        result = chanpub(office, "send", "examples/")
    assert result.returncode == 75
    assert "another chanpub send is running" in result.stderr


def test_an_outside_adapter_package_plugs_in(office: Path, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    source = shutil.copytree(REPO / "tests" / "adapter_pkg", tmp_path / "adapter_pkg")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    config = office / "channels.yaml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + """
  board:
    type: notice-board
    board: papan/pengumuman.txt
""",
        encoding="utf-8",
    )
    env = {"PYTHONPATH": str(site)}
    listing = chanpub(office, "channels", env=env)
    assert "notice-board" in listing.stdout and "chanpub-notice-board" in listing.stdout
    result = chanpub(office, "send", "examples/release.md", env=env)
    assert result.returncode == 0, result.stderr
    board = (office / "papan" / "pengumuman.txt").read_text(encoding="utf-8")
    assert board.startswith(
        "Pemkot Buka Layanan Adminduk Keliling di 12 Kelurahan — "
        "https://kominfo.example.go.id/siaran/layanan-adminduk-keliling.html"
    )


def test_init_then_approve_then_send(tmp_path: Path) -> None:
    assert chanpub(tmp_path, "init", "humas").returncode == 0
    office = tmp_path / "humas"
    draft = "releases/contoh-siaran-pers.md"
    assert chanpub(office, "send", "releases/").returncode == 0  # the draft is only skipped
    assert chanpub(office, "approve", draft, "--by", "Kepala Dinas").returncode == 0
    sent = chanpub(office, "send", "releases/")
    assert sent.returncode == 0, sent.stderr
    assert "website  published" in sent.stdout


def on_a_terminal(folder: Path, *args: str, rows: int = 24) -> tuple[int, str]:
    """`chanpub ARGS` with stdout and stderr on a pseudo-terminal of `rows` x 160, as an
    officer runs it by hand; what the screen got, and the exit code."""
    import fcntl
    import pty
    import struct
    import termios

    command = shutil.which("chanpub")
    assert command, "chanpub is not installed: pip install -e '.[test]'"
    main, screen = pty.openpty()
    fcntl.ioctl(screen, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 160, 0, 0))
    environment = {**os.environ, "CHANPUB_STATE_DIR": str(folder / ".chanpub"), "TERM": "xterm"}
    for variable in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE"):
        environment.pop(variable, None)
    process = subprocess.Popen(
        [command, *args], cwd=folder, env=environment, stdout=screen, stderr=screen
    )
    os.close(screen)
    received = bytearray()
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the command ended and closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(main)
    return process.wait(timeout=120), received.decode("utf-8", "replace")


def test_by_hand_over_a_big_folder_the_screen_shows_what_happened(office: Path) -> None:
    folder = office / "releases"
    folder.mkdir()
    shutil.copy(office / "examples" / "release.md", folder / "release.md")
    shutil.copy(office / "examples" / "layanan-keliling.jpg", folder / "layanan-keliling.jpg")
    draft = (office / "examples" / "draft.md").read_text(encoding="utf-8")
    for number in range(300):
        (folder / f"draf-{number:03}.md").write_text(
            draft.replace("title: ", f"slug: draf-{number:03}\ntitle: ", 1), encoding="utf-8"
        )
    code, screen = on_a_terminal(office, "send", "releases/")
    assert code == 0, screen
    slug = "layanan-adminduk-keliling"
    assert f"https://kominfo.example.go.id/siaran/{slug}.html" in screen
    assert "Not listed: 900 skipped." in screen  # 300 drafts on 3 channels
    assert "draf-299" not in screen.split("Release")[-1]  # not in the final table
    assert len(screen) < 60_000  # a few screens of redrawing, not a 900-row table
    lines = chanpub(office, "send", "releases/").stdout.splitlines()  # piped: every line
    assert sum("  skipped  " in line for line in lines) == 900
