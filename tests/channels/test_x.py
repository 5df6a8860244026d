"""x against the strict X stand-in (tests/standins/x.py): it checks what X checks — the
OAuth 1.0a signature or the OAuth 2.0 user token, the weighted length as twitter-text
counts it, media ids it issued, pictures up to 5 MB with alt text up to 1000 characters —
and answers with X's problem+json errors and x-rate-limit-* headers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from standins.x import USER, XStandIn

from chanpub.channels.x import XChannel, XOptions
from chanpub.channels.x_text import count_x
from chanpub.errors import (
    AmbiguousError,
    AuthError,
    DuplicateError,
    PermanentError,
    ReleaseError,
    RetryableError,
)
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    check_receipt,
    make_context,
    sample_links,
    sample_release,
)

KEYS = {
    "api_key": "consumer-key-1",
    "api_secret": f"consumer-secret-{SECRET_MARKER}",
    "access_token": "2244994945-usertoken",
    "access_secret": f"token-secret-{SECRET_MARKER}",
}
BEARER = f"oauth2-user-token-{SECRET_MARKER}"
VARIABLES = {
    "api_key": "X_API_KEY",
    "api_secret": "X_API_SECRET",
    "access_token": "X_ACCESS_TOKEN",
    "access_secret": "X_ACCESS_SECRET",
    "oauth2_token": "X_OAUTH2_TOKEN",
    "oauth2_refresh_token": "X_OAUTH2_REFRESH_TOKEN",
}
IMAGE_MAX_BYTES = 5_000_000
# The release: the newest emoji (ZWJ sequences twemoji-parser does not know),
# Javanese script, a Wikipedia link with parentheses.
REALISTIC_TITLE = "🐦\u200d🔥 Pemkot Surakarta meluncurkan layanan Solo Bersih 🍋\u200d🟩 ꦱꦸꦫꦏꦂꦠ"
REALISTIC_SUMMARY = (
    "Pengaduan sampah kini bisa lewat aplikasi 🙂\u200d↔️ dan situs resmi, lihat "
    "https://id.wikipedia.org/wiki/Jawa_(pulau) 🏃\u200d➡️ Layanan dibuka setiap hari pukul "
    "07.00–21.00 WIB, termasuk hari libur nasional dan cuti bersama, di seluruh kelurahan "
    "kota, dengan petugas yang siap membantu warga yang belum memiliki ponsel pintar!!"
)


def oauth1_standin() -> XStandIn:
    keys = ((KEYS["api_key"], KEYS["api_secret"]), (KEYS["access_token"], KEYS["access_secret"]))
    return XStandIn(oauth1=keys)


def channel_for(
    tmp_path: Path,
    x: XStandIn,
    *,
    bearer: bool = False,
    transport: Callable[[httpx.Request], httpx.Response] | None = None,
    **options: Any,
) -> XChannel:
    context = make_context(tmp_path, transport or x, secrets=VARIABLES)
    values = {"oauth2_token": BEARER} if bearer else dict(KEYS)
    channel = XChannel("x", XOptions.model_validate({**values, **options}), context)
    channel.now = x.clock.now  # the platform's time is the channel's time
    return channel


def next_run(channel: XChannel) -> XChannel:
    """The same channel in a later run: a new object, the same state directory and ledger."""
    later = XChannel(channel.name, channel.options, channel.context)
    later.now = channel.now
    return later


def test_contract(tmp_path: Path) -> None:
    preview = check_contract(
        XChannel,
        KEYS,
        sample_release(tmp_path),
        make_context(tmp_path),
        secrets=tuple(KEYS.values()),
    )
    assert preview.unit == "weighted characters" and preview.limit == 280


def test_signed_post_with_the_canonical_link(tmp_path: Path) -> None:
    x = oauth1_standin()
    channel = channel_for(tmp_path, x)
    preview = channel.preview(sample_release(tmp_path, tags=["Adminduk"]), sample_links())
    receipt = check_receipt(channel.publish(preview, "k1"))
    (post,) = x.live()
    assert post["text"] == preview.text
    assert "https://kominfo.example.go.id/siaran/contoh.html" in preview.text
    assert receipt.url == f"https://x.com/i/web/status/{post['id']}"


def test_the_realistic_release_goes_out_with_its_portrait_photo(tmp_path: Path) -> None:
    from phone_photo import metadata_of, portrait_photo

    portrait_photo(tmp_path / "foto.jpg")  # about 2.4 MB, shown 1080x1920, with GPS
    release = sample_release(
        tmp_path,
        title=REALISTIC_TITLE,
        summary=REALISTIC_SUMMARY,
        image="foto.jpg",
        image_alt="Petugas melayani warga",
        tags=["Solo Bersih"],
    )
    x = XStandIn(oauth2_token=BEARER)
    channel = channel_for(tmp_path, x, bearer=True)
    preview = channel.preview(release, sample_links())
    assert "image: 1080x1920 (9:16), JPEG" in "\n".join(preview.warnings)
    assert preview.length == count_x(preview.text) <= 280, "counted as twitter-text counts"
    assert any("shortened" in w for w in preview.warnings)
    channel.publish(preview, "k1")
    assert [r.url.path for r in x.requests] == [
        "/2/media/upload",
        "/2/media/metadata",
        "/2/tweets",
    ]
    ((media_id, media),) = x.media.items()
    assert x.live()[0]["media_ids"] == [media_id] and media["alt_text"] == "Petugas melayani warga"
    shown = metadata_of(media["data"])
    assert media["size"] <= IMAGE_MAX_BYTES
    assert shown["size"] == (1080, 1920) and shown["gps"] == {}, "upright, no location"


def test_an_image_over_5_mb_is_fitted_under_5_mb(tmp_path: Path) -> None:
    import random

    from PIL import Image

    noise = random.Random(3).randbytes(1400 * 1400 * 3)
    Image.frombytes("RGB", (1400, 1400), noise).save(tmp_path / "besar.png")
    assert (tmp_path / "besar.png").stat().st_size > IMAGE_MAX_BYTES
    release = sample_release(tmp_path, image="besar.png", image_alt="Foto besar")
    x = oauth1_standin()
    channel = channel_for(tmp_path, x)
    channel.publish(channel.preview(release, sample_links()), "k1")
    (media,) = x.media.values()
    assert media["size"] <= IMAGE_MAX_BYTES and media["data"][:2] == b"\xff\xd8"  # JPEG


def test_a_file_that_is_no_picture_is_refused_before_sending(tmp_path: Path) -> None:
    (tmp_path / "foto.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a photo")
    release = sample_release(tmp_path, image="foto.jpg", image_alt="Foto")
    x = oauth1_standin()
    channel = channel_for(tmp_path, x)
    with pytest.raises(ReleaseError, match="not a picture"):
        channel.check_release(release)
    with pytest.raises(PermanentError, match="not a picture"):
        channel.publish(channel.preview(release, sample_links()), "k1")
    assert x.requests == []


def test_oauth2_user_token_goes_as_bearer(tmp_path: Path) -> None:
    x = XStandIn(oauth2_token=BEARER)
    channel = channel_for(tmp_path, x, bearer=True)
    channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert len(x.live()) == 1
    assert x.requests[0].headers["Authorization"] == f"Bearer {BEARER}"


def test_wide_characters_and_links_are_counted_the_way_x_counts(tmp_path: Path) -> None:
    title = "東京都との協力協定 " * 12  # CJK weighs 2: this title alone is over 200
    x = oauth1_standin()
    channel = channel_for(tmp_path, x)
    preview = channel.preview(sample_release(tmp_path, title=title.strip()), sample_links())
    assert preview.length == count_x(preview.text) <= 280
    assert preview.text.endswith("https://kominfo.example.go.id/siaran/contoh.html")
    assert any("shortened" in w for w in preview.warnings)
    channel.publish(preview, "k1")
    assert len(x.live()) == 1, "X took it: not too long"


def test_rate_limit_waits_until_the_reset(tmp_path: Path) -> None:
    x = oauth1_standin()
    x.throttle(120)  # 429 with x-rate-limit-reset two minutes ahead
    channel = channel_for(tmp_path, x)
    with pytest.raises(RetryableError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert caught.value.retry_after == 120


def test_duplicate_content_is_reported_as_duplicate(tmp_path: Path) -> None:
    x = oauth1_standin()
    channel = channel_for(tmp_path, x)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    channel.publish(preview, "k1")
    with pytest.raises(DuplicateError):
        channel.publish(preview, "another-key")
    assert len(x.live()) == 1


def test_refused_credentials_name_the_variables(tmp_path: Path) -> None:
    channel = channel_for(tmp_path, oauth1_standin(), access_secret="wrong-secret")
    with pytest.raises(AuthError) as caught:
        channel.publish(channel.preview(sample_release(tmp_path), sample_links()), "k1")
    assert "X_ACCESS_TOKEN" in caught.value.message and "X_ACCESS_SECRET" in caught.value.message
    assert "wrong-secret" not in caught.value.message


def test_expired_oauth2_token_names_its_variable(tmp_path: Path) -> None:
    x = XStandIn(oauth2_token=BEARER)
    x.clock.advance(7200)
    channel = channel_for(tmp_path, x, bearer=True)
    with pytest.raises(AuthError, match=r"2 hours.*X_OAUTH2_TOKEN"):
        channel.verify()


def test_lost_answer_is_ambiguous_and_lookup_finds_the_post(tmp_path: Path) -> None:
    x = oauth1_standin()
    x.drop_answer("POST", "/2/tweets")
    channel = channel_for(tmp_path, x)
    preview = channel.preview(sample_release(tmp_path, title="Harga & Stok Aman"), sample_links())
    with pytest.raises(AmbiguousError):
        channel.publish(preview, "k1")
    found = channel.lookup("k1")
    (post,) = x.live()
    assert found is not None and found.remote_id == post["id"]
    assert channel.lookup("never-sent") is None


def test_lookup_takes_this_post_not_an_earlier_one_with_another_link(tmp_path: Path) -> None:
    # The same words with another link were posted earlier; this post's answer was lost
    # and it never arrived. The lookup must not take the earlier post for it.
    x = oauth1_standin()
    channel = channel_for(tmp_path, x)
    release = sample_release(tmp_path, title="Jadwal Layanan Adminduk")
    channel.publish(channel.preview(release, sample_links("https://a.go.id/lama")), "old")
    x.clock.advance(30)  # within the new delivery's window: only the link tells them apart
    preview = channel.preview(release, sample_links("https://a.go.id/baru"))
    channel.context.journal("k1").begin("0")  # the post was begun; X never got it
    channel.context.store("x").put(
        "delivery:k1", {"parts": list(preview.posts), "since": x.clock.now().isoformat()}
    )
    assert channel.lookup("k1") is None
    receipt = channel.publish(preview, "k1")
    assert len(x.live()) == 2 and receipt.remote_id == x.live()[1]["id"]


def test_with_the_first_answer_dropped_the_post_exists_once(tmp_path: Path) -> None:
    x = XStandIn(oauth2_token=BEARER)
    x.drop_answer("POST", "/2/tweets")
    channel = channel_for(tmp_path, x, bearer=True)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    with pytest.raises(AmbiguousError):  # run 1: applied, the answer lost
        channel.publish(preview, "k1")
    x.clock.advance(60)
    receipt = next_run(channel).publish(preview, "k1")  # run 2
    (post,) = x.live()
    assert receipt.remote_id == post["id"]
    assert len(x.calls("POST", "/2/tweets")) == 1, "looked up, not sent again"


def test_a_thread_goes_out_as_replies_and_resumes_after_a_lost_answer(tmp_path: Path) -> None:
    body = "\n\n".join(
        f"Paragraf {n}: Dinas Kependudukan membuka layanan keliling di kelurahan {n} "
        "dengan jadwal yang diumumkan di situs resmi setiap pekan." * 2
        for n in range(1, 5)
    )
    x = oauth1_standin()
    posts_seen: list[int] = []

    def second_answer_lost(request: httpx.Request) -> httpx.Response:
        answer = x(request)
        if request.url.path == "/2/tweets":
            posts_seen.append(1)
            if len(posts_seen) == 2:  # part 2 is applied, its answer lost
                raise httpx.ReadTimeout("the answer was lost", request=request)
        return answer

    channel = channel_for(tmp_path, x, thread=True, transport=second_answer_lost)
    preview = channel.preview(sample_release(tmp_path, body=body), sample_links())
    assert len(preview.parts) >= 3 and all(count_x(p) <= 280 for p in preview.parts)
    with pytest.raises(AmbiguousError):
        channel.publish(preview, "k1")
    assert len(x.live()) == 2
    receipt = next_run(channel).publish(preview, "k1")
    posts = x.live()
    assert [p["text"] for p in posts] == list(preview.parts), "each part exactly once"
    assert [p["in_reply_to"] for p in posts] == [None, *(p["id"] for p in posts[:-1])]
    assert receipt.details["ids"] == [p["id"] for p in posts]


def test_text_that_cannot_be_shortened_is_refused_before_sending(tmp_path: Path) -> None:
    x = oauth1_standin()
    channel = channel_for(tmp_path, x, template="{{ url }} " + "Info resmi. " * 30)
    preview = channel.preview(sample_release(tmp_path), sample_links())
    with pytest.raises(PermanentError, match="nothing more can be shortened"):
        channel.publish(preview, "k1")
    assert x.requests == []


def test_verify_names_the_account(tmp_path: Path) -> None:
    events: list[tuple[str, Any]] = []
    context = make_context(
        tmp_path, oauth1_standin(), progress=lambda e, d: events.append((e, dict(d)))
    )
    XChannel("x", XOptions.model_validate(KEYS), context).verify()
    assert events == [("verified", {"account": USER["username"]})]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({k: v for k, v in KEYS.items() if k != "access_secret"}, r"access_secret\n.*required"),
        ({"api_key": "k"}, r"api_secret\n.*required"),
        ({**KEYS, "oauth2_token": BEARER}, "not both"),
        ({**KEYS, "oauth2_refresh_token": "r", "client_id": "c"}, "not both"),
        ({"oauth2_refresh_token": "r"}, "needs client_id"),
        ({"oauth2_token": BEARER, "client_id": "c"}, r"oauth2_refresh_token\n.*required"),
        ({"oauth2_token": BEARER, "api_base": "api.x.com"}, "https://"),
        ({"oauth2_token": BEARER, "upload_base": "ftp://upload"}, "https://"),
        ({"oauth2_token": BEARER, "bearer_token": "app-only"}, "bearer_token"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        XOptions.model_validate(options)


def test_no_credentials_at_all_fail_the_check_before_sending(tmp_path: Path) -> None:
    from chanpub.errors import ConfigError

    x = oauth1_standin()
    channel = XChannel("x", XOptions.model_validate({}), make_context(tmp_path, x))
    with pytest.raises(ConfigError, match="no credentials"):
        channel.check()
    with pytest.raises(AuthError, match="no credentials"):
        channel.verify()
    assert x.requests == []


def test_a_key_whose_variable_is_unset_makes_the_channel_not_ready(tmp_path: Path) -> None:
    from chanpub.config import load_config

    (tmp_path / "channels.yaml").write_text(
        "channels:\n  x:\n    type: x\n"
        + "".join(
            f"    {option}: ${{{variable}}}\n"
            for option, variable in VARIABLES.items()
            if not option.startswith("oauth2")
        ),
        encoding="utf-8",
    )
    (tmp_path / ".env").write_text(
        "X_API_KEY=key-k1k1k1\nX_API_SECRET=secret-s2s2\nX_ACCESS_TOKEN=token-t3t3\n",
        encoding="utf-8",
    )
    channel = load_config(tmp_path / "channels.yaml").channels["x"]
    assert not channel.ready
    assert channel.missing == ("X_ACCESS_SECRET",)


def test_clarification_post_text(tmp_path: Path, golden: Any) -> None:
    release = sample_release(
        tmp_path,
        title="Pesan Berantai Soal Pemadaman Air Tidak Benar",
        kind="clarification",
        claim="PDAM memadamkan air selama tiga hari",
        verdict="HOAKS",
        tags=["cek fakta", "PDAM"],
        summary="PDAM Kota Contoh tidak menjadwalkan pemadaman; layanan berjalan normal dan "
        "warga diminta tidak menyebarkan pesan berantai tersebut. " * 3,
    )
    preview = channel_for(tmp_path, oauth1_standin()).preview(release, sample_links())
    assert preview.length is not None and preview.length <= 280
    golden("x/clarification.txt", preview.text)
