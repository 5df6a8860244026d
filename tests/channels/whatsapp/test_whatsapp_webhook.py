"""The WhatsApp webhook of chanpub's web app: Meta's verification handshake, signed
delivery receipts recorded per subscriber, and what `history` then shows."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from standins.whatsapp import statuses_payload

from chanpub.channels.whatsapp.webhook import sign
from chanpub.config import Config, load_config
from chanpub.errors import ConfigError
from chanpub.ledger import Ledger
from chanpub.output import counts_text
from chanpub.web.app import create_app

SECRET = "app-secret-0123456789abcdef"
VERIFY = "verify-me-please"
ENV = {"WHATSAPP_VERIFY_TOKEN": VERIFY, "WHATSAPP_APP_SECRET": SECRET}
KEY = "d" * 64
TOKEN = "EAAG-system-user-token"
PHONE_ID, WABA_ID = "106540352242922", "102290129340398"
# starlette.testclient prefers the httpx2 fork and warns when it drives plain httpx, which
# chanpub already depends on: the test client is the same either way.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def app_client(config: Config, environ: dict[str, str] | None = None) -> TestClient:
    """Starlette's in-process client for the app of `config`."""
    from starlette.testclient import TestClient

    return TestClient(create_app(config, environ=ENV if environ is None else environ))


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("WHATSAPP_TOKEN", TOKEN)
    path = tmp_path / "channels.yaml"
    channel = {
        "type": "whatsapp",
        "phone_number_id": PHONE_ID,
        "business_account_id": WABA_ID,
        "access_token": "${WHATSAPP_TOKEN}",
        "template": "siaran_resmi",
        "lists": ["+6281234567890"],
    }
    path.write_text(yaml.safe_dump({"channels": {"wa": channel}}), encoding="utf-8")
    loaded = load_config(path)
    ledger = Ledger(loaded.state_dir / "ledger.sqlite3")
    ledger.begin(
        slug="banjir", content_hash="h", channel="wa", channel_type="whatsapp", title="t", key=KEY
    )
    ledger.finish(
        slug="banjir", content_hash="h", channel="wa", status="published", details={"sent": 3}
    )
    for number, wamid in (
        ("+6281234567890", "wamid.A"),
        ("+6281311112222", "wamid.B"),
        ("+6281355556666", "wamid.C"),
    ):
        ledger.set_item(KEY, number, "sent", wamid)
    ledger.set_item(KEY, "+6285700001111", "in_progress")  # its answer was lost
    ledger.close()
    return loaded


def post(client: TestClient, payload: dict[str, Any], secret: str = SECRET) -> Any:
    body = json.dumps(payload).encode()
    return client.post(
        "/webhooks/whatsapp/",
        content=body,
        headers={"X-Hub-Signature-256": sign(secret, body), "Content-Type": "application/json"},
    )


def items(config: Config) -> dict[str, tuple[str, str]]:
    ledger = Ledger(config.state_dir / "ledger.sqlite3")
    try:
        return {
            item: (str(ledger.item_status(KEY, item)), ledger.item_remote_id(KEY, item) or "")
            for item in ("+6281234567890", "+6281311112222", "+6281355556666", "+6285700001111")
        }
    finally:
        ledger.close()


def test_the_verification_handshake_echoes_the_challenge(config: Config) -> None:
    client = app_client(config)
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    answer = client.get("/webhooks/whatsapp/", params=query)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    wrong = client.get("/webhooks/whatsapp/", params={**query, "hub.verify_token": "guess"})
    assert wrong.status_code == 403 and "1158201444" not in wrong.text


def test_a_post_with_a_wrong_signature_changes_nothing(config: Config) -> None:
    client = app_client(config)
    payload = statuses_payload(
        [{"id": "wamid.A", "recipient_id": "6281234567890", "status": "read"}]
    )
    assert post(client, payload, secret="not-the-app-secret").status_code == 401
    unsigned = client.post("/webhooks/whatsapp/", content=json.dumps(payload).encode())
    assert unsigned.status_code == 401
    assert items(config)["+6281234567890"][0] == "sent"


def test_statuses_are_recorded_per_subscriber_and_history_counts_them(config: Config) -> None:
    client = app_client(config)
    payload = statuses_payload(
        [
            {
                "id": "wamid.A",
                "recipient_id": "6281234567890",
                "status": "read",
                "biz_opaque_callback_data": KEY,
            },
            {
                "id": "wamid.A",
                "recipient_id": "6281234567890",
                "status": "delivered",
                "biz_opaque_callback_data": KEY,
            },  # late: never moves an item back
            {"id": "wamid.B", "recipient_id": "6281311112222", "status": "delivered"},
            {
                "id": "wamid.C",
                "recipient_id": "6281355556666",
                "status": "failed",
                "biz_opaque_callback_data": KEY,
                "errors": [
                    {
                        "code": 131026,
                        "title": "Message undeliverable",
                        "error_data": {"details": "Message Undeliverable."},
                    }
                ],
            },
            {
                "id": "wamid.D",
                "recipient_id": "6285700001111",
                "status": "sent",
                "biz_opaque_callback_data": KEY,
            },  # settles the lost answer: it did go out
            {"id": "wamid.X", "recipient_id": "6289999999999", "status": "sent"},  # not ours
        ]
    )
    assert post(client, payload).status_code == 200
    assert items(config) == {
        "+6281234567890": ("read", "wamid.A"),
        "+6281311112222": ("delivered", "wamid.B"),
        "+6281355556666": ("failed", "wamid.C"),
        "+6285700001111": ("sent", "wamid.D"),
    }
    ledger = Ledger(config.state_dir / "ledger.sqlite3")
    row = ledger.history("banjir")[0]
    failed = ledger.failed_items(KEY)
    ledger.close()
    assert counts_text(row.details) == "sent 1, delivered 1, read 1, failed 1"
    assert failed == [("+6281355556666", "131026: Message Undeliverable.")]


def test_the_app_needs_the_verify_token_and_app_secret(config: Config) -> None:
    with pytest.raises(ConfigError) as raised:
        create_app(config, environ={"WHATSAPP_VERIFY_TOKEN": VERIFY})
    assert "$WHATSAPP_APP_SECRET" in raised.value.message


@pytest.fixture
def served(config: Config) -> Iterator[str]:
    """The app under uvicorn on 127.0.0.1, on a port the system chose."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config, environ=ENV),
            host="127.0.0.1",
            port=0,
            log_level="error",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not (server.started and server.servers):
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_under_uvicorn_a_signed_status_is_recorded(config: Config, served: str) -> None:
    from chanpub.testing import loopback_client

    body = json.dumps(
        statuses_payload(
            [{"id": "wamid.B", "recipient_id": "6281311112222", "status": "delivered"}]
        )
    ).encode()
    with loopback_client() as client:
        answer = client.post(
            f"{served}/webhooks/whatsapp/",
            content=body,
            headers={"X-Hub-Signature-256": sign(SECRET, body)},
        )
    assert answer.status_code == 200 and answer.json() == {"recorded": 1}
    assert items(config)["+6281311112222"] == ("delivered", "wamid.B")
