"""What the address check said of a list file's addresses, kept in the ledger so that the
processes sharing a list do not each check all of it again.

A batch job (chanpub.batches) sends to one part of a list but reads the whole list to find
that part (the first job that finds no note of where its rows are: list_parts), and every
worker process checked every address of it with email_validator
(about 40 µs each): N workers on a list of L addresses made N x L checks where one process
makes L. A process that reads a list file to its end notes, in the ledger's store under the
file's path, the answer for each address it read: valid as written, valid as another text
(the normalised form), or invalid with the reason. A process reading the same file later,
on any host sharing the ledger, takes the answer of every address in the note and checks
only the addresses that are not in it (added since), so a note can only ever save a check:
an answer depends on the address's text alone (and on email_validator's version, which the
note records), never on which version of the file it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from chanpub.contract import Store

NAMESPACE = "email-address-checks"
Answer = str | ValueError  # the normalised address, or why it is not one
KINDS = {"valid": list, "changed": dict, "invalid": dict}  # a note's parts and their types


class ListNotes:
    """The answers for one list file's addresses: from its note where it has one, else
    from `check`; rewritten when the file was read to its end and something was checked."""

    def __init__(self, path: Path, store: Store, check: Callable[[str], Answer]) -> None:
        self.store, self.key, self._check = store, str(path.resolve()), check
        note = _usable(store.get(self.key))
        self.valid: set[str] = set(note["valid"]) if note else set()
        self.changed: dict[str, str] = dict(note["changed"]) if note else {}
        self.invalid: dict[str, str] = dict(note["invalid"]) if note else {}
        self.read: list[str] = []  # every address of this reading, for the next note
        self.checked = 0  # how many were not in the note

    def check(self, address: str) -> Answer:
        """The answer for one address of the file, from the note when it has one."""
        self.read.append(address)
        if address in self.valid:
            return address
        if address in self.changed:
            return self.changed[address]
        if address in self.invalid:
            return ValueError(self.invalid[address])
        self.checked += 1
        answer = self._check(address)
        if isinstance(answer, ValueError):
            self.invalid[address] = str(answer)
        elif answer == address:
            self.valid.add(address)
        else:
            self.changed[address] = answer
        return answer

    def file_read(self) -> None:
        """The whole file was read: note its addresses' answers, when any was new (those
        of addresses no longer in the file are left out)."""
        if not self.checked:
            return
        read = set(self.read)
        self.store.put(
            self.key,
            {
                "validator": validator_version(),
                "valid": sorted(read & self.valid),
                "changed": {a: n for a, n in self.changed.items() if a in read},
                "invalid": {a: r for a, r in self.invalid.items() if a in read},
            },
        )


def _usable(note: Any) -> dict[str, Any] | None:
    """The note, when it is one made with this email_validator."""
    if not isinstance(note, dict) or note.get("validator") != validator_version():
        return None
    if not all(isinstance(note.get(k), t) for k, t in KINDS.items()):
        return None
    return note


def validator_version() -> str:
    import email_validator

    return str(email_validator.__version__)
