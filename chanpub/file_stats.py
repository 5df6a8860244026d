"""A file's stat as the remembered readings compare it (the folder scan's memory, the
counts of e-mail and WhatsApp lists): the fields that change whenever the file's bytes do.

An in-place edit changes mtime and ctime (and ctime cannot be set back by the editor), a
replacement changes the inode, a copy from another disk the device. On a filesystem with
coarse timestamps (FAT keeps mtime in 2 s steps) a second edit within the same tick would
leave all of them unchanged, so a reading is only remembered once the file's timestamps
are SETTLE_NS old (`settled`).

`kept_reading` keeps what was read from some files in a Store (the ledger's), with each
file's stat, and gives it back while every file still has that stat: what the batch jobs
of a big list each read in full only to count it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from chanpub.folder_stats import stat_key

if TYPE_CHECKING:
    from chanpub.contract import Store

T = TypeVar("T")
clock = time.time_ns  # the wall clock that file timestamps are compared with

SETTLE_NS = 2_000_000_000  # FAT keeps mtime in 2 s steps; ext4 and XFS far finer
Stat = list[int]  # size, mtime_ns, inode, ctime_ns, device


def file_stat(path: Path | str) -> Stat | None:
    """The stat fields that change when a file's bytes do; None when it cannot be read."""
    key = stat_tuple(path)
    return None if key is None else list(key)


def stat_tuple(path: Path | str) -> tuple[int, ...] | None:
    """file_stat as a tuple (as stat_key gives it), the cheaper to make and compare."""
    try:
        return stat_key(os.stat(path))
    except OSError:
        return None


def settled(stat: Stat, now_ns: int) -> bool:
    """Whether both timestamps are old enough that an edit must have changed them."""
    return now_ns - max(stat[1], stat[3]) > SETTLE_NS


def kept_reading(
    files: Sequence[Path],
    depends_on: Sequence[Any],
    store: Store | None,
    read: Callable[[], T],
    dump: Callable[[T], Any],
    load: Callable[[Any], T | None],
) -> T:
    """What `read()` makes of `files`: from `store` while every file has the stat it had
    when it was kept, else read, and kept when the files had settled before the reading
    and were not written to during it. `depends_on` (JSON values) names all else the
    reading depends on (configuration, versions): it is the value's key, with the files.
    `dump` makes the value JSON, `load` makes it back (None when it cannot: then it is
    read again). Without a store (a preview with no ledger) it is read."""
    if store is None:
        return read()
    paths = [str(path.resolve()) for path in files]
    key = json.dumps([*depends_on, paths], sort_keys=True, ensure_ascii=False)
    before = stats_of(paths)
    note = store.get(key)
    if before is not None and isinstance(note, dict) and note.get("stats") == before:
        kept = load(note.get("value"))
        if kept is not None:
            return kept
    value = read()
    if keepable(paths, before):
        store.put(key, {"stats": before, "value": dump(value)})
    return value


def keepable(paths: Sequence[str], before: list[Stat] | None) -> bool:
    """Whether a reading of `paths` that began when they had the stats `before` may be
    kept: each had settled by then, and none was written to since."""
    if before is None or not all(settled(stat, clock()) for stat in before):
        return False
    return stats_of(paths) == before


def stats_of(files: Sequence[str]) -> list[Stat] | None:
    """Each file's stat; None when one cannot be read (the reading says why)."""
    stats = [file_stat(path) for path in files]
    return None if any(stat is None for stat in stats) else stats  # type: ignore[return-value]
