"""Issue 16, done when: a published release is corrected twice and then retracted with three
runs of `chanpub send`, every channel showing the right state, nothing done twice. The
channels: the website (canonical), the six networks as strict stand-ins
(tests/standins/networks.py) and a press list through the e-mail outbox."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from faults.office import chanpub, kill_when, start, with_kill_point
from standins.graph import REALISTIC_BODY
from standins.loopback import serve
from standins.networks import SECRETS, Networks, channels, website, write_office
from typer.testing import CliRunner

from chanpub import http
from chanpub.approval import approve
from chanpub.cli import app

pytestmark = pytest.mark.e2e
SLUG = "pemkot-buka-layanan-adminduk-keliling"
FIRST = "Layanan dimulai Selasa, bukan Senin."
SECOND = "Layanan dibuka di 14 kelurahan, bukan 12."
REASON = "Dibatalkan karena cuaca buruk."
PORTAL = "portal.kotacontoh.go.id"
PRESS = ["budi@harian.example", "siti@radio.example", "rina@tv.example"]


def amend(path: Path, old: str, new: str, **note: str) -> None:
    """The officer edits the release, writes the note, and the head approves it again."""
    [(field, value)] = note.items()
    text = path.read_text(encoding="utf-8").replace(old, new)
    line = f"{field}: {json.dumps(value)}\n"
    written = re.search(rf"^{field}: .*\n", text, flags=re.MULTILINE)
    text = (
        text.replace(written.group(), line) if written else text.replace("---\n", "---\n" + line, 1)
    )
    path.write_text(text, encoding="utf-8")
    approve(path, "Kepala Dinas Kominfo")


def send() -> tuple[int, dict[str, dict[str, Any]]]:
    result = CliRunner().invoke(app, ["send", "releases/", "--json"])
    document = json.loads(result.output)
    [release] = document["releases"]
    return result.exit_code, {o["channel"]: o for o in release["channels"]}


def press_list(folder: Path) -> dict[str, Any]:
    """An e-mail channel writing to the outbox for the journalists in press.csv."""
    (folder / "press.csv").write_text("email\n" + "\n".join(PRESS) + "\n", encoding="utf-8")
    return {
        "type": "email",
        "transport": "outbox",
        "path": "outbox",
        "from": "Diskominfo <humas@kominfo.example.go.id>",
        "lists": ["press.csv"],
    }


class Portal:
    """The city portal's webhook receiver: it stores each delivery once per
    Idempotency-Key (a repeat gets the first answer), as tests/channels/test_webhook.py's."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.answers: dict[str, httpx.Response] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = request.headers["Idempotency-Key"]
        if key not in self.answers:
            self.events.append(json.loads(request.content))
            url = f"https://{PORTAL}/berita/{SLUG}"
            self.answers[key] = httpx.Response(201, json={"id": len(self.events), "url": url})
        return self.answers[key]


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Networks, Path]:
    networks = Networks(tmp_path / "public")
    networks.by_host[PORTAL] = Portal()
    monkeypatch.setattr(http, "transport_factory", networks.transport_factory())
    for name, value in {**SECRETS, "HOOK_SECRET": "whsec-3b0e7c1d9a"}.items():
        monkeypatch.setenv(name, value)
    portal = {
        "type": "webhook",
        "url": f"https://{PORTAL}/hooks/chanpub",
        "secret": "${HOOK_SECRET}",
    }
    entries = {"website": website(), **channels(), "press": press_list(tmp_path), "portal": portal}
    release = write_office(tmp_path, entries, body=REALISTIC_BODY)
    monkeypatch.chdir(tmp_path)
    return networks, release


def notices(outbox: Path) -> dict[str, list[str]]:
    """Each notice folder's kind -> the recipients it holds, sorted, in folder order."""
    found: dict[str, list[str]] = {}
    for folder in sorted(p for p in outbox.iterdir() if p.is_dir()):
        kind = folder.name.split("-")[0]
        found.setdefault(kind, []).extend(sorted(p.stem for p in folder.glob("*.eml")))
    return found


def writes(networks: Networks) -> int:
    """How many requests that change something the six networks have received."""
    return sum(
        1 for standin in networks.each().values() for r in standin.requests if r.method != "GET"
    )


