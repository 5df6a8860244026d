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
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chanpub.config import Config
from chanpub.context import Observer
from chanpub.i18n import current_language
from chanpub.outcomes import Outcome, ReleaseResult
from chanpub.plan import ReleasePlan, skip_text
from chanpub.status import Status

if TYPE_CHECKING:
    from chanpub.intake import InvalidRelease
    from chanpub.ledger import Ledger
    from chanpub.release import Release

NAMESPACE = "folder-scan"  # one store row per folder: {"fingerprint": ..., "files": {...}}
FORMAT = 1  # bump when an entry's layout or meaning changes: older entries are dropped
SETTLE_NS = 2_000_000_000  # FAT keeps mtime in 2 s steps; ext4 and XFS far finer
clock = time.time_ns  # the wall clock that file timestamps are compared with

Stat = list[int]  # size, mtime_ns, inode, ctime_ns, device


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


class Remembered:
    """A release file known not to go out now, without reading it: its path and the
    remembered entry (kept as stored, so that a big folder costs no objects per field)."""

    __slots__ = ("entry", "path")

    def __init__(self, path: Path, entry: list[Any]) -> None:
        self.path = path
        self.entry = entry

    @property
    def slug(self) -> str:
        return str(self.entry[2])

    @property
    def warnings(self) -> list[str]:
        return list(self.entry[7])


def held_results(
    remembered: Sequence[Remembered], config: Config, now: datetime, observer: Observer
) -> list[ReleaseResult]:
    """The skipped outcome of each remembered release on each of its enabled channels,
    as dispatch reports it. Releases with the same approval, time and channels share one
    tuple of outcomes (they are frozen), so a big folder costs one result per file."""
    shared: dict[tuple[Any, ...], tuple[tuple[Outcome, ...], dict[str, Any]]] = {}
    results = []
    with paused_gc():
        for item in remembered:
            _stat, _picture, slug, title, signed_off, publish_at, channels, _warnings = item.entry
            key = (signed_off, publish_at, None if channels is None else tuple(channels))
            known = shared.get(key)
            if known is None:
                known = shared[key] = _skipped(config, now, *key)
            outcomes, event = known
            for outcome in outcomes:
                observer("done", slug, outcome.channel, event)
            results.append(ReleaseResult(slug, title, item.path, outcomes))
    return results


def _skipped(
    config: Config, now: datetime, signed_off: bool, at: str | None, wanted: Sequence[str] | None
) -> tuple[tuple[Outcome, ...], dict[str, Any]]:
    """The skipped outcomes of one kind of remembered release, and the observer's data."""
    publish_at = datetime.fromisoformat(at) if at else None
    reason = skip_text(signed_off, publish_at, now) or ""
    outcomes = tuple(
        Outcome(channel.name, channel.type, Status.SKIPPED, error=reason)
        for channel in config.channels.values()
        if channel.enabled and (wanted is None or channel.name in wanted)
    )
    return outcomes, {"status": Status.SKIPPED, "url": None, "error": reason}


def _entry(release: Release, stat: Stat, picture: list[Any] | None) -> list[Any]:
    publish_at = release.publish_at.isoformat() if release.publish_at else None
    channels = list(release.channels) if release.channels is not None else None
    warnings = list(release.warnings)
    names = [release.slug, release.title, release.is_signed_off, publish_at, channels, warnings]
    return [stat, picture, *names]


