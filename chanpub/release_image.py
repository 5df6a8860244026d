"""The release's picture, checked before anything is sent: it must be a whole JPEG, PNG,
WebP or GIF of a size every channel can take.

Pillow is imported here, on first use only: start-up stays lean, and a folder scan opens
only the pictures of releases that can go out (see intake.load_releases).
Formats and limits: https://pillow.readthedocs.io/en/stable/handbook/image-file-formats.html
and https://pillow.readthedocs.io/en/stable/reference/Image.html#PIL.Image.open
(decompression bombs).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from chanpub.errors import ReleaseError
from chanpub.i18n import _
from chanpub.release import Release

if TYPE_CHECKING:
    from PIL import Image

FORMATS = ("JPEG", "PNG", "WEBP", "GIF")  # what every image-carrying channel accepts
MAX_SIDE = 12_000  # pixels, either side
MAX_PIXELS = 40_000_000  # 40 megapixels: larger is no web or print picture, but a bomb


def check_image(release: Release) -> None:
    """Raise ReleaseError (file, line, field, what to do) when the release's picture will
    not open as a whole JPEG, PNG, WebP or GIF of sane size; nothing when it has none."""
    if release.image is None:
        return
    problem = image_problem(release.image)
    if problem is not None:
        line = release.lines.get("image")
        where = f"{release.path}:{line}" if line else str(release.path)
        name = release.front_matter.get("image", release.image.name)
        raise ReleaseError(f"{where}: image: {name} {problem}")


def image_problem(path: Path) -> str | None:
    """What is wrong with the picture at `path`, as the end of a sentence, or None."""
    from PIL import Image, UnidentifiedImageError

    limits = {"side": f"{MAX_SIDE:,}", "megapixels": MAX_PIXELS // 1_000_000}
    try:
        with warnings.catch_warnings():
            # Pillow warns, then refuses, past its own limit; both mean "too large" here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=FORMATS) as picture:
                width, height = picture.size
                if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
                    return _(
                        "of {width}x{height} pixels is too large: make it at most {side} "
                        "pixels a side and {megapixels} megapixels"
                    ).format(width=width, height=height, **limits)
                _decode(picture)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return _(
            "is too large: make it at most {side} pixels a side and {megapixels} megapixels"
        ).format(**limits)
    except UnidentifiedImageError:
        return _(
            "is not a JPEG, PNG, WebP or GIF picture: save it in one of those formats "
            "(SVG and PDF are not pictures every channel can show)"
        )
    except Exception:  # Pillow raises many kinds for broken data; all mean the same here
        return _("is damaged or cut short: export the picture again from the original")
    return None


def _decode(picture: Image.Image) -> None:
    """Read every byte of the picture, cheaply: a PNG checks its chunks' checksums through
    the end; a JPEG decodes at 1/8 scale (libjpeg still reads the whole stream)."""
    if picture.format == "PNG":
        picture.verify()
        return
    if picture.format == "JPEG":
        width, height = picture.size
        picture.draft("RGB", (max(1, width // 8), max(1, height // 8)))
    picture.load()
