"""The issue's realistic picture: a portrait phone photo of about 2.4 MB, stored as the
camera wrote it (1920x1080 pixels, EXIF orientation 6 = turn 90° to show it upright, so it
shows as 1080x1920), with the GPS position of where it was taken. Noise, so that JPEG
cannot compress it small."""

from __future__ import annotations

import io
import random
from pathlib import Path

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def portrait_photo(path: Path, *, seed: int = 7) -> Path:
    """Write the photo to `path` and return it."""
    from PIL import Image

    stored = (1920, 1080)
    image = Image.frombytes("RGB", stored, random.Random(seed).randbytes(stored[0] * stored[1] * 3))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif.get_ifd(GPS_IFD).update(
        {1: "S", 2: (6.0, 10.0, 30.0), 3: "E", 4: (106.0, 49.0, 40.0)}  # Jakarta
    )
    image.save(path, "JPEG", quality=95, exif=exif)
    size = path.stat().st_size
    assert 2_200_000 < size < 2_700_000, size  # "about 2.4 MB", over Bluesky's 2,000,000
    return path


def metadata_of(data: bytes) -> dict[str, object]:
    """What a published picture tells about itself: size, format, EXIF tags, GPS."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return {
            "format": image.format,
            "size": image.size,
            "exif": dict(exif),
            "gps": dict(exif.get_ifd(GPS_IFD)),
            "info": sorted(image.info),
        }