@dataclass
class FolderScan:
    """What earlier runs made of the files of the folders of one run, and what this run
    learns for the next."""

    fingerprint: str
    folders: dict[str, dict[str, list[Any]]]  # folder -> file name -> entry
    learned: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    _read: dict[Path, tuple[str, Stat, int]] = field(default_factory=dict)  # stat before read

    @classmethod
    def recall(cls, config: Config, ledger: Ledger | None) -> FolderScan:
        """The remembered entries of every folder, when the ledger holds any."""
        scan = cls(fingerprint(config), {})
        if ledger is None:
            return scan
        store = ledger.store(NAMESPACE)
        for key in _folder_keys(ledger):
            with paused_gc():
                value = store.get(key)
            if isinstance(value, dict) and value.get("fingerprint") == scan.fingerprint:
                scan.folders[key] = value["files"]
        return scan

    def split(
        self, files: Sequence[tuple[Path, bool]], now: datetime
    ) -> tuple[list[Remembered], list[tuple[Path, bool]]]:
        """(files answered from memory, files to read). Files named on the command line
        are always read: their errors stop the run."""
        remembered: list[Remembered] = []
        to_read: list[tuple[Path, bool]] = []
        folders: dict[str, tuple[dict[str, list[Any]], dict[str, list[Any]], str]] = {}
        later: dict[str, bool] = {}  # publish_at -> still in the future (few distinct ones)
        with paused_gc():  # thousands of small objects, no cycles: no collections meanwhile
            for path, explicit in files:
                if explicit:
                    to_read.append((path, explicit))
                    continue
                # Folder and name from the path's text: Path.parent/.name build new objects.
                parent, _sep, name = (text := str(path)).rpartition(os.sep)
                known = folders.get(parent)
                if known is None:
                    folder = str(path.parent.resolve())
                    # rewritten, so that deleted files go
                    known = folders[parent] = (
                        self.folders.get(folder, {}),
                        self.learned.setdefault(folder, {}),
                        folder,
                    )
                entries, learned, folder = known
                stat = file_stat(text)
                entry = entries.get(name)
                if stat is not None and entry is not None and _still(entry, stat, now, later):
                    remembered.append(Remembered(path, entry))
                    learned[name] = entry
                    continue
                to_read.append((path, explicit))
                if stat is not None:
                    self._read[path] = (folder, stat, clock())
        return remembered, to_read

    def learn(self, plans: Iterable[ReleasePlan]) -> None:
        """Remember each release read in this run that is not going out now."""
        for plan in plans:
            release = plan.release
            read = self._read.get(release.path)
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
                entry = _entry(release, stat, picture)
                self.learned.setdefault(folder, {})[release.path.name] = entry

    def save(self, ledger: Ledger) -> None:
        """Keep what this run knows for the next one (a folder's row only when it changed)."""
        store = ledger.store(NAMESPACE)
        for folder, files in self.learned.items():
            if files != self.folders.get(folder):
                store.put(folder, {"fingerprint": self.fingerprint, "files": files})
        known = set(_folder_keys(ledger)) | set(self.learned)
        store.put("", sorted(known))

    def clashes(
        self,
        remembered: Sequence[Remembered],
        releases: Sequence[tuple[Release, bool]],
        invalid: Sequence[InvalidRelease],
    ) -> bool:
        """Whether a remembered file shares its slug with another file: releases that
        share a slug are all held back, which only a full read of the folder decides."""
        if not remembered:
            return False
        slugs = Counter(r.slug for r in remembered)
        slugs.update(release.slug for release, _explicit in releases)
        slugs.update(i.slug for i in invalid)
        return any(slugs[r.slug] > 1 for r in remembered)


def _folder_keys(ledger: Ledger) -> list[str]:
    """The folders that have a row (kept under the key '')."""
    keys = ledger.store(NAMESPACE).get("")
    return [str(key) for key in keys] if isinstance(keys, list) else []


def _still(entry: list[Any], stat: Stat, now: datetime, later: dict[str, bool]) -> bool:
    """Whether a remembered entry still answers for a file with this stat at `now`."""
    if entry[0] != stat:
        return False
    picture = entry[1]
    if picture is not None and file_stat(picture[0]) != picture[1:]:
        return False
    signed_off, publish_at = entry[4], entry[5]
    if not signed_off:
        return True
    if publish_at is None:
        return False  # approved and due: it may go out, so it is read in full
    future = later.get(publish_at)
    if future is None:
        future = later[publish_at] = datetime.fromisoformat(publish_at) > now
    return future


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
