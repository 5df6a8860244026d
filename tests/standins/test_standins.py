"""The stand-ins hold to their platforms' rules: for each rule, one request the real service
accepts and one it refuses with its documented code (Mastodon, Telegram and the shared
parts; X is in test_standins_x.py, the Meta products in test_standins_meta.py)."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest

from .base import inspect_image, make_image
from .mastodon import MastodonStandIn, mastodon_length
from .telegram import TelegramStandIn, parse_html

MASTO = "https://sosial.kotacontoh.go.id"
TG = "https://api.telegram.org/bot123456:SECRET"
URL = "https://id.wikipedia.org/wiki/Jawa_(pulau)"


def client(standin: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(standin))


# --- shared -----------------------------------------------------------------------------


def test_a_dropped_answer_is_applied_and_then_lost() -> None:
    masto = MastodonStandIn("tok")
    masto.drop_answer("POST", "/api/v1/statuses")
    with pytest.raises(httpx.ReadTimeout):
        client(masto).post(
            f"{MASTO}/api/v1/statuses",
            data={"status": "Halo"},
            headers={"Authorization": "Bearer tok"},
        )
    assert [s["text"] for s in masto.live()] == ["Halo"]


def test_images_are_seen_as_displayed_with_exif_orientation() -> None:
    from PIL import Image

    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait (a phone held upright)
    Image.new("RGB", (1920, 1080)).save(out, "JPEG", exif=exif.tobytes())
    info = inspect_image(out.getvalue())
    assert info is not None and (info.format, info.width, info.height) == ("JPEG", 1080, 1920)
    assert inspect_image(b"not an image") is None


# --- Mastodon ---------------------------------------------------------------------------


def masto_post(masto: MastodonStandIn, token: str | None = "tok", **form: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if "key" in form:
        headers["Idempotency-Key"] = form.pop("key")
    return client(masto).post(f"{MASTO}/api/v1/statuses", data=form, headers=headers)


@pytest.mark.parametrize(
    ("token", "status", "error"),
    [
        ("tok", 200, None),
        (None, 401, "This method requires an authenticated user"),
        ("wrong", 401, "The access token is invalid"),
        ("old", 401, "The access token expired"),
    ],
)
def test_mastodon_tokens(token: str | None, status: int, error: str | None) -> None:
    masto = MastodonStandIn("tok")
    masto.tokens.add("old", lifetime=60)
    masto.clock.advance(61)
    answer = masto_post(masto, token, status="Halo")
    assert answer.status_code == status
    assert answer.json().get("error") == error


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("a" * 500, 200),
        ("a" * 501, 422),
        ("a" * 476 + " " + URL + "/" + "x" * 80, 200),  # a URL counts 23 however long
        ("a" * 477 + " " + URL, 422),
        ("@humas@sosial.kotacontoh.go.id " + "a" * 493, 200),  # the domain is free
        ("👨‍👩‍👧‍👦" * 500, 200),  # one grapheme each
        ("", 422),
    ],
)
def test_mastodon_counts_as_its_validator(text: str, status: int) -> None:
    answer = masto_post(MastodonStandIn("tok"), status=text)
    assert answer.status_code == status, mastodon_length(text)
    if status == 422:
        assert answer.json()["error"].startswith("Validation failed")


def test_mastodon_instance_limits_are_served_and_enforced() -> None:
    masto = MastodonStandIn("tok", max_characters=100, image_size_limit=200_000)
    config = client(masto).get(f"{MASTO}/api/v2/instance").json()["configuration"]
    assert config["statuses"]["max_characters"] == 100
    assert masto_post(masto, status="a" * 101).status_code == 422
    auth = {"Authorization": "Bearer tok"}
    small = client(masto).post(
        f"{MASTO}/api/v2/media",
        files={"file": ("a.jpg", make_image(40, 40), "image/jpeg")},
        data={"description": "Poster"},
        headers=auth,
    )
    big = client(masto).post(
        f"{MASTO}/api/v2/media",
        files={"file": ("a.jpg", make_image(40, 40, padding=300_000), "image/jpeg")},
        headers=auth,
    )
    long_alt = client(masto).post(
        f"{MASTO}/api/v2/media",
        files={"file": ("a.jpg", make_image(40, 40), "image/jpeg")},
        data={"description": "x" * 1501},
        headers=auth,
    )
    assert (small.status_code, big.status_code, long_alt.status_code) == (200, 422, 422)


def test_mastodon_media_must_be_processed_before_use() -> None:
    masto = MastodonStandIn("tok", processing_polls=1)
    auth = {"Authorization": "Bearer tok"}
    upload = client(masto).post(
        f"{MASTO}/api/v2/media",
        files={"file": ("a.png", make_image(40, 40, "PNG"), "image/png")},
        headers=auth,
    )
    assert upload.status_code == 202
    media_id = upload.json()["id"]
    assert masto_post(masto, status="x", **{"media_ids[]": media_id}).status_code == 422
    assert client(masto).get(f"{MASTO}/api/v1/media/{media_id}", headers=auth).status_code == 206
    assert client(masto).get(f"{MASTO}/api/v1/media/{media_id}", headers=auth).status_code == 200
    assert masto_post(masto, status="x", **{"media_ids[]": media_id}).status_code == 200


def test_mastodon_idempotency_key_returns_the_first_status_for_an_hour() -> None:
    masto = MastodonStandIn("tok")
    first = masto_post(masto, status="Halo", key="k1").json()["id"]
    assert masto_post(masto, status="Halo", key="k1").json()["id"] == first
    masto.clock.advance(3601)
    assert masto_post(masto, status="Halo", key="k1").json()["id"] != first
    assert len(masto.live()) == 2


def test_mastodon_edits_keep_history_and_deletes_are_final() -> None:
    masto = MastodonStandIn("tok")
    auth = {"Authorization": "Bearer tok"}
    status_id = masto_post(masto, status="Senin").json()["id"]
    edited = client(masto).put(
        f"{MASTO}/api/v1/statuses/{status_id}", data={"status": "Selasa"}, headers=auth
    )
    assert edited.status_code == 200 and edited.json()["edited_at"]
    assert (
        client(masto)
        .put(f"{MASTO}/api/v1/statuses/{status_id}", data={"status": "a" * 501}, headers=auth)
        .status_code
        == 422
    )
    history = client(masto).get(f"{MASTO}/api/v1/statuses/{status_id}/history", headers=auth).json()
    assert [h["content"] for h in history] == ["<p>Senin</p>", "<p>Selasa</p>"]
    assert (
        client(masto).delete(f"{MASTO}/api/v1/statuses/{status_id}", headers=auth).status_code
        == 200
    )
    assert client(masto).delete(f"{MASTO}/api/v1/statuses/{status_id}", headers=auth).json() == {
        "error": "Record not found"
    }


def test_mastodon_account_statuses_newest_first_at_most_40() -> None:
    masto = MastodonStandIn("tok")
    for n in range(45):
        masto_post(masto, status=f"Nomor {n}")
    listed = (
        client(masto)
        .get(
            f"{MASTO}/api/v1/accounts/109/statuses",
            params={"limit": 80},
            headers={"Authorization": "Bearer tok"},
        )
        .json()
    )
    assert len(listed) == 40 and listed[0]["content"] == "<p>Nomor 44</p>"


def test_mastodon_429_carries_only_x_ratelimit_reset() -> None:
    masto = MastodonStandIn("tok")
    masto.throttle(90)
    answer = masto_post(masto, status="Halo")
    assert answer.status_code == 429 and answer.json() == {"error": "Too many requests"}
    assert [h for h in answer.headers if h.lower().startswith("x-ratelimit")] == [
        "x-ratelimit-reset"
    ]


# --- Telegram ---------------------------------------------------------------------------


def tg(standin: TelegramStandIn, method: str, base: str = TG, **params: Any) -> dict[str, Any]:
    return client(standin).post(f"{base}/{method}", json=params).json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("base", "code"),
    [
        (TG, None),
        ("https://api.telegram.org/bot123456:WRONG", 401),
        ("https://api.telegram.org/botnotatoken", 404),
    ],
)
def test_telegram_token_is_in_the_path(base: str, code: int | None) -> None:
    answer = tg(
        TelegramStandIn("123456:SECRET"), "sendMessage", base, chat_id="@kominfokota", text="Halo"
    )
    assert answer.get("error_code") == code


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("a" * 4096, None),
        ("a" * 4097, "Bad Request: message is too long"),
        ("<b>" + "a" * 4096 + "</b>", None),  # tags do not count
        ("&amp;" * 4096, None),  # an entity counts as its character
        ("😀" * 2048, None),  # two UTF-16 units each
        ("😀" * 2049, "Bad Request: message is too long"),
        (
            "<foo>x</foo>",
            'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 0',
        ),
        (
            "a < b",
            "Bad Request: can't parse entities: Unexpected end of name token at byte offset 2",
        ),
        (
            "<b>x",
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            "&nbsp;",
            'Bad Request: can\'t parse entities: Unsupported HTML entity "&nbsp;" at byte offset 0',
        ),
        ("<b> </b>", "Bad Request: message text is empty"),
    ],
)
def test_telegram_counts_after_entity_parsing(text: str, description: str | None) -> None:
    answer = tg(
        TelegramStandIn("123456:SECRET"),
        "sendMessage",
        chat_id="@kominfokota",
        text=text,
        parse_mode="HTML",
    )
    assert answer.get("description") == description


def test_telegram_html_parsing_matches_the_documented_tags() -> None:
    assert parse_html('<a href="https://x.id">Situs</a> &lt;3') == ("Situs <3", (("a", 0, 5),))


@pytest.mark.parametrize(
    ("size", "padding", "description"),
    [
        ((1080, 1920), 0, None),
        ((9000, 1001), 0, "Bad Request: PHOTO_INVALID_DIMENSIONS"),  # width + height > 10000
        ((2100, 100), 0, "Bad Request: PHOTO_INVALID_DIMENSIONS"),  # ratio 21
        ((100, 100), 10 * 1024 * 1024, "Bad Request: file is too big"),
    ],
)
def test_telegram_photo_rules(size: tuple[int, int], padding: int, description: str | None) -> None:
    standin = TelegramStandIn("123456:SECRET")
    photo = make_image(*size, padding=padding)
    answer = (
        client(standin)
        .post(
            f"{TG}/sendPhoto",
            data={"chat_id": "@kominfokota", "caption": "a" * 1024},
            files={"photo": ("p.jpg", photo, "image/jpeg")},
        )
        .json()
    )
    assert answer.get("description") == description


def test_telegram_caption_limit_is_1024() -> None:
    standin = TelegramStandIn("123456:SECRET")
    answer = (
        client(standin)
        .post(
            f"{TG}/sendPhoto",
            data={"chat_id": "@kominfokota", "caption": "a" * 1025},
            files={"photo": ("p.jpg", make_image(50, 50), "image/jpeg")},
        )
        .json()
    )
    assert answer["description"] == "Bad Request: message caption is too long"


def test_telegram_replies_need_an_existing_message_and_a_known_chat() -> None:
    standin = TelegramStandIn("123456:SECRET")
    first = tg(standin, "sendMessage", chat_id="@kominfokota", text="1")["result"]["message_id"]
    reply = tg(
        standin,
        "sendMessage",
        chat_id="-1001234567890",
        text="2",
        reply_parameters={"message_id": first},
    )
    assert reply["ok"] and standin.live()[1]["reply_to"] == first
    assert (
        tg(
            standin,
            "sendMessage",
            chat_id="@kominfokota",
            text="3",
            reply_parameters={"message_id": 999},
        )["description"]
        == "Bad Request: message to be replied not found"
    )
    assert (
        tg(standin, "sendMessage", chat_id="@lain", text="3")["description"]
        == "Bad Request: chat not found"
    )


def test_telegram_edits_refuse_the_same_content_and_the_wrong_kind() -> None:
    standin = TelegramStandIn("123456:SECRET")
    message_id = tg(
        standin, "sendMessage", chat_id="@kominfokota", text="<b>Senin</b>", parse_mode="HTML"
    )["result"]["message_id"]
    edit = {"chat_id": "@kominfokota", "message_id": message_id, "parse_mode": "HTML"}
    assert tg(standin, "editMessageText", **edit, text="<b>Selasa</b>")["ok"]
    assert tg(standin, "editMessageText", **edit, text="<b>Selasa</b>")["description"].startswith(
        "Bad Request: message is not modified"
    )
    assert (
        tg(standin, "editMessageCaption", **edit, caption="x")["description"]
        == "Bad Request: there is no caption in the message to edit"
    )


def test_telegram_delete_only_within_48_hours() -> None:
    standin = TelegramStandIn("123456:SECRET")
    ids = [
        tg(standin, "sendMessage", chat_id="@kominfokota", text=str(n))["result"]["message_id"]
        for n in range(2)
    ]
    assert tg(standin, "deleteMessage", chat_id="@kominfokota", message_id=ids[0]) == {
        "ok": True,
        "result": True,
    }
    standin.clock.advance(48 * 3600)
    assert (
        tg(standin, "deleteMessage", chat_id="@kominfokota", message_id=ids[1])["description"]
        == "Bad Request: message can't be deleted"
    )
    assert (
        tg(standin, "deleteMessage", chat_id="@kominfokota", message_id=ids[0])["description"]
        == "Bad Request: message to delete not found"
    )


def test_telegram_flood_control_answers_retry_after() -> None:
    standin = TelegramStandIn("123456:SECRET")
    answers = [tg(standin, "sendMessage", chat_id="@kominfokota", text=str(n)) for n in range(21)]
    assert answers[19]["ok"] and answers[20]["error_code"] == 429
    assert answers[20]["parameters"]["retry_after"] == 61
