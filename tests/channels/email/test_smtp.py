"""The email channel over real SMTP (aiosmtpd on loopback): what each recipient receives,
retries on 4xx, failures on 5xx, TLS and login, and each recipient exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from smtp_servers import PASSWORD, USER, Received, SmtpServer, free_port

from chanpub.channels.email.channel import EmailChannel, EmailOptions
from chanpub.contract import ChannelContext, Links, Receipt
from chanpub.errors import (
    AuthError,
    ChanpubError,
    ConfigError,
    PartialFailure,
    PermanentError,
    RetryableError,
)
from chanpub.ledger import Ledger
from chanpub.pacing import Pacer
from chanpub.release import Release, load_release
from chanpub.testing import (
    SECRET_MARKER,
    check_contract,
    make_context,
    now,
    sample_links,
    write_release,
)

KEY = "5e" * 32
URL = "https://kominfo.example.go.id/siaran/adminduk-keliling.html"
SECRETS = {"username": "SMTP_USER", "password": "SMTP_PASSWORD"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) + b"\xff\xd9"


def login(server: SmtpServer, **overrides: Any) -> dict[str, Any]:
    """Options for the STARTTLS server, logged in as the one account."""
    return server.options(**{"username": USER, "password": PASSWORD, **overrides})


def press_csv(folder: Path, rows: list[tuple[str, str]], name: str = "media.csv") -> str:
    """A press list with email, name and outlet columns."""
    lines = ["email,nama,media"] + [f"{address},{person},Harian Contoh" for address, person in rows]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return name


def release_with_image(folder: Path) -> Release:
    """An approved release carrying an image."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "foto.jpg").write_bytes(JPEG)
    return load_release(write_release(folder, image="foto.jpg", image_alt="Petugas melayani warga"))


def channel_for(
    tmp_path: Path, options: dict[str, Any], context: ChannelContext | None = None
) -> EmailChannel:
    """An email channel named 'press' with a context rooted in tmp_path."""
    model = EmailOptions.model_validate(options)
    return EmailChannel("press", model, context or make_context(tmp_path, secrets=SECRETS))


def send(channel: EmailChannel, release: Release, links: Links | None = None) -> Receipt:
    """Preview, then publish with the test's delivery key."""
    return channel.publish(channel.preview(release, links or sample_links(URL)), KEY)


def test_contract(tmp_path: Path, starttls_server: SmtpServer) -> None:
    options = login(starttls_server, lists=["budi@example.com"])
    assert options["password"] == SECRET_MARKER
    preview = check_contract(
        EmailChannel,
        options,
        release_with_image(tmp_path / "r"),
        make_context(tmp_path),
        secrets=(SECRET_MARKER,),
    )
    assert preview.recipients == 1
    assert starttls_server.handler.received == [], "a preview must not send mail"


