"""Time to render an A4 poster once the modules are imported, against rendering the same
page with text only (same fonts and text, no QR code, picture or fitting).

    python benchmarks/poster_render.py

Target: the poster costs no more than 3x the text-only page. Also reports whether
`chanpub --help` loads fpdf2 or the poster channel (it must not).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROUNDS = 7
TITLE = "Pemkot Buka Layanan Adminduk Keliling di 12 Kelurahan Mulai Senin Depan"
SUMMARY = (
    "Warga dapat mengurus KTP elektronik, kartu keluarga dan akta kelahiran tanpa "
    "datang ke kantor dinas, cukup membawa KTP lama."
)
BODY = "\n\n".join(
    [
        "Pemerintah Kota Contoh melalui Dinas Kependudukan dan Pencatatan Sipil membuka layanan "
        "administrasi kependudukan keliling di 12 kelurahan mulai Senin. Layanan ini mencakup "
        "perekaman KTP elektronik, penerbitan kartu keluarga dan akta kelahiran."
    ]
    * 8
)
URL = "https://kominfo.example.go.id/siaran/layanan-adminduk-keliling.html"


def median_seconds(work: Callable[[], bytes]) -> float:
    """The median wall time of ROUNDS runs after one warm-up."""
    work()
    times = []
    for _round in range(ROUNDS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print both timings and their ratio."""
    from PIL import Image

    from chanpub.render.pdf.document import Box, Metadata, new_document, output_bytes
    from chanpub.render.pdf.images import inspect_image
    from chanpub.render.pdf.poster import Layout, PosterContent, render_poster
    from chanpub.render.pdf.text import Measure, Style, draw, wrap

    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "foto.jpg"
        Image.new("RGB", (2400, 1600), "#4a7fb0").save(photo, quality=85)
        content = PosterContent(
            title=TITLE,
            summary=SUMMARY,
            body=BODY,
            url=URL,
            organisation="Dinas Komunikasi dan Informatika Kota Contoh",
            date_text="Kamis, 3 September 2026",
            source="Disdukcapil Kota Contoh",
            image=inspect_image(photo),
            image_alt="Petugas melayani warga",
            created=date(2026, 9, 3),
        )

        def poster() -> bytes:
            return render_poster(content, Layout(210, 297, 12))

        def text_only() -> bytes:
            pdf = new_document(210, 297, Metadata(title=TITLE, author="Kominfo"))
            pdf.add_page()
            measure = Measure(pdf)
            y = 12.0
            for text, style in (
                (TITLE, Style(28, bold=True, condensed=True)),
                (SUMMARY, Style(14)),
                (BODY, Style(10.5, align="J")),
            ):
                lines = wrap(measure, text, style, 186)
                y += draw(pdf, measure, lines, Box(12, y, 186, 297 - y)) + 5
            return output_bytes(pdf)

        poster_s = median_seconds(poster)
        text_s = median_seconds(text_only)
    print(f"A4 poster (title fitted, picture, QR):  {poster_s * 1000:7.1f} ms")
    print(f"same page, text only:                  {text_s * 1000:7.1f} ms")
    ratio = poster_s / text_s
    print(f"ratio: {ratio:.2f}x (target: at most 3x) {'OK' if ratio <= 3 else 'OVER TARGET'}")
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, chanpub.cli; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('fpdf', 'PIL', 'pypdfium2', 'segno') or "
            "m == 'chanpub.channels.poster_pdf'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    print(
        f"modules 'chanpub --help' loads from the PDF stack: {loaded.stdout.strip() or '?'}"
        + (f" ({loaded.stderr.strip().splitlines()[-1]})" if loaded.returncode else "")
    )


if __name__ == "__main__":
    main()
