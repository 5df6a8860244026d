"""Remembered folder scans: a cron run re-reads only the release files that changed.

For each release file in a folder that did not go out because it is not due (a draft, or
approved and scheduled for later), the state directory's database keeps the file's stat
(size, mtime_ns, inode, ctime_ns, device), the stat of its picture, and what the run made
of it. The next run over that folder, with the same configuration, language and chanpub,
reuses that answer for each file whose stats are unchanged and reads only the others.

The answer can only ever be "not now": whatever may go out (due, approved, or broken) is
read and hashed in full on every run, so a remembered file cannot let an edited release
through, and a scheduled one is read again as soon as its time has come. A file whose
timestamps are younger than two seconds when it is read is not remembered: on a filesystem
with coarse timestamps a second edit within the same tick would leave its stat unchanged
(chanpub.file_stats).

A folder of tens of thousands of releases is the case this is for, so what a remembered
file costs is kept to one `stat`: its files are handled as text, without a `Path` or any
other object per file, and the usual cron run, over a folder that lists the same files
with the same stats as the last run, is answered by whole-list steps (chanpub.scan_memory
keeps every file listed, including those read every run, so that this is the usual case).
Nor is such a folder listed again while its own stat is the one remembered: adding,
removing or renaming a file changes the folder's mtime, editing one changes the file's.
Those stats of the folders named on the command line are taken by a second process while
chanpub starts up (chanpub.folder_stats), on the machine's other core.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import socket
import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, repeat
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub import folder_stats
from chanpub.config import Config
from chanpub.context import Observer, listens
from chanpub.file_stats import Stat, file_stat, settled, stat_tuple
from chanpub.i18n import current_language
from chanpub.intake import distinct_paths, folder_names, named_file
from chanpub.outcomes import Outcome, ReleaseResult
from chanpub.plan import ReleasePlan, skip_text
from chanpub.scan_memory import READ, Memory
from chanpub.status import Status

if TYPE_CHECKING:
    from chanpub.intake import InvalidRelease
    from chanpub.ledger import Ledger
    from chanpub.release import Release

NAMESPACE = "folder-scan"  # one store row per folder and host (its memory; see _row)
STATS_NAMESPACE = "folder-scan-stats"  # one store row per folder and host: its file stats
FORMAT = 5  # bump when the memory's layout or meaning changes: older rows are dropped
clock = time.time_ns  # the wall clock that file timestamps are compared with


def fingerprint(config: Config) -> str:
    """What a remembered answer depends on besides the file: chanpub's version, the
    language of messages, and each channel's settings and approvers (secrets masked)."""
    from chanpub import __version__

    channels = [
        (c.name, c.type, c.enabled, c.canonical, c.backfill, repr(c.options), c.problem)
        for c in config.channels.values()
    ]
    parts = [FORMAT, __version__, current_language(), str(config.path), channels]
    parts.append(repr(config.approvers))
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


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
        if not listens(observer, "done"):
            return
        for result in self.held:
            for outcome in result.outcomes:
                event = {"status": outcome.status, "url": None, "error": outcome.error}
                observer("done", result.slug, outcome.channel, event)


