"""The preview page: one self-contained HTML file with a card per configured channel,
flags for what the approver should know, the content hash, and never a secret."""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.config import ChannelConfig, load_config
from chanpub.contract import Capabilities, ChannelContext, Links, Preview, Receipt
from chanpub.errors import ExitCode
from chanpub.preview import build_preview, render_preview, write_preview
from chanpub.release import Release, load_release
from chanpub.testing import SECRET_MARKER, write_release

EXAMPLES = Path(__file__).parent.parent / "examples"

CONFIG = """organisation: Diskominfo Kota Contoh
language: id
channels:
  website:
    type: static-site
    canonical: true
    path: public
    base_url: https://kominfo.example.go.id/siaran/
  press:
    type: email
    transport: outbox
    path: outbox
    from: "Humas <humas@example.go.id>"
    lists: ["Redaksi <redaksi@media.example.com>"]
  mastodon:
    type: mastodon
    instance: https://mastodon.example
    token: ${MASTODON_TOKEN}
  telegram:
    type: telegram
    bot_token: ${TELEGRAM_BOT_TOKEN}
    chat_id: "@diskominfo_contoh"
  bluesky:
    type: bluesky
    enabled: false
    handle: diskominfo.example.com
    app_password: ${BLUESKY_APP_PASSWORD}
"""
POSTER = """  poster:
    type: poster-pdf
    out: posters
"""


def add_poster(office: Path) -> None:
    """Add a poster channel (rendering it takes a second or two, so only some tests do)."""
    with (office / "channels.yaml").open("a", encoding="utf-8") as config:
        config.write(POSTER)


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An office with six channels: Telegram's token set, Mastodon's missing, Bluesky off."""
    (tmp_path / "channels.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "releases").mkdir()
    shutil.copy(EXAMPLES / "layanan-keliling.jpg", tmp_path / "releases" / "foto.jpg")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", f"123456:{SECRET_MARKER}")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", f"app-{SECRET_MARKER}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def release_file(office: Path, **fields: object) -> Path:
    fields.setdefault("image", "foto.jpg")
    fields.setdefault("image_alt", "Mobil layanan keliling di depan kantor kelurahan")
    return write_release(office / "releases", **fields)


def cards(page_html: str) -> dict[str, str]:
    """Each channel's card, by its name."""
    found = re.findall(
        r'<section class="card[^"]*" data-channel="([^"]+)"(.*?)</section>', page_html, re.DOTALL
    )
    return dict(found)


def test_every_configured_channel_has_a_card_and_unsent_ones_say_why(office: Path) -> None:
    add_poster(office)
    page = write_preview(release_file(office), load_config(office / "channels.yaml"))
    text = page.read_text(encoding="utf-8")
    found = cards(text)
    assert list(found) == ["website", "press", "mastodon", "telegram", "bluesky", "poster"]
    assert "will be sent" in found["telegram"]
    assert "not sent: missing secret MASTODON_TOKEN" in found["mastodon"]
    assert "not sent: disabled" in found["bluesky"]
    assert "graphemes" in found["bluesky"]  # a disabled channel still shows its post
    assert (
        page == office / ".chanpub" / "preview" / f"{page.stem.removesuffix('-preview')}"
        "-preview.html"
    )


def test_the_page_needs_no_network(office: Path) -> None:
    add_poster(office)
    text = write_preview(release_file(office), load_config(office / "channels.yaml")).read_text()
    assert not re.search(r'(src|href)="(https?:)?//', text)  # links in frames are escaped
    assert "<script" not in text
    assert text.count("data:image/jpeg;base64,") >= 2  # the release picture, inline
    assert "data:image/png;base64," in cards(text)["poster"]  # the rendered poster
    assert text.count(" sandbox ") == 2  # website article and e-mail body
    assert "Content-Security-Policy" in text


