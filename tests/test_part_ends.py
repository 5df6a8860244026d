"""The last part of a delivery shared in batch jobs writes the delivery's outcome from the
parts' ends and the whole delivery's items (chanpub.batches, in PostgreSQL)."""

from __future__ import annotations

from chanpub.batches import PartLedger
from chanpub.journal import part_of
from chanpub.ledger import Ledger

KEY = "d" * 64
WHERE = {"slug": "banjir", "content_hash": "h", "channel": "press"}
ADDRESSES = [f"w{n}@media.example" for n in range(20)]  # on the list now


def test_a_recipient_in_doubt_on_no_part_of_the_list_still_makes_the_delivery_need_a_check(
    postgres_url: str,
) -> None:
    ledger = Ledger(postgres_url)
    ledger.begin(**WHERE, channel_type="email", title="Banjir", key=KEY)
    # Left in doubt by an earlier run, then taken off the list: no part's job reads its
    # row any more (each reads only its own rows' states), so no part reports it.
    ledger.journal(KEY).unknown("keluar@media.example", "the reply was lost")
    parts = [PartLedger(ledger, KEY, part, 2) for part in range(2)]
    for part in parts:
        journal = part.journal(KEY)
        journal.narrow([a for a in ADDRESSES if part_of(a, 2) == part.part])  # type: ignore[attr-defined]
        for address in ADDRESSES:
            if journal.status(address) is None:
                journal.begin(address)
                journal.sent(address)
        part.finish(**WHERE, status="published", details={"sent": 0, "unknown": 0})

    row = ledger.get("banjir", "h", "press")

    assert row is not None and parts[1].finished
    assert row.status == "needs_check"
    assert (row.details["sent"], row.details["unknown"]) == (20, 1)
