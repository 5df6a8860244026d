"""PDF pages as PNG pictures (PyMuPDF): thumbnails and share cards."""

from __future__ import annotations

import threading

# MuPDF is not thread-safe, and channels render in parallel: one rendering at a time.
_MUPDF = threading.Lock()


def page_png(pdf_bytes: bytes, width_px: int, page: int = 0) -> bytes:
    """Page `page` of a PDF rendered as a PNG `width_px` pixels wide (white background)."""
    import pymupdf

    with (
        _MUPDF,
        pymupdf.open(  # type: ignore[no-untyped-call]  # PyMuPDF is untyped here
            stream=pdf_bytes, filetype="pdf"
        ) as document,
    ):
        loaded = document[page]
        zoom = width_px / loaded.rect.width
        matrix = pymupdf.Matrix(zoom, zoom)  # type: ignore[no-untyped-call]  # untyped
        pixmap = loaded.get_pixmap(matrix=matrix, alpha=False)
        return bytes(pixmap.tobytes("png"))
