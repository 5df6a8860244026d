"""Recipients whose outcome is unknown (the server's reply to the end of DATA was lost) are
never silently lost: `send` and `history` list them, every run exits 1 while any remain,
and `chanpub resolve SLUG CHANNEL` settles them: --resend, --not-published, --published."""

from __future__ import annotations

from pathlib import Path

import pytest
from smtp_servers import SmtpServer
from typer.testing import CliRunner, Result

from chanpub import cli
from chanpub.cli import app
from chanpub.ledger import Ledger
from chanpub.release import load_release
from chanpub.testing import write_release

ADDRESSES = ["budi@harian.example", "siti@radio.example", "rina@tv.example"]
LOST = ADDRESSES[1]


def run(folder: Path, *args: str, input: str | None = None) -> Result:
    """`chanpub ARGS` with the office's config, in English."""
    return CliRunner().invoke(
        app, ["--lang", "en", *args, "--config", str(folder / "channels.yaml")], input=input
    )


@pytest.fixture
def office(tmp_path: Path, relay: SmtpServer) -> tuple[Path, str]:
    """A website and a press list of three; the reply for siti's message gets lost once."""
    (tmp_path / "media.csv").write_text("email\n" + "\n".join(ADDRESSES) + "\n", "utf-8")
    (tmp_path / "channels.yaml").write_text(
        f"""\
organisation: Dinas Kominfo Kota Contoh
channels:
  website: {{type: static-site, canonical: true, path: public,
             base_url: "https://kominfo.example.go.id/siaran/"}}
  press: {{type: email, transport: smtp, host: 127.0.0.1, port: {relay.port}, security: none,
           from: "Diskominfo <humas@example.go.id>", lists: [media.csv]}}
""",
        encoding="utf-8",
    )
    release = write_release(tmp_path / "rilis")
    relay.handler.drop_after_data.add(LOST)
    first = run(tmp_path, "send", str(release))
    assert first.exit_code == 1, first.output
    relay.handler.drop_after_data.clear()
    return tmp_path, load_release(release).slug


def received(relay: SmtpServer) -> list[int]:
    """How many messages each address got."""
    return [len(relay.handler.to(a)) for a in ADDRESSES]


def test_send_and_history_list_them_and_every_run_exits_1(
    office: tuple[Path, str], relay: SmtpServer
) -> None:
    folder, slug = office
    again = run(folder, "send", str(folder / "rilis" / "release.md"))
    history = run(folder, "history", slug)

    assert again.exit_code == 1
    assert "press: 1 recipient(s) may or may not have received the message" in again.stdout
    assert f"chanpub resolve {slug} press --resend" in again.stdout
    assert history.exit_code == 0
    assert f"press: {LOST}: " in history.stdout and "may have been delivered" in history.stdout
    assert received(relay) == [1, 1, 1], "never resent by itself"


def test_resend_asks_first_then_sends_to_exactly_them(
    office: tuple[Path, str], relay: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, slug = office
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    declined = run(folder, "resolve", slug, "press", "--resend", input="n\n")
    assert declined.exit_code == 1 and received(relay) == [1, 1, 1]
    assert "1 recipient(s)" in declined.stdout and "twice" in declined.stdout

    confirmed = run(folder, "resolve", slug, "press", "--resend", input="y\n")

    assert confirmed.exit_code == 0, confirmed.output
    assert received(relay) == [1, 2, 1]
    after = run(folder, "send", str(folder / "rilis" / "release.md"))
    assert after.exit_code == 0, after.output
    assert received(relay) == [1, 2, 1]


def test_resend_without_a_terminal_needs_yes(office: tuple[Path, str], relay: SmtpServer) -> None:
    folder, slug = office
    refused = run(folder, "resolve", slug, "press", "--resend")
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr and received(relay) == [1, 1, 1]

    sent = run(folder, "resolve", slug, "press", "--resend", "--yes")

    assert sent.exit_code == 0, sent.output
    assert received(relay) == [1, 2, 1]
    nothing_left = run(folder, "resolve", slug, "press", "--resend", "--yes")
    assert nothing_left.exit_code == 2 and "nothing to resolve" in nothing_left.stderr


def test_not_published_leaves_them_to_the_next_send(
    office: tuple[Path, str], relay: SmtpServer
) -> None:
    folder, slug = office
    marked = run(folder, "resolve", slug, "press", "--not-published")
    assert marked.exit_code == 0, marked.output
    assert received(relay) == [1, 1, 1]

    sent = run(folder, "send", str(folder / "rilis" / "release.md"))

    assert sent.exit_code == 0, sent.output
    assert received(relay) == [1, 2, 1]


def test_published_settles_them_as_delivered(office: tuple[Path, str], relay: SmtpServer) -> None:
    folder, slug = office
    settled = run(folder, "resolve", slug, "press", "--published", "-")
    assert settled.exit_code == 0, settled.output

    sent = run(folder, "send", str(folder / "rilis" / "release.md"))

    assert sent.exit_code == 0, sent.output
    assert received(relay) == [1, 1, 1]
    assert LOST not in run(folder, "history", slug).stdout


def test_settling_the_unknown_never_settles_the_rest_of_the_list(
    office: tuple[Path, str], relay: SmtpServer
) -> None:
    folder, slug = office
    ledger = Ledger(folder / ".chanpub" / "ledger.sqlite3")
    [row] = [d for d in ledger.history(slug) if d.channel == "press"]
    ledger.begin(  # as a run killed halfway through the list leaves it
        slug=slug,
        content_hash=row.content_hash,
        channel="press",
        channel_type="email",
        title=row.title,
        key=row.key,
    )
    ledger.close()
    with (folder / "media.csv").open("a", encoding="utf-8") as media:
        media.write("ani@warga.example\n")  # not reached yet when the run stopped

    assert run(folder, "resolve", slug, "press", "--published", "-").exit_code == 0
    sent = run(folder, "send", str(folder / "rilis" / "release.md"))

    assert sent.exit_code == 0, sent.output
    assert len(relay.handler.to("ani@warga.example")) == 1
    assert received(relay) == [1, 1, 1]
