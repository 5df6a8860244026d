"""The command line: one test per exit code, stdout and stderr apart, the JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from offices import WEBSITE, office_yaml, press
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.errors import ExitCode
from chanpub.lock import send_lock
from chanpub.testing import write_release

CONFIG = office_yaml(WEBSITE, press("Redaksi <redaksi@media.example.com>", "tv@media.example.com"))


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A communications office's folder: config plus one approved release."""
    (tmp_path / "channels.yaml").write_text(CONFIG, encoding="utf-8")
    write_release(tmp_path / "releases")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    result = CliRunner().invoke(app, list(args))
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def test_exit_0_when_everything_due_was_published(office: Path) -> None:
    result = run("send", "releases/")
    assert result.returncode == ExitCode.OK
    assert result.stdout.splitlines() == [
        "pemkot-buka-layanan-adminduk-keliling  website  published  "
        "https://kominfo.example.go.id/siaran/pemkot-buka-layanan-adminduk-keliling.html",
        "pemkot-buka-layanan-adminduk-keliling  press  published  sent 2",
    ]
    assert result.stderr == ""
    assert (office / "public" / "pemkot-buka-layanan-adminduk-keliling.html").is_file()


def test_exit_1_when_a_channel_failed(office: Path) -> None:
    (office / "public").write_text("a file where the website folder should be")
    result = run("send", "releases/")
    assert result.returncode == ExitCode.CHANNEL_FAILED
    lines = result.stdout.splitlines()
    assert "website  failed  website: cannot write to" in lines[0]
    assert "press  failed  waiting for the canonical channel 'website'" in lines[1]
    assert not (office / "outbox").exists()  # no mail points at a page that is not there


def test_exit_2_for_bad_input_and_nothing_is_sent(office: Path) -> None:
    release = office / "releases" / "release.md"
    release.write_text(release.read_text().replace("Senin", "Selasa"))
    result = run("send", "releases/")
    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stdout == ""
    assert "chanpub: error:" in result.stderr
    assert "changed after it was approved by Kepala Dinas" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (office / "public").exists() and not (office / "outbox").exists()


def test_exit_75_when_another_send_holds_the_lock(office: Path) -> None:
    with send_lock(office / ".chanpub"):
        result = run("send", "releases/")
    assert result.returncode == ExitCode.LOCK_HELD
    assert "another chanpub send is running" in result.stderr
    assert not (office / "public").exists()


def test_json_document_keys_are_the_contract(office: Path) -> None:
    result = run("send", "releases/", "--json")
    document = json.loads(result.stdout)
    assert list(document) == ["releases"]
    release = document["releases"][0]
    assert list(release) == ["slug", "title", "channels"]
    for channel in release["channels"]:
        assert list(channel) == ["channel", "type", "status", "url", "error"]
        assert channel["status"] in {"published", "already-published", "skipped", "failed"}
    again = json.loads(run("send", "releases/", "--json").stdout)
    assert {c["status"] for c in again["releases"][0]["channels"]} == {"already-published"}


def test_dry_run_shows_and_sends_nothing(office: Path) -> None:
    result = run("send", "releases/", "--dry-run", "--json")
    assert result.returncode == 0
    assert {c["error"] for c in json.loads(result.stdout)["releases"][0]["channels"]} == {
        "dry run: nothing sent"
    }
    assert (
        not (office / "public").exists() and not (office / ".chanpub" / "ledger.sqlite3").exists()
    )


