"""The Meta stand-ins (Facebook Page, Instagram, WhatsApp Cloud API) hold to the documented
rules: for each rule one accepted request and one refused with Meta's code."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import pytest

from .base import make_image
from .facebook import FacebookStandIn
from .instagram import InstagramStandIn
from .whatsapp import Template, WhatsAppStandIn

GRAPH = "https://graph.facebook.com/v26.0"
PAGE = "104857600123456"
IG = "17841400000000001"
PHONE = "106540352242922"
WABA = "102290129340398"


def call(
    standin: Any, method: str, path: str, token: str | None = "tok", **kwargs: Any
) -> httpx.Response:
    params = dict(kwargs.pop("params", {}))
    if token:
        params["access_token"] = token
    with httpx.Client(transport=httpx.MockTransport(standin)) as http:
        return http.request(method, f"{GRAPH}/{path}", params=params, **kwargs)


def code_of(answer: httpx.Response) -> tuple[int, int | None] | None:
    error = answer.json().get("error") if not answer.is_success else None
    return (error["code"], error.get("error_subcode")) if error else None


# --- tokens (all Meta products) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "advance", "expected"),
    [
        ("tok", 0, None),
        (None, 0, (104, None)),
        ("wrong", 0, (190, None)),
        ("tok", 3601, (190, 463)),
    ],
)
def test_graph_tokens(
    token: str | None, advance: int, expected: tuple[int, int | None] | None
) -> None:
    page = FacebookStandIn("tok", lifetime=3600)
    page.clock.advance(advance)
    answer = call(page, "POST", f"{PAGE}/feed", token, data={"message": "Halo"})
    assert code_of(answer) == expected
    if expected:
        assert answer.json()["error"]["type"] == "OAuthException"


# --- Facebook Page ----------------------------------------------------------------------


def test_facebook_posts_photos_with_alt_text_and_refuses_duplicates() -> None:
    page = FacebookStandIn("tok", require_alt_text=True)
    photo = {"source": ("p.jpg", make_image(80, 80), "image/jpeg")}
    posted = call(
        page,
        "POST",
        f"{PAGE}/photos",
        data={"caption": "Foto", "alt_text_custom": "Poster"},
        files=photo,
    )
    assert posted.status_code == 200 and posted.json()["post_id"].startswith(PAGE + "_")
    assert page.live()[0]["alt_text"] == "Poster"
    assert code_of(call(page, "POST", f"{PAGE}/photos", data={"caption": "Lagi"}, files=photo)) == (
        100,
        None,
    )
    assert code_of(call(page, "POST", f"{PAGE}/photos", data={"caption": "Tanpa foto"})) == (
        324,
        None,
    )
    assert code_of(call(page, "POST", f"{PAGE}/feed", data={"message": "Foto"})) == (506, None)
    assert code_of(call(page, "POST", f"{PAGE}/feed", data={})) == (100, None)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("id,message,created_time", None),
        ("id,message,link,created_time", (12, None)),
        ("id,nope", (100, None)),
    ],
)
def test_facebook_feed_fields(fields: str, expected: tuple[int, int | None] | None) -> None:
    page = FacebookStandIn("tok")
    call(
        page,
        "POST",
        f"{PAGE}/feed",
        data={"message": "Halo", "link": "https://kominfo.example.go.id/a.html"},
    )
    answer = call(
        page,
        "GET",
        f"{PAGE}/feed",
        params={"fields": fields, "since": str(page.clock.timestamp() - 60)},
    )
    assert code_of(answer) == expected
    if expected == (12, None):
        assert (
            answer.json()["error"]["message"]
            == "(#12) link field is deprecated for versions v3.3 and higher"
        )
    else:
        assert expected or answer.json()["data"][0]["message"] == "Halo"


def test_facebook_edit_and_delete_a_post() -> None:
    page = FacebookStandIn("tok")
    post_id = call(page, "POST", f"{PAGE}/feed", data={"message": "Senin"}).json()["id"]
    assert call(page, "POST", post_id, data={"message": "Selasa"}).json() == {"success": True}
    assert page.live()[0]["message"] == "Selasa"
    assert call(page, "DELETE", post_id).json() == {"success": True}
    assert code_of(call(page, "DELETE", post_id)) == (100, 33)


# --- Instagram --------------------------------------------------------------------------


def site(images: dict[str, bytes]) -> Any:
    return lambda url: images.get(url)


def test_instagram_image_rules() -> None:
    images = {
        "https://x.id/ok.jpg": make_image(1080, 1350),
        "https://x.id/phone.jpg": make_image(1080, 1920),  # 9:16
        "https://x.id/wide.jpg": make_image(2000, 1000),  # 2:1
        "https://x.id/poster.png": make_image(1080, 1080, "PNG"),
        "https://x.id/big.jpg": make_image(1080, 1080, padding=8 * 1024 * 1024),
    }
    ig = InstagramStandIn("tok", site(images))
    cases = {
        "https://x.id/ok.jpg": None,
        "https://x.id/phone.jpg": (36003, 2207009),
        "https://x.id/wide.jpg": (36003, 2207009),
        "https://x.id/poster.png": (36001, 2207005),
        "https://x.id/big.jpg": (36000, 2207004),
        "https://x.id/missing.jpg": (9004, 2207052),
    }
    for url, expected in cases.items():
        assert (
            code_of(call(ig, "POST", f"{IG}/media", data={"image_url": url, "caption": "x"}))
            == expected
        ), url


@pytest.mark.parametrize(
    ("caption", "ok"),
    [
        ("a" * 2200, True),
        ("a" * 2201, False),
        ("#a " * 30, True),
        ("#a " * 31, False),
        ("@b " * 20, True),
        ("@b " * 21, False),
    ],
)
def test_instagram_caption_limits(caption: str, ok: bool) -> None:
    ig = InstagramStandIn("tok", site({"https://x.id/ok.jpg": make_image(1080, 1080)}))
    answer = call(
        ig, "POST", f"{IG}/media", data={"image_url": "https://x.id/ok.jpg", "caption": caption}
    )
    assert answer.is_success is ok


def test_instagram_publishes_only_a_finished_container_once_and_counts_fast_polls() -> None:
    ig = InstagramStandIn(
        "tok", site({"https://x.id/ok.jpg": make_image(1080, 1080)}), processing_seconds=30
    )
    container = call(
        ig, "POST", f"{IG}/media", data={"image_url": "https://x.id/ok.jpg", "caption": "Halo"}
    ).json()["id"]

    def status() -> str:
        return str(
            call(ig, "GET", container, params={"fields": "status_code"}).json()["status_code"]
        )

    assert status() == "IN_PROGRESS"
    assert code_of(call(ig, "POST", f"{IG}/media_publish", data={"creation_id": container})) == (
        9007,
        2207027,
    )
    assert status() == "IN_PROGRESS" and ig.fast_polls == 1  # two queries in the same minute
    ig.clock.advance(60)
    assert status() == "FINISHED" and ig.fast_polls == 1
    media_id = call(ig, "POST", f"{IG}/media_publish", data={"creation_id": container}).json()["id"]
    assert status() == "PUBLISHED"
    assert (
        call(ig, "POST", f"{IG}/media_publish", data={"creation_id": container}).status_code == 400
    )
    listed = call(ig, "GET", f"{IG}/media", params={"fields": "id,caption"}).json()["data"]
    assert listed == [{"id": media_id, "caption": "Halo"}]


def test_instagram_comments_but_no_caption_edit() -> None:
    ig = InstagramStandIn(
        "tok", site({"https://x.id/ok.jpg": make_image(1080, 1080)}), processing_seconds=0
    )
    container = call(
        ig, "POST", f"{IG}/media", data={"image_url": "https://x.id/ok.jpg", "caption": "Halo"}
    ).json()["id"]
    media_id = call(ig, "POST", f"{IG}/media_publish", data={"creation_id": container}).json()["id"]
    assert call(ig, "POST", f"{media_id}/comments", data={"message": "Ralat: Selasa"}).is_success
    assert code_of(call(ig, "POST", media_id, data={"caption": "Baru"})) == (100, None)
    assert code_of(call(ig, "DELETE", media_id)) == (100, 33)


# --- WhatsApp ---------------------------------------------------------------------------


def template_message(
    to: str,
    name: str = "siaran_pers",
    params: int = 2,
    media: str | None = None,
    language: str = "id",
) -> dict[str, Any]:
    components: list[dict[str, Any]] = [
        {"type": "body", "parameters": [{"type": "text", "text": f"p{n}"} for n in range(params)]}
    ]
    if media is not None:
        components.insert(
            0, {"type": "header", "parameters": [{"type": "image", "image": {"id": media}}]}
        )
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": components},
    }


def whatsapp() -> tuple[WhatsAppStandIn, str]:
    wa = WhatsAppStandIn("tok", [Template("siaran_pers"), Template("draf", status="PENDING")])
    upload = call(
        wa,
        "POST",
        f"{PHONE}/media",
        data={"messaging_product": "whatsapp", "type": "image/jpeg"},
        files={"file": ("card.jpg", make_image(1080, 1080), "image/jpeg")},
    )
    return wa, upload.json()["id"]


def send(wa: WhatsAppStandIn, body: dict[str, Any], token: str | None = "tok") -> httpx.Response:
    return call(wa, "POST", f"{PHONE}/messages", token, json=body)


def test_whatsapp_lists_templates() -> None:
    wa, _media = whatsapp()
    listed = call(wa, "GET", f"{WABA}/message_templates").json()["data"]
    assert [(t["name"], t["status"]) for t in listed] == [
        ("siaran_pers", "APPROVED"),
        ("draf", "PENDING"),
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({}, None),
        ({"to": "6281234567890"}, None),  # without the '+'
        ({"to": "0812-3456-7890"}, 131009),  # local form: no country code
        ({"name": "tidak_ada"}, 132001),
        ({"name": "draf"}, 132001),  # not approved
        ({"language": "en_US"}, 132001),
        ({"params": 1}, 132000),
        ({"media": "123"}, 131053),
        ({"token": "wrong"}, 190),
    ],
)
def test_whatsapp_template_messages(change: dict[str, Any], code: int | None) -> None:
    wa, media = whatsapp()
    token = change.pop("token", "tok")
    body = template_message(**{"to": "+6281234567890", "media": media, **change})
    answer = send(wa, body, token)
    assert (code_of(answer) or (None,))[0] == code
    if code is None:
        assert answer.json()["messages"][0]["message_status"] == "accepted"
        assert wa.sent_to() == {"6281234567890": 1}
    if code == 190:
        assert answer.status_code == 401


def test_whatsapp_pair_rate_throughput_and_injected_failures() -> None:
    wa, media = whatsapp()
    assert send(wa, template_message("+6281111111111", media=media)).is_success
    assert code_of(send(wa, template_message("+6281111111111", media=media)))[0] == 131056  # type: ignore[index]
    wa.clock.advance(6)
    assert send(wa, template_message("+6281111111111", media=media)).is_success
    for code in (131026, 131049, 131050):
        wa.fail_number(f"+62822000{code}", code)
        assert code_of(send(wa, template_message(f"+62822000{code}", media=media)))[0] == code  # type: ignore[index]
    limited = WhatsAppStandIn(
        "tok", [Template("siaran_pers", header=None)], throughput_per_second=2
    )
    answers = [send(limited, template_message(f"+62833000000{n}")) for n in range(3)]
    assert [code_of(a) for a in answers] == [None, None, (130429, None)]


def test_whatsapp_status_webhooks_are_signed_with_the_app_secret() -> None:
    wa, media = whatsapp()
    wa.fail_number("+6284400000000", 131026, via="webhook")
    assert send(wa, template_message("+6284400000000", media=media)).is_success
    webhooks = wa.pending_webhooks()
    statuses = [hook[0] for hook in webhooks]
    assert b'"status":"sent"' in statuses[0] and b'"code":131026' in statuses[1]
    body, headers = webhooks[1]
    expected = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == expected
