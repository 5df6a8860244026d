"""The micropub channel against a small real Micropub endpoint on loopback: it checks the
bearer token, answers q=config, takes JSON, forms and multipart, stores entries and media,
and answers 201 with Location."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from chanpub.channels.micropub import MicropubChannel
from chanpub.contract import Links
from chanpub.errors import AuthError, PermanentError
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    check_receipt,
    loopback_client,
    make_context,
    serve_on_loopback,
)
from chanpub.testing import sample_release as write_sample

TOKEN = "mp-token-create-2f9c"
READ_ONLY = "mp-token-read-7a1e"
IMAGE = b"\x89PNG poster bytes"


@dataclass
class Endpoint:
    """What the server stored and saw."""

    base: str = ""
    media: bool = True  # q=config names a media endpoint
    json_ok: bool = True  # accepts JSON (optional for Micropub servers)
    config_status: int = 200  # the answer to q=config (a SHOULD for servers)
    entries: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # URL -> properties
    files: dict[str, bytes] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)  # "METHOD path?query content-type"

    def answer(
        self, method: str, target: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        kind = headers.get("Content-Type", "")
        self.seen.append(f"{method} {target} {kind.split(';')[0]}".strip())
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in (TOKEN, READ_ONLY):
            return 401, {}, {"error": "unauthorized", "error_description": "unknown token"}
        path, query = urlsplit(target).path, parse_qs(urlsplit(target).query)
        if method == "GET" and query.get("q") == ["config"]:
            if self.config_status != 200:
                return self.config_status, {}, {"error": "invalid_request"}
            return 200, {}, {"media-endpoint": f"{self.base}/media"} if self.media else {}
        if token == READ_ONLY:
            return 403, {}, {"error": "insufficient_scope", "error_description": "needs create"}
        if path == "/media":
            name = f"/files/{len(self.files) + 1}.png"
            self.files[name] = multipart(kind, body)["file"]
            return 201, {"Location": name}, None
        if kind.startswith("application/json"):
            if not self.json_ok:
                return 415, {}, {"error": "invalid_request", "error_description": "no JSON"}
            document = json.loads(body)
            if document.get("action") in ("update", "delete"):
                if document["url"] not in self.entries:
                    return 400, {}, {"error": "invalid_request", "error_description": "no post"}
                if document["action"] == "delete":
                    del self.entries[document["url"]]
                else:
                    self.entries[document["url"]].update(document["replace"])
                return 204, {}, None
            properties = document["properties"]
        elif kind.startswith("multipart/form-data"):
            parts = multipart(kind, body)
            properties = {k: [v.decode()] for k, v in parts.items() if k != "photo"}
            properties["photo"] = [parts["photo"]]
        else:
            form = parse_qs(body.decode())
            properties = {k.removesuffix("[]"): v for k, v in form.items() if k != "h"}
        slug = properties["mp-slug"][0]
        self.entries[f"{self.base}/berita/{slug}"] = properties
        return 201, {"Location": f"/berita/{slug}"}, None


def multipart(kind: str, body: bytes) -> dict[str, Any]:
    """The parts of a multipart/form-data body, by name."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
    return {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
        for part in message.iter_parts()
    }


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, headers, answer = state.answer(self.command, self.path, self.headers, body)
            data = json.dumps(answer).encode() if answer is not None else b""
            self.send_response(status)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _reply

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve_on_loopback(Handler) as base:
        state.base = base
        yield state


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with loopback_client() as real:
        yield real


def channel(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client, **options: Any
) -> MicropubChannel:
    values = {"endpoint": f"{endpoint.base}/micropub", "token": TOKEN, **options}
    context = make_context(
        tmp_path, client_factory=lambda: client, secrets={"token": "MICROPUB_TOKEN"}
    )
    return MicropubChannel("site", MicropubChannel.Options.model_validate(values), context)


def release(tmp_path: Path, **fields: Any) -> Any:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "poster.png").write_bytes(IMAGE)
    values = {
        "image": "poster.png",
        "image_alt": "Petugas melayani warga",
        "tags": ["Adminduk", "Layanan"],
        **fields,
    }
    return write_sample(
        tmp_path,
        body="Layanan **keliling** dibuka.\n\n<script>x()</script>\n",
        **{k: v for k, v in values.items() if v is not None},
    )


