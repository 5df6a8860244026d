"""Remembered folder scans: a cron run re-reads only the release files that changed.

For each release file in a folder that did not go out because it is not due (a draft, or
approved and scheduled for later), the state directory's database keeps the file's stat
(size, mtime_ns, inode, ctime_ns, device), the stat of its picture, and what the run made
of it. The next run over that folder, with the same configuration, language and chanpub,
reuses that answer for each file whose stats are unchanged and reads only the others.

The answer can only ever be "not now": whatever may go out (due, approved, or broken) is
read and hashed in full on every run, so a remembered file cannot let an edited release
through, and a scheduled one is read again as soon as its time has come. A file whose
timestamps are younger than SETTLE_NS when it is read is not remembered: on a filesystem
with coarse timestamps a second edit within the same tick would leave its stat unchanged.

A folder of tens of thousands of releases is the case this is for, so what a remembered
file costs is kept to one `stat` and a few list reads: a folder's memory is kept column by
column (names, stats, slugs, titles, ...), and its files are handled as text, without a
`Path` or any other object per file.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import os
import time
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.config import Config
from chanpub.context import Observer
from chanpub.i18n import current_language
from chanpub.intake import folder_names, named_file
from chanpub.outcomes import Outcome, ReleaseResult
from chanpub.plan import ReleasePlan, skip_text
from chanpub.status import Status

if TYPE_CHECKING:
    from chanpub.intake import InvalidRelease
    from chanpub.ledger import Ledger
    from chanpub.release import Release

NAMESPACE = "folder-scan"  # one store row per folder (its memory), and '' listing the folders
FORMAT = 2  # bump when the memory's layout or meaning changes: older rows are dropped
SETTLE_NS = 2_000_000_000  # FAT keeps mtime in 2 s steps; ext4 and XFS far finer
STAT_FIELDS = 5
clock = time.time_ns  # the wall clock that file timestamps are compared with

Stat = list[int]  # size, mtime_ns, inode, ctime_ns, device
Kind = tuple[bool, str | None, tuple[str, ...] | None]  # signed off, publish_at, channels


def file_stat(path: Path | str) -> Stat | None:
    """The stat fields that change when a file's bytes do; None when it cannot be read."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns, info.st_dev]


def settled(stat: Stat, now_ns: int) -> bool:
    """Whether both timestamps are old enough that an edit must have changed them."""
    return now_ns - max(stat[1], stat[3]) > SETTLE_NS


def fingerprint(config: Config) -> str:
    """What a remembered answer depends on besides the file: chanpub's version, the
    language of messages, and each channel's settings and approvers (secrets masked)."""
    from chanpub import __version__

    channels = [
        (c.name, c.type, c.enabled, c.canonical, repr(c.options), c.problem)
        for c in config.channels.values()
    ]
    parts = [FORMAT, __version__, current_language(), str(config.path), channels]
    parts.append(repr(config.approvers))
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


@dataclass
class Memory:
    """One folder's remembered files, column by column: the i-th file is names[i], its
    stat is stats[5i:5i+5], and so on; pictures and warnings are few, so kept by name."""

    names: list[str] = field(default_factory=list)
    stats: list[int] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)  # index into `table`
    table: list[list[Any]] = field(default_factory=list)  # [signed_off, publish_at, channels]
    pictures: dict[str, list[Any]] = field(default_factory=dict)  # name -> [path, *stat]
    warnings: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, value: dict[str, Any]) -> Memory:
        fields = {name: value[name] for name in cls.__dataclass_fields__}
        if isinstance(fields["stats"], str):  # packed: see dump
            fields["stats"] = array("q", base64.b64decode(fields["stats"])).tolist()
        return cls(**fields)

    def dump(self, fingerprint: str) -> dict[str, Any]:
        """The memory as JSON values; the stats packed as 64-bit integers in base64, read
        back in a third of the time of a JSON list (a 20,000-file folder has 100,000)."""
        value = {"fingerprint": fingerprint, **self.__dict__}
        with suppress(OverflowError):  # an inode above 2**63 (some network filesystems)
            value["stats"] = base64.b64encode(array("q", self.stats).tobytes()).decode()
        return value

    def stat(self, at: int) -> Stat:
        return self.stats[at * STAT_FIELDS : (at + 1) * STAT_FIELDS]

    def places(self, names: list[str]) -> list[int] | range:
        """For each file name, its place in this memory, or -1 when it has none."""
        if names == self.names:  # nothing added or deleted: the same places
            return range(len(names))
        index = {name: at for at, name in enumerate(self.names)}
        return [index.get(name, -1) for name in names]

    def same_stat(self, at: int, path: str) -> bool:
        """Whether the file at `path` has the stat remembered for the `at`-th file."""
        try:
            info = os.stat(path)
        except OSError:
            return False
        i = at * STAT_FIELDS
        stats = self.stats
        return (  # the fields most likely to differ first
            info.st_mtime_ns == stats[i + 1]
            and info.st_ctime_ns == stats[i + 3]
            and info.st_size == stats[i]
            and info.st_ino == stats[i + 2]
            and info.st_dev == stats[i + 4]
        )

    def kind(self, at: int) -> Kind:
        signed_off, publish_at, channels = self.table[self.kinds[at]]
        return bool(signed_off), publish_at, None if channels is None else tuple(channels)

    def add(self, name: str, stat: Stat, slug: str, title: str, kind: Kind) -> None:
        signed_off, publish_at, channels = kind
        row = [signed_off, publish_at, None if channels is None else list(channels)]
        if row not in self.table:
            self.table.append(row)
        self.names.append(name)
        self.stats.extend(stat)
        self.slugs.append(slug)
        self.titles.append(title)
        self.kinds.append(self.table.index(row))

    def carry(self, other: Memory, at: int) -> None:
        """Keep the `at`-th file of another memory (the last run's) in this one."""
        name = other.names[at]
        self.add(name, other.stat(at), other.slugs[at], other.titles[at], other.kind(at))
        if name in other.pictures:
            self.pictures[name] = other.pictures[name]
        if name in other.warnings:
            self.warnings[name] = other.warnings[name]