def test_every_recipient_gets_one_message_with_the_right_headers_and_parts(
    tmp_path: Path,
    starttls_server: SmtpServer,
) -> None:
    media = press_csv(
        tmp_path,
        [
            ("budi@harian.example", "Budi Santoso"),
            ("BUDI@Harian.example", "Budi lagi"),
            ("siti@radio.example", ""),
            ("bukan-alamat", "Salah Ketik"),
        ],
    )
    poster = tmp_path / "poster.pdf"
    poster.write_bytes(PDF)
    options = login(
        starttls_server,
        reply_to="humas@example.go.id",
        subject_prefix="[Siaran Pers]",
        attach=["poster", "image"],
        lists={
            "press": [media],
            "warga": {
                "sources": ["Ani <ani@warga.example>"],
                "unsubscribe": "https://kominfo.example.go.id/u?e={email}",
            },
        },
    )
    links = Links(
        canonical_url=URL,
        predicted=False,
        outputs={"poster": Receipt("poster:1", None, now(), files=(poster,))},
    )
    release = release_with_image(tmp_path / "rilis")

    receipt = send(channel_for(tmp_path, options), release, links)

    handler = starttls_server.handler
    assert sorted(r for m in handler.received for r in m.rcpt_tos) == [
        "ani@warga.example",
        "budi@harian.example",
        "siti@radio.example",
    ]
    assert receipt.remote_id == f"press:{KEY[:16]}" and receipt.published_at.tzinfo is not None
    assert dict(receipt.details) | {"invalid_addresses": None} == {
        "sent": 3,
        "failed": 0,
        "deferred": 0,
        "unknown": 0,
        "invalid": 1,
        "invalid_addresses": None,
        "release_file": str(release.path.resolve()),
    }
    assert receipt.details["invalid_addresses"][0].startswith("bukan-alamat: ")
    assert all(m.tls and m.authenticated for m in handler.received)
    assert {m.mail_from for m in handler.received} == {"humas@example.go.id"}
    budi = handler.to("budi@harian.example")[0].message
    assert budi["Subject"] == f"[Siaran Pers] {release.title}"
    assert budi["From"] == "Diskominfo <humas@example.go.id>"
    assert budi["To"] == "Budi Santoso <budi@harian.example>"
    assert budi["Reply-To"] == "humas@example.go.id"
    assert parsedate_to_datetime(budi["Date"]).tzinfo is not None
    assert budi["List-Unsubscribe"] is None, "the press list gets no unsubscribe header"
    ids = {m.message["Message-ID"] for m in handler.received}
    assert len(ids) == 3 and all(i.startswith("<") and i.endswith("@example.go.id>") for i in ids)
    plain = budi.get_body(("plain",))
    html = budi.get_body(("html",))
    assert plain is not None and html is not None
    assert "Yth. Budi Santoso," in plain.get_content() and URL in plain.get_content()
    assert f'href="{URL}"' in html.get_content()
    files = {part.get_filename(): part.get_content() for part in budi.iter_attachments()}
    assert files == {"poster.pdf": PDF, "foto.jpg": JPEG}
    assert budi.get_content_type() == "multipart/mixed"
    ani = handler.to("ani@warga.example")[0].message
    assert ani["List-Unsubscribe"] == "<https://kominfo.example.go.id/u?e=ani%40warga.example>"
    assert ani["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    siti = handler.to("siti@radio.example")[0].message
    assert "Yth. Bapak/Ibu," in (siti.get_body(("plain",)) or siti).get_content()


def test_a_451_recipient_is_delivered_on_retry(tmp_path: Path, starttls_server: SmtpServer) -> None:
    starttls_server.handler.defer_once.add("siti@radio.example")
    media = press_csv(
        tmp_path,
        [
            ("budi@harian.example", "Budi"),
            ("siti@radio.example", "Siti"),
            ("rina@tv.example", "Rina"),
        ],
    )
    context = make_context(tmp_path, secrets=SECRETS)
    receipt = send(
        channel_for(tmp_path, login(starttls_server, lists=[media]), context),
        release_with_image(tmp_path / "r"),
    )

    assert receipt.details["sent"] == 3
    assert [
        len(starttls_server.handler.to(a))
        for a in ("budi@harian.example", "siti@radio.example", "rina@tv.example")
    ] == [1, 1, 1]
    assert context.journal(KEY).status("siti@radio.example") == "sent"


def test_a_550_recipient_is_recorded_and_the_others_still_get_theirs(
    tmp_path: Path,
    starttls_server: SmtpServer,
) -> None:
    starttls_server.handler.refuse.add("hilang@harian.example")
    media = press_csv(
        tmp_path,
        [
            ("budi@harian.example", "Budi"),
            ("hilang@harian.example", "Tidak Ada"),
            ("rina@tv.example", "Rina"),
        ],
    )
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    context = make_context(tmp_path, secrets=SECRETS, journal_factory=ledger.journal)

    with pytest.raises(PartialFailure) as caught:
        send(
            channel_for(tmp_path, login(starttls_server, lists=[media]), context),
            release_with_image(tmp_path / "r"),
        )

    assert "1 of 3" in caught.value.message
    receipt = caught.value.receipt
    assert isinstance(receipt, Receipt)
    assert (receipt.details["sent"], receipt.details["failed"]) == (2, 1)
    assert [m.rcpt_tos for m in starttls_server.handler.received] == [
        ("budi@harian.example",),
        ("rina@tv.example",),
    ]
    [(address, reason)] = ledger.failed_items(KEY)
    assert address == "hilang@harian.example" and "550 5.1.1 No such user here" in reason


def test_a_recipient_still_answered_4xx_is_left_for_the_next_run(
    tmp_path: Path,
    starttls_server: SmtpServer,
) -> None:
    handler = starttls_server.handler
    media = press_csv(tmp_path, [("budi@harian.example", "Budi"), ("siti@radio.example", "")])
    context = make_context(tmp_path, secrets=SECRETS)
    channel = channel_for(tmp_path, login(starttls_server, lists=[media]), context)
    release = release_with_image(tmp_path / "r")

    class AlwaysBusy(set[str]):
        def discard(self, _address: str) -> None:  # never lets go: 451 every time
            pass

    handler.defer_once = AlwaysBusy({"siti@radio.example"})
    with pytest.raises(PartialFailure) as caught:
        send(channel, release)
    assert caught.value.receipt.details["deferred"] == 1  # type: ignore[attr-defined]
    assert context.journal(KEY).status("siti@radio.example") == "deferred"

    handler.defer_once = set()
    receipt = send(channel, release)
    assert (receipt.details["sent"], receipt.details["deferred"]) == (2, 0)
    assert len(handler.to("siti@radio.example")) == 1
    assert len(handler.to("budi@harian.example")) == 1, "the second run must not resend"


def test_a_connection_dropped_before_the_message_is_reconnected_and_sent_once(
    tmp_path: Path,
    starttls_server: SmtpServer,
) -> None:
    starttls_server.handler.drop_at_rcpt_once.add("siti@radio.example")
    media = press_csv(
        tmp_path, [("budi@harian.example", ""), ("siti@radio.example", ""), ("rina@tv.example", "")]
    )
    receipt = send(
        channel_for(tmp_path, login(starttls_server, lists=[media])),
        release_with_image(tmp_path / "r"),
    )

    assert receipt.details["sent"] == 3
    assert sorted(m.rcpt_tos[0] for m in starttls_server.handler.received) == [
        "budi@harian.example",
        "rina@tv.example",
        "siti@radio.example",
    ]
    assert len({m.peer for m in starttls_server.handler.received}) == 2  # one reconnect


def test_one_connection_carries_every_message(tmp_path: Path, relay: SmtpServer) -> None:
    addresses = [f"wartawan{n}@media.example" for n in range(20)]
    send(
        channel_for(tmp_path, relay.options(security="none", lists=addresses)),
        release_with_image(tmp_path / "r"),
    )

    assert sorted(m.rcpt_tos[0] for m in relay.handler.received) == sorted(addresses)
    assert len(relay.handler.sessions) == 1


def test_an_address_outside_ascii_goes_out_with_smtputf8(tmp_path: Path, relay: SmtpServer) -> None:
    send(
        channel_for(tmp_path, relay.options(security="none", lists=["Bü <bü@media.example>"])),
        release_with_image(tmp_path / "r"),
    )

    [received] = relay.handler.received
    assert received.rcpt_tos == ("bü@media.example",)
    assert received.message["To"] == "Bü <bü@media.example>"


def test_four_connections_share_the_list(tmp_path: Path, relay: SmtpServer) -> None:
    addresses = [f"wartawan{n}@media.example" for n in range(60)]
    receipt = send(
        channel_for(tmp_path, relay.options(security="none", lists=addresses, connections=4)),
        release_with_image(tmp_path / "r"),
    )

    assert receipt.details["sent"] == 60
    assert sorted(m.rcpt_tos[0] for m in relay.handler.received) == sorted(addresses)
    assert len(relay.handler.sessions) == 4
    assert {m.peer for m in relay.handler.received} <= relay.handler.sessions


def test_implicit_tls(tmp_path: Path, tls_server: SmtpServer) -> None:
    receipt = send(
        channel_for(
            tmp_path,
            tls_server.options(
                security="tls", username=USER, password=PASSWORD, lists=["budi@harian.example"]
            ),
        ),
        release_with_image(tmp_path / "r"),
    )

    assert receipt.details["sent"] == 1
    [message] = tls_server.handler.received
    assert message.tls and message.authenticated


def test_an_untrusted_certificate_stops_before_login(
    tmp_path: Path,
    starttls_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")  # the test CA is no longer trusted
    channel = channel_for(tmp_path, login(starttls_server, lists=["budi@harian.example"]))

    with pytest.raises(PermanentError) as caught:
        send(channel, release_with_image(tmp_path / "r"))

    assert f"127.0.0.1:{starttls_server.port}" in caught.value.message
    assert "verify_tls" in caught.value.message
    assert starttls_server.handler.logins == [] and starttls_server.handler.received == []


def test_verify_tls_false_accepts_that_certificate(
    tmp_path: Path,
    starttls_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    send(
        channel_for(
            tmp_path, login(starttls_server, verify_tls=False, lists=["budi@harian.example"])
        ),
        release_with_image(tmp_path / "r"),
    )

    assert len(starttls_server.handler.received) == 1


def test_no_login_in_plain_text_when_starttls_is_missing(
    tmp_path: Path,
    plaintext_auth_server: SmtpServer,
) -> None:
    channel = channel_for(tmp_path, login(plaintext_auth_server, lists=["budi@harian.example"]))

    with pytest.raises(PermanentError) as caught:
        channel.verify()

    assert "STARTTLS" in caught.value.message
    assert plaintext_auth_server.handler.logins == []


def test_a_wrong_password_names_the_variable(tmp_path: Path, starttls_server: SmtpServer) -> None:
    channel = channel_for(
        tmp_path, login(starttls_server, password="salah", lists=["budi@harian.example"])
    )

    with pytest.raises(AuthError) as caught:
        send(channel, release_with_image(tmp_path / "r"))

    assert caught.value.variable == "SMTP_PASSWORD"
    assert "SMTP_PASSWORD" in caught.value.message and "535" in caught.value.message
    assert "salah" not in caught.value.message
    assert starttls_server.handler.received == []


def test_verify_logs_in_and_sends_nothing(tmp_path: Path, starttls_server: SmtpServer) -> None:
    channel_for(tmp_path, login(starttls_server, lists=["budi@harian.example"])).verify()

    assert starttls_server.handler.logins == [USER.encode()]
    assert starttls_server.handler.received == []


def test_an_unreachable_server_names_host_and_port(tmp_path: Path) -> None:
    port = free_port()
    channel = channel_for(
        tmp_path,
        {
            "transport": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "from": "humas@example.go.id",
            "lists": ["budi@harian.example"],
        },
    )

    with pytest.raises(RetryableError) as caught:
        send(channel, release_with_image(tmp_path / "r"))

    assert f"127.0.0.1:{port}" in caught.value.message
    assert channel.context.journal(KEY).counts() == {}


def test_a_rerun_with_everyone_reached_needs_no_server(tmp_path: Path) -> None:
    context = make_context(tmp_path)
    context.journal(KEY).sent("budi@harian.example", "<earlier@example.go.id>")
    channel = channel_for(
        tmp_path,
        {
            "transport": "smtp",
            "host": "127.0.0.1",
            "port": free_port(),
            "from": "humas@example.go.id",
            "lists": ["budi@harian.example"],
        },
        context,
    )

    receipt = send(channel, release_with_image(tmp_path / "r"))

    assert receipt.details["sent"] == 1


@pytest.mark.parametrize(
    ("lists", "expected"),
    [
        (["tidak-ada.csv"], "tidak-ada.csv does not exist"),
        (["tanpa-kolom.csv"], "has no 'email' column"),
    ],
)
def test_bad_lists_fail_before_sending(
    tmp_path: Path, relay: SmtpServer, lists: list[str], expected: str
) -> None:
    (tmp_path / "tanpa-kolom.csv").write_text("nama,media\nBudi,Harian\n", encoding="utf-8")
    channel = channel_for(tmp_path, relay.options(security="none", lists=lists))

    with pytest.raises(ConfigError) as caught:
        channel.check()

    assert expected in caught.value.message and "channels.press.lists" in caught.value.message
    assert relay.handler.received == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"host": None}, "needs 'host:'"),
        ({"security": "ssl"}, "starttls"),
        ({"connections": 0}, "greater than or equal to 1"),
        ({"port": 70000}, "less than or equal to 65535"),
        ({"from": "humas"}, "is not an e-mail address"),
        ({"rate_per_minute": -1}, "greater than or equal to 0"),
    ],
)
def test_options_are_checked(options: dict[str, Any], expected: str) -> None:
    from pydantic import ValidationError

    base = {
        "transport": "smtp",
        "host": "smtp.example.go.id",
        "from": "humas@example.go.id",
        "lists": ["budi@harian.example"],
    }
    with pytest.raises(ValidationError, match=expected):
        EmailOptions.model_validate({**base, **options})


