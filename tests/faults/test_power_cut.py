"""A power cut is not a killed process: what chanpub wrote to its ledger but the kernel had
not yet put on the disk is gone after the reboot. If that was the row saying an e-mail was
about to end or a post was about to go, the next run finds nothing and sends it again.
So before anything that cannot be taken back leaves the machine (the end of an e-mail's
DATA, a post to a service), every ledger write before it must be flushed.

Read off the system calls of the installed command under strace: each write to the
ledger's files, each flush of them (fsync, fdatasync), and each irreversible send. A
recipient's outcome may wait for the next flush (a lost outcome leaves the recipient
"unknown", never sent twice), so what is checked is the moment of each send."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .fault_server import FaultServer
from .office import chanpub, item_rows, ledger_rows, smtp, telegram, write_office
from .smtp_relay import Relay, press_list, running

RECIPIENTS = 5
STRACE = shutil.which("strace")
SYSCALLS = "fsync,fdatasync,write,pwrite64,sendto,sendmsg"
# strace -yy names each descriptor: 7<TCP:[127.0.0.1:40312->127.0.0.1:2525]>
_CALL = re.compile(r"^\d+\s+(\w+)\(\d+<(TCP:\[[^\]]*\]|[^>]*)>(?:, \"((?:[^\"\\]|\\.)*)\")?")
_PEER_PORT = re.compile(r"->127\.0\.0\.1:(\d+)\]$")


@dataclass(frozen=True)
class Send:
    """Something that left the machine and cannot be taken back, and the ledger writes
    that were not yet on the disk at that moment."""

    what: str
    unflushed: int


def traced(
    folder: Path, *args: str, syscalls: str = SYSCALLS
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run `chanpub ARGS` under strace, as cron would; returns the run and the trace."""
    assert STRACE, "strace is not installed (.ci/setup.d installs it)"
    trace = folder / "strace.txt"
    # -f: every thread; -yy: each descriptor's file or socket; -s: enough of each buffer
    strace = [STRACE, "-f", "-qq", "-yy", "-s", "256", "-e", f"trace={syscalls}",
              "-e", "signal=none", "-o", str(trace)]  # fmt: skip
    return chanpub(folder, *args, timeout=120, under=strace), trace


def irreversible_sends(trace: Path, smtp_port: int, http_port: int) -> list[Send]:
    """Each end of DATA to the relay and each HTTP POST to the service, in order, with how
    many ledger writes were then still only in memory."""
    unflushed, sends = 0, []
    for line in trace.read_text(errors="replace").splitlines():
        call = _CALL.match(line)
        if call is None:
            continue
        name, target, data = call.group(1), call.group(2), call.group(3) or ""
        if "ledger.sqlite3" in target:
            if name in ("fsync", "fdatasync"):
                unflushed = 0
            elif name in ("write", "pwrite64"):
                unflushed += 1
            continue
        port = _PEER_PORT.search(target)
        if port is None:
            continue
        if int(port.group(1)) == smtp_port and data == r".\r\n":
            sends.append(Send("end of DATA", unflushed))
        elif int(port.group(1)) == http_port and data.startswith("POST "):
            sends.append(Send("POST", unflushed))
    return sends


@pytest.fixture
def relay() -> Iterator[Relay]:
    with running(Relay()) as running_relay:
        yield running_relay


def test_every_ledger_write_is_on_the_disk_before_anything_goes_out(
    tmp_path: Path, relay: Relay
) -> None:
    folder = tmp_path / "humas"
    folder.mkdir()
    media, addresses = press_list(folder, RECIPIENTS)
    with FaultServer() as service:
        write_office(folder, {"social": telegram(service.url), "press": smtp(relay.port, [media])})
        run, trace = traced(folder, "send", "releases/")
        http_port = int(service.url.rsplit(":", 1)[1].strip("/"))

    assert run.returncode == 0, run.stdout + run.stderr
    sends = irreversible_sends(trace, relay.port, http_port)
    assert [s.what for s in sends].count("end of DATA") == RECIPIENTS
    assert [s.what for s in sends].count("POST") == len(service.posts) == 1
    assert [s for s in sends if s.unflushed] == [], "sent before the ledger was on the disk"
    assert set(item_rows(folder).values()) == {"sent"} and len(addresses) == RECIPIENTS
    assert set(ledger_rows(folder).values()) == {"published"}


_RENAME = re.compile(r'^\d+\s+rename(?:at2?)?\((?:\w+, )?"([^"]+)", (?:\w+, )?"([^"]+)"')


def files_unflushed_at_ledger_commits(trace: Path, cwd: Path) -> tuple[list[str], list[str]]:
    """Every file put in place by a rename (chanpub's whole-or-nothing writes), and those
    that a ledger flush found not yet on the disk: the file's bytes not flushed before its
    rename, or its folder (which holds the new name) not flushed after it."""
    flushed: set[str] = set()
    waiting: dict[str, str] = {}  # folder -> a file renamed into it, until the folder is flushed
    renamed, unsafe = [], []
    for line in trace.read_text(errors="replace").splitlines():
        if rename := _RENAME.match(line):
            source, target = (str(cwd / name) for name in rename.groups())
            renamed.append(target)
            if source not in flushed:
                unsafe.append(f"{target}: renamed before its bytes were flushed")
            waiting[str(Path(target).parent)] = target
        elif (call := _CALL.match(line)) and call.group(1) in ("fsync", "fdatasync"):
            path = call.group(2)
            if "ledger.sqlite3" in path:
                unsafe += [f"{name}: its folder not flushed" for name in waiting.values()]
                waiting.clear()
            flushed.add(path)
            waiting.pop(path, None)
    return renamed, unsafe


def test_a_page_is_on_the_disk_before_the_ledger_says_it_is_published(tmp_path: Path) -> None:
    folder = tmp_path / "humas"
    write_office(folder, {})  # the website alone: its page, the index, the feed
    run, trace = traced(folder, "send", "releases/", syscalls="fsync,fdatasync,rename,renameat2")

    assert run.returncode == 0, run.stdout + run.stderr
    renamed, unsafe = files_unflushed_at_ledger_commits(trace, folder)
    page = folder / "public" / "siaran-pers-nomor-0-kota-contoh.html"
    assert str(page) in renamed and page.read_text(encoding="utf-8").startswith("<!")
    # A power cut now would otherwise leave an empty or missing page that the ledger (and
    # every post linking to it) says is there, and no run would write it again.
    assert unsafe == []
    assert set(ledger_rows(folder).values()) == {"published"}