def test_log_file_gets_one_json_line_per_outcome(office: Path) -> None:
    run("send", "releases/", "--log-file", "logs/chanpub.jsonl")
    lines = (office / "logs" / "chanpub.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["channel"] for e in entries] == ["website", "press"]
    assert set(entries[0]) == {"time", "release", "channel", "status", "url", "error"}


def test_approve_then_send(office: Path) -> None:
    draft = write_release(office / "drafts", title="Rilis Baru", approved=False)
    assert run("send", str(draft)).returncode == ExitCode.BAD_INPUT
    approved = run("approve", str(draft), "--by", "Kepala Dinas")
    assert approved.returncode == 0 and "approved by Kepala Dinas" in approved.stdout
    assert run("send", str(draft)).returncode == 0


def test_check_shows_each_channel_and_its_length(office: Path) -> None:
    result = run("check", "releases/release.md")
    assert result.returncode == 0
    assert "website (static-site)" in result.stdout
    assert "press (email)" in result.stdout and "2 recipient(s)" in result.stdout


def test_channels_lists_types_and_readiness(office: Path) -> None:
    (office / "channels.yaml").write_text(
        CONFIG
        + """  toots:
    type: mastodon
    instance: https://mastodon.example
    token: ${MASTODON_TOKEN}
"""
    )
    result = run("channels")
    assert result.returncode == 0
    assert "static-site" in result.stdout and "built-in" in result.stdout
    assert "missing secret MASTODON_TOKEN" in result.stdout


def test_history_shows_what_went_where(office: Path) -> None:
    run("send", "releases/")
    result = run("history", "--json")
    rows = json.loads(result.stdout)["deliveries"]
    assert {(r["channel"], r["status"]) for r in rows} == {
        ("website", "published"),
        ("press", "published"),
    }
    assert run("history").returncode == 0


def test_history_of_a_slug_with_nothing_recorded_says_so_by_name(office: Path) -> None:
    run("send", "releases/")
    result = run("history", "pemkot-buka-layanan")  # a slug cut short, as officers type it
    assert result.returncode == 0
    assert "Nothing recorded for pemkot-buka-layanan" in result.stdout
    assert "'chanpub history' lists every release" in result.stdout


def test_bad_config_lists_every_problem(office: Path) -> None:
    (office / "channels.yaml").write_text(
        "channels:\n  web:\n    type: nope\n  x:\n    type: email\n"
    )
    result = run("send", "releases/")
    assert result.returncode == ExitCode.BAD_INPUT
    errors = [line for line in result.stderr.splitlines() if line.startswith("chanpub: error:")]
    assert len(errors) >= 2


def test_init_writes_a_starter_and_refuses_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("init", "humas").returncode == 0
    assert (tmp_path / "humas" / "channels.yaml").is_file()
    assert (tmp_path / "humas" / "releases" / "contoh-siaran-pers.md").is_file()
    again = run("init", "humas")
    assert again.returncode == ExitCode.BAD_INPUT and "never overwrites" in again.stderr


def test_help_imports_no_heavy_machinery() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['chanpub', '--help']\n"
        "from chanpub.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        # markdown_it is absent from this list: typer's own help renderer (rich.markdown)
        # imports it, as it does for any typer app; chanpub's renderer must not load.
        "heavy = {'httpx', 'pydantic', 'jinja2', 'chanpub.markdown', 'fpdf', 'PIL',"
        " 'yaml', 'segno', 'babel', 'pypdfium2', 'sqlite3', 'nh3', 'chanpub.channels.poster_pdf',"
        " 'chanpub.dispatch', 'chanpub.config'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert "send" in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("chanpub ")


def test_history_shows_letter_numbers_and_counts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chanpub.ledger import Delivery
    from chanpub.output import print_history

    row = Delivery(
        slug="banjir",
        content_hash="h",
        channel="surat",
        channel_type="letter-pdf",
        title="T",
        key="k",
        status="published",
        remote_id="1",
        url=None,
        error=None,
        details={
            "numbers": {"camat@example.go.id": "007/DISKOMINFO/IX/2026"},
            "sent": 3,
            "invalid": 1,
        },
        attempts=1,
        started_at="2026-09-03T01:00:00+00:00",
        finished_at="2026-09-03T01:00:05+00:00",
    )
    monkeypatch.setenv("COLUMNS", "250")  # one table row per line
    print_history([row])
    shown = capsys.readouterr().out
    assert "007/DISKOMINFO/IX/2026 (camat@example.go.id)" in shown
    assert "sent 3, invalid 1" in shown


def test_a_folder_run_warns_about_unknown_fields_and_skips_non_releases(office: Path) -> None:
    (office / "releases" / "README.md").write_text("# Cara menulis siaran pers\n")
    write_release(office / "releases", title="Rilis Kedua", name="kedua.md", penulis="Budi")
    result = run("send", "releases/")
    assert result.returncode == ExitCode.OK
    assert "README.md: no front matter, so not a release: left alone" in result.stderr
    assert "kedua.md:3: penulis: unknown field, ignored" in result.stderr  # after title
    assert result.stdout.count("published") == 4  # two releases, two channels each
