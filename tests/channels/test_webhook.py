"""The webhook channel against a real HTTP receiver on loopback that verifies the signature
the way docs/webhook.md tells receivers to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from chanpub.channels.webhook import WebhookChannel, verify_signature
from chanpub.contract import Links
from chanpub.errors import AmbiguousError, AuthError, PermanentError, RetryableError
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    check_receipt,
    loopback_client,
    make_context,
    sample_links,
    sample_release,
    serve_on_loopback,
)

SECRET = "whsec-3b0e7c1d9a"
TOKEN = "portal-token-5c2f"


@dataclass
class Receiver:
    """A portal's webhook endpoint: verifies, dedupes and stores deliveries."""

    secret: str = SECRET
    fail_with: int | None = None  # answer every request with this status
    plain_answer: bool = False  # answer 204 with no JSON
    entries: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    clock_offset: float = 0.0  # seconds the receiver's clock is ahead
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # Idempotency-Key -> answer
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any] | None]:
        self.requests.append((headers, body))
        if self.fail_with:
            return self.fail_with, {"error": "unavailable"}
        timestamp = headers.get("x-chanpub-timestamp", "")
        signature = headers.get("x-chanpub-signature", "")
        expected = (
            "sha256="
            + hmac.new(
                self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
        )
        if not hmac.compare_digest(expected, signature):
            return 401, {"error": "bad signature"}
        now = time.time() + self.clock_offset
        if not timestamp.isdigit() or abs(now - int(timestamp)) > 300:
            return 401, {"error": "stale timestamp"}
        key = headers.get("idempotency-key", "")
        if key in self.answers:
            return 200, self.answers[key]
        document = json.loads(body)
        self.entries.append(document)
        slug = document["release"]["slug"]
        answer = {"id": len(self.entries), "url": f"https://portal.example.go.id/berita/{slug}"}
        self.answers[key] = answer
        return (204, None) if self.plain_answer else (201, answer)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, answer = state.handle({k.lower(): v for k, v in self.headers.items()}, body)
            data = json.dumps(answer).encode() if answer is not None else b""
            self.send_response(status)
            if answer is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve_on_loopback(Handler) as base:
        state.url = f"{base}/hooks/chanpub"
        yield state


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with loopback_client() as real:
        yield real


def channel(
    receiver: Receiver, tmp_path: Path, client: httpx.Client, **options: Any
) -> WebhookChannel:
    values = {"url": receiver.url, "secret": SECRET, **options}
    context = make_context(
        tmp_path, client_factory=lambda: client, secrets={"secret": "PORTAL_WEBHOOK_SECRET"}
    )
    return WebhookChannel("portal", WebhookChannel.Options.model_validate(values), context)


def test_contract_preview_is_offline_and_hides_secrets(tmp_path: Path) -> None:
    options = {
        "url": "https://portal.example.go.id/hooks",
        "secret": SECRET_MARKER,
        "headers": {"Authorization": f"Bearer {SECRET_MARKER}"},
    }
    preview = check_contract(
        WebhookChannel, options, sample_release(tmp_path), make_context(tmp_path)
    )
    assert preview.data["document"]["release"]["title"] == "Pemkot Buka Layanan Adminduk Keliling"
    assert preview.data["headers"] == ["Authorization"]
    assert SECRET_MARKER not in json.dumps(preview.data)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"url": "ftp://portal.example.go.id/hooks"}, "must be a web address"),
        ({"url": "portal.example.go.id/hooks"}, "must be a web address"),
        ({"headers": {"X-Chanpub-Signature": "x"}}, "is set by chanpub"),
        ({"headers": {"Idempotency-Key": "x"}}, "is set by chanpub"),
        ({"headers": {"Bad Header": "x"}}, "is not a header name"),
        ({"secret": None}, "secret"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], error: str) -> None:
    from pydantic import ValidationError

    values = {"url": "https://portal.example.go.id/hooks", "secret": SECRET, **options}
    with pytest.raises(ValidationError) as raised:
        WebhookChannel.Options.model_validate({k: v for k, v in values.items() if v is not None})
    assert error in str(raised.value)


