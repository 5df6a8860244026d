"""PDF pages as PNG pictures (PyMuPDF): thumbnails and share cards."""

from __future__ import annotations

import threading

# MuPDF is not thread-safe, and channels render in parallel: one rendering at a time.
_MUPDF = threading.Lock()


def page_png(pdf_bytes: bytes, width_px: int, page: int = 0) -> bytes:
    """Page `page` of a PDF rendered as a PNG `width_px` pixels wide (white background)."""
    import pymupdf

    with _MUPDF, pymupdf.open(stream=pdf_bytes, filetype="pdf") as document:
        loaded = document[page]
        zoom = width_px / loaded.rect.width
        pixmap = loaded.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        return bytes(pixmap.tobytes("png"))
