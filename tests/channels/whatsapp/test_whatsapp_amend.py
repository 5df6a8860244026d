"""Corrections and retractions on WhatsApp: a follow-up template message to exactly the
subscribers the release reached, once each across runs, against the strict Cloud API
stand-in (tests/standins/whatsapp.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standins.whatsapp import Template, WhatsAppStandIn

from chanpub.channels.whatsapp.channel import WhatsappChannel, WhatsappOptions
from chanpub.contract import Action, Amendment, Mechanism, Receipt
from chanpub.errors import PartialFailure, PermanentError
from chanpub.journal import MemoryJournal
from chanpub.testing import make_context, sample_links, sample_release

TOKEN = "EAAG-system-user-token"
PHONES = ["+6281234567890", "+6281311112222", "+6281355556666"]
NOTE = "Layanan dimulai Selasa, 8 September, bukan Senin."
REASON = "Dibatalkan karena cuaca buruk."
TITLE = "Pemkot Buka Layanan Adminduk Keliling"


def standin() -> WhatsAppStandIn:
    return WhatsAppStandIn(
        TOKEN,
        [
            Template("siaran_resmi", header=None),
            Template("siaran_ralat", body="Ralat: *{{1}}*\n\n{{2}}", header=None),
            Template("siaran_dicabut", body="Dicabut: *{{1}}*\n\nAlasan: {{2}}", header=None),
        ],
    )


class Journals:
    """The ledger's item journals, one per delivery key, in memory."""

    def __init__(self) -> None:
        self.by_key: dict[str, MemoryJournal] = {}

    def journal(self, key: str) -> MemoryJournal:
        return self.by_key.setdefault(key, MemoryJournal())

    def delivered(self, key: str) -> list[tuple[str, str]]:
        journal = self.by_key.get(key, MemoryJournal())
        return [
            (item, journal.remote_id(item) or "")
            for item in journal._items
            if journal.status(item) in ("sent", "delivered", "read")
        ]


def channel(
    tmp_path: Path, cloud: WhatsAppStandIn, journals: Journals, **changes: Any
) -> WhatsappChannel:
    options: dict[str, Any] = {
        "phone_number_id": cloud.phone_number_id,
        "business_account_id": cloud.waba_id,
        "access_token": TOKEN,
        "api_version": "v26.0",
        "template": "siaran_resmi",
        "lists": PHONES,
        "correction_template": {"name": "siaran_ralat", "params": ["title", "note"]},
        "retraction_template": {"name": "siaran_dicabut", "params": ["title", "note"]},
        **changes,
    }
    context = make_context(
        tmp_path,
        cloud,
        journal_factory=journals.journal,
        delivered_reader=journals.delivered,
        secrets={"access_token": "WHATSAPP_TOKEN"},
    )
    return WhatsappChannel("wa", WhatsappOptions.model_validate(options), context)


def published(tmp_path: Path, cloud: WhatsAppStandIn, journals: Journals) -> Receipt:
    """The release sent to the three subscribers; the third one's number is undeliverable.
    Returns the receipt as the ledger gives it back (with its delivery key)."""
    cloud.fail_number(PHONES[2], 131026)
    adapter = channel(tmp_path, cloud, journals)
    with pytest.raises(PartialFailure) as raised:
        adapter.publish(adapter.preview(sample_release(tmp_path / "r"), sample_links()), "key-0")
    receipt: Receipt = raised.value.receipt  # type: ignore[attr-defined]
    cloud.clock.advance(3600)  # an hour later (WhatsApp's pair rate: one message per 6 s)
    return as_in_the_ledger(receipt, "key-0")


def as_in_the_ledger(receipt: Receipt, key: str) -> Receipt:
    """What dispatch hands `amend` as `previous`: the receipt with its delivery key."""
    return replace(receipt, details={**receipt.details, "key": key})


def amend(
    adapter: WhatsappChannel, tmp_path: Path, kind: str, note: str, previous: Receipt, key: str
) -> Receipt:
    preview = adapter.preview(sample_release(tmp_path / "r"), sample_links())
    return adapter.amend(preview, Amendment(kind, note, datetime.now(UTC), previous), key)


def notices(cloud: WhatsAppStandIn, template: str) -> list[tuple[str, list[str]]]:
    return [(m.to, m.params) for m in cloud.messages if m.template == template]


def test_a_correction_goes_to_exactly_the_subscribers_the_release_reached(tmp_path: Path) -> None:
    cloud, journals = standin(), Journals()
    original = published(tmp_path, cloud, journals)
    adapter = channel(tmp_path, cloud, journals)
    receipt = amend(adapter, tmp_path, "correction", NOTE, original, "key-1")
    assert notices(cloud, "siaran_ralat") == [
        (PHONES[0], [TITLE, NOTE]),
        (PHONES[1], [TITLE, NOTE]),
    ]
    assert {m.callback for m in cloud.messages if m.template == "siaran_ralat"} == {"key-1"}
    assert {m.header_media for m in cloud.messages} == {None}
    assert receipt.action == Action.SENT
    assert receipt.remote_id == original.remote_id  # still the release's delivery
    assert receipt.details["original"] == "key-0"
    assert receipt.counts["sent"] == 2
    assert receipt.details["message"] == f"Ralat: *{TITLE}*\n\n{NOTE}"
    assert WhatsappChannel.capabilities.corrections == Mechanism.NOTICE
    assert WhatsappChannel.capabilities.retractions == Mechanism.NOTICE


