"""Corrections and retractions by e-mail: a short "[Ralat]" / "[Pencabutan]" notice to
exactly the recipients who got the release, threaded under the message each one got,
once per recipient per notice, through the outbox and over SMTP."""

from __future__ import annotations

import email
import email.policy
import json
import re
from email.message import EmailMessage
from pathlib import Path

import yaml
from smtp_servers import SmtpServer

from chanpub import actions
from chanpub.approval import approve
from chanpub.config import load_config
from chanpub.testing import write_release

NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."
REASON = "Dibatalkan karena cuaca buruk."
SLUG = "pemkot-buka-layanan-adminduk-keliling"


def office(folder: Path, press: dict[str, object]) -> Path:
    """channels.yaml with the press list as `press`, and an approved release."""
    (folder / "media.csv").write_text(
        "email,nama\nBudi@Harian.example,Budi Santoso\nsiti@radio.example,Siti\n",
        encoding="utf-8",
    )
    config = folder / "channels.yaml"
    entry = {"type": "email", "from": "Diskominfo <humas@example.go.id>", "lists": ["media.csv"]}
    config.write_text(
        yaml.safe_dump(
            {
                "organisation": "Diskominfo Kota Contoh",
                "language": "id",
                "channels": {"press": {**entry, **press}},
            }
        ),
        encoding="utf-8",
    )
    return write_release(folder / "releases")


def edit(path: Path, old: str, new: str, **fields: str) -> None:
    """The officer edits the published release, adds a note, and the head approves it."""
    text = path.read_text(encoding="utf-8").replace(old, new)
    for key, value in fields.items():
        line = f"{key}: {json.dumps(value)}\n"
        written = re.search(rf"^{key}: .*\n", text, flags=re.MULTILINE)
        text = (
            text.replace(written.group(), line)
            if written
            else text.replace("---\n", "---\n" + line, 1)
        )
    path.write_text(text, encoding="utf-8")
    approve(path, "Kepala Dinas Kominfo")


def send(folder: Path, release: Path) -> dict[str, object]:
    """`chanpub send` of the release; the press channel's outcome in --json form."""
    result = actions.send([release], load_config(folder / "channels.yaml"))
    return result.to_json()["releases"][0]["channels"][0]  # type: ignore[no-any-return]


def parsed(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_correction_goes_to_each_recipient_threaded_under_their_message(tmp_path: Path) -> None:
    release = office(tmp_path, {"transport": "outbox", "path": "outbox"})
    send(tmp_path, release)
    (tmp_path / "media.csv").write_text(  # a journalist added after the release went out
        "email,nama\nBudi@Harian.example,Budi Santoso\nsiti@radio.example,Siti\nbaru@tv.example,Baru\n",
        encoding="utf-8",
    )
    edit(release, "12 kelurahan", "14 kelurahan", correction=NOTE)

    outcome = send(tmp_path, release)

    assert (outcome["status"], outcome["action"]) == ("published", "sent")
    folder = tmp_path / "outbox" / SLUG
    [notices] = [path for path in folder.iterdir() if path.is_dir()]
    assert notices.name.startswith("correction-")
    assert sorted(p.name for p in notices.iterdir()) == [
        "budi@harian.example.eml",
        "siti@radio.example.eml",
    ]
    original = parsed(folder / "budi@harian.example.eml")
    notice = parsed(notices / "budi@harian.example.eml")
    assert notice["Subject"] == f"[Ralat] {original['Subject']}"
    assert notice["In-Reply-To"] == notice["References"] == original["Message-ID"]
    assert notice["Message-ID"] != original["Message-ID"]
    assert notice["To"] == "Budi Santoso <Budi@harian.example>"
    text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Yth. Budi Santoso," in text
    assert f"Yang diralat: {NOTE}" in text
    assert "Teks yang telah diralat:" in text and "14 kelurahan" in text
    assert "12 kelurahan" in (folder / "budi@harian.example.eml").read_text()  # left as sent


def test_corrected_twice_then_withdrawn_each_notice_threads_under_the_original(
    tmp_path: Path,
) -> None:
    release = office(tmp_path, {"transport": "outbox", "path": "outbox"})
    send(tmp_path, release)
    original = parsed(tmp_path / "outbox" / SLUG / "siti@radio.example.eml")["Message-ID"]
    edit(release, "12 kelurahan", "14 kelurahan", correction=NOTE)
    send(tmp_path, release)
    edit(release, "14 kelurahan", "15 kelurahan", correction="Jumlah kelurahan menjadi 15.")
    send(tmp_path, release)
    edit(release, "15 kelurahan", "15 kelurahan", retraction=REASON)

    outcome = send(tmp_path, release)
    again = send(tmp_path, release)

    assert (outcome["status"], outcome["action"]) == ("published", "sent")
    assert again["status"] == "already-published"
    notices = sorted(p for p in (tmp_path / "outbox" / SLUG).iterdir() if p.is_dir())
    assert [p.name.split("-")[0] for p in notices].count("correction") == 2
    withdrawn = next(p for p in notices if p.name.startswith("retraction-"))
    message = parsed(withdrawn / "siti@radio.example.eml")
    assert str(message["Subject"]).startswith("[Pencabutan] ")
    assert {parsed(p / "siti@radio.example.eml")["In-Reply-To"] for p in notices} == {original}
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"Alasan: {REASON}" in text
    assert "kelurahan" not in text  # the withdrawn text is not sent again


def test_an_english_release_gets_an_english_notice(tmp_path: Path) -> None:
    release = office(tmp_path, {"transport": "outbox", "path": "outbox"})
    edit(release, "", "", language="en")
    send(tmp_path, release)
    edit(release, "", "", retraction="Cancelled because of the storm.")

    send(tmp_path, release)

    [notices] = [p for p in (tmp_path / "outbox" / SLUG).iterdir() if p.is_dir()]
    message = parsed(notices / "siti@radio.example.eml")
    assert str(message["Subject"]).startswith("[Withdrawn] ")
    assert "Reason: Cancelled because of the storm." in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_over_smtp_the_notice_reaches_those_who_got_the_release_once(
    tmp_path: Path, relay: SmtpServer
) -> None:
    relay.handler.refuse = {"siti@radio.example"}  # never got the release: gets no notice
    smtp = {"transport": "smtp", "host": relay.host, "port": relay.port, "security": "none"}
    release = office(tmp_path, smtp)
    send(tmp_path, release)
    [first] = relay.handler.received
    edit(release, "12 kelurahan", "14 kelurahan", correction=NOTE)

    outcome = send(tmp_path, release)
    again = send(tmp_path, release)

    assert (outcome["status"], outcome.get("action")) == ("published", "sent"), outcome
    assert again["status"] == "already-published"
    assert [r.rcpt_tos for r in relay.handler.received] == [("Budi@harian.example",)] * 2
    notice = relay.handler.received[1].message
    assert str(notice["Subject"]).startswith("[Ralat] ")
    assert notice["In-Reply-To"] == first.message["Message-ID"]