@dataclass
class Survey:
    """The files of one run: those answered from memory (with their results, in file
    order) and those to read, each with its place in the run's order of files."""

    to_read: list[tuple[Path, bool]] = field(default_factory=list)
    places: dict[str, int] = field(default_factory=dict)  # file to read -> its place
    held: list[ReleaseResult] = field(default_factory=list)
    held_places: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: int = 0  # how many files so far, read or remembered

    def read(self, path: Path, explicit: bool) -> None:
        self.places[str(path)] = self.files
        self.to_read.append((path, explicit))
        self.files += 1

    def hold(self, result: ReleaseResult) -> None:
        self.held_places.append(self.files)
        self.held.append(result)
        self.files += 1

    def in_file_order(self, others: Iterable[ReleaseResult]) -> list[ReleaseResult]:
        """The remembered results with `others` (results of files read) among them, all
        in file order; a merge, since the remembered ones are in order already."""
        end = self.files
        ordered = sorted(others, key=lambda r: self.places.get(str(r.path), end))
        merged: list[ReleaseResult] = []
        start = 0
        for result in ordered:
            cut = bisect_left(self.held_places, self.places.get(str(result.path), end), start)
            merged.extend(self.held[start:cut])
            merged.append(result)
            start = cut
        merged.extend(self.held[start:])
        return merged

    def report(self, observer: Observer) -> None:
        """Tell the observer about each remembered outcome, as dispatch does."""
        for result in self.held:
            for outcome in result.outcomes:
                event = {"status": outcome.status, "url": None, "error": outcome.error}
                observer("done", result.slug, outcome.channel, event)


