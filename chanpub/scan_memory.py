"""One folder's memory for the remembered folder scan (chanpub.scan): every file the last
run listed, in name order, with its stat and what the run made of it, and the folder's own
stat.

A folder of tens of thousands of releases is the case this is for, so the memory is kept
column by column (names, stats, slugs, titles, kinds), not as an object per file, and its
numbers are stored packed as 64-bit integers in base64, which reads back in a fraction of
the time of a JSON list. The usual cron run only needs to know that no file's stat changed,
so the memory itself keeps a digest of the packed stats, and the stats are a value of their
own (`dump_stats`), read only for a folder where something did change: in a folder where
nothing changed, one comparison of digests stands for 100,000 of numbers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from array import array
from dataclasses import dataclass, field
from typing import Any

from chanpub.file_stats import Stat

Kind = tuple[bool, str | None, tuple[str, ...] | None]  # signed off, publish_at, channels
STAT_FIELDS = 5
READ = -1  # the kind of a listed file that is read on every run (due, broken, too young)
KINDS = "i"  # array type of the kinds: places in the table, or READ


def digest(packed_stats: bytes) -> str:
    return hashlib.blake2b(packed_stats, digest_size=16).hexdigest()


def packed_list(stats: list[int]) -> bytes:
    """A flat list of stats packed; numbers too big for 64 bits as their JSON text, so
    that such a folder still has a digest (its files are compared one by one)."""
    try:
        return array("q", stats).tobytes()
    except OverflowError:
        return json.dumps(stats).encode()


@dataclass
class Memory:
    """One folder's files, column by column: the i-th file is names[i], its stat is
    stats[5i:5i+5], its kind table[kinds[i]] (or READ); pictures and warnings are few, so
    they are kept by name. `folder` is the folder's own stat when it had settled: while
    the folder keeps it, no file was added, removed or renamed in it, so it lists `names`.
    A memory read back by `load` knows its stats only by their digest until `load_stats`."""

    names: list[str] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)
    table: list[list[Any]] = field(default_factory=list)  # [signed_off, publish_at, channels]
    pictures: dict[str, list[Any]] = field(default_factory=dict)  # name -> [path, *stat]
    warnings: dict[str, list[str]] = field(default_factory=dict)
    folder: list[int] | None = None
    packed_stats: bytes | None = None  # as read back; unpacked into `stats` when needed
    stats_digest: str | None = None  # of the packed stats, as kept
    stats_known: bool = True  # False after `load`: only their digest is known
    _stats: list[int] | None = field(default=None, repr=False)
    _rows: dict[str, int] | None = field(default=None, repr=False)  # table row -> its place

    @property
    def stats(self) -> list[int]:
        if self._stats is None:
            assert self.stats_known, "load_stats first"
            self._stats = array("q", self.packed_stats or b"").tolist()
        return self._stats

    @classmethod
    def load(cls, value: dict[str, Any]) -> Memory:
        """A memory as `dump` kept it; its stats are read by `load_stats`."""
        memory = cls(table=value["table"], pictures=value["pictures"], warnings=value["warnings"])
        memory.names, memory.slugs, memory.titles = value["names"], value["slugs"], value["titles"]
        memory.kinds = array(KINDS, base64.b64decode(value["kinds"])).tolist()
        memory.folder, memory.stats_digest = value["folder"], value["stats"]
        memory.stats_known = False
        return memory

    def load_stats(self, value: Any) -> bool:
        """Take the stats `dump_stats` kept; False when they are not the ones this memory
        was kept with (a run stopped between writing the two)."""
        if isinstance(value, list):  # numbers too big to pack: see dump_stats
            stats, packed_stats = [int(number) for number in value], packed_list(value)
        elif isinstance(value, str):
            stats, packed_stats = None, base64.b64decode(value)
        else:
            return False
        if packed_stats is None or digest(packed_stats) != self.stats_digest:
            return False
        self._stats, self.packed_stats, self.stats_known = stats, packed_stats, True
        return True

    def dump(self, fingerprint: str) -> dict[str, Any]:
        """The memory as JSON values (read back by `load`), without the stats themselves."""
        return {
            "fingerprint": fingerprint,
            "folder": self.folder,
            "names": self.names,
            "slugs": self.slugs,
            "titles": self.titles,
            "kinds": base64.b64encode(array(KINDS, self.kinds).tobytes()).decode(),
            "stats": digest(self._packed()) if self.stats_known else self.stats_digest,
            "table": self.table,
            "pictures": self.pictures,
            "warnings": self.warnings,
        }

    def dump_stats(self) -> str | list[int]:
        """The stats as a JSON value (read back by `load_stats`)."""
        try:
            return base64.b64encode(array("q", self.stats).tobytes()).decode()
        except OverflowError:  # an inode above 2**63: kept as a list of numbers instead
            return self.stats

    def _packed(self) -> bytes:
        """The stats packed (digested as they are; a number too big to pack as its text)."""
        if self.packed_stats is None:
            self.packed_stats = packed_list(self.stats)
        return self.packed_stats

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Memory):
            return NotImplemented
        mine, theirs = self.dump(""), other.dump("")
        return mine == theirs

    def same_stats(self, now: bytes | None) -> bool:
        """Whether the packed stats of the files now (in this memory's order) are the ones
        remembered: one comparison for the whole folder."""
        if now is None:
            return False
        if self.stats_known:
            return now == self._packed()
        if digest(now) != self.stats_digest:
            return False
        self.packed_stats, self.stats_known = now, True  # the very stats kept: known now
        return True

    def rows(self) -> list[tuple[int, ...]]:
        """Each file's stat as a tuple, as stat_key gives it."""
        stats = self.stats
        return list(zip(*[iter(stats)] * STAT_FIELDS, strict=True))

    def stat(self, at: int) -> Stat:
        if self._stats is None and self.packed_stats is not None:  # one file's: unpack it alone
            size = STAT_FIELDS * array("q").itemsize
            return array("q", self.packed_stats[at * size : (at + 1) * size]).tolist()
        return self.stats[at * STAT_FIELDS : (at + 1) * STAT_FIELDS]

    def places(self, names: list[str]) -> list[int] | range:
        """For each file name, its place in this memory, or -1 when it has none."""
        if names == self.names:  # nothing added or deleted: the same places
            return range(len(names))
        index = {name: at for at, name in enumerate(self.names)}
        return [index.get(name, -1) for name in names]

    def kind(self, at: int) -> Kind | None:
        """What the last run made of the `at`-th file; None when it is read every run."""
        if self.kinds[at] == READ:
            return None
        signed_off, publish_at, channels = self.table[self.kinds[at]]
        return bool(signed_off), publish_at, None if channels is None else tuple(channels)

    def add(self, name: str, stat: Stat, slug: str, title: str, kind: Kind | None) -> None:
        """One more file, after the others in name order; kind None: read it every run."""
        if kind is None:
            self.kinds.append(READ)
        else:
            signed_off, publish_at, channels = kind
            row = [signed_off, publish_at, None if channels is None else list(channels)]
            self.kinds.append(self._table_place(row))
        self.names.append(name)
        self.stats.extend(stat)
        self.packed_stats = None
        self.slugs.append(slug)
        self.titles.append(title)

    def _table_place(self, row: list[Any]) -> int:
        """The row's place in the table, added when new (an index: a folder of releases
        scheduled each for its own moment has as many rows as files)."""
        if self._rows is None:
            self._rows = {repr(known): at for at, known in enumerate(self.table)}
        at = self._rows.get(repr(row))
        if at is None:
            at = self._rows[repr(row)] = len(self.table)
            self.table.append(row)
        return at

    def carry(self, other: Memory, at: int) -> None:
        """Keep the `at`-th file of another memory (the last run's) in this one."""
        name = other.names[at]
        self.add(name, other.stat(at), other.slugs[at], other.titles[at], other.kind(at))
        if name in other.pictures:
            self.pictures[name] = other.pictures[name]
        if name in other.warnings:
            self.warnings[name] = other.warnings[name]
