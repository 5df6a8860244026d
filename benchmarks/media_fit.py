"""Time to fit the issue's photo (a 2.4 MB portrait JPEG from a phone, with EXIF
orientation and GPS) for each platform, with a cold cache (what the first `check` or
`send` of a release pays) and a warm one (every later preview and send), against simply
reading the file.

    python benchmarks/media_fit.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 5


def main() -> None:
    """Print milliseconds per platform, cold and cached."""
    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root), str(root / "tests")]
    from phone_photo import portrait_photo

    from chanpub.channels.bluesky import IMAGE_SPEC as BLUESKY
    from chanpub.channels.facebook_page import PHOTO_SPEC as FACEBOOK
    from chanpub.channels.instagram import IMAGE_SPEC as INSTAGRAM
    from chanpub.channels.mastodon import IMAGE_SPEC as MASTODON
    from chanpub.channels.static_site import WEB_SPEC as WEBSITE
    from chanpub.channels.telegram import PHOTO_SPEC as TELEGRAM
    from chanpub.channels.x import IMAGE_SPEC as X
    from chanpub.render.media import fit_image

    with tempfile.TemporaryDirectory() as folder:
        photo = portrait_photo(Path(folder) / "foto.jpg")
        fit_image(photo, X, Path(folder) / "warm-up")  # imports Pillow, JIT-free warm-up
        read = _median(lambda: photo.read_bytes())
        print(f"photo: {photo.stat().st_size:,} bytes; reading it: {read:.1f} ms")
        print(f"{'platform':<14} {'cold ms':>8} {'cached ms':>10}  result")
        for spec in (WEBSITE, INSTAGRAM, BLUESKY, TELEGRAM, X, MASTODON, FACEBOOK):
            colds = []
            for index in range(ROUNDS):
                cache = Path(folder) / f"{spec.platform}-{index}"
                start = time.perf_counter()
                fitted = fit_image(photo, spec, cache)
                colds.append((time.perf_counter() - start) * 1000)
            cached = _median(lambda spec=spec, cache=cache: fit_image(photo, spec, cache))
            print(
                f"{spec.platform:<14} {statistics.median(colds):>8.0f} {cached:>10.1f}  "
                f"{fitted.describe()}"
            )


def _median(work: object) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        work()  # type: ignore[operator]  # a callable
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    main()
