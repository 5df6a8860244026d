"""Helpers for testing adapters, ours and outside ones: contract checks and a strict
transport that fails any request a test did not declare.

    from chanpub.testing import check_contract, make_context, sample_release
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.contract import ChannelContext, Links, Preview, Receipt
from chanpub.journal import MemoryJournal

if TYPE_CHECKING:
    import httpx

    from chanpub.release import Release

SECRET_MARKER = "s3cr3t-CANARY-7f2a"  # a recognisable secret value for leak checks


class UndeclaredRequest(AssertionError):
    """A test sent a request it did not declare."""


def strict_transport(
    handler: Callable[[httpx.Request], httpx.Response] | None = None,
) -> httpx.MockTransport:
    """A MockTransport that answers with `handler`, or fails every request naming its URL."""
    import httpx

    def refuse(request: httpx.Request) -> httpx.Response:
        raise UndeclaredRequest(f"undeclared request: {request.method} {request.url}")

    return httpx.MockTransport(handler or refuse)


def make_context(
    tmp_path: Path,
    handler: Callable[[httpx.Request], httpx.Response] | None = None,
    **overrides: Any,
) -> ChannelContext:
    """A ChannelContext rooted in tmp_path whose HTTP goes to `handler` (or nowhere)."""
    from chanpub.http import make_client

    client = make_client(strict_transport(handler))
    journals: dict[str, MemoryJournal] = {}

    def journal(key: str) -> MemoryJournal:
        return journals.setdefault(key, MemoryJournal())

    values: dict[str, Any] = dict(
        organisation="Dinas Kominfo Kota Contoh",
        language="id",
        base_dir=tmp_path,
        state_dir=tmp_path / ".chanpub",
        client_factory=lambda: client,
        journal_factory=journal,
    )
    values.update(overrides)
    return ChannelContext(**values)


def write_release(
    folder: Path,
    *,
    title: str = "Pemkot Buka Layanan Adminduk Keliling",
    body: str | None = None,
    approved: bool = True,
    name: str = "release.md",
    **fields: Any,
) -> Path:
    """Write a release file (approved unless told otherwise) and return its path."""
    import yaml

    from chanpub.release import content_sha256, file_digests

    folder.mkdir(parents=True, exist_ok=True)
    front: dict[str, Any] = {"title": title, **fields}
    text_body = body or (
        "Dinas Kependudukan membuka layanan keliling di 12 kelurahan mulai Senin.\n\n"
        "Warga cukup membawa KTP lama. Informasi lengkap di situs resmi.\n"
    )
    if approved:
        front.update(
            status="approved",
            approved_by="Kepala Dinas",
            approved_at="2026-01-01T00:00:00Z",
            approved_sha256=content_sha256(
                {"title": title, **fields}, text_body, file_digests(folder, fields)
            ),
        )
    path = folder / name
    path.write_text(
        "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n" + text_body,
        encoding="utf-8",
    )
    return path


def sample_release(folder: Path, **fields: Any) -> Release:
    """Write and load an approved release."""
    from chanpub.release import load_release

    return load_release(write_release(folder, **fields))


def sample_links(url: str = "https://kominfo.example.go.id/siaran/contoh.html") -> Links:
    """Links with a canonical URL that the canonical channel has published."""
    return Links(canonical_url=url, predicted=False)


def check_contract(
    adapter: type[Any],
    options: Mapping[str, Any],
    release: Release,
    context: ChannelContext,
    *,
    secrets: tuple[str, ...] = (),
) -> Preview:
    """The checks every adapter must pass. Returns the preview for further assertions.

    - the type has `channel_type`, `Options`, `capabilities`, `preview`, `publish`;
    - unknown options are rejected;
    - `preview` makes no HTTP request (the context's transport refuses all) and returns a
      Preview for this channel;
    - no secret value appears in the preview or the options' repr.
    """
    from pydantic import ValidationError

    for attribute in ("channel_type", "Options", "capabilities", "preview", "publish"):
        assert hasattr(adapter, attribute), f"{adapter.__name__} has no {attribute}"
    try:
        adapter.Options.model_validate({**options, "no_such_option_xyz": 1})
    except ValidationError:
        pass
    else:
        raise AssertionError(f"{adapter.__name__}.Options accepts unknown options")
    model = adapter.Options.model_validate(dict(options))
    offline = ChannelContext(
        organisation=context.organisation,
        language=context.language,
        base_dir=context.base_dir,
        state_dir=context.state_dir,
        client_factory=lambda: _refusing_client(),
    )
    channel = adapter("contract", model, offline)
    preview = channel.preview(release, sample_links())
    assert isinstance(preview, Preview), "preview must return a Preview"
    assert preview.channel == "contract", "preview.channel must be the channel's name"
    shown = repr(preview) + repr(model) + str(model) + preview.text + (preview.html or "")
    for secret in (*secrets, SECRET_MARKER):
        assert secret not in shown, "a secret value shows in the preview or the options"
    return preview


def _refusing_client() -> httpx.Client:
    from chanpub.http import make_client

    return make_client(strict_transport())


def check_receipt(receipt: Any) -> Receipt:
    """publish must return a Receipt with an id, something to show for it (a URL, a file,
    or for many-recipient channels the per-recipient counts), and an aware UTC time."""
    assert isinstance(receipt, Receipt), f"publish returned {type(receipt).__name__}"
    assert receipt.remote_id, "the receipt has no remote id"
    assert receipt.url or receipt.files or "sent" in receipt.details, (
        "the receipt has no URL, no file and no recipient counts"
    )
    assert receipt.published_at.tzinfo is not None, "published_at must be timezone-aware"
    return receipt


@contextmanager
def serve_on_loopback(
    handler: type[BaseHTTPRequestHandler], *, wrap: Callable[[Any], Any] | None = None
) -> Iterator[str]:
    """Run a real HTTP server (a `http.server` handler class) on 127.0.0.1, on a free port,
    in a thread; yields its base URL ("http://127.0.0.1:PORT"). `wrap` may replace the
    listening socket (e.g. with a TLS one); the URL then starts with https."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    scheme = "http"
    if wrap is not None:
        server.socket = wrap(server.socket)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def loopback_client() -> Iterator[httpx.Client]:
    """A real httpx client for servers a test runs on loopback (tests refuse all HTTP
    by default)."""
    import httpx

    from chanpub.http import make_client

    with make_client(httpx.HTTPTransport()) as client:
        yield client


def now() -> datetime:
    """Aware UTC now (for receipts in test adapters)."""
    return datetime.now(UTC)
