"""Electronic signatures on letters: PAdES baseline (B-B) signatures made with pyHanko
(https://docs.pyhanko.eu/en/latest/lib-guide/signing.html) from the office's PKCS#12
certificate, into the signature field over the letter's visible signature block.

A letter is signed once: the signature is an incremental update appended to the
unsigned PDF, so a signed file that starts with exactly the unsigned bytes of this
letter is kept as it is, and a re-run never makes a second, different signed letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from chanpub.errors import ConfigError
from chanpub.i18n import _
from chanpub.render.pdf.document import Box

FIELD = "Signature"
POINTS_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class SignSettings:
    """Where the certificate is and what the signature says."""

    pkcs12: Path
    password: str
    reason: str | None = None
    location: str | None = None
    where: str = "sign"  # the option's path in channels.yaml, for messages


@dataclass(frozen=True)
class Spot:
    """The visible signature block: page index (from 0) and its box in mm from top left."""

    page: int
    box: Box


def load_signer(settings: SignSettings) -> Any:
    """pyHanko's signer from the PKCS#12 file, or a ConfigError saying what to fix."""
    try:
        from pyhanko.sign import signers
    except ImportError:
        raise ConfigError(
            _(
                "{where}: signing letters needs pyHanko: pip install 'chanpub[sign]' "
                "(pyhanko and pyhanko-certvalidator)"
            ).format(where=settings.where)
        ) from None
    if not settings.pkcs12.is_file():
        raise ConfigError(
            _("{where}.pkcs12: no such file {path}: give the office's .p12 certificate").format(
                where=settings.where, path=settings.pkcs12
            )
        )
    import logging

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)  # it logs the failure we report
    signer = signers.SimpleSigner.load_pkcs12(  # type: ignore[no-untyped-call]  # unannotated
        str(settings.pkcs12), passphrase=settings.password.encode("utf-8")
    )
    if signer is None:
        raise ConfigError(
            _(
                "{where}: cannot open {path} with the password given: check the file and "
                "the password variable"
            ).format(where=settings.where, path=settings.pkcs12)
        )
    return signer


def certificate_fingerprint(signer: Any) -> str:
    """The signing certificate's SHA-256 fingerprint, as 'AB:CD:...' (what the QR states)."""
    return ":".join(f"{byte:02X}" for byte in signer.signing_cert.sha256)


def certificate_holder(signer: Any) -> str:
    """The certificate's subject common name (who the signature names)."""
    return str(signer.signing_cert.subject.native.get("common_name", ""))


def sign_pdf(
    unsigned: bytes, signer: Any, settings: SignSettings, spot: Spot | None, page_height: float
) -> bytes:
    """A PAdES signature over the whole PDF, in a field over `spot` (None: invisible)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle

    box = None
    if spot is not None:
        b = spot.box
        box = (  # PDF points from the bottom left; whole points are precise enough
            round(b.x * POINTS_PER_MM),
            round((page_height - b.bottom) * POINTS_PER_MM),
            round(b.right * POINTS_PER_MM),
            round((page_height - b.y) * POINTS_PER_MM),
        )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        reason=settings.reason,
        location=settings.location,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    spec = fields.SigFieldSpec(FIELD, on_page=spot.page if spot else 0, box=box)
    # chanpub draws the visible block itself; the field's own appearance stays empty.
    style = TextStampStyle(stamp_text="", border_width=0)
    pdf_signer = signers.PdfSigner(meta, signer, new_field_spec=spec, stamp_style=style)
    output = BytesIO()
    pdf_signer.sign_pdf(IncrementalPdfFileWriter(BytesIO(unsigned)), output=output)
    return output.getvalue()


def signed_once(
    path: Path,
    unsigned: bytes,
    signer: Any,
    settings: SignSettings,
    spot: Spot | None,
    page_height: float,
) -> bytes:
    """The signed letter: the one already at `path` when it signs exactly these unsigned
    bytes (a re-run), else a new signature."""
    try:
        existing = path.read_bytes()
    except OSError:
        existing = b""
    if len(existing) > len(unsigned) and existing.startswith(unsigned):
        return existing
    return sign_pdf(unsigned, signer, settings, spot, page_height)


class LetterSigning:
    """Signs a letter channel's PDFs with one certificate, loaded on first use."""

    def __init__(self, settings: SignSettings) -> None:
        self.settings = settings
        self._signer: Any = None

    def signer(self) -> Any:
        """pyHanko's signer (reading the PKCS#12 file once); ConfigError when unusable."""
        if self._signer is None:
            self._signer = load_signer(self.settings)
        return self._signer

    def statement(self, signatory: str) -> str:
        """What the letter's QR code states: the certificate's holder and fingerprint, to
        compare with the signature a PDF reader shows."""
        signer = self.signer()
        holder = certificate_holder(signer) or signatory
        return f"{holder}\nSHA-256 {certificate_fingerprint(signer)}"

    def sign(
        self, path: Path, unsigned: bytes, spot: tuple[int, Box] | None, page_height: float
    ) -> bytes:
        """The signed PDF for `path`, kept from an earlier run when it signs these bytes."""
        where = Spot(*spot) if spot is not None else None
        return signed_once(path, unsigned, self.signer(), self.settings, where, page_height)
