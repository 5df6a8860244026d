"""whatsapp against the strict Cloud API stand-in (tests/standins/whatsapp.py): one template
message per subscriber, each exactly once, the template checked before the first one, and
the documented error codes handled per subscriber or for the whole channel."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from standins.base import make_image
from standins.whatsapp import Template, WhatsAppStandIn

from chanpub.channels.whatsapp.channel import WhatsappChannel, WhatsappOptions
from chanpub.contract import Links, PreviewKind, Receipt
from chanpub.errors import AuthError, PartialFailure, PermanentError
from chanpub.journal import MemoryJournal
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    check_receipt,
    make_context,
    sample_links,
    sample_release,
)

TOKEN = f"EAAGwa-{SECRET_MARKER}"
PHONE_ID, WABA_ID, VERSION = "106540352242922", "102290129340398", "v26.0"
PHOTO = make_image(64, 48, "PNG")
CARD = make_image(108, 108, "PNG")  # the poster's share card (1080x1080, scaled down)
NUMBERS = ["0812-3456-7890", "+62 813 1111 2222", "6281355556666"]
E164 = ["+6281234567890", "+6281311112222", "+6281355556666"]


def options(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "phone_number_id": PHONE_ID,
        "business_account_id": WABA_ID,
        "access_token": TOKEN,
        "graph_base": "https://graph.facebook.com",
        "api_version": VERSION,
        "template": "siaran_resmi",
        "template_language": "id",
        "header": "image",
        "lists": NUMBERS,
    }
    values.update(changes)
    return values


def cloud(*templates: Template) -> WhatsAppStandIn:
    """The Cloud API with the office's approved template (or the given ones)."""
    approved = Template("siaran_resmi", body="*{{1}}*\n\nSelengkapnya: {{2}}")
    return WhatsAppStandIn(TOKEN, list(templates) or [approved])


def channel(
    tmp_path: Path, standin: WhatsAppStandIn, journal: MemoryJournal | None = None, **changes: Any
) -> WhatsappChannel:
    kept = journal or MemoryJournal()
    context = make_context(
        tmp_path,
        standin,
        journal_factory=lambda key: kept,
        secrets={"access_token": "WHATSAPP_TOKEN"},
    )
    return WhatsappChannel("wa", WhatsappOptions.model_validate(options(**changes)), context)


def sent(standin: WhatsAppStandIn) -> list[str]:
    """The numbers messages went to, in order, as the requests wrote them."""
    return [message.to for message in standin.messages]


def release(tmp_path: Path) -> Any:
    image = tmp_path / "rilis" / "foto.png"
    image.parent.mkdir(exist_ok=True)
    image.write_bytes(PHOTO)
    return sample_release(tmp_path / "rilis", image="foto.png", image_alt="Foto layanan")


def publish(adapter: WhatsappChannel, tmp_path: Path, links: Links | None = None) -> Receipt:
    preview = adapter.preview(release(tmp_path), links or sample_links())
    return adapter.publish(preview, "key-1")


def test_contract(tmp_path: Path) -> None:
    preview = check_contract(
        WhatsappChannel, options(), release(tmp_path), make_context(tmp_path), secrets=(TOKEN,)
    )
    assert preview.recipients == 3
    assert preview.kind == PreviewKind.MESSAGE


def test_one_template_message_per_subscriber_with_the_image_uploaded_once(
    tmp_path: Path,
) -> None:
    standin = cloud()
    receipt = check_receipt(publish(channel(tmp_path, standin), tmp_path))
    assert sent(standin) == E164
    assert {tuple(m.params) for m in standin.messages} == {
        (
            "Pemkot Buka Layanan Adminduk Keliling",
            "https://kominfo.example.go.id/siaran/contoh.html",
        )
    }
    assert len(standin.media) == 1 and {m.header_media for m in standin.messages} == set(
        standin.media
    )
    [upload] = standin.calls("POST", "/media")
    assert PHOTO in upload.content
    assert receipt.counts["sent"] == 3 and receipt.counts["invalid"] == 0
    assert {m.callback for m in standin.messages} == {"key-1"}
    assert receipt.details["message"] == (
        "*Pemkot Buka Layanan Adminduk Keliling*\n\n"
        "Selengkapnya: https://kominfo.example.go.id/siaran/contoh.html"
    )


def test_a_second_run_sends_to_nobody_twice(tmp_path: Path) -> None:
    standin = cloud()
    journal = MemoryJournal()
    publish(channel(tmp_path, standin, journal), tmp_path)
    publish(channel(tmp_path, standin, journal), tmp_path)
    assert len(standin.messages) == 3
    assert len(standin.media) == 1  # nobody left: no upload either


