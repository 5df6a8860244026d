"""One `send` at a time per state directory (filelock)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chanpub.errors import LockHeld, StateError
from chanpub.files import make_private_folder
from chanpub.i18n import _


@contextmanager
def send_lock(state_dir: Path) -> Iterator[None]:
    """Hold the send lock; raise LockHeld at once if another run holds it."""
    from filelock import FileLock, Timeout

    try:
        make_private_folder(state_dir)
    except OSError as error:
        raise StateError(
            _(
                "cannot create the state directory {path}: {reason}: set CHANPUB_STATE_DIR "
                "to a writable folder"
            ).format(path=state_dir, reason=error.strerror)
        ) from None
    lock = FileLock(state_dir / "send.lock", timeout=0, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        raise LockHeld(
            _(
                "another chanpub send is running (lock {path}): wait for it to finish; "
                "nothing was sent"
            ).format(path=state_dir / "send.lock")
        ) from None
    except OSError as error:
        raise StateError(
            _("cannot take the lock in {path}: {reason}: make the state directory writable").format(
                path=state_dir, reason=error.strerror
            )
        ) from None
    try:
        yield
    finally:
        lock.release()