def test_publish_sends_a_signed_document_and_takes_the_url(
    receiver: Receiver, tmp_path: Path, client: httpx.Client
) -> None:
    (tmp_path / "poster.png").write_bytes(b"\x89PNG fake image bytes")
    release = sample_release(
        tmp_path, tags=["Adminduk"], image="poster.png", image_alt="Petugas melayani warga"
    )
    webhook = channel(receiver, tmp_path, client, headers={"Authorization": f"Bearer {TOKEN}"})
    key = "ab" * 32
    receipt = check_receipt(webhook.publish(webhook.preview(release, sample_links()), key))

    assert receipt.url == f"https://portal.example.go.id/berita/{release.slug}"
    assert receipt.remote_id == "1"
    [document] = receiver.entries
    assert document["schema"] == "chanpub.webhook/1"
    assert document["event"] == "release.published" and document["delivery"] == key
    assert document["canonical_url"] == sample_links().canonical_url
    fields = document["release"]
    assert fields["title"] == release.title and fields["slug"] == release.slug
    assert fields["summary"] == release.summary and fields["tags"] == ["Adminduk"]
    assert fields["content_sha256"] == release.content_sha256
    assert "<p>Dinas Kependudukan" in fields["html"]
    assert fields["text"].startswith("Dinas Kependudukan")
    assert base64.b64decode(fields["image"]["base64"]) == b"\x89PNG fake image bytes"
    assert fields["image"]["alt"] == "Petugas melayani warga"
    headers, body = receiver.requests[0]
    assert headers["idempotency-key"] == key and headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["x-chanpub-event"] == "release.published"
    assert verify_signature(
        SECRET, headers["x-chanpub-timestamp"], headers["x-chanpub-signature"], body
    )


def test_the_receiver_rejects_a_replayed_or_altered_body(
    receiver: Receiver, tmp_path: Path, client: httpx.Client
) -> None:
    webhook = channel(receiver, tmp_path, client)
    webhook.publish(webhook.preview(sample_release(tmp_path), Links()), "cd" * 32)
    headers, body = receiver.requests[0]
    sent = {k: v for k, v in headers.items() if k.startswith(("x-chanpub", "idempotency"))}

    altered = client.post(receiver.url, content=body.replace(b"Adminduk", b"Pajak"), headers=sent)
    assert altered.status_code == 401 and altered.json() == {"error": "bad signature"}
    replayed_at_once = client.post(receiver.url, content=body, headers=sent)
    assert replayed_at_once.json() == {  # answered as the first time, nothing created
        "id": 1,
        "url": f"https://portal.example.go.id/berita/{_slug(body)}",
    }
    receiver.clock_offset = 600
    replayed_later = client.post(receiver.url, content=body, headers=sent)
    assert replayed_later.status_code == 401
    assert replayed_later.json() == {"error": "stale timestamp"}
    assert len(receiver.entries) == 1
    assert not verify_signature(
        SECRET,
        sent["x-chanpub-timestamp"],
        sent["x-chanpub-signature"],
        body,
        now=time.time() + 600,
    )


def _slug(body: bytes) -> str:
    return str(json.loads(body)["release"]["slug"])


def test_a_retried_delivery_is_signed_again_and_creates_nothing_new(
    receiver: Receiver, tmp_path: Path, client: httpx.Client
) -> None:
    webhook = channel(receiver, tmp_path, client)
    preview = webhook.preview(sample_release(tmp_path), Links())
    first = webhook.publish(preview, "ef" * 32)
    second = webhook.publish(preview, "ef" * 32)
    assert second.url == first.url and second.remote_id == first.remote_id
    assert len(receiver.entries) == 1 and len(receiver.requests) == 2
    assert receiver.requests[0][1] == receiver.requests[1][1]  # the same body