def test_the_hash_approve_records_is_shown(office: Path) -> None:
    path = release_file(office)
    release = load_release(path)
    text = write_preview(path, load_config(office / "channels.yaml")).read_text()
    assert f'<code id="content-hash">{release.content_sha256}</code>' in text
    assert "approved by Kepala Dinas" in text


def test_a_draft_says_nothing_goes_out(office: Path) -> None:
    text = write_preview(
        release_file(office, approved=False), load_config(office / "channels.yaml")
    ).read_text()
    assert "draft: nothing goes out until it is approved" in text


def test_secrets_never_appear(office: Path) -> None:
    text = write_preview(release_file(office), load_config(office / "channels.yaml")).read_text()
    assert SECRET_MARKER not in text
    assert SECRET_MARKER not in html.unescape(text)


def test_release_text_is_escaped_everywhere(office: Path) -> None:
    path = release_file(office, title="Uji <script>alert(1)</script> & <b>tebal</b>")
    text = write_preview(path, load_config(office / "channels.yaml")).read_text()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;tebal&lt;/b&gt;" in text


class SmsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmsChannel:
    """An outside adapter whose preview is over its limit and has a picture without alt."""

    channel_type: ClassVar[str] = "sms"
    Options: ClassVar[type[BaseModel]] = SmsOptions
    capabilities: ClassVar[Capabilities] = Capabilities(max_length=160, images=1)

    def __init__(self, name: str, options: SmsOptions, context: ChannelContext) -> None:
        self.name, self.options, self.context = name, options, context

    def preview(self, release: Release, links: Links) -> Preview:
        text = f"{release.title}: {release.summary} {links.canonical_url}"
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text=text,
            length=len(text),
            limit=160,
            attachments=(release.image,),
            image_alt="",
        )

    def publish(self, preview: Preview, key: str) -> Receipt:
        raise AssertionError("the preview page never publishes")


def test_over_limit_and_missing_alt_text_are_flagged(office: Path) -> None:
    config = load_config(office / "channels.yaml")
    sms = ChannelConfig(
        name="sms",
        type="sms",
        adapter=SmsChannel,  # type: ignore[arg-type]
        options=SmsOptions(),
    )
    config = replace(config, channels={**config.channels, "sms": sms})
    page = build_preview(release_file(office, summary="Layanan keliling. " * 12), config)
    card = next(card for card in page.cards if card.name == "sms")
    assert card.flags[0].level == "error"
    assert card.flags[0].text.endswith("of 160 characters: over the limit")
    assert any("no alt text" in flag.text for flag in card.flags)
    shown = cards(render_preview(page, config))["sms"]
    assert '<p class="count over">' in shown and "No alt text" in shown


def test_a_shortened_post_is_flagged(office: Path) -> None:
    long_summary = "Warga dapat mengurus dokumen kependudukan di mobil keliling. " * 12
    page = build_preview(
        release_file(office, summary=long_summary), load_config(office / "channels.yaml")
    )
    bluesky = next(card for card in page.cards if card.name == "bluesky")
    assert bluesky.length is not None and bluesky.limit == 300
    assert bluesky.length <= 300
    assert any("shortened" in flag.text for flag in bluesky.flags)


def test_a_release_limited_to_some_channels_flags_the_rest(office: Path) -> None:
    path = release_file(office, channels=["website"])
    page = build_preview(path, load_config(office / "channels.yaml"))
    press = next(card for card in page.cards if card.name == "press")
    assert not press.sending
    assert "lists only website" in press.flags[0].text


def test_command_writes_the_page_where_asked(office: Path) -> None:
    path = release_file(office)
    result = CliRunner().invoke(app, ["preview", str(path), "--out", "pages"])
    assert result.exit_code == ExitCode.OK, result.stderr
    written = sorted((office / "pages").glob("*-preview.html"))
    assert len(written) == 1
    assert result.stdout.strip() == f"wrote {Path('pages') / written[0].name}"
    assert result.stderr == ""


