"""`chanpub send` carries a correction and a retraction to the WhatsApp subscribers the
release reached, and `chanpub resolve ... --resend` settles a follow-up whose answer was
lost, as for the release itself (the Cloud API stand-in behind chanpub's HTTP client)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from standins.whatsapp import Template, WhatsAppStandIn

from chanpub import actions, http, settling
from chanpub.approval import approve
from chanpub.config import load_config
from chanpub.testing import strict_transport, write_release

TOKEN = "EAAG-system-user-token"
PHONES = ["+6281234567890", "+6281311112222", "+6281355556666"]
NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."
REASON = "Dibatalkan karena cuaca buruk."
SLUG = "pemkot-buka-layanan-adminduk-keliling"


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> WhatsAppStandIn:
    """The Cloud API stand-in, answering every request chanpub makes."""
    standin = WhatsAppStandIn(
        TOKEN,
        [
            Template("siaran_resmi", header=None),
            Template("siaran_ralat", body="Ralat: *{{1}}*\n\n{{2}}\n\n{{3}}", header=None),
            Template("siaran_dicabut", body="Dicabut: *{{1}}*\n\nAlasan: {{2}}", header=None),
        ],
    )
    monkeypatch.setattr(http, "transport_factory", lambda: strict_transport(standin))
    http.close_shared_client()
    monkeypatch.setenv("WHATSAPP_TOKEN", TOKEN)
    return standin


def office(folder: Path, cloud: WhatsAppStandIn) -> Path:
    """channels.yaml (the website canonical, then WhatsApp) and an approved release."""
    whatsapp = {
        "type": "whatsapp",
        "phone_number_id": cloud.phone_number_id,
        "business_account_id": cloud.waba_id,
        "access_token": "${WHATSAPP_TOKEN}",
        "template": "siaran_resmi",
        "lists": PHONES,
        "correction_template": {"name": "siaran_ralat", "params": ["title", "note", "url"]},
        "retraction_template": {"name": "siaran_dicabut"},
    }
    website = {
        "type": "static-site",
        "canonical": True,
        "path": "public",
        "base_url": "https://kominfo.example.go.id/siaran/",
    }
    (folder / "channels.yaml").write_text(
        yaml.safe_dump({"language": "id", "channels": {"website": website, "wa": whatsapp}}),
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


def send(folder: Path, release: Path, cloud: WhatsAppStandIn) -> dict[str, Any]:
    """One `chanpub send` an hour after the last; the wa channel's outcome (--json form)."""
    cloud.clock.advance(3600)  # WhatsApp's pair rate: one message per number per 6 s
    result = actions.send([release], load_config(folder / "channels.yaml"))
    [outcome] = [c for c in result.to_json()["releases"][0]["channels"] if c["channel"] == "wa"]
    return outcome  # type: ignore[no-any-return]


def received(cloud: WhatsAppStandIn, template: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in cloud.messages:
        if message.template == template:
            counts[message.to] = counts.get(message.to, 0) + 1
    return counts


def test_corrected_then_withdrawn_through_send_each_subscriber_once(
    tmp_path: Path, cloud: WhatsAppStandIn
) -> None:
    release = office(tmp_path, cloud)
    cloud.fail_number(PHONES[2], 131026)  # never reached: gets no follow-up either
    send(tmp_path, release, cloud)
    edit(release, "12 kelurahan", "14 kelurahan", correction=NOTE)

    corrected = send(tmp_path, release, cloud)
    edit(release, "", "", retraction=REASON)
    withdrawn = send(tmp_path, release, cloud)
    again = send(tmp_path, release, cloud)

    assert (corrected["status"], corrected["action"]) == ("published", "sent")
    assert (withdrawn["status"], withdrawn["action"]) == ("published", "sent")
    assert again["status"] == "already-published"
    assert received(cloud, "siaran_ralat") == {PHONES[0]: 1, PHONES[1]: 1}
    assert received(cloud, "siaran_dicabut") == {PHONES[0]: 1, PHONES[1]: 1}
    [ralat, *_rest] = [m for m in cloud.messages if m.template == "siaran_ralat"]
    assert ralat.params[1:] == [NOTE, "https://kominfo.example.go.id/siaran/" + SLUG + ".html"]


def test_a_lost_answer_waits_for_resolve_resend(tmp_path: Path, cloud: WhatsAppStandIn) -> None:
    release = office(tmp_path, cloud)
    send(tmp_path, release, cloud)
    edit(release, "12 kelurahan", "14 kelurahan", correction=NOTE)
    cloud.lose_answer(PHONES[1])

    lost = send(tmp_path, release, cloud)
    later = send(tmp_path, release, cloud)  # cron: never re-sent by itself
    assert lost["status"] == later["status"] == "failed"
    assert f"chanpub resolve {SLUG} wa --resend" in later["error"]
    assert received(cloud, "siaran_ralat") == {PHONES[0]: 1, PHONES[1]: 1, PHONES[2]: 1}

    cloud.clock.advance(3600)
    settling.resend(load_config(tmp_path / "channels.yaml"), SLUG, "wa")  # the officer asked

    assert received(cloud, "siaran_ralat") == {PHONES[0]: 1, PHONES[1]: 2, PHONES[2]: 1}
    assert send(tmp_path, release, cloud)["status"] == "already-published"
