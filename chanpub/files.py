"""Writing rendered output: whole files or nothing, never half of one.

Output for others (pages, feeds, media, e-mails, posters, letters) is created like any
other program's files: mode 0666 and 0777 less the umask, so 0644 and 0755 under the usual
umask 0022, and a web server running as another user can serve them. The state directory
is the exception: `private=True` gives 0600 files in 0700 folders.

A file is on the disk, not only in the kernel's cache, before the function writing it
returns: its bytes are flushed before the rename and its folder after it. Otherwise a power
cut could leave an empty or missing page under a name the ledger (committed next) says
was published, and no later run would write it again.

A temporary file is named `.<name>.<host>-<pid>-<random>.chanpub-tmp`, so that a later run
can tell one that a killed writer left (`remove_stale_temporaries`) from one that a live
writer is still filling.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

SUFFIX = ".chanpub-tmp"
STALE_AFTER = 3600.0  # seconds; a temporary file of another machine is surely abandoned then
_TEMPORARY = re.compile(
    r"^\..*\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-z]+" + re.escape(SUFFIX) + "$"
)


def _host() -> str:
    """A short tag of this machine (and container), so pids are compared on one host only."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def make_private_folder(path: Path) -> None:
    """Create a folder only this user can enter (0700), with any missing parents as usual.

    A folder that already exists keeps the permissions its administrator gave it."""
    make_folder(path, mode=0o700)


def make_folder(path: Path, mode: int = 0o777) -> None:
    """Create a folder and any missing parents (mode less the umask), each on the disk."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    for folder in reversed(missing):
        sync_folder(folder.parent)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a file renamed or created in it) to the disk."""
    handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _flush(file: BinaryIO) -> None:
    """Put a file's bytes on the disk (before the rename that gives it its name)."""
    file.flush()
    os.fsync(file.fileno())


def temporary_name(name: str, pid: int | None = None) -> str:
    """A new temporary name for the file `name`, written by process `pid` (default: this)."""
    # Room for the tag within the 255-byte file name limit (names may be UTF-8).
    stem = name.encode()[:100].decode(errors="ignore")
    return f".{stem}.{_host()}-{pid or os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"


def _create_temporary(path: Path, mode: int) -> tuple[int, Path]:
    """Open a new temporary file beside `path`; the kernel applies the umask to `mode`."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temporary = path.parent / temporary_name(path.name)
        try:
            return os.open(temporary, flags, mode), temporary
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue


def _write_through(path: Path, mode: int, fill: Callable[[BinaryIO], object]) -> None:
    """Fill a temporary file, then rename it over `path`; remove it on any failure."""
    handle, temporary = _create_temporary(path, mode)
    try:
        with os.fdopen(handle, "wb") as file:
            fill(file)
            _flush(file)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def write_atomically(path: Path, content: str | bytes, *, private: bool = False) -> None:
    """Write a file so that readers (and a crash) never see half of it.

    The file follows the umask (0644 under 0022); with `private` it is 0600 and the folders
    created for it are 0700 (the state directory)."""
    if private:
        make_private_folder(path.parent)
    else:
        make_folder(path.parent)
    data = content.encode("utf-8") if isinstance(content, str) else content
    _write_through(path, 0o600 if private else 0o666, lambda file: file.write(data))


def copy_atomically(source: Path, target: Path) -> None:
    """Copy a file (an image for the website) the same way: whole, and following the umask."""
    make_folder(target.parent)
    with source.open("rb") as original:
        _write_through(target, 0o666, lambda file: shutil.copyfileobj(original, file))


def replace_keeping_owner(path: Path, content: str | bytes) -> None:
    """Rewrite an existing file that others share (a release): same mode, owner and group.

    The new version is written beside it and renamed into place, carrying the old file's
    mode and owner. When this user may not give the file back to its owner (an officer
    approving a colleague's release), the file is rewritten in place instead: that keeps
    its owner, mode and links, at the cost of a moment where a reader could see it half
    written (approve is run by hand, not while cron reads)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    before = path.stat()
    try:
        handle, temporary = _create_temporary(path, 0o600)
    except PermissionError:  # the folder is not ours to add files to; the file may be
        _rewrite_in_place(path, data)
        return
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            now = os.fstat(file.fileno())
            if (now.st_uid, now.st_gid) != (before.st_uid, before.st_gid):
                os.fchown(file.fileno(), before.st_uid, before.st_gid)
            os.fchmod(file.fileno(), stat.S_IMODE(before.st_mode))  # after: chown may clear bits
            _flush(file)
        os.replace(temporary, path)
    except PermissionError:
        temporary.unlink(missing_ok=True)
        _rewrite_in_place(path, data)
        return
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def _rewrite_in_place(path: Path, data: bytes) -> None:
    """Overwrite the file's bytes without replacing the file itself."""
    with path.open("r+b") as file:
        file.write(data)
        file.truncate()
        _flush(file)


def _abandoned(match: re.Match[str], age: float, older_than: float) -> bool:
    """A temporary file whose writer is surely gone: its process no longer runs on this
    machine, or (another machine's, or a pid in use again) it is older than `older_than`."""
    if age > older_than:
        return True
    if match["host"] != _host():
        return False
    pid = int(match["pid"])
    if pid == os.getpid():
        return False  # ours: a thread of this run may be writing it now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


def remove_stale_temporaries(folder: Path, older_than: float = STALE_AFTER) -> int:
    """Remove the temporary files that a killed chanpub left in `folder`; how many.

    Only chanpub's own names are touched, and only when their writer is gone, so a run
    writing into the same folder at this moment keeps its file."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0  # no folder yet: nothing to clean
    now = time.time()
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if _abandoned(match, age, older_than):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue  # another run removed it first, or it is not ours to remove
    return removed


def read_file_for(channel: str, path: Path) -> bytes:
    """A file a channel sends (the release image, a fitted copy), or a PermanentError
    naming the channel, the file and why it cannot be read."""
    from chanpub.errors import PermanentError
    from chanpub.i18n import _

    try:
        return path.read_bytes()
    except OSError as error:
        raise PermanentError(
            _("{channel}: cannot read the image {path}: {reason}").format(
                channel=channel, path=path, reason=error.strerror
            )
        ) from None


def check_writable_folder(channel: str, folder: Path) -> None:
    """Create the output folder if needed and prove a file can be written in it (for
    `channels --verify`), or a PermanentError naming the folder and why."""
    from chanpub.errors import PermanentError
    from chanpub.i18n import _

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".chanpub-probe-"):
            pass
    except OSError as error:
        raise PermanentError(
            _("{channel}: cannot write to {path}: {reason}").format(
                channel=channel, path=folder, reason=error.strerror
            )
        ) from None
