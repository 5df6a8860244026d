"""The Pillow work behind chanpub.render.media: open the picture, turn it upright, drop
its metadata, pad or crop it into the aspect range, scale it into the pixel limits and
encode it under the byte limit (see that module for what and why)."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

from chanpub.errors import ReleaseError
from chanpub.i18n import _
from chanpub.render.pictures import MAX_SOURCE_PIXELS, byte_label, unreadable

if TYPE_CHECKING:
    from pathlib import Path

    from PIL.Image import Image

    from chanpub.render.media import MediaSpec

QUALITIES = (90, 85, 80, 75, 70, 60, 50)  # JPEG/WebP quality, best first
SHRINK = 0.85  # when even the lowest quality is too big: scale by this and try again
SHRINK_ATTEMPTS = 12
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


def _open(data: bytes, source: Path) -> Image:
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise unreadable(source, "too many pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise unreadable(source, str(error) or type(error).__name__) from None
    if image.width * image.height > MAX_SOURCE_PIXELS:
        raise unreadable(source, f"{image.width}x{image.height} pixels")
    return image


def fit_pixels(data: bytes, spec: MediaSpec, source: Path) -> tuple[bytes, dict[str, Any]]:
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