class FolderScan:
    """What earlier runs made of the files of the folders of one run, and what this run
    learns for the next."""

    def __init__(self, config: Config, memories: dict[str, Memory]) -> None:
        self.config = config
        self.fingerprint = fingerprint(config)
        self.memories = memories  # folder (resolved) -> its memory
        self.kept: dict[str, list[int]] = {}  # folder -> its remembered files still so
        self.learned: dict[str, Memory] = {}  # folder -> files read and remembered now
        self._read: dict[str, tuple[str, Stat, int]] = {}  # file -> folder, stat, read at

    @classmethod
    def recall(cls, config: Config, ledger: Ledger | None) -> FolderScan:
        """The remembered files of every folder, when the ledger holds any."""
        scan = cls(config, {})
        if ledger is None:
            return scan
        store = ledger.store(NAMESPACE)
        for key in _folder_keys(ledger):
            with paused_gc():
                value = store.get(key)
            if isinstance(value, dict) and value.get("fingerprint") == scan.fingerprint:
                scan.memories[key] = Memory.load(value)
        return scan

    def survey(self, paths: Sequence[Path], now: datetime, *, remember: bool = True) -> Survey:
        """The run's files: a folder's files answered from memory where their stats are
        unchanged (with `remember`), all others to read. Files named on the command line
        are always read: their errors stop the run."""
        survey = Survey()
        with paused_gc():  # thousands of small objects, no cycles: no collections meanwhile
            for path in paths:
                if path.is_dir():
                    self._survey_folder(path, now, survey, remember)
                else:
                    survey.read(named_file(path), True)
        return survey

    def _survey_folder(self, folder: Path, now: datetime, survey: Survey, remember: bool) -> None:
        key = str(folder.resolve())
        memory = self.memories.get(key, Memory()) if remember else Memory()
        kept = self.kept[key] = []  # the memory is rewritten, so that deleted files go
        answers = [self._held_outcomes(kind, now) for kind in memory.table]
        prefix = os.path.join(str(folder), "")
        names = folder_names(folder, files_only=False)  # a remembered file is one: its stat says
        kinds, slugs, titles, pictures = memory.kinds, memory.slugs, memory.titles, memory.pictures
        hold, place, keep = survey.held.append, survey.held_places.append, kept.append
        for name, at in zip(names, memory.places(names), strict=True):
            text = prefix + name
            # The hot loop of a big folder: a remembered file costs one stat, and a result.
            if at >= 0 and memory.same_stat(at, text):
                outcomes = answers[kinds[at]]
                if outcomes is not None and (not pictures or _picture_unchanged(memory, name)):
                    place(survey.files)
                    hold(ReleaseResult(slugs[at], titles[at], text, outcomes))
                    survey.files += 1
                    keep(at)
                    continue
            elif not os.path.isfile(text):
                continue  # a folder named *.md
            survey.read(folder / name, False)
            stat = file_stat(text)
            if stat is not None:
                self._read[text] = (key, stat, clock())
        if memory.warnings:
            names_kept = (memory.names[at] for at in kept)
            survey.warnings.extend(w for name in names_kept for w in memory.warnings.get(name, ()))

    def _held_outcomes(self, kind: list[Any], now: datetime) -> tuple[Outcome, ...] | None:
        """The skipped outcomes of a remembered release of this kind ([signed_off,
        publish_at, channels]) on each of its enabled channels; None when it may go out
        now (approved and due)."""
        signed_off, at, wanted = kind
        publish_at = datetime.fromisoformat(at) if at else None
        if signed_off and (publish_at is None or publish_at <= now):
            return None
        reason = skip_text(signed_off, publish_at, now) or ""
        return tuple(
            Outcome(channel.name, channel.type, Status.SKIPPED, error=reason)
            for channel in self.config.channels.values()
            if channel.enabled and (wanted is None or channel.name in wanted)
        )

    def learn(self, plans: Iterable[ReleasePlan]) -> None:
        """Remember each release read in this run that is not going out now."""
        for plan in plans:
            release = plan.release
            read = self._read.get(str(release.path))
            if plan.skip_reason is None or read is None:
                continue
            folder, stat, read_at = read
            picture = None
            if release.image is not None:
                image_stat = file_stat(release.image)
                if image_stat is None or not settled(image_stat, clock()):
                    continue
                picture = [str(release.image), *image_stat]
            if settled(stat, read_at):
                _remember(self.learned.setdefault(folder, Memory()), release, stat, picture)

    def save(self, ledger: Ledger) -> None:
        """Keep what this run knows for the next one (a folder's row only when it changed)."""
        store = ledger.store(NAMESPACE)
        for folder in self.kept.keys() | self.learned.keys():
            memory = self._memory(folder)
            if memory is not None:
                store.put(folder, memory.dump(self.fingerprint))
        known = sorted(set(_folder_keys(ledger)) | self.kept.keys() | self.learned.keys())
        if known != _folder_keys(ledger):
            store.put("", known)

    def _memory(self, folder: str) -> Memory | None:
        """A folder's memory for the next run: the files still remembered and those
        learned now; None when it is the same as the last run's."""
        old = self.memories.get(folder, Memory())
        kept = self.kept.get(folder, [])
        learned = self.learned.get(folder)
        if learned is None and kept == list(range(len(old.names))):
            return None
        files = [(old, at) for at in kept]
        if learned is not None:
            files.extend((learned, at) for at in range(len(learned.names)))
        memory = Memory()
        for source, at in sorted(files, key=lambda file: file[0].names[file[1]]):
            memory.carry(source, at)  # in name order, as a folder is read
        return memory

    def clashes(
        self,
        survey: Survey,
        releases: Sequence[tuple[Release, bool]],
        invalid: Sequence[InvalidRelease],
    ) -> bool:
        """Whether a remembered file shares its slug with another file: releases that
        share a slug are all held back, which only a full read of the folder decides."""
        if not survey.held:
            return False
        held = {r.slug for r in survey.held}
        if len(held) < len(survey.held):
            return True
        others = [release.slug for release, _explicit in releases] + [i.slug for i in invalid]
        return any(slug in held for slug in others)


def _remember(memory: Memory, release: Release, stat: Stat, picture: list[Any] | None) -> None:
    publish_at = release.publish_at.isoformat() if release.publish_at else None
    channels = tuple(release.channels) if release.channels is not None else None
    name = release.path.name
    memory.add(
        name, stat, release.slug, release.title, (release.is_signed_off, publish_at, channels)
    )
    if picture is not None:
        memory.pictures[name] = picture
    if release.warnings:
        memory.warnings[name] = list(release.warnings)


def _picture_unchanged(memory: Memory, name: str) -> bool:
    picture = memory.pictures.get(name) if memory.pictures else None
    return picture is None or file_stat(picture[0]) == picture[1:]


def _folder_keys(ledger: Ledger) -> list[str]:
    """The folders that have a row (kept under the key '')."""
    keys = ledger.store(NAMESPACE).get("")
    return [str(key) for key in keys] if isinstance(keys, list) else []


@contextmanager
def paused_gc() -> Iterator[None]:
    """No garbage collection while a big folder's entries are built: they hold no cycles,
    and the collector would otherwise walk them again and again as they pile up."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
