"""`chanpub approvals serve` is the one small web application: beside the phone approval
page it serves the WhatsApp webhook at /webhooks/whatsapp, so Meta's delivery receipts
reach the ledger from the command an office already runs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from standins.whatsapp import Message, WhatsAppStandIn

from chanpub.ledger import Ledger
from chanpub.testing import loopback_client

pytestmark = pytest.mark.e2e
SECRET = "app-secret-0123456789abcdef"
VERIFY = "verify-me-please"
TOKEN = "EAAG-system-user-token"
KEY = "d" * 64
NUMBER = "+6281311112222"


def office(folder: Path, cloud: WhatsAppStandIn) -> None:
    """channels.yaml with an approver and a whatsapp channel, and a ledger in which the
    release went to one subscriber (message wamid.B)."""
    channel = {
        "type": "whatsapp",
        "phone_number_id": cloud.phone_number_id,
        "business_account_id": cloud.waba_id,
        "access_token": "${WHATSAPP_TOKEN}",
        "template": "siaran_resmi",
        "lists": [NUMBER],
    }
    config = {
        "approvers": [{"name": "Kepala Dinas", "passkey": True}],
        "channels": {"wa": channel},
    }
    (folder / "channels.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (folder / "releases").mkdir()
    ledger = Ledger(folder / ".chanpub" / "ledger.sqlite3")
    ledger.begin(
        slug="banjir", content_hash="h", channel="wa", channel_type="whatsapp", title="t", key=KEY
    )
    ledger.finish(slug="banjir", content_hash="h", channel="wa", status="published")
    ledger.set_item(KEY, NUMBER, "sent", "wamid.B")
    ledger.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, WhatsAppStandIn]]:
    """`chanpub approvals serve` (uvicorn on 127.0.0.1) in the office folder, once its
    webhook answers Meta's verification handshake."""
    cloud = WhatsAppStandIn(TOKEN, [], app_secret=SECRET)
    office(tmp_path, cloud)
    port = free_port()
    command = shutil.which("chanpub")
    assert command, "chanpub is not installed: pip install -e '.[test]'"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHANPUB_", "WHATSAPP_"))}
    env.update(
        CHANPUB_STATE_DIR=str(tmp_path / ".chanpub"),
        WHATSAPP_TOKEN=TOKEN,
        WHATSAPP_VERIFY_TOKEN=VERIFY,
        WHATSAPP_APP_SECRET=SECRET,
    )
    process = subprocess.Popen(
        [command, "approvals", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_served(url, process)
        yield url, cloud
    finally:
        process.terminate()
        process.communicate(timeout=10)


def wait_until_served(url: str, process: subprocess.Popen[str]) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    deadline = time.monotonic() + 30
    with loopback_client() as client:
        while True:
            assert process.poll() is None, f"approvals serve ended: {process.stderr.read()}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "approvals serve did not start"
            try:
                answer = client.get(f"{url}/webhooks/whatsapp/", params=query)
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            assert (answer.status_code, answer.text) == (200, "1158201444")
            return


def test_approvals_serve_records_a_signed_delivery_receipt(
    tmp_path: Path, served: tuple[str, WhatsAppStandIn]
) -> None:
    url, cloud = served
    message = Message("wamid.B", NUMBER.lstrip("+"), "siaran_resmi", "id", [], None, callback=KEY)
    body, headers = cloud.webhook(message, "read")  # signed with the app secret, as Meta does
    with loopback_client() as client:
        answer = client.post(f"{url}/webhooks/whatsapp/", content=body, headers=headers)
        forged = client.post(
            f"{url}/webhooks/whatsapp/",
            content=body,
            headers={**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64},
        )
        page = client.get(f"{url}/login")  # the approval page, from the same app
    assert answer.status_code == 200 and answer.json() == {"recorded": 1}
    assert forged.status_code == 401
    assert page.status_code == 200
    ledger = Ledger(tmp_path / ".chanpub" / "ledger.sqlite3")
    try:
        assert ledger.item_status(KEY, NUMBER) == "read"
    finally:
        ledger.close()
