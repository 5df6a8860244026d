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
The same picture and spec always give the same bytes.

Outputs are cached in `<state dir>/media/` under the SHA-256 of the picture's bytes and
the spec, with a JSON note of what was done, so `check`, the preview and `send` fit each
picture once per platform.

Instagram fetches its picture from a public address. The static-site channel names its
media folder in its receipt (`media_dir`, and `media_url`, the folder's public address);
the instagram adapter copies its fitted JPEG there as `<slug>-<stem>-instagram.jpg`
before it creates the container (see chanpub.channels.instagram.fitted_image_target).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from chanpub.errors import ReleaseError
from chanpub.i18n import _

if TYPE_CHECKING:
    from PIL.Image import Image

    from chanpub.release import Release

PIPELINE_VERSION = "1"  # part of the cache key: bump when the output for a spec changes
MAX_SOURCE_PIXELS = 80_000_000  # larger pictures are refused rather than risking memory
QUALITIES = (90, 85, 80, 75, 70, 60, 50)  # JPEG/WebP quality, best first
SHRINK = 0.85  # when even the lowest quality is too big: scale by this and try again
SHRINK_ATTEMPTS = 12
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}
GPS_IFD = 0x8825
ORIENTATION = 0x0112
# Pillow `info` keys that describe how to decode the pixels, never who took them or where.
HARMLESS_INFO = frozenset(
    {
        *("jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "icc_profile"),
        *("progressive", "progression", "adobe", "adobe_transform", "gamma", "srgb"),
        *("chromaticity", "transparency", "aspect", "interlace", "background", "duration"),
        *("loop", "version", "extension"),
    }
)


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


def byte_label(size: int) -> str:
    """412 KB, 2.4 MB (decimal units, as the platforms state their limits)."""
    return f"{round(size / 1000)} KB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"


# --- checks before anything is sent --------------------------------------------------------


def check_image(path: Path) -> None:
    """Raise a ReleaseError unless `path` is a picture Pillow can read, of a sane size.

    Reads the header only (cheap enough for every release in a folder); memoised per file
    version."""
    try:
        stat = path.stat()
    except OSError as error:
        raise _unreadable(path, error.strerror or str(error)) from None
    problem = _header_problem(str(path), stat.st_size, stat.st_mtime_ns)
    if problem is not None:
        raise _unreadable(path, problem)


@functools.lru_cache(maxsize=256)
def _header_problem(path: str, size: int, mtime_ns: int) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        return str(error) or type(error).__name__
    except Image.DecompressionBombError:
        return "too many pixels"
    if width < 1 or height < 1 or width * height > MAX_SOURCE_PIXELS:
        return f"{width}x{height} pixels"
    return None


def _unreadable(path: Path, reason: str) -> ReleaseError:
    return ReleaseError(
        _(
            "{path}: image: {name} is not a picture that can be read ({reason}): save it "
            "again as JPEG or PNG"
        ).format(path=path.parent, name=path.name, reason=reason)
    )


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
        raise _unreadable(source, error.strerror or str(error)) from None
    digest = hashlib.sha256(
        b"\0".join([data, spec.cache_key().encode(), PIPELINE_VERSION.encode()])
    ).hexdigest()[:40]
    for folder in (cache_dir, Path(tempfile.gettempdir()) / "chanpub-media"):
        cached = _cached(folder, digest)
        if cached is not None:
            return cached
    payload, note = _fit(data, spec, source)
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
    from chanpub.render.files import write_atomically

    path = folder / f"{digest}{SUFFIX[note['format']]}"
    write_atomically(path, payload)  # the picture first: a note always has its picture
    write_atomically(folder / f"{digest}.json", json.dumps(note))
    return FittedImage(path=path, **{**note, "changes": tuple(note["changes"])})


def _open(data: bytes, source: Path) -> Image:
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _unreadable(source, "too many pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise _unreadable(source, str(error) or type(error).__name__) from None
    if image.width * image.height > MAX_SOURCE_PIXELS:
        raise _unreadable(source, f"{image.width}x{image.height} pixels")
    return image


def _fit(data: bytes, spec: MediaSpec, source: Path) -> tuple[bytes, dict[str, Any]]:
    """The fitted picture's bytes and its note (see FittedImage)."""
    from PIL import ImageOps

    image = _open(data, source)
    exif = image.getexif()
    orientation = exif.get(ORIENTATION, 1)
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
    xmp_bytes = xmp.encode() if isinstance(xmp, str) else bytes(xmp)
    located = bool(exif.get_ifd(GPS_IFD)) or b"GPS" in xmp_bytes
    carries_metadata = len(exif) > 0 or bool(set(image.info) - HARMLESS_INFO)
    width, height = image.size
    if (
        image.format in spec.formats
        and not carries_metadata
        and _within(spec, width, height)
        and (spec.max_bytes is None or len(data) <= spec.max_bytes)
    ):
        return data, _note(image.format or "", image.size, image.size, ())
    changes: list[str] = []
    if carries_metadata:
        changes.append("location" if located else "metadata")
    if orientation not in (None, 1):
        changes.append("turned")
    icc = image.info.get("icc_profile")
    source_format = image.format or ""
    picture = ImageOps.exif_transpose(image)
    shown = picture.size
    target = source_format if source_format in spec.formats else spec.formats[0]
    picture = _mode_for(picture, target, spec.pad_color)
    picture, shaped = _fit_aspect(picture, spec)
    if shaped:
        changes.append(shaped)
    picture, scaled = _fit_pixels(picture, spec, 1.0)
    if scaled:
        changes.append("scaled")
    for _attempt in range(SHRINK_ATTEMPTS):
        for quality in QUALITIES if target in ("JPEG", "WEBP") else (0,):
            payload = _encode(picture, target, icc, quality)
            if spec.max_bytes is None or len(payload) <= spec.max_bytes:
                if target != source_format:
                    changes.append("converted")
                return payload, _note(target, picture.size, shown, tuple(changes))
        if target == "PNG" and "JPEG" in spec.formats:
            target = "JPEG"  # a photo saved as PNG is far smaller as JPEG
            picture = _mode_for(picture, target, spec.pad_color)
            continue
        # Bytes grow with pixels: aim straight for the limit, a little below it.
        factor = min(SHRINK, 0.95 * math.sqrt((spec.max_bytes or 0) / len(payload)))
        picture, _scaled = _fit_pixels(picture, spec, factor)
        if "scaled" not in changes:
            changes.append("scaled")
    raise ReleaseError(
        _(
            "{path}: image: cannot be made smaller than {limit} for {platform}: use a smaller "
            "picture"
        ).format(path=source, limit=byte_label(spec.max_bytes or 0), platform=spec.platform)
    )


def _note(
    fmt: str, size: tuple[int, int], shown: tuple[int, int], changes: tuple[str, ...]
) -> dict[str, Any]:
    return {
        "format": fmt,
        "width": size[0],
        "height": size[1],
        "size": 0,  # set by fit_image, which has the bytes
        "source_width": shown[0],
        "source_height": shown[1],
        "changes": list(changes),
    }


def _within(spec: MediaSpec, width: int, height: int) -> bool:
    """True when the dimensions meet every pixel and aspect rule of the spec."""
    if spec.aspect and not spec.aspect[0] <= width / height <= spec.aspect[1]:
        return False
    return _scale_for(spec, width, height) >= 1.0


def _scale_for(spec: MediaSpec, width: int, height: int) -> float:
    """The largest scale (at most 1) that brings the dimensions within the limits."""
    scale = 1.0
    if spec.max_side:
        scale = min(scale, spec.max_side / max(width, height))
    if spec.max_width:
        scale = min(scale, spec.max_width / width)
    if spec.max_pixels:
        scale = min(scale, math.sqrt(spec.max_pixels / (width * height)))
    if spec.max_side_sum:
        scale = min(scale, spec.max_side_sum / (width + height))
    return scale


def _mode_for(picture: Image, target: str, background: str) -> Image:
    """Pixels the target format can store: JPEG has no transparency (flattened onto the
    pad colour); everything else keeps it."""
    from PIL import Image, ImageColor

    transparent = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    if target == "JPEG":
        if transparent:
            rgba = picture.convert("RGBA")
            flat = Image.new("RGB", rgba.size, ImageColor.getrgb(background)[:3])
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return picture if picture.mode in ("RGB", "L") else picture.convert("RGB")
    if picture.mode in ("RGB", "RGBA", "L", "LA"):
        return picture
    return picture.convert("RGBA" if transparent else "RGB")


def _fit_aspect(picture: Image, spec: MediaSpec) -> tuple[Image, str | None]:
    """Pad or centre-crop the picture into the spec's aspect range."""
    from PIL import Image, ImageColor

    if spec.aspect is None:
        return picture, None
    low, high = spec.aspect
    width, height = picture.size
    ratio = width / height
    if low <= ratio <= high:
        return picture, None
    if spec.fit == "crop":
        if ratio < low:  # too tall: keep the middle rows
            keep = max(1, math.floor(width / low))
            top = (height - keep) // 2
            return picture.crop((0, top, width, top + keep)), "cropped"
        keep = max(1, math.floor(height * high))
        left = (width - keep) // 2
        return picture.crop((left, 0, left + keep, height)), "cropped"
    # Too tall: bars left and right; too wide: bars above and below.
    size = (math.ceil(height * low), height) if ratio < low else (width, math.ceil(width / high))
    colour = ImageColor.getcolor(spec.pad_color, picture.mode)
    canvas = Image.new(picture.mode, size, colour)
    canvas.paste(picture, ((size[0] - width) // 2, (size[1] - height) // 2))
    return canvas, "padded"


def _fit_pixels(picture: Image, spec: MediaSpec, factor: float) -> tuple[Image, bool]:
    """Scale down into the pixel limits (and by `factor`), keeping within the aspect range
    despite rounding."""
    from PIL import Image as PILImage

    width, height = picture.size
    scale = min(_scale_for(spec, width, height), 1.0) * factor
    if scale >= 1.0:
        return picture, False
    new_w, new_h = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    if spec.aspect:
        low, high = spec.aspect
        if new_w / new_h < low:
            new_h = max(1, math.floor(new_w / low))
        elif new_w / new_h > high:
            new_w = max(1, math.floor(new_h * high))
    return picture.resize((new_w, new_h), PILImage.Resampling.LANCZOS), True


def _encode(picture: Image, target: str, icc: Any, quality: int) -> bytes:
    """The picture in `target` format with no metadata but the colour profile."""
    picture.info = {}  # nothing of the source's metadata may ride along
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if target == "JPEG":
        options.update(quality=quality, optimize=True)
    elif target == "WEBP":
        options.update(quality=quality, method=4)
    buffer = io.BytesIO()
    picture.save(buffer, target, **options)
    return buffer.getvalue()