def test_update_sends_release_updated_naming_the_earlier_delivery(
    receiver: Receiver, tmp_path: Path, client: httpx.Client
) -> None:
    webhook = channel(receiver, tmp_path, client)
    first = webhook.publish(webhook.preview(sample_release(tmp_path), Links()), "12" * 32)
    changed = sample_release(
        tmp_path / "v2",
        title="Jadwal Adminduk Keliling Diperbarui",
        slug=first.url.rsplit("/", 1)[1] if first.url else "x",
    )
    updated = webhook.update(webhook.preview(changed, Links()), first)
    assert receiver.entries[1]["event"] == "release.updated"
    assert receiver.entries[1]["previous"] == {"id": "1", "url": first.url}
    assert receiver.requests[1][0]["idempotency-key"] != "12" * 32
    assert updated.url == first.url


def test_wrong_secret_is_an_auth_error_naming_the_variable(
    receiver: Receiver, tmp_path: Path, client: httpx.Client
) -> None:
    webhook = channel(receiver, tmp_path, client, secret="not-the-shared-secret")
    with pytest.raises(AuthError) as raised:
        webhook.publish(webhook.preview(sample_release(tmp_path), Links()), "34" * 32)
    assert "401" in str(raised.value) and raised.value.variable == "PORTAL_WEBHOOK_SECRET"
    assert "not-the-shared-secret" not in str(raised.value)
    assert receiver.entries == []


@pytest.mark.parametrize(
    ("status", "error"), [(503, RetryableError), (500, AmbiguousError), (422, PermanentError)]
)
def test_failures_are_classified(
    receiver: Receiver, tmp_path: Path, client: httpx.Client, status: int, error: type[Exception]
) -> None:
    receiver.fail_with = status
    webhook = channel(receiver, tmp_path, client)
    with pytest.raises(error, match=f"answered {status}"):
        webhook.publish(webhook.preview(sample_release(tmp_path), Links()), "56" * 32)


def test_a_2xx_without_json_is_success_without_a_url(
    receiver: Receiver, tmp_path: Path, client: httpx.Client
) -> None:
    receiver.plain_answer = True
    webhook = channel(receiver, tmp_path, client)
    receipt = webhook.publish(webhook.preview(sample_release(tmp_path), Links()), "78" * 32)
    assert receipt.url is None and receipt.remote_id == "78" * 32
    assert len(receiver.entries) == 1


def test_corrections_and_retractions_are_signed_events_naming_the_first_delivery(
    receiver: Receiver, tmp_path: Path, client: httpx.Client
) -> None:
    from datetime import UTC, datetime

    from chanpub.contract import Action, Amendment

    webhook = channel(receiver, tmp_path, client)
    release = sample_release(tmp_path)
    first = webhook.publish(webhook.preview(release, Links()), "12" * 32)
    at = datetime(2026, 9, 7, 9, 30, tzinfo=UTC)
    note = "Layanan dimulai Selasa, bukan Senin."
    correction = Amendment(kind="correction", note=note, at=at, previous=first)
    done = webhook.amend(webhook.preview(release, Links()), correction, key="c" * 64)
    assert done.action is Action.EDITED and done.url == first.url
    document = receiver.entries[1]
    assert receiver.requests[1][0]["x-chanpub-event"] == "release.corrected"
    assert document["event"] == "release.corrected"
    assert document["previous"] == {"id": "1", "url": first.url}
    assert document["amendment"] == {"kind": "correction", "note": note, "at": at.isoformat()}
    # Sent again with the same key (its answer was lost): the receiver creates nothing new.
    webhook.amend(webhook.preview(release, Links()), correction, key="c" * 64)
    assert len(receiver.entries) == 2
    retraction = Amendment(kind="retraction", note="Dibatalkan.", at=at, previous=first)
    withdrawn = webhook.amend(webhook.preview(release, Links()), retraction, key="r" * 64)
    assert withdrawn.action is Action.DELETED and withdrawn.url is None
    assert receiver.entries[2]["event"] == "release.retracted"
    assert receiver.entries[2]["amendment"]["note"] == "Dibatalkan."