def test_command_exits_2_for_a_missing_release(office: Path) -> None:
    result = CliRunner().invoke(app, ["preview", "releases/nothing.md"])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "releases/nothing.md: no such file or folder" in result.stderr
    assert result.stdout == ""


def test_an_endpoint_address_stays_off_the_page(
    office: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET_MARKER)
    # Some webhook addresses work as passwords (the token is in the path).
    with (office / "channels.yaml").open("a", encoding="utf-8") as config:
        config.write(
            "  hook:\n    type: webhook\n"
            "    url: https://hook.example.go.id/T0KEN-in-the-path\n"
            "    secret: ${WEBHOOK_SECRET}\n"
        )
    text = write_preview(release_file(office), load_config(office / "channels.yaml")).read_text()
    assert "hook" in cards(text)
    assert "T0KEN-in-the-path" not in text


def notice_board_channel() -> type:
    """The outside adapter of tests/adapter_pkg, imported as its package would be."""
    import importlib
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "adapter_pkg"))
    try:
        return importlib.import_module("chanpub_notice").NoticeBoardChannel  # type: ignore[no-any-return]
    finally:
        sys.path.pop(0)


def test_an_outside_adapter_gets_a_card_as_good_as_a_built_in_one(office: Path) -> None:
    channel_class = notice_board_channel()
    config = load_config(office / "channels.yaml")
    board = ChannelConfig(
        name="papan",
        type="notice-board",
        adapter=channel_class,
        options=channel_class.Options(board="papan.txt", card_chars=40),
    )
    config = replace(config, channels={**config.channels, "papan": board})
    page = build_preview(EXAMPLES / "release.md", config)
    card = next(card for card in page.cards if card.name == "papan")
    assert card.kind == "social" and card.sending
    assert len(card.parts) >= 3 and "".join(card.parts).startswith("Pemkot Buka")
    assert card.image is not None and card.image.startswith("data:image/")
    assert ("Board", "papan.txt") in card.details
    shown = cards(render_preview(page, config))["papan"]
    assert shown.count('<pre class="post">') == len(card.parts) and "<img" in shown


ADAPTER_TYPES = (
    "static-site", "email", "poster-pdf", "letter-pdf", "mastodon", "bluesky", "telegram",
    "facebook-page", "instagram", "wordpress", "micropub", "webhook",
)  # fmt: skip
PAYLOAD_KEYS = ("parts", "from", "reply_to", "size", "qr", "orientation", "image_alt", "files")


@pytest.mark.parametrize("module", ["preview.py", "output.py", "dispatch.py"])
def test_the_core_names_no_adapter_and_reads_no_adapter_payload(module: str) -> None:
    source = (Path(__file__).parent.parent / "chanpub" / module).read_text(encoding="utf-8")
    for name in ADAPTER_TYPES:
        assert f'"{name}"' not in source and f"'{name}'" not in source, (module, name)
    for key in PAYLOAD_KEYS:
        assert f'data["{key}"]' not in source and f'data.get("{key}"' not in source, (module, key)
    assert "preview.data" not in source and ".data[" not in source and ".data.get(" not in source


def test_an_attachment_shows_its_size_in_the_units_smtp_servers_state(office: Path) -> None:
    config_file = office / "channels.yaml"
    config_file.write_text(
        config_file.read_text(encoding="utf-8").replace(
            '    lists: ["Redaksi <redaksi@media.example.com>"]\n',
            '    lists: ["Redaksi <redaksi@media.example.com>"]\n    attach: [image]\n',
        ),
        encoding="utf-8",
    )
    photo = office / "releases" / "foto.jpg"
    photo.write_bytes(photo.read_bytes() + b"\0" * (1_500_000 - photo.stat().st_size))

    page = build_preview(release_file(office), load_config(config_file))

    card = next(card for card in page.cards if card.name == "press")
    assert card.attachments == ("foto.jpg (1.5 MB)",)  # 1,500,000 bytes; SIZE 10000000 is 10 MB
