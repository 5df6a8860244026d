"""The wordpress channel against a real WordPress on loopback (Debian's packages, started by
tests/servers/wordpress/setup.sh), read back through its REST API."""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chanpub.channels.wordpress import WordpressChannel
from chanpub.contract import Links
from chanpub.errors import AmbiguousError, AuthError, DuplicateError, PermanentError
from chanpub.http import make_client
from chanpub.release import Release
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    check_receipt,
    loopback_client,
    make_context,
)
from chanpub.testing import sample_release as write_sample

SECRETS = {"username": "WP_USER", "app_password": "WP_APP_PASSWORD"}
BODY = (
    "Dinas Kependudukan membuka **layanan keliling** di 12 kelurahan.\n\n"
    "<script>alert('x')</script>\n\n"  # a raw HTML block (CommonMark): dropped whole
    "Lihat [jadwal](javascript:alert(1)) dan "
    "[situs resmi](https://kominfo.example.go.id/jadwal).\n"
)


@pytest.fixture(scope="session")
def site(wordpress_site: dict[str, str]) -> dict[str, str]:
    """The WordPress server (tests/conftest.py starts it)."""
    return wordpress_site


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A real client that may reach loopback (the default test transport refuses all)."""
    with loopback_client() as real:
        yield real


@pytest.fixture
def admin(site: dict[str, str]) -> Iterator[httpx.Client]:
    """Reads what the channel made, as the site's administrator."""
    with httpx.Client(
        base_url=f"{site['url']}/wp-json/wp/v2/", auth=(site["user"], site["password"])
    ) as reader:
        yield reader


def channel(
    server: dict[str, str], tmp_path: Path, client: httpx.Client, **options: Any
) -> WordpressChannel:
    values = {
        "site": server["url"],
        "username": server["user"],
        "app_password": server["password"],
        **options,
    }
    context = make_context(tmp_path, client_factory=lambda: client, secrets=SECRETS)
    return WordpressChannel("website", WordpressChannel.Options.model_validate(values), context)


