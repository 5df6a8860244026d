"""Pictures fitted per platform: one pipeline (Pillow) turns the release's image into a file
each platform accepts (format, byte size, dimensions, aspect ratio), from a small
declarative `MediaSpec` that every adapter declares beside its own code.

What every output gets:
- upright: the EXIF orientation is applied to the pixels (`ImageOps.exif_transpose`);
- no metadata: EXIF (GPS above all: an officer's phone photo must not publish where it
  was taken), XMP, IPTC and comments are dropped; only the colour profile is kept;
- the aspect range: padded with `pad_color` (default) or centre-cropped into it;
- the pixel limits (longest side, width, pixel count, width + height): scaled down;
- the byte limit: JPEG/WebP quality stepped down from 90 to 50, then scaled down further.
A picture that already meets the spec and carries no metadata is used byte for byte.
The same picture and spec always give the same bytes. (The Pillow work is in
chanpub.render.fitting.)

Outputs are cached in `<state dir>/media/` under the SHA-256 of the picture's bytes and
the spec, with a JSON note of what was done, so `check`, the preview and `send` fit each
picture once per platform.

Instagram fetches its picture from a public address. The static-site channel names its
media folder in its receipt (`media_dir`, and `media_url`, the folder's public address);
the instagram adapter copies its fitted JPEG there as `<slug>-<stem>-instagram.jpg`
(`public_copy`) just before it creates the container.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from chanpub.errors import ReleaseError
from chanpub.i18n import _
from chanpub.render.pictures import MAX_SOURCE_PIXELS, byte_label, unreadable

if TYPE_CHECKING:
    from chanpub.contract import Links
    from chanpub.release import Release

PIPELINE_VERSION = "1"  # part of the cache key: bump when the output for a spec changes
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}


@dataclass(frozen=True)
class MediaSpec:
    """What one platform accepts for a picture (None: no limit of that kind)."""

    platform: str
    formats: tuple[str, ...] = ("JPEG", "PNG")  # Pillow names; the first is converted to
    max_bytes: int | None = None
    max_side: int | None = None  # longest side, pixels
    max_width: int | None = None
    max_pixels: int | None = None  # width x height
    max_side_sum: int | None = None  # width + height (Telegram)
    aspect: tuple[float, float] | None = None  # allowed width / height, lowest to highest
    fit: Literal["pad", "crop"] = "pad"  # how a picture outside `aspect` is brought in
    pad_color: str = "#ffffff"

    def cache_key(self) -> str:
        """A stable text of every field, for the cache."""
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class FittedImage:
    """A picture as one platform will get it, and what was done to it."""

    path: Path
    format: str
    width: int
    height: int
    size: int  # bytes
    source_width: int  # as shown (orientation applied), before fitting
    source_height: int
    changes: tuple[str, ...] = field(default=())  # see `describe`

    @property
    def mime(self) -> str:
        """The picture's media type, e.g. image/jpeg."""
        return MIME[self.format]

    def filename(self, stem: str) -> str:
        """`stem` with the suffix of the picture's format."""
        return f"{stem}{SUFFIX[self.format]}"

    def describe(self) -> str:
        """One line for `check` and the preview, e.g. 'image: 1080x1920 padded to
        1080x1350 (4:5), JPEG 412 KB, location data removed'."""
        source = f"{self.source_width}x{self.source_height}"
        size = f"{self.width}x{self.height}"
        ratio = aspect_label(self.width, self.height)
        if "padded" in self.changes:
            shape = _("{source} padded to {size} ({ratio})")
        elif "cropped" in self.changes:
            shape = _("{source} cropped to {size} ({ratio})")
        elif "scaled" in self.changes:
            shape = _("{source} scaled down to {size} ({ratio})")
        else:
            shape = "{size} ({ratio})"
        parts = [shape.format(source=source, size=size, ratio=ratio)]
        parts.append(f"{self.format} {byte_label(self.size)}")
        if "turned" in self.changes:
            parts.append(_("turned upright"))
        if "location" in self.changes:
            parts.append(_("location data removed"))
        elif "metadata" in self.changes:
            parts.append(_("photo metadata removed"))
        if not self.changes:
            parts.append(_("sent as it is"))
        return _("image: {details}").format(details=", ".join(parts))


def aspect_label(width: int, height: int) -> str:
    """'4:5' when the ratio is a small fraction, else '1.78:1'."""
    divisor = math.gcd(width, height) or 1
    a, b = width // divisor, height // divisor
    return f"{a}:{b}" if a <= 32 and b <= 32 else f"{width / height:.2f}:1"


