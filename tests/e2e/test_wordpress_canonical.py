"""A whole run with WordPress as the canonical channel: every other channel links to the
post WordPress made (real WordPress on loopback; Mastodon through a checking handler)."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from chanpub import actions, http
from chanpub.config import load_config
from chanpub.testing import write_release

pytestmark = pytest.mark.e2e


def routed_transport(
    wordpress_url: str, statuses: list[dict[str, list[str]]]
) -> httpx.BaseTransport:
    """Loopback WordPress for real; mastodon.example answered as Mastodon's API does."""
    real = httpx.HTTPTransport()

    def mastodon(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/statuses" and request.method == "POST"
        assert request.headers["Authorization"] == "Bearer toot-token-for-tests"
        assert request.headers["Idempotency-Key"]
        form = parse_qs(request.content.decode())
        statuses.append(form)
        return httpx.Response(
            200,
            json={
                "id": "1101",
                "url": "https://mastodon.example/@kominfo/1101",
                "uri": "https://mastodon.example/users/kominfo/statuses/1101",
                "created_at": "2026-09-03T01:00:00.000Z",
                "content": form["status"][0],
            },
        )

    mocked = httpx.MockTransport(mastodon)

    class Router(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if str(request.url).startswith(wordpress_url):
                return real.handle_request(request)
            assert request.url.host == "mastodon.example", f"unexpected {request.url}"
            return mocked.handle_request(request)

        def close(self) -> None:
            real.close()

    return Router()


def test_posts_mail_and_poster_carry_the_wordpress_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wordpress_site: dict[str, str]
) -> None:
    monkeypatch.setenv("WP_USER", wordpress_site["user"])
    monkeypatch.setenv("WP_APP_PASSWORD", wordpress_site["password"])
    monkeypatch.setenv("MASTODON_TOKEN", "toot-token-for-tests")
    (tmp_path / "channels.yaml").write_text(
        f"""
organisation: Diskominfo Kota Contoh
language: id
channels:
  website:
    type: wordpress
    canonical: true
    site: {wordpress_site["url"]}
    username: ${{WP_USER}}
    app_password: ${{WP_APP_PASSWORD}}
  toots:
    type: mastodon
    instance: https://mastodon.example
    token: ${{MASTODON_TOKEN}}
  poster:
    type: poster-pdf
    out: posters
  press:
    type: email
    transport: outbox
    path: outbox
    from: "Humas <humas@example.go.id>"
    lists: ["redaksi@media.example.com"]
    attach: [poster]
""",
        encoding="utf-8",
    )
    slug = f"wp-canonical-{tmp_path.name[-12:].lower().strip('_-')}".replace("_", "-")
    release = write_release(tmp_path / "releases", title="Layanan Adminduk Keliling", slug=slug)
    statuses: list[dict[str, list[str]]] = []
    monkeypatch.setattr(
        http, "transport_factory", lambda: routed_transport(wordpress_site["url"], statuses)
    )
    http.close_shared_client()

    result = actions.send([release], load_config(tmp_path / "channels.yaml"))

    outcomes = {o.channel: o for o in result.releases[0].outcomes}
    assert {name: o.status for name, o in outcomes.items()} == {
        "website": "published",
        "toots": "published",
        "poster": "published",
        "press": "published",
    }, {name: o.error for name, o in outcomes.items()}
    link = outcomes["website"].url
    assert link and link.startswith(wordpress_site["url"]) and slug in link
    page = httpx.get(link, follow_redirects=True)
    assert page.status_code == 200 and "Layanan Adminduk Keliling" in page.text

    assert link in statuses[0]["status"][0]
    share = next((tmp_path / "posters").rglob("*.txt")).read_text(encoding="utf-8")
    assert link in share
    message = email.message_from_bytes(
        next((tmp_path / "outbox").rglob("*.eml")).read_bytes(), policy=email.policy.default
    )
    body = message.get_body(("plain",))
    assert body is not None and link in body.get_content()
    attachments = [part.get_filename() for part in message.iter_attachments()]
    assert any(name and name.endswith(".pdf") for name in attachments)
    history = actions.history(load_config(tmp_path / "channels.yaml"), slug)
    assert {row.channel: row.url for row in history}["website"] == link
    assert json.loads(json.dumps(result.to_json()))["releases"][0]["slug"] == slug