def png(path: Path) -> Path:
    """A real 2x2 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + bytes([200, 30, 30]) * 2 for _ in range(2))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def release(tmp_path: Path, body: str = BODY, **fields: Any) -> Release:
    """An approved release with a slug no other test uses, an image and tags."""
    png(tmp_path / "poster.png")
    values: dict[str, Any] = {
        "slug": f"adminduk-keliling-{uuid.uuid4().hex[:10]}",
        "summary": "Layanan adminduk keliling di 12 kelurahan mulai Senin.",
        "image": "poster.png",
        "image_alt": "Petugas melayani warga di balai kelurahan",
        "tags": ["Adminduk", "Layanan Publik"],
        **fields,
    }
    return write_sample(tmp_path, body=body, **values)


def new_key() -> str:
    """A delivery key no earlier run used (the test site keeps its posts between runs)."""
    return uuid.uuid4().hex * 2


def posts_with_slug(admin: httpx.Client, slug: str) -> list[dict[str, Any]]:
    response = admin.get(
        "posts", params={"slug": slug, "status": "publish,future,draft", "context": "edit"}
    )
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def test_contract_preview_is_offline_and_hides_the_password(tmp_path: Path) -> None:
    options = {
        "site": "https://kominfo.example.go.id",
        "username": "humas",
        "app_password": SECRET_MARKER,
        "categories": ["Siaran Pers"],
    }
    preview = check_contract(WordpressChannel, options, release(tmp_path), make_context(tmp_path))
    assert preview.title == "Pemkot Buka Layanan Adminduk Keliling"
    assert "<script" not in (preview.html or "")
    assert "alert('x')" not in (preview.html or "")  # dropped with its tag, as on the website
    assert 'href="javascript:' not in (preview.html or "")
    assert preview.data["status"] == "publish"
    assert WordpressChannel.capabilities.canonical


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"site": "kominfo.example.go.id"}, "must be a web address"),
        ({"site": "ftp://kominfo.example.go.id"}, "must be a web address"),
        ({"status": "draft"}, "'publish' or 'future'"),
        ({"app_password": None}, "app_password"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], error: str) -> None:
    from pydantic import ValidationError

    values = {
        "site": "https://kominfo.example.go.id",
        "username": "humas",
        "app_password": "abcd efgh ijkl",
        **options,
    }
    values = {k: v for k, v in values.items() if v is not None}
    with pytest.raises(ValidationError) as raised:
        WordpressChannel.Options.model_validate(values)
    assert error in str(raised.value)


def test_publish_creates_the_post_as_written(
    site: dict[str, str], tmp_path: Path, client: httpx.Client, admin: httpx.Client
) -> None:
    wordpress = channel(site, tmp_path, client, categories=["Siaran Pers"])
    rel = release(tmp_path)
    receipt = check_receipt(wordpress.publish(wordpress.preview(rel, Links()), new_key()))

    post = admin.get(f"posts/{receipt.remote_id}", params={"context": "edit"}).json()
    assert post["title"]["raw"] == rel.title
    assert post["slug"] == rel.slug and post["status"] == "publish"
    assert post["excerpt"]["raw"] == rel.summary
    content = post["content"]["raw"]
    assert "<strong>layanan keliling</strong>" in content
    assert 'href="https://kominfo.example.go.id/jadwal"' in content
    assert "<script" not in content and 'href="javascript:' not in content
    assert receipt.url == post["link"] == f"{site['url']}/{rel.slug}/"
    media = admin.get(f"media/{post['featured_media']}", params={"context": "edit"}).json()
    assert media["alt_text"] == "Petugas melayani warga di balai kelurahan"
    assert media["media_type"] == "image"
    tags = admin.get("tags", params={"include": ",".join(map(str, post["tags"]))}).json()
    assert sorted(t["name"] for t in tags) == ["Adminduk", "Layanan Publik"]
    categories = admin.get("categories", params={"include": post["categories"][0]}).json()
    assert categories[0]["name"] == "Siaran Pers"
    page = client.get(receipt.url)
    assert page.status_code == 200 and "Adminduk Keliling" in page.text


def test_a_second_publish_creates_nothing(
    site: dict[str, str], tmp_path: Path, client: httpx.Client, admin: httpx.Client
) -> None:
    wordpress = channel(site, tmp_path, client)
    rel = release(tmp_path)
    preview = wordpress.preview(rel, Links())
    key = new_key()
    first = wordpress.publish(preview, key)
    second = channel(site, tmp_path, client).publish(preview, key)
    assert second.remote_id == first.remote_id and second.url == first.url
    assert len(posts_with_slug(admin, rel.slug)) == 1
    images = admin.get("media", params={"search": rel.slug, "context": "edit"}).json()
    assert len(images) == 1


class LoseCreateResponse(httpx.HTTPTransport):
    """Sends every request, but loses the answer to creating a post (a crash or timeout)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/wp/v2/posts"):
            response.read()
            response.close()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def test_a_lost_answer_to_create_never_makes_a_second_post(
    site: dict[str, str], tmp_path: Path, client: httpx.Client, admin: httpx.Client
) -> None:
    rel = release(tmp_path)
    key = new_key()
    with make_client(LoseCreateResponse()) as crashing:
        wordpress = channel(site, tmp_path, crashing)
        with pytest.raises(AmbiguousError, match="may have been applied"):
            wordpress.publish(wordpress.preview(rel, Links()), key)

    again = channel(site, tmp_path, client)
    found = again.lookup(key)
    assert found is not None and found.url == f"{site['url']}/{rel.slug}/"
    assert again.publish(again.preview(rel, Links()), key).remote_id == found.remote_id
    assert [p["id"] for p in posts_with_slug(admin, rel.slug)] == [int(found.remote_id)]
    assert again.lookup(new_key()) is None