class FolderScan:
    """What earlier runs made of the files of the folders of one run, and what this run
    learns for the next."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.fingerprint = fingerprint(config)
        self.memories: dict[str, Memory] = {}  # folder (resolved) -> its memory, as recalled
        self.kept: dict[str, list[int]] = {}  # folder -> its remembered files still so
        self.listed: dict[str, tuple[str, list[str]]] = {}  # folder -> its prefix, its names
        self.unchanged: set[str] = set()  # folders whose memory stays as it is
        self.folder_stats: dict[str, Stat | None] = {}  # folder -> its stat, when settled
        self.learned: dict[str, Memory] = {}  # folder -> files read and remembered now
        self._read: dict[str, tuple[str, Stat, int]] = {}  # file -> folder, stat, read at

    def survey(
        self,
        paths: Sequence[Path],
        now: datetime,
        ledger: Ledger | None = None,
        *,
        remember: bool = True,
    ) -> Survey:
        """The run's files: a folder's files answered from what the ledger remembers of
        them where their stats are unchanged (with `remember`), all others to read. Files
        named on the command line are always read: their errors stop the run."""
        survey = Survey()
        with paused_gc():  # thousands of small objects, no cycles: no collections meanwhile
            for path in distinct_paths(paths):
                if path.is_dir():
                    key = str(path.resolve())
                    memory = self._recall(key, ledger) if remember else Memory()
                    self._survey_folder(path, key, memory, now, survey, ledger)
                else:
                    survey.read(named_file(path), True)
        return survey

    def _recall(self, key: str, ledger: Ledger | None) -> Memory:
        """What the last run on this host made of a folder's files, with this config."""
        value = ledger.store(NAMESPACE).get(_row(key)) if ledger is not None else None
        memory = Memory()
        if isinstance(value, dict) and value.get("fingerprint") == self.fingerprint:
            memory = Memory.load(value)
        self.memories[key] = memory
        return memory

    def _survey_folder(
        self,
        folder: Path,
        key: str,
        memory: Memory,
        now: datetime,
        survey: Survey,
        ledger: Ledger | None,
    ) -> None:
        # The text of str(folder / name), without a Path per file (Path('.') / 'a.md' is 'a.md')
        prefix = "" if str(folder) == "." else os.path.join(str(folder), "")
        names = self._list(key, folder, memory)
        self.listed[key] = (prefix, names)
        if self._survey_unchanged(key, prefix, names, memory, now, survey):
            return
        if not memory.stats_known:
            memory = self.memories[key] = _with_stats(memory, key, ledger)
        kept = self.kept[key] = []  # the memory is rewritten, so that deleted files go
        answers = self._answers(memory, now)
        kinds, slugs, titles, pictures = memory.kinds, memory.slugs, memory.titles, memory.pictures
        hold, place, keep = survey.held.append, survey.held_places.append, kept.append
        rows = memory.rows()
        for name, at in zip(names, memory.places(names), strict=True):
            text = prefix + name
            if at >= 0 and stat_tuple(text) == rows[at]:
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
        self._carry_warnings(memory, [memory.names[at] for at in kept], survey)

    def _list(self, key: str, folder: Path, memory: Memory) -> list[str]:
        """The folder's release names: the remembered ones while the folder has the stat
        it had (taken before the listing, so that a file added meanwhile changes it)."""
        stat = file_stat(folder)
        self.folder_stats[key] = stat if stat is not None and settled(stat, clock()) else None
        if memory.names and memory.folder is not None and stat == memory.folder:
            return memory.names
        return folder_names(folder, files_only=False)  # a remembered file is one: its stat says

    def _survey_unchanged(
        self, key: str, prefix: str, names: list[str], memory: Memory, now: datetime, survey: Survey
    ) -> bool:
        """The cron case: the folder lists the files of the last run, each with the stat it
        had then. One stat a file and a few whole-list steps answer it; the files that may
        go out now (read every run, due now, or with a changed picture) are read. False,
        having done nothing, when anything differs: the caller goes file by file."""
        if not names or names != memory.names:
            return False
        paths = [prefix + name for name in names]
        now_stats = folder_stats.stats_for(key, names) or folder_stats.packed_stats(paths)
        if not memory.same_stats(now_stats):  # None: a file went away since the listing
            return False
        answers = self._answers(memory, now)
        outcomes = list(map(answers.__getitem__, memory.kinds))  # None: read it
        for name in memory.pictures:
            at = bisect_left(names, name)
            if outcomes[at] is not None and not _picture_unchanged(memory, name):
                outcomes[at] = None
        held = [outcome is not None for outcome in outcomes]
        first = survey.files
        survey.held_places.extend(compress(range(first, first + len(names)), held))
        columns = (memory.slugs, memory.titles, paths, outcomes)
        # ReleaseResult(slug, title, path, outcomes) for each held file, built in C
        values = zip(*(compress(column, held) for column in columns), repeat(None))
        survey.held.extend(map(tuple.__new__, repeat(ReleaseResult), values))
        for at in (at for at, remembered in enumerate(held) if not remembered):
            survey.places[paths[at]] = first + at
            survey.to_read.append((Path(paths[at]), False))
            self._read[paths[at]] = (key, memory.stat(at), clock())
        survey.files = first + len(names)
        self.kept[key] = kept = list(compress(range(len(names)), held))
        all_kept = len(kept) == len(names) - memory.kinds.count(READ)
        if all_kept and memory.folder == self.folder_stats[key]:
            self.unchanged.add(key)
        warned = [name for name in sorted(memory.warnings) if held[bisect_left(names, name)]]
        self._carry_warnings(memory, warned, survey)
        return True

    @staticmethod
    def _carry_warnings(memory: Memory, names: Iterable[str], survey: Survey) -> None:
        """The warnings of the remembered files (unknown fields), as a read would give."""
        if memory.warnings:
            survey.warnings.extend(w for name in names for w in memory.warnings.get(name, ()))

    def _answers(self, memory: Memory, now: datetime) -> dict[int, tuple[Outcome, ...] | None]:
        """What each kind of remembered file gets now; None (and READ): read it."""
        answers = {at: self._held_outcomes(kind, now) for at, kind in enumerate(memory.table)}
        answers[READ] = None
        return answers

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
        """Keep what this run knows for the next one (a folder's rows only when they
        changed). The stats go first: a memory read with stats of another is not used."""
        store, stats = ledger.store(NAMESPACE), ledger.store(STATS_NAMESPACE)
        for folder in self.kept.keys() | self.learned.keys():
            memory = self._memory(folder)
            if memory is None:
                continue
            value = memory.dump(self.fingerprint)
            if value["stats"] != self.memories.get(folder, Memory()).stats_digest:
                stats.put(_row(folder), memory.dump_stats())
            store.put(_row(folder), value)
            for old in (folder, ""):  # the rows before FORMAT 5: one per folder, and their list
                store.delete(old)

    def _memory(self, folder: str) -> Memory | None:
        """A folder's memory for the next run: every file listed now, in name order, each
        still remembered, learned now, or to be read every run; None when it is the same
        as the last run's."""
        learned = self.learned.get(folder)
        if learned is None and folder in self.unchanged:
            return None
        old = self.memories.get(folder, Memory())
        kept = {old.names[at]: at for at in self.kept.get(folder, [])}
        new = {name: at for at, name in enumerate(learned.names)} if learned else {}
        prefix, names = self.listed[folder]
        memory = Memory()
        for name in names:
            if name in kept:
                memory.carry(old, kept[name])
            elif name in new and learned is not None:
                memory.carry(learned, new[name])
            elif (read := self._read.get(prefix + name)) is not None:
                memory.add(name, read[1], "", "", None)  # read again on every run
        if memory.names == names:  # the folder's stat stands for its listing only if all is in
            memory.folder = self.folder_stats.get(folder)
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
        held = set(map(attrgetter("slug"), survey.held))
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


def _with_stats(memory: Memory, key: str, ledger: Ledger | None) -> Memory:
    """The memory with its file stats read from the ledger; an empty memory (every file
    read) when they are not there or not the ones it was kept with."""
    stats = ledger.store(STATS_NAMESPACE).get(_row(key)) if ledger is not None else None
    return memory if memory.load_stats(stats) else Memory()


def _row(folder: str) -> str:
    """A folder's key in the store: this host's name and the folder. Hosts that share a
    folder (a network mount, with a ledger in PostgreSQL) each see its files with their own
    device numbers, so each keeps a memory of its own rather than overwriting the other's."""
    return f"{socket.gethostname()}:{folder}"


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