def test_contract_preview_is_offline_and_hides_the_token(tmp_path: Path) -> None:
    options = {"endpoint": "https://kominfo.example.go.id/micropub", "token": SECRET_MARKER}
    preview = check_contract(MicropubChannel, options, release(tmp_path), make_context(tmp_path))
    properties = preview.data["entry"]["properties"]
    assert properties["name"] == ["Pemkot Buka Layanan Adminduk Keliling"]
    assert properties["photo"] == [{"value": "(uploaded)", "alt": "Petugas melayani warga"}]
    assert MicropubChannel.capabilities.canonical


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"endpoint": "kominfo.example.go.id/micropub"}, "must be a web address"),
        ({"media_endpoint": "ftp://media.example.go.id"}, "must be a web address"),
        ({"token": None}, "token"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], error: str) -> None:
    from pydantic import ValidationError

    values = {"endpoint": "https://kominfo.example.go.id/micropub", "token": TOKEN, **options}
    with pytest.raises(ValidationError) as raised:
        MicropubChannel.Options.model_validate({k: v for k, v in values.items() if v is not None})
    assert error in str(raised.value)


def test_publish_uploads_the_photo_and_creates_a_json_entry(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client
) -> None:
    micropub = channel(endpoint, tmp_path, client)
    rel = release(tmp_path)
    receipt = check_receipt(micropub.publish(micropub.preview(rel, Links()), "ab" * 32))

    assert receipt.url == f"{endpoint.base}/berita/{rel.slug}"
    assert endpoint.seen[:2] == ["GET /micropub?q=config", "POST /media multipart/form-data"]
    assert endpoint.files == {"/files/1.png": IMAGE}
    entry = endpoint.entries[receipt.url]
    assert entry["name"] == [rel.title] and entry["summary"] == [rel.summary]
    assert entry["category"] == ["Adminduk", "Layanan"] and entry["mp-slug"] == [rel.slug]
    html = entry["content"][0]["html"]
    assert "<strong>keliling</strong>" in html and "<script" not in html
    assert entry["photo"] == [
        {"value": f"{endpoint.base}/files/1.png", "alt": "Petugas melayani warga"}
    ]


def test_a_configured_media_endpoint_skips_discovery(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client
) -> None:
    micropub = channel(endpoint, tmp_path, client, media_endpoint=f"{endpoint.base}/media")
    micropub.publish(micropub.preview(release(tmp_path), Links()), "cd" * 32)
    assert not any("q=config" in line for line in endpoint.seen)
    assert len(endpoint.files) == 1


def test_without_a_media_endpoint_the_photo_travels_in_a_multipart_entry(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client
) -> None:
    endpoint.media = False
    micropub = channel(endpoint, tmp_path, client)
    rel = release(tmp_path)
    receipt = micropub.publish(micropub.preview(rel, Links()), "ef" * 32)
    assert endpoint.seen[-1] == "POST /micropub multipart/form-data"
    entry = endpoint.entries[str(receipt.url)]
    assert entry["photo"] == [IMAGE] and entry["name"] == [rel.title]


@pytest.mark.parametrize("status", [400, 404, 500])
def test_when_q_config_fails_the_photo_travels_in_a_multipart_entry(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client, status: int
) -> None:
    # The config query is a SHOULD (https://www.w3.org/TR/micropub/#configuration); without
    # a media endpoint the photo goes as a multipart part (#uploading-files).
    endpoint.config_status = status
    micropub = channel(endpoint, tmp_path, client)
    rel = release(tmp_path)
    receipt = check_receipt(micropub.publish(micropub.preview(rel, Links()), "ef" * 32))
    assert endpoint.seen[-1] == "POST /micropub multipart/form-data"
    assert endpoint.entries[str(receipt.url)]["photo"] == [IMAGE]


def test_a_server_without_json_gets_a_form(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client
) -> None:
    endpoint.json_ok = False
    micropub = channel(endpoint, tmp_path, client)
    rel = release(tmp_path, image=None, image_alt=None)
    receipt = micropub.publish(micropub.preview(rel, Links()), "12" * 32)
    assert endpoint.seen == [
        "POST /micropub application/json",
        "POST /micropub application/x-www-form-urlencoded",
    ]
    entry = endpoint.entries[str(receipt.url)]
    assert entry["category"] == ["Adminduk", "Layanan"]
    assert entry["content"][0].startswith("Layanan keliling dibuka.")
    assert len(endpoint.entries) == 1