def test_update_edits_the_post_in_place(
    site: dict[str, str], tmp_path: Path, client: httpx.Client, admin: httpx.Client
) -> None:
    wordpress = channel(site, tmp_path, client)
    rel = release(tmp_path)
    receipt = wordpress.publish(wordpress.preview(rel, Links()), new_key())
    changed = release(
        tmp_path,
        body="Jadwal **diperbarui**: mulai Selasa.\n",
        slug=rel.slug,
        title="Jadwal Adminduk Keliling Diperbarui",
    )
    updated = wordpress.update(wordpress.preview(changed, Links()), receipt)

    assert updated.remote_id == receipt.remote_id and updated.url == receipt.url
    [post] = posts_with_slug(admin, rel.slug)
    assert post["title"]["raw"] == "Jadwal Adminduk Keliling Diperbarui"
    assert "<strong>diperbarui</strong>" in post["content"]["raw"]
    assert "layanan keliling" not in post["content"]["raw"]


def test_future_status_lets_wordpress_schedule_the_post(
    site: dict[str, str], tmp_path: Path, client: httpx.Client, admin: httpx.Client
) -> None:
    wordpress = channel(site, tmp_path, client, status="future")
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    rel = release(tmp_path, publish_at=when.isoformat())
    receipt = wordpress.publish(wordpress.preview(rel, Links()), new_key())

    post = admin.get(f"posts/{receipt.remote_id}", params={"context": "edit"}).json()
    assert post["status"] == "future"
    assert post["date_gmt"] == when.strftime("%Y-%m-%dT%H:%M:%S")
    assert receipt.published_at == when
    assert receipt.url == f"{site['url']}/{rel.slug}/"


def test_a_post_with_our_slug_that_we_did_not_make_is_left_alone(
    site: dict[str, str], tmp_path: Path, client: httpx.Client, admin: httpx.Client
) -> None:
    rel = release(tmp_path)
    admin.post(
        "posts",
        json={
            "title": "Hand made",
            "slug": rel.slug,
            "status": "publish",
            "content": "Written in WordPress.",
        },
    ).raise_for_status()
    wordpress = channel(site, tmp_path, client)
    with pytest.raises(DuplicateError, match="already has a post with the slug"):
        wordpress.publish(wordpress.preview(rel, Links()), new_key())
    assert [p["title"]["raw"] for p in posts_with_slug(admin, rel.slug)] == ["Hand made"]


def test_wrong_password_is_a_401_naming_the_variables(
    site: dict[str, str], tmp_path: Path, client: httpx.Client
) -> None:
    wordpress = channel(site, tmp_path, client, app_password="AAAA BBBB CCCC DDDD EEEE FFFF")
    with pytest.raises(AuthError) as raised:
        wordpress.verify()
    message = str(raised.value)
    assert "401" in message and "${WP_APP_PASSWORD}" in message and "${WP_USER}" in message
    assert "AAAA" not in message
    assert raised.value.variable == "WP_APP_PASSWORD"
    with pytest.raises(AuthError):
        wordpress.publish(wordpress.preview(release(tmp_path), Links()), new_key())


def test_a_site_without_the_rest_api_says_which_urls_were_tried(
    site: dict[str, str], tmp_path: Path, client: httpx.Client
) -> None:
    wordpress = channel(site, tmp_path, client, site=f"{site['url']}/wp-content")
    with pytest.raises(PermanentError) as raised:
        wordpress.publish(wordpress.preview(release(tmp_path), Links()), new_key())
    message = str(raised.value)
    assert "no WordPress REST API" in message
    assert f"{site['url']}/wp-content/wp-json/" in message
    assert f"{site['url']}/wp-content/?rest_route=/" in message


def test_a_category_the_user_may_not_create_is_a_clear_error(
    site: dict[str, str], tmp_path: Path, client: httpx.Client, admin: httpx.Client
) -> None:
    category = f"Rubrik {uuid.uuid4().hex[:8]}"
    author = channel(
        site,
        tmp_path,
        client,
        username=site["author_user"],
        app_password=site["author_password"],
        categories=[category],
    )
    with pytest.raises(PermanentError, match=f"may not create the category '{category}'"):
        author.verify()
    rel = release(tmp_path, tags=[])
    with pytest.raises(PermanentError, match="give the user the Editor role"):
        author.publish(author.preview(rel, Links()), new_key())
    assert posts_with_slug(admin, rel.slug) == []


