"""A folder's release files and their stats packed in one C-level pass, and those of the
folders given to `chanpub send` taken by a second process while chanpub starts up.

A cron run over a folder of 20,000 releases with nothing new spends most of its own work
on one `stat` a file (chanpub.scan): about 50 ms, on a machine where the interpreter's
start-up and imports take 200. The folders are on the command line from the first moment,
so the console script starts a child at once (`start`): a bare interpreter (-I -S, no
site) that imports this module alone, lists each folder's release files, stats them and
writes the answer to a pipe, on the other core, while chanpub imports, reads its
configuration and opens the ledger. Its stderr goes nowhere: a child that fails is only a
missing answer. It is spawned (posix_spawn), not forked: a fork would make every page the
parent then writes a copy, about 5 ms of the run.

The scan takes the answer only for the very folder and listing it is about to compare
(`stats_for`), and stats the files itself otherwise. The answer is as good as its own:
each stat is taken before the scan decides anything, and a file edited after its stat is
noticed by the next run, as one edited just after the scan's own stat would be.

Only the standard library is imported here, and not pathlib: the child's imports are part
of its time, which the parent may wait for. -I keeps the folder cron runs in off the
child's module path (and PYTHON* variables out): a file there named like a module is
never imported.
"""

from __future__ import annotations

import marshal
import operator
import os
import sys
from array import array
from collections.abc import Iterable, Sequence
from itertools import chain

# The fields that change whenever a file's bytes do (chanpub.file_stats)
stat_key = operator.attrgetter("st_size", "st_mtime_ns", "st_ino", "st_ctime_ns", "st_dev")
# `chanpub send` options that take a value: what follows them is no folder of releases
VALUE_OPTIONS = frozenset({"--config", "-c", "--log-file", "--lang"})
Answer = dict[str, tuple[list[str], bytes | None]]  # folder -> its release names, their stats
CHILD = (  # run as `python -I -S -c CHILD PACKAGE_PARENT FOLDER...`
    "import sys; sys.path.append(sys.argv[1]); "
    "import chanpub.folder_stats as f; f.answer(sys.argv[2:])"
)


def is_release_name(name: str) -> bool:
    """Whether a folder's entry of this name is one of its releases: `*.md`, not hidden."""
    return name.endswith(".md") and not name.startswith(".")


def release_names(folder: str | os.PathLike[str]) -> list[str]:
    """The names of the `*.md` entries directly inside a folder (not hidden ones), in name
    order, from one directory read and no stat. (is_release_name's test written inline: a
    call per name would be most of the listing's cost in a folder of tens of thousands.)"""
    names = [n for n in os.listdir(folder) if n.endswith(".md") and not n.startswith(".")]
    names.sort()
    return names


def packed(keys: Iterable[tuple[int, ...]]) -> bytes | None:
    """Stat keys (tuples of stat_key's fields) packed as 64-bit integers, as the folder
    scan's memory keeps them; None when a number does not fit (an inode above 2**63 on
    some network filesystems)."""
    try:
        return array("q", chain.from_iterable(keys)).tobytes()
    except OverflowError:
        return None


def packed_stats(paths: Iterable[str]) -> bytes | None:
    """The stats of the files at `paths`, packed; None when one is gone or cannot be
    packed. Built in C from the stats on: the whole cost is a `stat` a file."""
    try:
        return packed(map(stat_key, map(os.stat, paths)))
    except OSError:
        return None


class _Child:
    """The child: its pid, our end of its pipe, and its answer once collected."""

    def __init__(self, pid: int, reading: int) -> None:
        self.pid, self.reading = pid, reading
        self.answer: Answer | None = None


_child: _Child | None = None


def start(argv: Sequence[str]) -> None:
    """Start the child for the folders of a `chanpub send` command line (`argv` without
    the program's name); nothing for any other command or for --help."""
    global _child
    folders = _folders(argv)
    if _child is not None or not folders or not _can_spawn():
        return
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    command = [sys.executable, "-I", "-S", "-c", CHILD, package_parent, *folders]
    try:
        reading, writing = os.pipe()
    except OSError:
        return  # no second process today: the scan stats the files itself
    actions = [
        (os.POSIX_SPAWN_DUP2, writing, 1),  # its answer, on its stdout
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),  # never on the terminal
        (os.POSIX_SPAWN_CLOSE, reading),
    ]
    try:
        pid = os.posix_spawn(sys.executable, command, os.environ, file_actions=actions)
    except OSError:  # a sandbox that allows no new program: as above
        os.close(reading)
        return
    finally:
        os.close(writing)
    _child = _Child(pid, reading)


def _can_spawn() -> bool:
    """Whether there is another core to take the stats on, and `sys.executable -I -S -c`
    is a Python to run them (not a frozen chanpub binary)."""
    if not sys.executable or not hasattr(os, "posix_spawn") or getattr(sys, "frozen", False):
        return False
    cores = (
        os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    )
    return len(cores) > 1  # on one core the child's start-up would only add to the run


def stats_for(folder: str, names: list[str]) -> bytes | None:
    """The packed stats of `names` in `folder` (resolved) as the child took them, when it
    listed the same names there; None when there is no such answer. Each answer is given
    once: whatever asks again (the same folder named twice) takes its own stats."""
    if _child is None:
        return None
    if _child.answer is None:
        _child.answer = _collect(_child)
    listed, stats = _child.answer.pop(folder, (None, None))
    return stats if listed == names else None


def answer(folders: Sequence[str]) -> None:
    """The child's work: each folder's release names and their packed stats, on stdout.
    The stats are taken from inside the folder: a name alone is the shortest path walk."""
    result: Answer = {}
    for key in [os.path.realpath(folder) for folder in folders]:  # Path.resolve(), no pathlib
        os.chdir(key)
        names = release_names(".")
        result[key] = (names, packed_stats(names))
    data = marshal.dumps(result)
    try:  # a pipe that holds the whole answer: written at once, read in one call
        import fcntl

        fcntl.fcntl(1, fcntl.F_SETPIPE_SZ, len(data))
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or more than an unprivileged pipe may hold: in parts, then
    sys.stdout.buffer.write(data)


def _folders(argv: Sequence[str]) -> list[str]:
    """The folders among the arguments of `send`; none for any other command or for help."""
    arguments = list(argv)
    if "send" not in arguments or any(a in ("--help", "-h", "--version") for a in arguments):
        return []
    after = arguments[arguments.index("send") + 1 :]
    return [
        argument
        for before, argument in zip(["", *after], after, strict=False)
        if not argument.startswith("-") and before not in VALUE_OPTIONS and os.path.isdir(argument)
    ]


def _collect(child: _Child) -> Answer:
    """The child's answer, once it has exited with it whole; {} when it has not. The pipe
    is closed and the child waited for either way: no descriptor or zombie is left."""
    chunks = []
    try:
        while chunk := os.read(child.reading, 1 << 20):
            chunks.append(chunk)
    except OSError:
        chunks = []
    finally:
        os.close(child.reading)
    try:
        _pid, status = os.waitpid(child.pid, 0)
    except ChildProcessError:
        return {}
    if not chunks or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return {}
    try:
        value = marshal.loads(b"".join(chunks))
    except (EOFError, ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}
