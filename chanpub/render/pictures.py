"""Facts about pictures that the media fitting and its checks share: the largest source
chanpub opens, how a byte size is written, and the error for a picture that cannot be read."""

from __future__ import annotations

from pathlib import Path

from chanpub.errors import ReleaseError
from chanpub.i18n import _

MAX_SOURCE_PIXELS = 80_000_000  # larger pictures are refused rather than risking memory


def byte_label(size: int) -> str:
    """412 KB, 2.4 MB (decimal units, as the platforms state their limits)."""
    return f"{round(size / 1000)} KB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"


def unreadable(path: Path, reason: str) -> ReleaseError:
    return ReleaseError(
        _(
            "{path}: image: {name} is not a picture that can be read ({reason}): save it "
            "again as JPEG or PNG"
        ).format(path=path.parent, name=path.name, reason=reason)
    )
