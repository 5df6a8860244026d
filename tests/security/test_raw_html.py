"""Raw HTML in a release body is treated alike on every channel: what the website shows
once the sanitiser has dropped scripts, event handlers and comments is the text that print,
e-mail text parts and social posts show too, never the markup itself."""

from __future__ import annotations

import email
import email.policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from offices import POSTER, WEBSITE, office_yaml, press
from pypdf import PdfReader
from typer.testing import CliRunner

from chanpub.channels.mastodon import MastodonChannel
from chanpub.channels.telegram import TelegramChannel
from chanpub.cli import app
from chanpub.contract import Links
from chanpub.release import load_release
from chanpub.testing import make_context, write_release

BODY = """Warga diminta tenang. <script>alert('xss')</script>Ini <b>bold</b> teks. \
<img src=x onerror="alert('img')"><!-- catatan internal -->Selesai.

Paragraf kedua: <i>miring</i> dan [tautan](https://kominfo.example.go.id/info).
"""
SHOWN = "Warga diminta tenang. Ini bold teks. Selesai."
MARKUP = ("<script", "alert", "<b>", "</b>", "onerror", "<img", "<!--", "catatan internal")

CONFIG = office_yaml(WEBSITE, POSTER, press("Redaksi <redaksi@media.example.com>"), language=None)


class VisibleText(HTMLParser):
    """The text a browser shows of an HTML page: no script, style or head contents."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.hidden += tag in ("script", "style", "head")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style", "head")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def office(tmp_path: Path) -> Path:
    (tmp_path / "channels.yaml").write_text(CONFIG, encoding="utf-8")
    write_release(tmp_path / "releases", body=BODY)
    result = CliRunner().invoke(
        app, ["send", str(tmp_path / "releases"), "--config", str(tmp_path / "channels.yaml")]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    return tmp_path


def test_the_website_shows_the_text_without_the_markup(office: Path) -> None:
    (page,) = [p for p in (office / "public").glob("*.html") if p.name != "index.html"]
    shown = visible(page.read_text(encoding="utf-8"))
    assert SHOWN in shown
    assert "Paragraf kedua: miring dan tautan" in shown
    assert not [piece for piece in MARKUP if piece in shown]


def test_the_poster_prints_what_the_website_shows(office: Path) -> None:
    (pdf,) = (office / "posters").rglob("*.pdf")
    printed = words(" ".join(page.extract_text() for page in PdfReader(pdf).pages))
    assert SHOWN in printed
    assert not [piece for piece in MARKUP if piece in printed]


def test_the_e_mail_text_part_says_what_the_website_shows(office: Path) -> None:
    (eml,) = (office / "outbox").rglob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    plain = message.get_body(("plain",))
    assert plain is not None
    text = words(plain.get_content())  # type: ignore[attr-defined]
    assert SHOWN in text
    assert "Paragraf kedua: miring dan tautan (https://kominfo.example.go.id/info)" in text
    assert not [piece for piece in MARKUP if piece in text]


def test_social_posts_say_what_the_website_shows(tmp_path: Path) -> None:
    release = load_release(write_release(tmp_path / "releases", body=BODY))
    links = Links("https://kominfo.example.go.id/siaran/adminduk.html", predicted=False)
    context = make_context(tmp_path)
    toots = MastodonChannel(
        "toots",
        MastodonChannel.Options.model_validate(
            {"instance": "https://mastodon.example", "token": "token-for-tests"}
        ),
        context,
    )
    telegram = TelegramChannel(
        "telegram",
        TelegramChannel.Options.model_validate(
            {"bot_token": "123456:token-for-tests", "chat_id": "@kominfokota"}
        ),
        context,
    )
    for preview in (toots.preview(release, links), telegram.preview(release, links)):
        text = words(preview.text)
        assert SHOWN in text, preview.channel
        assert not [piece for piece in MARKUP if piece in text], preview.channel
