"""The outbox transport: one .eml file per recipient, for review or another mail system;
and the message bodies every transport sends, against golden files."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from pathlib import Path

from chanpub.channels.email.channel import EmailChannel, EmailOptions
from chanpub.channels.email.message import Composer, render_bodies
from chanpub.channels.email.recipients import Recipient
from chanpub.render.pictures import byte_label
from chanpub.testing import (
    check_contract,
    check_receipt,
    make_context,
    sample_links,
    sample_release,
)

URL = "https://kominfo.example.go.id/siaran/adminduk-keliling.html"
OPTIONS = {
    "transport": "outbox",
    "path": "outbox",
    "from": "Diskominfo <humas@example.go.id>",
    "subject_prefix": "[Siaran Pers]",
    "lists": {
        "press": ["Budi Santoso <budi@harian.example>", "siti@radio.example"],
        "warga": {
            "sources": ["ani@warga.example"],
            "unsubscribe": "https://kominfo.example.go.id/u/{token}",
        },
    },
}


def test_contract(tmp_path: Path) -> None:
    preview = check_contract(
        EmailChannel, OPTIONS, sample_release(tmp_path / "r"), make_context(tmp_path)
    )
    assert preview.recipients == 3 and preview.title is not None
    assert preview.title.startswith("[Siaran Pers] ")


def test_each_recipient_gets_one_file_and_a_rerun_adds_none(tmp_path: Path) -> None:
    context = make_context(tmp_path)
    channel = EmailChannel("press", EmailOptions.model_validate(OPTIONS), context)
    release = sample_release(tmp_path / "r")
    preview = channel.preview(release, sample_links(URL))

    receipt = check_receipt(channel.publish(preview, "ab" * 32))
    again = channel.publish(preview, "ab" * 32)

    folder = receipt.files[0]
    names = sorted(path.name for path in folder.iterdir())
    assert names == ["ani@warga.example.eml", "budi@harian.example.eml", "siti@radio.example.eml"]
    assert again.details["sent"] == 3
    budi = email.message_from_bytes(
        (folder / "budi@harian.example.eml").read_bytes(), policy=email.policy.default
    )
    assert budi["To"] == "Budi Santoso <budi@harian.example>"
    assert b"\r\n" not in (folder / "budi@harian.example.eml").read_bytes()


def test_message_bodies_match_the_golden_files(
    tmp_path: Path,
    golden: Callable[[str, str], None],
) -> None:
    release = sample_release(tmp_path / "r")
    channel = EmailChannel("press", EmailOptions.model_validate(OPTIONS), make_context(tmp_path))
    parts = channel._parts(release, sample_links(URL))
    composer = Composer(release, parts, key="ab" * 32)

    budi, ani = (
        Recipient("budi@harian.example", "Budi Santoso"),
        Recipient("ani@warga.example", "", "warga"),
    )
    unsubscribe = "https://kominfo.example.go.id/u/a&b"
    press = composer.compose(budi).message
    subscriber = composer.compose(ani, unsubscribe=unsubscribe).message

    for name, message, bodies in (
        ("press", press, render_bodies(release, parts, budi, None)),
        ("subscriber", subscriber, render_bodies(release, parts, ani, unsubscribe)),
    ):
        plain, html = message.get_body(("plain",)), message.get_body(("html",))
        assert plain is not None and html is not None
        golden(f"email/{name}.txt", plain.get_content())
        golden(f"email/{name}.html", html.get_content())
        # the composer's render-once shortcut gives what rendering per recipient gives
        # (a MIME text part always ends with a line break)
        assert (plain.get_content(), html.get_content()) == (bodies[0], bodies[1] + "\n")
    assert 'href="https://kominfo.example.go.id/u/a&amp;b"' in str(
        subscriber.get_body(("html",)).get_content()
    )  # type: ignore[union-attr]


def test_the_preview_states_the_size_the_first_recipient_s_message_has(tmp_path: Path) -> None:
    release = sample_release(tmp_path / "r")
    photo = tmp_path / "r" / "foto.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4000)  # about 1 MB
    release = release.__class__(**{**release.__dict__, "image": photo})
    options = {**OPTIONS, "lists": ["Budi Santoso <budi@harian.example>"], "attach": ["image"]}
    channel = EmailChannel("press", EmailOptions.model_validate(options), make_context(tmp_path))

    preview = channel.preview(release, sample_links(URL))
    receipt = channel.publish(preview, "cd" * 32)

    written = (receipt.files[0] / "budi@harian.example.eml").stat().st_size
    assert written > 1_300_000  # the photo, base64-encoded
    assert dict(preview.facts)["Size"] == byte_label(written)