def test_a_second_correction_and_the_retraction_follow_the_original_subscribers(
    tmp_path: Path,
) -> None:
    cloud, journals = standin(), Journals()
    original = published(tmp_path, cloud, journals)
    first = amend(channel(tmp_path, cloud, journals), tmp_path, "correction", NOTE, original, "k1")
    cloud.clock.advance(3600)
    joined = [*PHONES, "+6285700001111"]  # joined after the release went out: not theirs
    adapter = channel(tmp_path, cloud, journals, lists=joined)
    second = amend(
        adapter, tmp_path, "correction", "Jamnya 08.00.", as_in_the_ledger(first, "k1"), "k2"
    )
    assert second.details["original"] == "key-0"
    cloud.clock.advance(3600)
    gone = amend(adapter, tmp_path, "retraction", REASON, as_in_the_ledger(second, "k2"), "k3")
    assert [to for to, _params in notices(cloud, "siaran_ralat")] == PHONES[:2] * 2
    assert notices(cloud, "siaran_dicabut") == [(p, [TITLE, REASON]) for p in PHONES[:2]]
    assert gone.action == Action.SENT and gone.details["original"] == "key-0"
    assert cloud.sent_to()["6285700001111"] == 0


def test_a_notice_goes_to_each_subscriber_once_across_runs(tmp_path: Path) -> None:
    cloud, journals = standin(), Journals()
    original = published(tmp_path, cloud, journals)
    cloud.lose_answer(PHONES[0])  # applied, the answer lost: nobody knows it arrived
    with pytest.raises(PartialFailure) as raised:
        amend(channel(tmp_path, cloud, journals), tmp_path, "correction", NOTE, original, "k1")
    assert "chanpub resolve" in raised.value.message and "--resend" in raised.value.message
    assert journals.by_key["k1"].status(PHONES[0]) == "unknown"
    cloud.clock.advance(3600)
    with pytest.raises(PartialFailure):  # the next run: still a person's decision
        amend(channel(tmp_path, cloud, journals), tmp_path, "correction", NOTE, original, "k1")
    assert [to for to, _params in notices(cloud, "siaran_ralat")] == PHONES[:2]


def test_a_run_killed_after_the_mark_leaves_that_subscriber_for_a_person(tmp_path: Path) -> None:
    cloud, journals = standin(), Journals()
    original = published(tmp_path, cloud, journals)
    journals.journal("k1").begin(PHONES[1])  # killed between the mark and the answer
    with pytest.raises(PartialFailure):
        amend(channel(tmp_path, cloud, journals), tmp_path, "correction", NOTE, original, "k1")
    assert notices(cloud, "siaran_ralat") == [(PHONES[0], [TITLE, NOTE])]
    assert journals.by_key["k1"].status(PHONES[1]) == "unknown"


@pytest.mark.parametrize(
    ("templates", "message"),
    [
        ([], "channels.wa.correction_template: there is no template 'siaran_ralat' in language"),
        ([Template("siaran_ralat", status="REJECTED", header=None)], "is REJECTED, not APPROVED"),
        (
            [Template("siaran_ralat", body="Ralat {{1}}", header=None)],
            "channels.wa.correction_template.params: the template 'siaran_ralat' has 1",
        ),
        (
            [Template("siaran_ralat")],
            "channels.wa.correction_template: the template 'siaran_ralat' has an image header",
        ),
    ],
)
def test_the_follow_up_template_is_checked_before_the_first_notice(
    tmp_path: Path, templates: list[Template], message: str
) -> None:
    cloud, journals = standin(), Journals()
    original = published(tmp_path, cloud, journals)
    cloud.templates = [cloud.templates[0], *templates]
    with pytest.raises(PermanentError) as raised:
        amend(channel(tmp_path, cloud, journals), tmp_path, "correction", NOTE, original, "k1")
    assert message in raised.value.message
    assert notices(cloud, "siaran_ralat") == []


def test_without_a_retraction_template_the_channel_says_which_option_to_set(
    tmp_path: Path,
) -> None:
    cloud, journals = standin(), Journals()
    original = published(tmp_path, cloud, journals)
    adapter = channel(tmp_path, cloud, journals, retraction_template=None)
    with pytest.raises(PermanentError) as raised:
        amend(adapter, tmp_path, "retraction", REASON, original, "k1")
    assert "channels.wa.retraction_template" in raised.value.message
    assert len(cloud.messages) == 3 - 1  # the release's own messages only


def test_verify_checks_the_follow_up_templates_too(tmp_path: Path) -> None:
    cloud = standin()
    channel(tmp_path, cloud, Journals()).verify()
    cloud.templates[2] = Template("siaran_dicabut", status="PENDING", header=None)
    with pytest.raises(PermanentError, match="retraction_template: 'siaran_dicabut' is PENDING"):
        channel(tmp_path, cloud, Journals()).verify()


def test_note_fills_follow_up_templates_only(tmp_path: Path) -> None:
    """A follow-up's params take the release's fields and `note` (the correction note or
    the retraction's reason), by default [title, note]; the release's own template has no
    note to take."""
    adapter = channel(tmp_path, standin(), Journals(), correction_template={"name": "ralat"})
    assert adapter.options.correction_template is not None
    assert adapter.options.correction_template.params == ["title", "note"]
    with pytest.raises(ValueError, match="params"):
        channel(tmp_path, standin(), Journals(), params=["title", "note"])


def test_the_preview_of_a_correction_warns_when_no_template_is_set(tmp_path: Path) -> None:
    corrected = sample_release(tmp_path / "r", correction=NOTE)
    adapter = channel(tmp_path, standin(), Journals(), correction_template=None)
    [warning] = adapter.preview(corrected, sample_links()).warnings
    assert "channels.wa.correction_template" in warning
    configured = channel(tmp_path, standin(), Journals())
    assert configured.preview(corrected, sample_links()).warnings == ()