def test_a_missing_password_variable_is_reported_by_the_config(tmp_path: Path) -> None:
    from chanpub.config import load_config

    config = tmp_path / "channels.yaml"
    config.write_text(
        "channels:\n  press:\n    type: email\n    transport: smtp\n"
        "    host: smtp.example.go.id\n    username: humas\n    password: ${SMTP_PASSWORD}\n"
        "    from: humas@example.go.id\n    lists: [budi@harian.example]\n",
        encoding="utf-8",
    )

    press = load_config(config).channels["press"]

    assert not press.ready and press.readiness == "missing secret SMTP_PASSWORD"


def test_the_rate_limit_spaces_sends_evenly(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 3))
        clock[0] += seconds

    monkeypatch.setattr("chanpub.pacing.time.monotonic", lambda: clock[0])
    monkeypatch.setattr("chanpub.pacing.time.sleep", sleep)
    bucket = Pacer.per_minute(30)
    for _ in range(4):
        bucket.take()

    assert sleeps == [2.0, 2.0, 2.0]
    Pacer.per_minute(0).take()  # no limit: never waits
    assert len(sleeps) == 3


# --- exactly once across a killed run --------------------------------------------------

SENDER = """
import json, sys
from pathlib import Path
from chanpub.channels.email.channel import EmailChannel, EmailOptions
from chanpub.ledger import Ledger
from chanpub.release import load_release
from chanpub.testing import make_context, sample_links

args = json.loads(sys.argv[1])
ledger = Ledger(args["ledger"])  # a file or a postgresql:// URL
context = make_context(Path(args["base"]), journal_factory=ledger.journal)
channel = EmailChannel("press", EmailOptions.model_validate(args["options"]), context)
channel.publish(channel.preview(load_release(Path(args["release"])),
                                sample_links(args["url"])), args["key"])
"""