# --- checks before anything is sent --------------------------------------------------------


def check_image(path: Path) -> None:
    """Raise a ReleaseError unless `path` is a picture Pillow can read, of a sane size.

    Reads the header only (cheap enough for every release in a folder); memoised per file
    version."""
    try:
        stat = path.stat()
    except OSError as error:
        raise unreadable(path, error.strerror or str(error)) from None
    problem = _header_problem(str(path), stat.st_size, stat.st_mtime_ns)
    if problem is not None:
        raise unreadable(path, problem)


@functools.lru_cache(maxsize=256)
def _header_problem(path: str, size: int, mtime_ns: int) -> str | None:
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "too many pixels"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        return str(error) or type(error).__name__
    if width < 1 or height < 1 or width * height > MAX_SOURCE_PIXELS:
        return f"{width}x{height} pixels"
    return None


def check_release_image(release: Release) -> None:
    """The release's image (if any) can be read, so it can be fitted for every platform."""
    if release.image is not None:
        check_image(release.image)


# --- fitting -------------------------------------------------------------------------------


def prepare_image(
    release: Release, spec: MediaSpec, state_dir: Path
) -> tuple[FittedImage | None, str | None]:
    """The release's image fitted to `spec`, and the note for the officer: what was done,
    or why it cannot be fitted (then the image is None)."""
    if release.image is None:
        return None, None
    try:
        fitted = fit_image(release.image, spec, state_dir / "media")
    except ReleaseError as error:
        return None, error.message
    return fitted, fitted.describe()


def fit_image(source: Path, spec: MediaSpec, cache_dir: Path) -> FittedImage:
    """The picture at `source` fitted to `spec` (see the module docstring); cached in
    `cache_dir` (a temporary folder when that cannot be written)."""
    try:
        data = source.read_bytes()
    except OSError as error:
        raise unreadable(source, error.strerror or str(error)) from None
    digest = hashlib.sha256(
        b"\0".join([data, spec.cache_key().encode(), PIPELINE_VERSION.encode()])
    ).hexdigest()[:40]
    for folder in (cache_dir, Path(tempfile.gettempdir()) / "chanpub-media"):
        cached = _cached(folder, digest)
        if cached is not None:
            return cached
    from chanpub.render.fitting import fit_pixels

    payload, note = fit_pixels(data, spec, source)
    note["size"] = len(payload)
    for folder in (cache_dir, Path(tempfile.gettempdir()) / "chanpub-media"):
        try:
            return _store(folder, digest, payload, note)
        except OSError:
            continue  # a read-only state folder: the temporary one will do for this run
    raise ReleaseError(
        _("{path}: the fitted copy of the image cannot be written anywhere").format(path=source)
    )


def _cached(folder: Path, digest: str) -> FittedImage | None:
    try:
        note = json.loads((folder / f"{digest}.json").read_text(encoding="utf-8"))
        path = folder / f"{digest}{SUFFIX[note['format']]}"
        if not path.is_file() or path.stat().st_size != note["size"]:
            return None
        return FittedImage(path=path, **{**note, "changes": tuple(note["changes"])})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(folder: Path, digest: str, payload: bytes, note: dict[str, Any]) -> FittedImage:
    from chanpub.files import write_atomically

    path = folder / f"{digest}{SUFFIX[note['format']]}"
    write_atomically(path, payload, private=True)  # the picture first: a note always has it
    write_atomically(folder / f"{digest}.json", json.dumps(note), private=True)
    return FittedImage(path=path, **{**note, "changes": tuple(note["changes"])})


def public_copy(release: Release, links: Links, platform: str) -> tuple[Path, str] | None:
    """Where a platform's fitted copy of the release image goes, and its public address:
    `<slug>-<stem>-<platform>.jpg` in the media folder that a channel which ran before
    named in its receipt (`media_dir`, with an http(s) `media_url`: the static site).
    None when no such folder is known (yet)."""
    if release.image is None:
        return None
    receipts = sorted(links.outputs.values(), key=lambda r: r.url != links.canonical_url)
    name = f"{release.slug}-{release.image.stem}-{platform}.jpg"
    for receipt in receipts:
        folder, url = receipt.details.get("media_dir"), str(receipt.details.get("media_url") or "")
        if folder and url.startswith(("https://", "http://")):
            return Path(str(folder)) / name, f"{url.rstrip('/')}/{name}"
    return None
