"""The composer's shortcuts write the bytes the slow path writes: a `To:` line written
directly is what the email package folds, a body filled line by line is the whole body
encoded, and every recipient's message parses back to what rendering it alone gives."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.headerregistry import Address

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chanpub.channels.email.channel import EmailChannel, EmailOptions
from chanpub.channels.email.message import (
    Composer,
    MessageParts,
    TextTemplate,
    render_bodies,
    text_part,
    to_header,
)
from chanpub.channels.email.recipients import Recipient
from chanpub.release import Release
from chanpub.testing import make_context, sample_links, sample_release

NAMES = st.text(alphabet=st.sampled_from(list("AaZz09 -.,'\"=?_<>@()\\éÑ日\t")), max_size=90).map(
    str.strip
)
LOCAL_PARTS = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}", fullmatch=True)
VALUES = st.text(alphabet=st.sampled_from(list("ab =.\n\r\t é日&<")), max_size=120)
LINES = st.text(alphabet=st.sampled_from(list("xy =.\t é\n")), max_size=200)
STAND_INS = ("\x01a\x01", "\x01b\x01")
OPTIONS = {"transport": "outbox", "path": "outbox", "from": "humas@example.go.id", "lists": []}


@given(name=NAMES, local=LOCAL_PARTS)
def test_a_to_line_is_what_the_email_package_writes(name: str, local: str) -> None:
    address = f"{local}@media-1.example"
    folded = policy.SMTP.header_factory(
        "To", Address(display_name=name, username=local, domain="media-1.example")
    ).fold(policy=policy.SMTP)
    assert to_header(name, address) == str(folded).encode("ascii")


def test_names_that_need_quoting_or_encoding_are_left_to_the_email_package() -> None:
    assert to_header("Budi Santoso", "budi@harian.example") == (
        b"To: Budi Santoso <budi@harian.example>\r\n"
    )
    assert to_header("J. Smith", "j@harian.example") == b'To: "J. Smith" <j@harian.example>\r\n'
    assert (
        to_header("Dédé", "d@harian.example") == b"To: =?utf-8?b?RMOpZMOp?= <d@harian.example>\r\n"
    )


@given(
    before=LINES,
    middle=LINES,
    after=LINES,
    values=st.tuples(VALUES, VALUES),
    subtype=st.sampled_from(["plain", "html"]),
)
def test_a_template_filled_line_by_line_is_the_whole_text_encoded(
    before: str, middle: str, after: str, values: tuple[str, str], subtype: str
) -> None:
    template = f"{before}{STAND_INS[0]}{middle}{STAND_INS[1]}{after}"
    whole = template.replace(STAND_INS[0], values[0]).replace(STAND_INS[1], values[1])
    filled = TextTemplate(subtype, template, STAND_INS).fill(values)
    assert filled == text_part(subtype, whole)


def rfc2047_reading(data: bytes, field: str) -> str:
    """A header of the wire `data` as RFC 2047 6.2 has a mail program show it: whitespace
    between two adjacent encoded words is dropped. The email package's address parser keeps
    a space there when a long name is folded between two encoded words, which no mail
    program shows (the legacy decode_header follows the RFC)."""
    raw = message_from_bytes(data, policy=policy.compat32)[field]
    return str(make_header(decode_header(" ".join(raw.split()))))


@pytest.fixture(scope="module")
def mailing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Release, MessageParts]:
    """The sample release and what its e-mails share."""
    folder = tmp_path_factory.mktemp("mailing")
    release = sample_release(folder / "r")
    channel = EmailChannel("press", EmailOptions.model_validate(OPTIONS), make_context(folder))
    return release, channel._parts(release, sample_links("https://kominfo.example.go.id/s/x/"))


@settings(max_examples=40)
@example(name="0" * 36 + "<Ñ日日", local="0", unsubscribe=None)  # folded between 日 and 日
@given(
    name=NAMES.map(lambda name: " ".join(name.split())),  # a phrase reads back one space
    local=LOCAL_PARTS,
    unsubscribe=st.sampled_from([None, "https://u.example/?t=1&e=2"]),
)
def test_every_recipient_parses_back_to_the_message_rendered_alone(
    mailing: tuple[Release, MessageParts], name: str, local: str, unsubscribe: str | None
) -> None:
    release, parts = mailing
    recipient = Recipient(f"{local}@media.example", name)

    message = Composer(release, parts, key="ab" * 32).compose(recipient, unsubscribe=unsubscribe)

    parsed = message.message
    [to] = parsed["To"].addresses
    assert (to.username, to.domain) == (local, "media.example")
    assert (
        to.display_name == name or rfc2047_reading(message.data, "To") == f"{name} <{to.addr_spec}>"
    )
    plain, html = render_bodies(release, parts, recipient, unsubscribe)
    assert parsed.get_body(("plain",)).get_content() == plain  # type: ignore[union-attr]
    assert parsed.get_body(("html",)).get_content() == html + "\n"  # type: ignore[union-attr]
    assert message.data.isascii() and max(map(len, message.data.split(b"\r\n"))) <= 998