def test_verify_passes_for_an_administrator(
    site: dict[str, str], tmp_path: Path, client: httpx.Client
) -> None:
    wordpress = channel(site, tmp_path, client, categories=["Siaran Pers"])
    assert wordpress.verify() is None


def test_channels_yaml_with_wordpress_as_the_canonical_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chanpub.config import load_config

    (tmp_path / "channels.yaml").write_text(
        "channels:\n"
        "  website:\n"
        "    type: wordpress\n"
        "    canonical: true\n"
        "    site: https://kominfo.example.go.id/\n"
        "    username: ${WP_USER}\n"
        "    app_password: ${WP_APP_PASSWORD}\n"
        "    categories: [Siaran Pers]\n"
        "    status: future\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("WP_USER", "humas")
    monkeypatch.setenv("WP_APP_PASSWORD", "abcd EFGH ijkl MNOP qrst UVWX")
    website = load_config(tmp_path / "channels.yaml").channels["website"]
    assert website.ready and website.canonical
    assert website.secrets == {"username": "WP_USER", "app_password": "WP_APP_PASSWORD"}
    options = website.options
    assert isinstance(options, WordpressChannel.Options)
    assert options.site == "https://kominfo.example.go.id"  # type: ignore[attr-defined]
    assert options.app_password.get_secret_value() == "abcdEFGHijklMNOPqrstUVWX"  # type: ignore[attr-defined]
    assert "abcd" not in repr(options)


def test_a_correction_edits_the_post_with_the_note_and_twice_is_once(
    site: dict[str, str], tmp_path: Path, client: httpx.Client, admin: httpx.Client
) -> None:
    from chanpub.contract import Action, Amendment

    wordpress = channel(site, tmp_path, client)
    rel = release(tmp_path)
    receipt = wordpress.publish(wordpress.preview(rel, Links()), new_key())
    changed = release(tmp_path, body="Mulai **Selasa**, 8 September.\n", slug=rel.slug)
    at = datetime(2026, 9, 7, 9, 30, tzinfo=UTC)
    note = "Layanan dimulai Selasa, bukan Senin."
    amendment = Amendment(kind="correction", note=note, at=at, previous=receipt)
    preview = wordpress.preview(changed, Links())
    done = wordpress.amend(preview, amendment, key=new_key())
    assert done.action is Action.EDITED and done.url == receipt.url
    [post] = posts_with_slug(admin, rel.slug)
    raw = post["content"]["raw"]
    assert raw.startswith('<p class="chanpub-correction"><strong>Ralat</strong>')
    assert note in raw and "<strong>Selasa</strong>" in raw
    assert f"<!-- chanpub:{receipt.details['key']} -->" in raw  # lookup still finds it
    # Its answer lost, the same correction again changes nothing.
    assert wordpress.amend(preview, amendment, key=new_key()).action is Action.UNCHANGED
    [post] = posts_with_slug(admin, rel.slug)
    assert post["content"]["raw"].count(note) == 1


@pytest.mark.parametrize("retract", ["draft", "trash"])
def test_a_retraction_leaves_a_notice_and_takes_the_post_off_the_site(
    site: dict[str, str],
    tmp_path: Path,
    client: httpx.Client,
    admin: httpx.Client,
    retract: str,
) -> None:
    from chanpub.contract import Action, Amendment

    wordpress = channel(site, tmp_path, client, retract=retract)
    rel = release(tmp_path)
    receipt = wordpress.publish(wordpress.preview(rel, Links()), new_key())
    at = datetime(2026, 9, 7, 9, 30, tzinfo=UTC)
    amendment = Amendment(kind="retraction", note="Acara dibatalkan.", at=at, previous=receipt)
    preview = wordpress.preview(rel, Links())
    done = wordpress.amend(preview, amendment, key=new_key())
    assert done.action is Action.DELETED and done.url is None
    post = admin.get(f"posts/{receipt.remote_id}", params={"context": "edit"}).json()
    assert post["status"] == retract
    assert "Alasan: Acara dibatalkan." in post["content"]["raw"]
    assert httpx.get(str(receipt.url)).status_code == 404
    assert wordpress.amend(preview, amendment, key=new_key()).action is Action.UNCHANGED
