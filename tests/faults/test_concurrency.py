"""Ten `chanpub send` processes started at once on the same releases folder (cron firing
twice, an officer running it by hand meanwhile): each release reaches each channel exactly
once, counted where it lands: on the service, in the outbox and in the ledger."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .fault_server import FaultServer
from .office import integrity, start, telegram, webhook, write_office

PROCESSES = 10
RELEASES = 3


def test_ten_sends_at_once_publish_each_release_once(tmp_path: Path) -> None:
    folder = tmp_path / "humas"
    folder.mkdir()
    (folder / "media.csv").write_text(
        "email,name\nredaksi@koran.example,Redaksi\nnewsroom@radio.example,Newsroom\n",
        encoding="utf-8",
    )
    # The service counts every create request: it does not deduplicate, so a second post
    # of the same release would show.
    with FaultServer(idempotent=False, latency=0.2) as service:
        write_office(
            folder,
            {
                "portal": webhook(service.url),
                "social": telegram(service.url),
                "press": {
                    "type": "email",
                    "transport": "outbox",
                    "path": "outbox",
                    "from": "Diskominfo <humas@kominfo.example.go.id>",
                    "lists": ["media.csv"],
                },
            },
            releases=RELEASES,
        )
        processes = [start(folder, "send", "releases/", "--json") for _ in range(PROCESSES)]
        results = [(p.wait(timeout=120), *p.communicate(timeout=10)) for p in processes]

    codes = sorted(code for code, _out, _err in results)
    assert set(codes) <= {0, 75}, results
    assert codes.count(0) >= 1
    for code, out, err in results:
        if code == 75:
            assert "another chanpub send is running" in err and out == ""
        else:
            statuses = {c["status"] for r in json.loads(out)["releases"] for c in r["channels"]}
            assert statuses <= {"published", "already-published"}, out

    hooks = [p for p in service.posts if "/hooks/" in p.path]
    messages = [p for p in service.posts if "/bot" in p.path]
    assert len(service.creates()) == len(hooks) + len(messages) == 2 * RELEASES
    assert len({p.body.split(b'"slug":"')[1][:40] for p in hooks}) == RELEASES
    for number in range(RELEASES):
        slug = f"siaran-pers-nomor-{number}-kota-contoh"
        assert sorted(p.name for p in (folder / "outbox" / slug).iterdir()) == [
            "newsroom@radio.example.eml",
            "redaksi@koran.example.eml",
        ]
    with sqlite3.connect(folder / ".chanpub" / "ledger.sqlite3") as db:
        rows = db.execute(
            "SELECT status, attempts, COUNT(*) FROM deliveries GROUP BY status, attempts"
        ).fetchall()
    db.close()
    assert rows == [("published", 1, 4 * RELEASES)], "every delivery was attempted once"
    assert integrity(folder) == "ok"