@pytest.mark.parametrize("connections", [1, 3])
def test_a_run_killed_midway_then_sent_again_reaches_everyone_once(
    tmp_path: Path,
    starttls_server: SmtpServer,
    connections: int,
) -> None:
    addresses = [f"wartawan{n:02}@media.example" for n in range(30)]
    media = press_csv(tmp_path, [(a, f"Wartawan {n}") for n, a in enumerate(addresses)])
    options = login(starttls_server, lists=[media], connections=connections)
    release = release_with_image(tmp_path / "r")
    ledger_path = tmp_path / "ledger.sqlite3"
    args = {
        "ledger": str(ledger_path),
        "base": str(tmp_path),
        "options": options,
        "release": str(release.path),
        "url": URL,
        "key": KEY,
    }
    process = subprocess.Popen(
        [sys.executable, "-c", SENDER, json.dumps(args)],
        env=os.environ.copy(),
        stderr=subprocess.PIPE,
    )

    def kill_at_the_tenth(_message: Received) -> None:
        if len(starttls_server.handler.received) == 10:  # before its 250 reaches the client
            os.kill(process.pid, signal.SIGKILL)

    starttls_server.handler.on_message = kill_at_the_tenth
    _out, errors = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, errors.decode()
    starttls_server.handler.on_message = None
    ledger = Ledger(ledger_path)
    interrupted = {a for a in addresses if ledger.item_status(KEY, a) == "in_progress"}
    assert 1 <= len(interrupted) <= connections

    with pytest.raises(PartialFailure):  # the interrupted ones are unknown, not resent
        send(
            channel_for(
                tmp_path,
                options,
                make_context(tmp_path, secrets=SECRETS, journal_factory=ledger.journal),
            ),
            release,
        )

    counts = {a: len(starttls_server.handler.to(a)) for a in addresses}
    assert {a for a, n in counts.items() if n != 1} <= interrupted
    assert all(n <= 1 for n in counts.values()), "nobody gets the release twice"
    flagged = dict(ledger.unknown_items(KEY))
    assert set(flagged) == interrupted
    assert all("may have received" in reason for reason in flagged.values())
    assert ledger.item_counts(KEY) == {"sent": 30 - len(interrupted), "unknown": len(interrupted)}
    if connections == 1:  # one session: exactly the tenth was in flight, and it arrived
        assert interrupted == {addresses[9]} and counts[addresses[9]] == 1


def test_no_error_message_carries_the_password(tmp_path: Path, starttls_server: SmtpServer) -> None:
    messages: list[str] = []
    for options in (
        login(starttls_server, password="x" + PASSWORD),
        login(starttls_server, port=free_port()),
    ):
        try:
            channel_for(tmp_path, {**options, "lists": ["a@b.example"]}).verify()
        except ChanpubError as error:
            messages.append(str(error) + repr(error))
    assert len(messages) == 2 and not any(PASSWORD in m for m in messages)
