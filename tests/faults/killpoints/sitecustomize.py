"""Kill points for tests/faults/test_sigkill.py, loaded by Python at start-up when this
folder is on PYTHONPATH. With CHANPUB_KILL_POINT set, the chanpub process stops at that
point (the COUNT-th time it gets there), writes CHANPUB_KILL_SIGNAL and waits to be killed:

- after-lock: the send lock is held, nothing else done yet;
- mid-ledger-write: inside a ledger transaction, its statements run, before COMMIT;
- after-ledger-write: just after a ledger transaction committed;
- before-record: a remote call returned (or failed), its outcome not yet recorded;
- before-rename: an output file is written whole under its temporary name, not yet renamed;
- after-rename: an output file has just appeared under its name, nothing else done since.

The file points count only files whose name contains CHANPUB_KILL_MATCH (default: any).

Nothing here changes what chanpub does; it only chooses where it stops.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

POINT = os.environ.get("CHANPUB_KILL_POINT", "")
COUNT = int(os.environ.get("CHANPUB_KILL_COUNT", "1") or 1)
SIGNAL = os.environ.get("CHANPUB_KILL_SIGNAL", "")
MATCH = os.environ.get("CHANPUB_KILL_MATCH", "")
_seen: dict[str, int] = {}


def _maybe_stop(point: str) -> None:
    if point != POINT:
        return
    _seen[point] = _seen.get(point, 0) + 1
    if _seen[point] == COUNT:
        Path(SIGNAL + ".tmp").write_text(point, encoding="utf-8")
        os.replace(SIGNAL + ".tmp", SIGNAL)  # appears whole: the test reads it at once
        time.sleep(60)  # the test kills us here
        os._exit(99)  # never reached when the test works: fail loudly


def _install() -> None:
    from chanpub import ledger, lock

    original_lock = lock.send_lock

    @contextmanager
    def send_lock(state_dir: Path) -> Iterator[None]:
        with original_lock(state_dir):
            _maybe_stop("after-lock")
            yield

    lock.send_lock = send_lock  # type: ignore[assignment]  # before chanpub.actions imports it

    original_write = ledger.Ledger._write

    @contextmanager
    def write(self: ledger.Ledger) -> Iterator[Any]:
        with original_write(self) as db:
            yield db
            _maybe_stop("mid-ledger-write")
        _maybe_stop("after-ledger-write")

    ledger.Ledger._write = write  # type: ignore[method-assign]

    original_write_one = ledger.Ledger._write_one

    def write_one(self: ledger.Ledger, sql: str, args: Any = ()) -> int:
        # One statement in autocommit: stopped before it runs is what a transaction
        # stopped before its COMMIT leaves (nothing), so the points count it the same.
        _maybe_stop("mid-ledger-write")
        changed = original_write_one(self, sql, args)
        _maybe_stop("after-ledger-write")
        return changed

    ledger.Ledger._write_one = write_one  # type: ignore[method-assign]

    original_finish = ledger.Ledger.finish

    def finish(self: ledger.Ledger, **kwargs: Any) -> None:
        _maybe_stop("before-record")
        original_finish(self, **kwargs)

    ledger.Ledger.finish = finish  # type: ignore[method-assign]

    original_replace = os.replace

    def replace(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        # An atomic write renames a hidden temporary file beside its target.
        output = Path(source).name.startswith(".") and MATCH in Path(target).name
        if output:
            _maybe_stop("before-rename")
        original_replace(source, target, *args, **kwargs)
        if output:
            _maybe_stop("after-rename")

    os.replace = replace


if POINT:
    _install()
