"""telegram against the strict Bot API stand-in (tests/standins/telegram.py), which checks
what the real one checks: the token in the path, the chat, HTML that must parse, the 4,096 /
1,024 limits after entity parsing; it answers with the {"ok": ...} envelope and
`parameters.retry_after`.

Photos follow https://core.telegram.org/bots/api#sendphoto: "The photo must be at most
10 MB in size. The photo's width and height must not exceed 10000 in total. Width and
height ratio must be at most 20." The stand-in refuses a photo breaking a rule with
PHOTO_INVALID_DIMENSIONS or a too-big error, as the real Bot API does."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from standins.telegram import TelegramStandIn

from chanpub.channels.telegram import TelegramChannel, TelegramOptions
from chanpub.errors import AmbiguousError, AuthError, ConfigError, PermanentError, RetryableError
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


def bot_error(code: int, description: str, **parameters: Any) -> httpx.Response:
    """An error answer in the Bot API's envelope."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx.Response(code, json=body)


def bot_api(**kwargs: Any) -> TelegramStandIn:
    """The bot administers the channel @kominfokotacontoh."""
    return TelegramStandIn(TOKEN, kwargs.pop("chat_id", "@kominfokotacontoh"), **kwargs)


def channel_for(tmp_path: Path, api: Any, **options: Any) -> TelegramChannel:
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
    api = bot_api()
    channel = channel_for(tmp_path, api)
    release = sample_release(
        tmp_path,
        title="Rapat <Pleno> & Sosialisasi",
        summary="Dukcapil & kelurahan: 5 < 10 hari kerja.",
    )
    receipt = check_receipt(channel.publish(channel.preview(release, sample_links()), key="m"))
    assert receipt.remote_id == "101" and receipt.url == "https://t.me/kominfokotacontoh/101"
    (sent,) = api.live()
    assert sent["text"].startswith("Rapat <Pleno> & Sosialisasi")
    assert sent["link_preview"] == {"url": sample_links().canonical_url}


def test_a_long_text_is_cut_to_4096_units_keeping_the_link(tmp_path: Path) -> None:
    api = bot_api()
    channel = channel_for(tmp_path, api)
    release = sample_release(tmp_path, summary="Warga & perangkat 🏛️ kelurahan hadir. " * 200)
    preview = channel.preview(release, sample_links())
    assert preview.length is not None and 4000 < preview.length <= 4096
    channel.publish(preview, key="long")
    assert sample_links().canonical_url in api.live()[0]["text"]


def test_with_an_image_the_caption_fits_1024(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (1080, 1080), "navy").save(tmp_path / "poster.png")
    release = sample_release(
        tmp_path, image="poster.png", image_alt="Poster", summary="Ringkasan panjang. " * 100
    )
    api = bot_api()
    channel = channel_for(tmp_path, api)
    preview = channel.preview(release, sample_links())
    assert preview.limit == 1024 and preview.length is not None and preview.length <= 1024
    receipt = channel.publish(preview, key="photo")
    assert api.live()[0]["kind"] == "photo" and receipt.details["photo"] is True
    assert sample_links().canonical_url in api.live()[0]["text"]


def test_a_2_4_mb_portrait_phone_photo_goes_as_a_photo_without_its_location(
    tmp_path: Path,
) -> None:
    from phone_photo import metadata_of, portrait_photo

    portrait_photo(tmp_path / "foto.jpg")
    release = sample_release(tmp_path, image="foto.jpg", image_alt="Petugas melayani warga")
    api = bot_api()
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
    api = bot_api()
    channel = channel_for(tmp_path, api)
    channel.publish(channel.preview(release, sample_links()), key="wide")
    width, height = metadata_of_size(api.photos[0])
    assert width + height <= 10_000 and width / height <= 20


def metadata_of_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as picture:
        return picture.size


def test_a_numeric_private_chat_has_no_public_link(tmp_path: Path) -> None:
    api = bot_api(chat_id="-1001234567890")
    channel = channel_for(tmp_path, api, chat_id=-1001234567890)
    receipt = channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="n")
    assert receipt.remote_id == "101" and receipt.url is None
    assert receipt.details["chat_id"] == "-1001234567890"


