"""The six social networks of a communications office, as the strict stand-ins of this
folder, behind one HTTP handler that routes each request by host: what an end-to-end test
gives `chanpub.http.transport_factory` (in process) or serves on loopback
(tests/standins/loopback.py) for a `chanpub send` subprocess.

`channels()` writes the channels.yaml entries pointing at them, `environment()` the
secret variables those entries name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from chanpub.testing import SECRET_MARKER

from .base import StandIn
from .bluesky import PdsStandIn
from .facebook import FacebookStandIn
from .instagram import InstagramStandIn
from .mastodon import MastodonStandIn
from .telegram import TelegramStandIn
from .x import XStandIn

SITE = "https://kominfo.example.go.id/siaran/"
HOSTS = {
    "mastodon": "sosial.kotacontoh.go.id",
    "bluesky": "pds.kotacontoh.go.id",
    "telegram": "api.telegram.org",
    "facebook": "graph.facebook.com",
    "instagram": "graph.instagram.com",
    "x": "api.x.com",
}
SECRETS = {
    "MASTODON_TOKEN": f"masto-{SECRET_MARKER}",
    "BLUESKY_APP_PASSWORD": f"abcd-efgh-{SECRET_MARKER}",
    "TELEGRAM_BOT_TOKEN": f"123456:AA-{SECRET_MARKER}",
    "FACEBOOK_PAGE_TOKEN": f"EAAG-page-{SECRET_MARKER}",
    "INSTAGRAM_ACCESS_TOKEN": f"EAAG-ig-{SECRET_MARKER}",
    "X_OAUTH2_TOKEN": f"oauth2-user-token-{SECRET_MARKER}",
}
PAGE_ID = "104857600123456"
ALT = "Petugas Dukcapil melayani warga di balai kelurahan"
IG_ACCOUNT = "17841400000000001"


class PublicSite:
    """The website's output folder as Instagram fetches it: the bytes at a SITE address."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, url: str) -> bytes | None:
        local = self.folder / url.removeprefix(SITE) if url.startswith(SITE) else None
        return local.read_bytes() if local is not None and local.is_file() else None


class Networks:
    """Mastodon, Bluesky, Telegram, Facebook Page, Instagram and X, each one account, the
    website's folder `site` serving Instagram's picture."""

    def __init__(self, site: Path) -> None:
        self.mastodon = MastodonStandIn(
            SECRETS["MASTODON_TOKEN"], base=f"https://{HOSTS['mastodon']}"
        )
        self.bluesky = PdsStandIn(SECRETS["BLUESKY_APP_PASSWORD"])
        self.telegram = TelegramStandIn(SECRETS["TELEGRAM_BOT_TOKEN"])
        self.facebook = FacebookStandIn(
            SECRETS["FACEBOOK_PAGE_TOKEN"], PAGE_ID, require_alt_text=True
        )
        # Ready at the first status query: the once-a-minute polling is the adapter
        # test's business (tests/channels/test_instagram.py), not a reason to wait here.
        self.instagram = InstagramStandIn(
            SECRETS["INSTAGRAM_ACCESS_TOKEN"], PublicSite(site), IG_ACCOUNT, processing_seconds=0
        )
        self.x = XStandIn(oauth2_token=SECRETS["X_OAUTH2_TOKEN"])
        self.by_host: dict[str, Callable[[httpx.Request], httpx.Response]] = {
            HOSTS["mastodon"]: self.mastodon,
            HOSTS["bluesky"]: self.bluesky,
            HOSTS["telegram"]: self.telegram,
            HOSTS["facebook"]: self.facebook,
            HOSTS["instagram"]: self.instagram,
            HOSTS["x"]: self.x,
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        standin = self.by_host.get(request.url.host)
        if standin is None:
            raise AssertionError(f"no stand-in serves {request.url}")
        return standin(request)

    def each(self) -> dict[str, StandIn]:
        """Network name -> its stand-in."""
        return {
            "mastodon": self.mastodon,
            "bluesky": self.bluesky,
            "telegram": self.telegram,
            "facebook": self.facebook,
            "instagram": self.instagram,
            "x": self.x,
        }

    def transport_factory(self) -> Callable[..., httpx.MockTransport]:
        """What a test puts in `chanpub.http.transport_factory`."""

        def factory(*_args: Any, **_kwargs: Any) -> httpx.MockTransport:
            return httpx.MockTransport(self)

        return factory


def channels(bases: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """channels.yaml entries for the six networks; `bases` (network -> base URL) moves a
    network off its documented host, e.g. to a loopback server."""
    base = {name: f"https://{host}" for name, host in HOSTS.items()} | dict(bases or {})
    return {
        "mastodon": {
            "type": "mastodon",
            "instance": base["mastodon"],
            "token": "${MASTODON_TOKEN}",
        },
        "bluesky": {
            "type": "bluesky",
            "service": base["bluesky"],
            "handle": "kominfo.kotacontoh.go.id",
            "app_password": "${BLUESKY_APP_PASSWORD}",
        },
        "telegram": {
            "type": "telegram",
            "api_base": base["telegram"],
            "bot_token": "${TELEGRAM_BOT_TOKEN}",
            "chat_id": "@kominfokota",
        },
        "facebook": {
            "type": "facebook-page",
            "graph_base": base["facebook"],
            "page_id": PAGE_ID,
            "page_token": "${FACEBOOK_PAGE_TOKEN}",
        },
        "instagram": {
            "type": "instagram",
            "graph_base": base["instagram"],
            "account_id": IG_ACCOUNT,
            "access_token": "${INSTAGRAM_ACCESS_TOKEN}",
        },
        "x": {"type": "x", "api_base": base["x"], "oauth2_token": "${X_OAUTH2_TOKEN}"},
    }


def write_office(folder: Path, entries: Mapping[str, Mapping[str, Any]], *, body: str) -> Path:
    """channels.yaml with `entries` and, in releases/, the approved release with the
    portrait phone photo (tests/phone_photo.py); returns the release's path."""
    import yaml
    from phone_photo import portrait_photo

    from chanpub.testing import write_release

    config = {"organisation": "Diskominfo Kota Contoh", "language": "id", "channels": entries}
    (folder / "channels.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (folder / "releases").mkdir(parents=True, exist_ok=True)
    portrait_photo(folder / "releases" / "foto.jpg")
    return write_release(folder / "releases", body=body, image="foto.jpg", image_alt=ALT)


def website(path: str = "public") -> dict[str, Any]:
    """The canonical static site, published at SITE from the folder `path`."""
    return {"type": "static-site", "canonical": True, "path": path, "base_url": SITE}