def check_final_state(networks: Networks, folder: Path) -> None:
    """Every platform holds exactly the state after two corrections and a retraction."""
    # Mastodon: one status, edited twice in place (edits keep history), then deleted.
    [status] = networks.mastodon.statuses.values()
    history = [h["content"] for h in networks.mastodon.history[status["id"]]]
    assert len(history) == 3 and FIRST in history[1] and SECOND in history[2]
    assert status["deleted"] and len(networks.mastodon.calls("POST", "/api/v1/statuses")) == 1
    # Bluesky: the post and its two correction replies, all deleted with the thread. A
    # record is created at a key chosen before sending, so a repeat cannot make a second.
    created = {
        body["rkey"]: body["record"]["text"]
        for body in (json.loads(r.content) for r in networks.bluesky.calls("POST", "createRecord"))
    }
    texts = list(created.values())
    assert len(texts) == 3 and FIRST in texts[1] and SECOND in texts[2]
    assert networks.bluesky.live() == []
    # Telegram, Facebook: the message edited twice (the note on top), then deleted.
    [message] = networks.telegram.messages.values()
    assert (message["edits"], message["deleted"]) == (2, True) and SECOND in message["text"]
    [page_post] = networks.facebook.posts.values()
    assert len(page_post["edits"]) == 2 and page_post["deleted"]
    assert page_post["message"].startswith(f"Ralat: {SECOND}")
    # Instagram: one post; one comment per amendment, in order.
    assert len(networks.instagram.media) == 1
    assert [c["text"] for c in networks.instagram.comments] == [
        f"Ralat: {FIRST}",
        f"Ralat: {SECOND}",
        f"Dicabut: {REASON}",
    ]
    # X: an edit chain of three versions (each edit a new post id), deleted as a whole.
    versions = list(networks.x.posts.values())
    assert len(versions) == 3 and networks.x.live() == []
    assert SECOND in versions[-1]["text"] and len(versions[-1]["edit_history_tweet_ids"]) == 3
    # The website: the same address now says the release was withdrawn, and why.
    page = (folder / "public" / f"{SLUG}.html").read_text(encoding="utf-8")
    index = (folder / "public" / "index.html").read_text(encoding="utf-8")
    assert REASON in page and SLUG not in index
    # E-mail: each journalist got the release and each notice exactly once.
    outbox = folder / "outbox" / SLUG
    assert sorted(p.stem for p in outbox.glob("*.eml")) == sorted(PRESS)
    assert notices(outbox) == {"correction": sorted(PRESS) * 2, "retraction": sorted(PRESS)}


def test_corrected_twice_then_retracted_with_three_runs_everywhere(
    office: tuple[Networks, Path],
) -> None:
    networks, release = office
    first = send()
    amend(release, "dibuka mulai Senin", "dibuka mulai Selasa", correction=FIRST)
    corrected = send()
    amend(release, "12 kelurahan", "14 kelurahan", correction=SECOND)
    corrected_again = send()
    amend(release, "14 kelurahan", "14 kelurahan", retraction=REASON)
    retracted = send()

    assert [code for code, _ in (first, corrected, corrected_again, retracted)] == [0, 0, 0, 0]
    actions = {name: o["action"] for name, o in retracted[1].items()}
    assert actions == {
        "website": "edited",
        "mastodon": "deleted",
        "bluesky": "deleted",
        "telegram": "deleted",
        "facebook": "deleted",
        "instagram": "replied",  # the API cannot delete a post: a comment says it
        "x": "deleted",
        "press": "sent",
        "portal": "deleted",
    }
    assert {o["action"] for o in corrected_again[1].values()} <= {"edited", "replied", "sent"}

    check_final_state(networks, Path.cwd())
    portal = networks.by_host[PORTAL]
    assert isinstance(portal, Portal)
    assert [(e["event"], (e.get("amendment") or {}).get("note")) for e in portal.events] == [
        ("release.published", None),
        ("release.corrected", FIRST),
        ("release.corrected", SECOND),
        ("release.retracted", REASON),
    ]

    # Cron runs again: nothing is done twice.
    before = writes(networks)
    code, again = send()
    assert code == 0 and {o["status"] for o in again.values()} == {"already-published"}
    assert writes(networks) == before
    assert notices(Path("outbox", SLUG)) == {
        "correction": sorted(PRESS) * 2,
        "retraction": sorted(PRESS),
    }


@pytest.fixture
def served_office(tmp_path: Path) -> Iterator[tuple[Networks, Path]]:
    """The same office for a `chanpub send` subprocess: each stand-in on its own loopback
    port, the channels' base URL options pointing there."""
    networks = Networks(tmp_path / "public")
    with ExitStack() as stack:
        bases = {name: stack.enter_context(serve(api)) for name, api in networks.each().items()}
        entries = {"website": website(), **channels(bases), "press": press_list(tmp_path)}
        yield networks, write_office(tmp_path, entries, body=REALISTIC_BODY)


def killed_send(folder: Path, count: int) -> None:
    """`chanpub send`, SIGKILLed after its `count`-th remote call returned and before that
    outcome was recorded (tests/faults/killpoints)."""
    signal_file = folder / f"killed-{count}"
    process = start(
        folder,
        "send",
        "releases/",
        **with_kill_point("before-record", signal_file, count),
        **SECRETS,
    )
    kill_when(process, signal_file.exists)


def test_each_step_killed_in_the_middle_still_ends_in_the_right_state_once(
    served_office: tuple[Networks, Path],
) -> None:
    networks, release = served_office
    folder = release.parents[1]

    def finish() -> dict[str, dict[str, Any]]:
        done = chanpub(folder, "send", "releases/", "--json", **SECRETS)
        assert done.returncode == 0, done.stdout + done.stderr
        [outcome] = json.loads(done.stdout)["releases"]
        return {o["channel"]: o for o in outcome["channels"]}

    finish()
    amend(release, "dibuka mulai Senin", "dibuka mulai Selasa", correction=FIRST)
    killed_send(folder, 3)
    finish()
    amend(release, "12 kelurahan", "14 kelurahan", correction=SECOND)
    killed_send(folder, 5)
    finish()
    amend(release, "14 kelurahan", "14 kelurahan", retraction=REASON)
    killed_send(folder, 7)
    finish()

    check_final_state(networks, folder)
