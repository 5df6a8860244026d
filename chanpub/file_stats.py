"""A file's stat as the remembered readings compare it (the folder scan's memory, the
e-mail lists' summaries): the fields that change whenever the file's bytes do.

An in-place edit changes mtime and ctime (and ctime cannot be set back by the editor), a
replacement changes the inode, a copy from another disk the device. On a filesystem with
coarse timestamps (FAT keeps mtime in 2 s steps) a second edit within the same tick would
leave all of them unchanged, so a reading is only remembered once the file's timestamps
are SETTLE_NS old (`settled`).
"""

from __future__ import annotations

import operator
import os
from pathlib import Path

SETTLE_NS = 2_000_000_000  # FAT keeps mtime in 2 s steps; ext4 and XFS far finer
Stat = list[int]  # size, mtime_ns, inode, ctime_ns, device
stat_key = operator.attrgetter("st_size", "st_mtime_ns", "st_ino", "st_ctime_ns", "st_dev")


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
