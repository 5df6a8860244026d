"""The ledger's item journal on the e-mail hot path: one read of a delivery's states, and
each recorded state committed (visible to another connection) before the call returns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chanpub.journal import HIDDEN
from chanpub.ledger import Ledger
from chanpub.status import Status


def traced(ledger: Ledger) -> list[str]:
    """Every SQL statement the ledger's connection runs from now on."""
    statements: list[str] = []
    ledger.backend.db.set_trace_callback(statements.append)  # type: ignore[attr-defined]
    return statements


def test_a_delivery_reads_its_recipients_states_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    earlier = ledger.journal("key")
    earlier.sent("a@x", "<a@x>")
    earlier.begin("b@x")
    ledger.journal("other").sent("c@x")
    statements = traced(ledger)

    journal = ledger.journal("key")
    states = [journal.status(f"{n}@x") for n in range(200)]
    states += [journal.status("a@x"), journal.status("b@x"), journal.status("c@x")]

    assert states[-3:] == [Status.SENT, Status.IN_PROGRESS, None]
    assert set(states[:200]) == {None}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    journal.begin("d@x")
    journal.failed("a@x", "550 gone")
    assert (journal.status("d@x"), journal.status("a@x")) == (Status.IN_PROGRESS, Status.FAILED)


def test_a_restricted_journal_still_hides_the_other_states(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.journal("key").unknown("a@x", "lost reply")
    ledger.journal("key").sent("b@x")
    with sqlite3.connect(tmp_path / "l.sqlite3") as other:
        other.execute("UPDATE items SET status='resend' WHERE item='a@x'")

    resend = ledger.journal("key", only=Status.RESEND)

    assert (resend.status("a@x"), resend.status("b@x")) == (Status.RESEND, HIDDEN)
    resend.sent("a@x", "<a@x>")
    assert resend.status("a@x") == HIDDEN  # sent now, so no longer one to resend


def test_each_recorded_state_is_committed_at_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    journal = ledger.journal("key")
    other = sqlite3.connect(tmp_path / "l.sqlite3")

    journal.begin("a@x")
    seen = other.execute("SELECT status FROM items WHERE item='a@x'").fetchall()
    journal.sent("a@x", "<a@x>")
    then = other.execute("SELECT status, remote_id FROM items WHERE item='a@x'").fetchall()

    assert seen == [("in_progress",)] and then == [("sent", "<a@x>")]
    other.close()


def test_a_new_journal_reads_what_others_wrote_before_it(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    first = ledger.journal("key")
    assert first.status("a@x") is None  # first's states are read here, once
    other = Ledger(tmp_path / "l.sqlite3")  # an earlier run, or another worker's part
    other.journal("key").sent("a@x", "<a@x>")

    later = ledger.journal("key")  # the next publish call reads the states again

    assert later.status("a@x") == Status.SENT
    other.close()


def test_a_batch_part_counts_its_own_recipients_from_the_one_read(tmp_path: Path) -> None:
    from chanpub.batches import PartLedger, part_of

    ledger = Ledger(tmp_path / "l.sqlite3")
    items = [f"w{n}@media.example" for n in range(40)]
    mine = [item for item in items if part_of(item, 2) == 0]
    for item in items[:10]:  # sent before, by either part
        ledger.journal("key").sent(item)
    statements = traced(ledger)

    journal = PartLedger(ledger, "key", 0, 2).journal("key")
    before = journal.counts()
    for item in items:
        if journal.status(item) is None:
            journal.begin(item)
            journal.failed(item, "550 gone") if item == mine[-1] else journal.sent(item)
    after = journal.counts()

    assert before == {"sent": len([i for i in items[:10] if i in mine])}
    assert after == {"sent": len(mine) - 1, "failed": 1}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_a_batch_part_told_its_items_reads_only_their_states(tmp_path: Path) -> None:
    from chanpub.batches import PartLedger, part_of

    ledger = Ledger(tmp_path / "l.sqlite3")
    items = [f"w{n}@media.example" for n in range(400)]
    mine = [item for item in items if part_of(item, 4) == 0]
    on_list, removed = mine[:-2], mine[-2:]  # two of the part left the list since
    earlier = ledger.journal("key")
    earlier.sent(on_list[0])
    earlier.failed(on_list[1], "550 gone")
    earlier.unknown(removed[0], "reply lost")  # the last part's count of all finds it
    earlier.sent(removed[1])
    earlier.unknown(next(i for i in items if i not in mine), "another part's")
    for item in items[-100:]:
        if item not in mine:
            earlier.sent(item)  # the other parts' rows, never read by this part
    statements = traced(ledger)

    journal = PartLedger(ledger, "key", 0, 4).journal("key")
    journal.narrow(on_list)  # type: ignore[attr-defined]
    before = journal.counts()
    states = {item: journal.status(item) for item in on_list}
    journal.begin(on_list[2])
    journal.sent(on_list[2])

    assert (states[on_list[0]], states[on_list[1]], states[on_list[3]]) == (
        Status.SENT,
        Status.FAILED,
        None,
    )
    assert before == {"sent": 1, "failed": 1}  # its rows of the list
    assert journal.counts() == {"sent": 2, "failed": 1}
    assert journal.status(removed[0]) == Status.UNKNOWN  # not told of: asked for itself
    assert journal.status(items[-1]) in (HIDDEN, None)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2 and " IN (" in reads[0], reads  # the told items, the one not told