def test_update_replaces_the_entry_in_place(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client
) -> None:
    micropub = channel(endpoint, tmp_path, client)
    first = micropub.publish(micropub.preview(release(tmp_path), Links()), "34" * 32)
    changed = release(tmp_path / "v2", title="Jadwal Diperbarui")
    updated = micropub.update(micropub.preview(changed, Links()), first)
    assert updated.url == first.url and len(endpoint.entries) == 1
    assert endpoint.entries[str(first.url)]["name"] == ["Jadwal Diperbarui"]


def test_a_wrong_token_is_an_auth_error_naming_the_variable(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client
) -> None:
    micropub = channel(endpoint, tmp_path, client, token="not-the-token")
    with pytest.raises(AuthError) as raised:
        micropub.publish(micropub.preview(release(tmp_path), Links()), "56" * 32)
    assert "${MICROPUB_TOKEN}" in str(raised.value) and "401" in str(raised.value)
    assert raised.value.variable == "MICROPUB_TOKEN"
    assert "not-the-token" not in str(raised.value)
    with pytest.raises(AuthError):
        micropub.verify()
    assert endpoint.entries == {}


def test_a_token_without_the_create_scope_is_explained(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client
) -> None:
    micropub = channel(endpoint, tmp_path, client, token=READ_ONLY)
    assert micropub.verify() is None
    with pytest.raises(PermanentError, match="'create' scope"):
        micropub.publish(micropub.preview(release(tmp_path), Links()), "78" * 32)
    assert endpoint.entries == {}


def test_a_correction_updates_the_entry_in_place_with_the_note(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client
) -> None:
    from datetime import UTC, datetime

    from chanpub.contract import Action, Amendment

    micropub = channel(endpoint, tmp_path, client)
    first = micropub.publish(micropub.preview(release(tmp_path), Links()), "9a" * 32)
    changed = release(tmp_path / "v2", title="Layanan Dimulai Selasa")
    at = datetime(2026, 9, 7, 9, 30, tzinfo=UTC)
    amendment = Amendment(kind="correction", note="Selasa, bukan Senin.", at=at, previous=first)
    done = micropub.amend(micropub.preview(changed, Links()), amendment, key="c1")
    assert done.action is Action.EDITED and done.url == first.url
    entry = endpoint.entries[str(first.url)]
    assert entry["name"] == ["Layanan Dimulai Selasa"] and entry["updated"] == [at.isoformat()]
    html = entry["content"][0]["html"]
    assert html.startswith('<p class="correction"><strong>Ralat</strong>')
    assert "Selasa, bukan Senin." in html and "<strong>keliling</strong>" in html
    assert entry["photo"] == [
        {"value": f"{endpoint.base}/files/1.png", "alt": "Petugas melayani warga"}
    ]
    assert len(endpoint.files) == 1  # the photo is not uploaded again


def test_a_retraction_deletes_the_entry_once(
    endpoint: Endpoint, tmp_path: Path, client: httpx.Client
) -> None:
    from datetime import UTC, datetime

    from chanpub.contract import Action, Amendment

    micropub = channel(endpoint, tmp_path, client)
    rel = release(tmp_path)
    first = micropub.publish(micropub.preview(rel, Links()), "9b" * 32)
    at = datetime(2026, 9, 7, 9, 30, tzinfo=UTC)
    amendment = Amendment(kind="retraction", note="Dibatalkan.", at=at, previous=first)
    preview = micropub.preview(rel, Links())
    done = micropub.amend(preview, amendment, key="r")
    assert done.action is Action.DELETED and done.url is None and endpoint.entries == {}
    # A run that sent the delete and lost its answer tries again: the entry is gone,
    # which is what it did.
    micropub.context.journal("r-lost").begin("entry")
    assert micropub.amend(preview, amendment, key="r-lost").action is Action.DELETED
    # Asked again under another key: already gone, nothing to do.
    assert micropub.amend(preview, amendment, key="r2").action is Action.UNCHANGED