def test_flood_control_waits_retry_after(tmp_path: Path) -> None:
    api = bot_api()
    api.throttle(17)
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
    channel = channel_for(tmp_path, lambda request: answer)
    with pytest.raises(error) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), key="f")
    shown = f"{caught.value} {caught.value.hint or ''}"  # type: ignore[attr-defined]
    assert words in shown and TOKEN not in shown and SECRET_MARKER not in shown


def test_a_timeout_after_sending_is_ambiguous_and_left_for_a_person(tmp_path: Path) -> None:
    api = bot_api()
    api.drop_answer("POST", "/sendMessage")
    channel = channel_for(tmp_path, api)
    release = sample_release(tmp_path)
    preview = channel.preview(release, sample_links())
    with pytest.raises(AmbiguousError) as caught:
        channel.publish(preview, key="amb")
    message = str(caught.value)
    assert "may have been applied" in message and SECRET_MARKER not in message
    assert not hasattr(channel, "lookup"), "the Bot API cannot read a channel back"
    # dispatch names the resolve command: see test_an_unanswered_send_names_the_resolve_command_...
    assert len(api.live()) == 1
    # A person checked the channel and said it did not arrive: the next run sends it.
    channel.publish(preview, key="amb")
    assert len(api.live()) == 2


def test_a_thread_replies_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    api = bot_api()
    channel = channel_for(tmp_path, api, thread=True)
    release = sample_release(
        tmp_path, summary="Paragraf ringkasan. " * 150, body="Isi siaran pers yang panjang. " * 200
    )
    preview = channel.preview(release, sample_links())
    parts = list(preview.parts)
    assert len(parts) >= 3 and sample_links().canonical_url in parts[0]
    sent = 0

    def flood_on_third(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        if sent == 3:
            return bot_error(429, "Too Many Requests: retry after 3", retry_after=3)
        return api(request)

    with pytest.raises(RetryableError):
        TelegramChannel(
            "telegram",
            channel.options,
            make_context(tmp_path, flood_on_third, journal_factory=channel.context.journal_factory),
        ).publish(preview, key="th")
    assert len(api.live()) == 2
    receipt = channel.publish(preview, key="th")
    messages = api.live()
    assert len(messages) == len(parts) and receipt.details["parts"] == len(parts)
    for parent, reply in itertools.pairwise(messages):
        assert reply["reply_to"] == parent["message_id"]


def test_verify_calls_getme(tmp_path: Path) -> None:
    channel_for(tmp_path, bot_api()).verify()
    with pytest.raises(AuthError, match="TELEGRAM_BOT_TOKEN"):
        channel_for(tmp_path, bot_api(), bot_token="654321:wrong").verify()


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
        channel_for(tmp_path, bot_api(), template="{{ title }} {{ link }}").check()


def test_an_unanswered_send_names_the_resolve_command_in_the_run_and_in_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from chanpub import http
    from chanpub.cli import app
    from chanpub.testing import write_release

    api = bot_api(chat_id="@kominfokota")
    api.drop_answer("POST", "/sendMessage")
    monkeypatch.setattr(http, "transport_factory", lambda: httpx.MockTransport(api))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    (tmp_path / "channels.yaml").write_text(
        "organisation: Diskominfo Kota Contoh\n"
        "channels:\n"
        "  kanal:\n"
        "    type: telegram\n"
        "    bot_token: ${TELEGRAM_BOT_TOKEN}\n"
        "    chat_id: '@kominfokota'\n",
        encoding="utf-8",
    )
    write_release(tmp_path / "releases")
    monkeypatch.chdir(tmp_path)
    slug = "pemkot-buka-layanan-adminduk-keliling"
    command = f"chanpub resolve {slug} kanal"

    sent = CliRunner().invoke(app, ["send", "releases/"])
    assert sent.exit_code == 1 and len(api.live()) == 1
    assert f"{command} --published URL" in sent.stdout
    assert f"{command} --not-published" in sent.stdout
    history = CliRunner().invoke(app, ["history", slug, "--json"])
    (row,) = json.loads(history.stdout)["deliveries"]
    assert row["status"] == "needs_check" and f"{command} --not-published" in row["error"]
    # The next run does not send again: it waits for the person.
    again = CliRunner().invoke(app, ["send", "releases/"])
    assert again.exit_code == 1 and len(api.live()) == 1 and command in again.stdout
