"""PDF pages as PNG pictures (PDFium through pypdfium2): thumbnails and share cards.

pypdfium2 (https://pypdfium2.readthedocs.io/) is Apache-2.0/BSD-3-Clause and ships PDFium in its
wheels; the rendering is deterministic, and Pillow writes the PNG without a timestamp, so the
same PDF gives byte-identical pictures.
"""

from __future__ import annotations

import io
import math
import threading

# PDFium is not thread-safe, and channels render in parallel: one rendering at a time.
# https://pypdfium2.readthedocs.io/en/stable/python_api.html#thread-incompatibility
_PDFIUM = threading.Lock()
WHITE = (255, 255, 255, 255)


def page_png(pdf_bytes: bytes, width_px: int, page: int = 0) -> bytes:
    """Page `page` of a PDF rendered as a PNG `width_px` pixels wide (white background)."""
    import pypdfium2

    with _PDFIUM:
        document = pypdfium2.PdfDocument(pdf_bytes)
        try:
            loaded = document[page]
            scale = _scale_for(loaded.get_width(), width_px)
            bitmap = loaded.render(scale=scale, fill_color=WHITE, rev_byteorder=True)
            try:
                # A copy: the image would otherwise share PDFium's pixel buffer.
                image = bitmap.to_pil().copy()
            finally:
                bitmap.close()
        finally:
            document.close()
    # Encoding (most of the time) runs outside the lock, in parallel with other channels.
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _scale_for(width_pt: float, width_px: int) -> float:
    """The zoom that makes the page exactly `width_px` wide: PDFium rounds the bitmap up, so
    a float error of one ulp would otherwise add a pixel (a 1081-pixel share card)."""
    scale = width_px / width_pt
    while math.ceil(width_pt * scale) > width_px:
        scale = math.nextafter(scale, 0.0)
    return scale
