"""PDF machinery shared by the print channels (poster-pdf, letter-pdf).

Built on fpdf2 (pure Python, embeds TrueType subsets): `document` makes deterministic
documents, `fonts` ships the embedded DejaVu faces, `text` wraps and fits text into boxes,
`qr` draws vector QR codes, `images` checks and places pictures, `raster` turns a page into
PNG. Only the print adapters import this package, so `chanpub --help` never loads fpdf2.
"""
