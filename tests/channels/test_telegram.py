"""telegram against a fake Bot API that checks what the real one checks: the token in the
path, the chat, HTML that must parse, the 4,096 / 1,024 limits after entity parsing; it
answers with the {"ok": ...} envelope and `parameters.retry_after`.

Photos follow https://core.telegram.org/bots/api#sendphoto: "The photo must be at most
10 MB in size. The photo's width and height must not exceed 10000 in total. Width and
height ratio must be at most 20." A photo breaking a rule is refused with
PHOTO_INVALID_DIMENSIONS or a too-big error, as the real Bot API does."""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from chanpub.channels.telegram import TelegramChannel, TelegramOptions
from chanpub.errors import AmbiguousError, AuthError, ConfigError, PermanentError, RetryableError
from chanpub.render.shaping import count_utf16
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    check_receipt,
    make_context,
    sample_links,
    sample_release,
)

TOKEN = f"123456:AA-{SECRET_MARKER}"
OPTIONS = {"bot_token": TOKEN, "chat_id": "@kominfokotacontoh"}
PHOTO_MAX_BYTES = 10 * 1000 * 1000


def bot_error(code: int, description: str, **parameters: Any) -> httpx.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx.Response(code, json=body)


def visible(text: str) -> str:
    """The text Telegram shows after parsing HTML (rejecting what it cannot parse)."""
    if re.search(r"<(?!/?(b|i|u|s|a|code|pre|blockquote)\b)", text):
        raise ValueError("can't parse entities: unsupported start tag")
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@dataclass
class FakeBotApi:
    """A channel on a fake Bot API; `fail` answers the next send."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    photos: list[bytes] = field(default_factory=list)
    fail: Callable[[httpx.Request], httpx.Response] | None = None
    chat: dict[str, Any] = field(
        default_factory=lambda: {
            "id": -1001234567890,
            "type": "channel",
            "title": "Kominfo Kota Contoh",
            "username": "kominfokotacontoh",
        }
    )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", request.url.path)
        assert match, "Bot API URLs are /bot<token>/<method>"
        if match.group(1) != TOKEN:
            return bot_error(401, "Unauthorized")
        method = match.group(2)
        if method == "getMe":
            return httpx.Response(
                200,
                json={
                    "ok": True,
                    "result": {"id": 123456, "is_bot": True, "username": "humas_bot"},
                },
            )
        if method not in ("sendMessage", "sendPhoto"):
            return bot_error(404, "Not Found")
        fields = self.fields(request)
        if self.fail is not None:
            failure, self.fail = self.fail, None
            return failure(request)
        if str(fields["chat_id"]) not in ("@kominfokotacontoh", "-1001234567890"):
            return bot_error(400, "Bad Request: chat not found")
        assert fields["parse_mode"] == "HTML"
        text = fields.get("text") if method == "sendMessage" else fields.get("caption", "")
        limit = 4096 if method == "sendMessage" else 1024
        try:
            shown = visible(text or "")
        except ValueError as error:
            return bot_error(400, f"Bad Request: {error}")
        if count_utf16(shown) > limit:
            what = (
                "message is too long" if method == "sendMessage" else "message caption is too long"
            )
            return bot_error(400, f"Bad Request: {what}")
        if method == "sendPhoto" and (problem := self.photo_problem(fields["photo"])):
            return bot_error(400, f"Bad Request: {problem}")
        message = {
            "message_id": 40 + len(self.messages),
            "date": 1767225600,
            "chat": self.chat,
            "text": shown,
            "method": method,
            "reply_to": (
                json.loads(fields["reply_parameters"])
                if isinstance(fields.get("reply_parameters"), str)
                else fields.get("reply_parameters", {})
            ).get("message_id"),
            "link_preview": fields.get("link_preview_options"),
        }
        self.messages.append(message)
        return httpx.Response(200, json={"ok": True, "result": message})

    def photo_problem(self, data: bytes) -> str | None:
        """What sendPhoto refuses in an uploaded photo (see the module docstring)."""
        from PIL import Image

        self.photos.append(data)
        if len(data) > PHOTO_MAX_BYTES:
            return "file is too big"
        with Image.open(io.BytesIO(data)) as picture:
            width, height = picture.size
        if width + height > 10_000 or max(width / height, height / width) > 20:
            return "PHOTO_INVALID_DIMENSIONS"
        return None

    @staticmethod
    def fields(request: httpx.Request) -> dict[str, Any]:
        content_type = request.headers.get("Content-Type", "")
        body = request.read()
        if content_type.startswith("application/json"):
            return dict(json.loads(body))
        from email.parser import BytesParser
        from email.policy import HTTP

        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        parts: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            parts[str(name)] = payload if part.get_filename() else payload.decode()
        return parts


def channel_for(tmp_path: Path, api: FakeBotApi, **options: Any) -> TelegramChannel:
    context = make_context(tmp_path, api, secrets={"bot_token": "TELEGRAM_BOT_TOKEN"})
    return TelegramChannel(
        "telegram", TelegramOptions.model_validate({**OPTIONS, **options}), context
    )


def test_the_adapter_keeps_the_contract(tmp_path: Path) -> None:
    preview = check_contract(
        TelegramChannel, OPTIONS, sample_release(tmp_path), make_context(tmp_path), secrets=(TOKEN,)
    )
    assert preview.limit == 4096


def test_a_message_is_escaped_html_with_the_link_preview(tmp_path: Path) -> None:
    api = FakeBotApi()
    channel = channel_for(tmp_path, api)
    release = sample_release(
        tmp_path,
        title="Rapat <Pleno> & Sosialisasi",
        summary="Dukcapil & kelurahan: 5 < 10 hari kerja.",
    )
    receipt = check_receipt(channel.publish(channel.preview(release, sample_links()), key="m"))
    assert receipt.remote_id == "40" and receipt.url == "https://t.me/kominfokotacontoh/40"
    sent = api.messages[0]
    assert sent["text"].startswith("Rapat <Pleno> & Sosialisasi")
    assert sent["link_preview"] == {"url": sample_links().canonical_url}


def test_a_long_text_is_cut_to_4096_units_keeping_the_link(tmp_path: Path) -> None:
    api = FakeBotApi()
    channel = channel_for(tmp_path, api)
    release = sample_release(tmp_path, summary="Warga & perangkat 🏛️ kelurahan hadir. " * 200)
    preview = channel.preview(release, sample_links())
    assert preview.length is not None and 4000 < preview.length <= 4096
    channel.publish(preview, key="long")
    assert sample_links().canonical_url in api.messages[0]["text"]


def test_with_an_image_the_caption_fits_1024(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (1080, 1080), "navy").save(tmp_path / "poster.png")
    release = sample_release(
        tmp_path, image="poster.png", image_alt="Poster", summary="Ringkasan panjang. " * 100
    )
    api = FakeBotApi()
    channel = channel_for(tmp_path, api)
    preview = channel.preview(release, sample_links())
    assert preview.limit == 1024 and preview.length is not None and preview.length <= 1024
    channel.publish(preview, key="photo")
    assert api.messages[0]["method"] == "sendPhoto"
    assert sample_links().canonical_url in api.messages[0]["text"]


def test_a_2_4_mb_portrait_phone_photo_goes_as_a_photo_without_its_location(
    tmp_path: Path,
) -> None:
    from phone_photo import metadata_of, portrait_photo

    portrait_photo(tmp_path / "foto.jpg")
    release = sample_release(tmp_path, image="foto.jpg", image_alt="Petugas melayani warga")
    api = FakeBotApi()
    channel = channel_for(tmp_path, api)
    preview = channel.preview(release, sample_links())
    assert "image: 1080x1920 (9:16), JPEG" in "\n".join(preview.warnings)
    check_receipt(channel.publish(preview, key="photo"))
    (photo,) = api.photos
    assert metadata_of(photo)["size"] == (1080, 1920) and metadata_of(photo)["gps"] == {}


def test_a_panorama_beyond_the_ratio_of_20_is_padded_not_refused(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (9000, 300), "white").save(tmp_path / "spanduk.png")
    release = sample_release(tmp_path, image="spanduk.png", image_alt="Spanduk acara")
    api = FakeBotApi()
    channel = channel_for(tmp_path, api)
    channel.publish(channel.preview(release, sample_links()), key="wide")
    width, height = metadata_of_size(api.photos[0])
    assert width + height <= 10_000 and width / height <= 20


def test_the_stand_in_refuses_photos_telegram_refuses() -> None:
    from PIL import Image

    api = FakeBotApi()
    buffer = io.BytesIO()
    Image.new("RGB", (6000, 200)).save(buffer, "PNG")
    assert api.photo_problem(buffer.getvalue()) == "PHOTO_INVALID_DIMENSIONS"
    assert api.photo_problem(b"\xff" * (PHOTO_MAX_BYTES + 1)) == "file is too big"


def metadata_of_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as picture:
        return picture.size


def test_a_numeric_private_chat_has_no_public_link(tmp_path: Path) -> None:
    api = FakeBotApi(chat={"id": -1001234567890, "type": "channel", "title": "Internal"})
    channel = channel_for(tmp_path, api, chat_id=-1001234567890)
    receipt = channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="n")
    assert receipt.remote_id == "40" and receipt.url is None
    assert receipt.details["chat_id"] == "-1001234567890"


def test_flood_control_waits_retry_after(tmp_path: Path) -> None:
    api = FakeBotApi(
        fail=lambda r: bot_error(429, "Too Many Requests: retry after 17", retry_after=17)
    )
    channel = channel_for(tmp_path, api)
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="fl")
    assert caught.value.retry_after == 17


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (bot_error(401, "Unauthorized"), AuthError, "TELEGRAM_BOT_TOKEN"),
        (
            bot_error(403, "Forbidden: bot is not a member of the channel chat"),
            PermanentError,
            "administrator",
        ),
        (bot_error(400, "Bad Request: chat not found"), PermanentError, "chat_id"),
        (
            bot_error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=-1009876543210,
            ),
            PermanentError,
            "-1009876543210",
        ),
        (bot_error(502, "Bad Gateway"), AmbiguousError, "502"),
    ],
)
def test_failures_are_classified_and_explained(
    tmp_path: Path, answer: httpx.Response, error: type[Exception], words: str
) -> None:
    channel = channel_for(tmp_path, FakeBotApi(fail=lambda r: answer))
    with pytest.raises(error) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="f")
    shown = f"{caught.value} {caught.value.hint or ''}"  # type: ignore[attr-defined]
    assert words in shown and TOKEN not in shown and SECRET_MARKER not in shown


def test_a_timeout_after_sending_is_left_for_a_person(tmp_path: Path) -> None:
    api = FakeBotApi()

    def send_then_time_out(request: httpx.Request) -> httpx.Response:
        api.fail = None
        api(request)
        raise httpx.ReadTimeout("no answer", request=request)

    api.fail = send_then_time_out
    channel = channel_for(tmp_path, api)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    with pytest.raises(AmbiguousError) as caught:
        channel.publish(preview, key="amb")
    assert "may have been applied" in str(caught.value) and SECRET_MARKER not in str(caught.value)
    assert not hasattr(channel, "lookup"), "the Bot API cannot read a channel back"
    assert len(api.messages) == 1
    # A person checked the channel and said it did not arrive: the next run sends it.
    channel.publish(preview, key="amb")
    assert len(api.messages) == 2


def test_a_thread_replies_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    api = FakeBotApi()
    channel = channel_for(tmp_path, api, thread=True)
    release = sample_release(
        tmp_path, summary="Paragraf ringkasan. " * 150, body="Isi siaran pers yang panjang. " * 200
    )
    preview = channel.preview(release, sample_links())
    parts = list(preview.parts)
    assert len(parts) >= 3 and sample_links().canonical_url in parts[0]
    sent = 0

    original = api.__call__

    def flood_on_third(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        if sent == 3:
            return bot_error(429, "Too Many Requests: retry after 3", retry_after=3)
        return original(request)

    with pytest.raises(RetryableError):
        TelegramChannel(
            "telegram",
            channel.options,
            make_context(tmp_path, flood_on_third, journal_factory=channel.context.journal_factory),
        ).publish(preview, key="th")
    assert len(api.messages) == 2
    receipt = channel.publish(preview, key="th")
    assert len(api.messages) == len(parts) and receipt.details["parts"] == len(parts)
    for parent, reply in zip(api.messages, api.messages[1:], strict=False):
        assert reply["reply_to"] == parent["message_id"]


def test_verify_calls_getme(tmp_path: Path) -> None:
    channel_for(tmp_path, FakeBotApi()).verify()
    with pytest.raises(AuthError, match="TELEGRAM_BOT_TOKEN"):
        channel_for(tmp_path, FakeBotApi(), bot_token="654321:wrong").verify()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"chat_id": "kominfokotacontoh"}, "numeric id"),
        ({"chat_id": "@ab"}, "numeric id"),
        ({"chat_id": "https://t.me/kominfo"}, "numeric id"),
        ({"api_base": "api.telegram.org"}, "web address"),
        ({"token": "x"}, "Extra inputs"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TelegramOptions.model_validate({**OPTIONS, **options})


def test_a_numeric_chat_id_may_be_written_as_a_number() -> None:
    assert TelegramOptions.model_validate({**OPTIONS, "chat_id": -100123}).chat_id == "-100123"


def test_a_template_with_an_unknown_field_fails_the_check(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"channels\.telegram\.template"):
        channel_for(tmp_path, FakeBotApi(), template="{{ title }} {{ link }}").check()