def test_a_subscriber_in_progress_at_the_next_run_is_unknown_and_not_sent_again(
    tmp_path: Path,
) -> None:
    standin = cloud()
    journal = MemoryJournal()
    journal.begin(E164[1])  # a run was killed after the mark: its answer was lost
    with pytest.raises(PartialFailure) as raised:
        publish(channel(tmp_path, standin, journal), tmp_path)
    assert sent(standin) == [E164[0], E164[2]]
    assert journal.status(E164[1]) == "unknown"  # a person settles it: chanpub resolve
    assert "may have received" in journal._items[E164[1]][1]
    assert "chanpub resolve" in raised.value.message and "--resend" in raised.value.message
    assert raised.value.receipt.counts["unknown"] == 1  # type: ignore[attr-defined]


def test_a_journal_with_an_unknown_state_records_lost_answers_there(tmp_path: Path) -> None:
    class Journal(MemoryJournal):
        def unknown(self, item: str, reason: str) -> None:
            self._items[item] = ("unknown", reason)  # type: ignore[assignment]

    journal = Journal()
    journal.begin(E164[0])
    with pytest.raises(PartialFailure) as raised:
        publish(channel(tmp_path, cloud(), journal), tmp_path)
    assert journal.status(E164[0]) == "unknown"
    assert raised.value.receipt.counts["unknown"] == 1  # type: ignore[attr-defined]


def test_resend_and_deferred_subscribers_are_sent_to(tmp_path: Path) -> None:
    journal = MemoryJournal()
    journal.sent(E164[0], "wamid.old")
    journal._items[E164[1]] = ("resend", "")  # type: ignore[assignment]  # resolve --resend
    journal.failed(E164[2], "throttled", permanent=False)
    standin = cloud()
    publish(channel(tmp_path, standin, journal), tmp_path)
    assert sent(standin) == [E164[1], E164[2]]


def test_undeliverable_and_opted_out_numbers_fail_for_themselves_only(tmp_path: Path) -> None:
    standin = cloud()
    standin.fail_number(E164[0], 131026)  # undeliverable
    standin.fail_number(E164[1], 131050)  # stopped marketing messages
    journal = MemoryJournal()
    with pytest.raises(PartialFailure, match="2 of 3 subscribers were not reached"):
        publish(channel(tmp_path, standin, journal), tmp_path)
    assert sent(standin) == [E164[2]]
    assert journal.status(E164[0]) == "failed" and "131026" in journal._items[E164[0]][1]
    assert journal.status(E164[1]) == "failed" and "131050" in journal._items[E164[1]][1]
    publish(channel(tmp_path, standin, journal), tmp_path)  # reported once, then history
    assert len(standin.messages) == 1


def test_throughput_limit_slows_down_and_retries(tmp_path: Path) -> None:
    standin = cloud()
    standin.fail_number(E164[0], 130429, times=2)  # the throughput limit, twice
    adapter = channel(tmp_path, standin)
    publish(adapter, tmp_path)
    assert len(standin.messages) == 3
    assert len(standin.calls("POST", "/messages")) == 5


def test_a_limit_that_does_not_lift_defers_the_rest_to_the_next_run(tmp_path: Path) -> None:
    standin = cloud()
    standin.fail_number(E164[0], 130429)  # the limit does not lift in this run
    journal = MemoryJournal()
    with pytest.raises(PartialFailure, match="the next run sends to the rest"):
        publish(channel(tmp_path, standin, journal), tmp_path)
    assert journal.status(E164[0]) == "deferred" and journal.status(E164[1]) is None
    standin.failures.clear()
    publish(channel(tmp_path, standin, journal), tmp_path)
    assert sent(standin) == E164


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (Template("lain"), "no template 'siaran_resmi' in language 'id' (132001)"),
        (
            Template("siaran_resmi", language="en"),
            "no template 'siaran_resmi' in language 'id' (132001) (en)",
        ),
        (Template("siaran_resmi", status="PENDING"), "'siaran_resmi' is PENDING, not APPROVED"),
        (
            Template("siaran_resmi", body="{{1}} saja"),
            "has 1 body variable(s), params gives 2 (132000)",
        ),
        (Template("siaran_resmi", header=None), "has header -, the channel says header: image"),
    ],
)
def test_template_problems_fail_before_the_first_message(
    tmp_path: Path, template: Template, message: str
) -> None:
    standin = cloud(template)
    with pytest.raises(PermanentError) as raised:
        publish(channel(tmp_path, standin), tmp_path)
    assert message in raised.value.message
    assert standin.messages == [] and standin.media == {}


def test_a_refused_token_names_the_variable(tmp_path: Path) -> None:
    adapter = channel(tmp_path, cloud(), access_token="EAAG-revoked-token-value")
    with pytest.raises(AuthError) as raised:
        publish(adapter, tmp_path)
    assert "$WHATSAPP_TOKEN" in raised.value.message
    assert "EAAG-revoked" not in raised.value.message


def test_header_card_is_the_poster_share_card(tmp_path: Path) -> None:
    card = tmp_path / "posters" / "rilis-card.png"
    card.parent.mkdir()
    card.write_bytes(CARD)
    poster = Receipt(
        remote_id="poster",
        url=None,
        published_at=datetime.now(UTC),
        files=(card.with_suffix(".pdf"), card.with_name("rilis.png"), card),
    )
    links = Links(
        canonical_url=sample_links().canonical_url, predicted=False, outputs={"poster": poster}
    )
    standin = cloud()
    adapter = channel(tmp_path, standin, header="card")
    assert adapter.depends_on() == ("poster",)
    publish(adapter, tmp_path, links)
    [upload] = standin.calls("POST", "/media")
    assert CARD in upload.content and PHOTO not in upload.content


def test_preview_shows_the_parameters_template_header_and_subscribers(tmp_path: Path) -> None:
    (tmp_path / "subscribers.csv").write_text(
        "nama,phone\nAni,0812-3456-7890\nBudi,+62 812 3456 7890\nCici,12345\nDodi,0813 1111 2222\n",
        encoding="utf-8",
    )
    (tmp_path / "berhenti.csv").write_text("phone\n+6281311112222\n", encoding="utf-8")
    adapter = channel(tmp_path, cloud(), lists=["subscribers.csv"], opt_out="berhenti.csv")
    preview = adapter.preview(release(tmp_path), sample_links())
    assert preview.recipients == 1
    assert dict(preview.facts)["Template"] == "siaran_resmi (id)"
    assert dict(preview.facts)["Header"] == "foto.png"
    assert dict(preview.facts)["{{1}} title"] == "Pemkot Buka Layanan Adminduk Keliling"
    assert preview.picture is not None and preview.picture.name == "foto.png"
    assert any("1 invalid number(s): 12345" in w for w in preview.warnings)


def test_verify_checks_token_phone_number_and_template(tmp_path: Path) -> None:
    standin = cloud()
    channel(tmp_path, standin).verify()
    assert [(r.method, r.url.path) for r in standin.requests] == [
        ("GET", f"/{VERSION}/{PHONE_ID}"),
        ("GET", f"/{VERSION}/{WABA_ID}/message_templates"),
    ]
    with pytest.raises(PermanentError, match="PENDING"):
        channel(tmp_path, cloud(Template("siaran_resmi", status="PENDING"))).verify()
    with pytest.raises(PermanentError, match="100"):
        channel(tmp_path, standin, phone_number_id="999").verify()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone_number_id": "+62 21 555"}, "phone_number_id"),
        ({"template": "Siaran Resmi"}, "template"),
        ({"params": ["title", "body"]}, "params"),
        ({"header": "video"}, "header"),
        ({"rate_per_second": 0}, "rate_per_second"),
        ({"api_version": "26"}, "api_version"),
    ],
)
def test_options_are_checked(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        WhatsappOptions.model_validate(options(**change))
    assert raised.value.errors()[0]["loc"][0] == field


def test_params_default_to_title_and_url() -> None:
    assert WhatsappOptions.model_validate(options()).params == ["title", "url"]
    assert WhatsappOptions.model_validate(options()).rate_per_second == 20


def test_the_preview_renders_whatsapp_markup(tmp_path: Path) -> None:
    from chanpub.channels.whatsapp.message import markup_html

    assert markup_html("*Banjir* _hari ini_ ~hoaks~ 2*3*4 <b>") == (
        "<strong>Banjir</strong> <em>hari ini</em> <s>hoaks</s> 2*3*4 &lt;b&gt;"
    )
    rilis = sample_release(tmp_path / "r", title="Klarifikasi *hoaks* banjir")
    preview = channel(tmp_path, cloud(), header="none").preview(rilis, sample_links())
    assert "Klarifikasi <strong>hoaks</strong> banjir" in (preview.html or "")
