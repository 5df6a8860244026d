"""letter-pdf with `sign:`: each letter carries a PAdES signature from the office's
certificate (a throw-away CA here), checked by pyHanko's validator and by poppler's
pdfsig; a byte changed afterwards is caught; a re-run keeps the same signed letter."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pdf_pages import pages_text

from chanpub.channels.letter_pdf import LetterPdfChannel, LetterPdfOptions
from chanpub.contract import Links, Receipt
from chanpub.errors import ConfigError
from chanpub.ledger import Ledger
from chanpub.testing import check_receipt, make_context, sample_release

sys.path.insert(0, str(Path(__file__).parent))
from test_letter_pdf import options  # the letter channel's usual options

PASSWORD = "rahasia-sertifikat"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pemerintah Kota Contoh"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(
    subject: str, key: Any, issuer: str, issuer_key: Any, ca: bool
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def office_certificate(tmp_path: Path) -> tuple[Path, x509.Certificate, x509.Certificate]:
    """A throw-away CA and the signatory's certificate, as a password-protected .p12."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("CA Uji Coba", ca_key, "CA Uji Coba", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate("Dra. Maria Wenas, M.Si.", key, "CA Uji Coba", ca_key, ca=False)
    path = tmp_path / "kadis.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"kadis",
            key,
            cert,
            [ca],
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    return path, cert, ca


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger(tmp_path / "ledger.sqlite3")
    yield opened
    opened.close()


def signed_channel(tmp_path: Path, ledger: Ledger, password: str = PASSWORD) -> LetterPdfChannel:
    sign = {
        "pkcs12": "kadis.p12",
        "password": password,
        "reason": "Surat dinas",
        "location": "Kota Contoh",
    }
    model = LetterPdfOptions.model_validate(options(tmp_path, sign=sign))
    context = make_context(tmp_path, sequence=ledger, journal_factory=ledger.journal)
    return LetterPdfChannel("letters", model, context)


def publish(letters: LetterPdfChannel, tmp_path: Path) -> Receipt:
    release = sample_release(
        tmp_path / "rilis", title="Layanan Adminduk Keliling", date="2026-09-03"
    )
    preview = letters.preview(release, Links(canonical_url="https://kominfo.example.go.id/x.html"))
    return check_receipt(letters.publish(preview, "a" * 64))


def pdfsig(path: Path) -> str:
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


def test_each_letter_verifies_in_pyhanko(
    tmp_path: Path, ledger: Ledger, office_certificate: Any
) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _path, _cert, ca = office_certificate
    from asn1crypto import x509 as asn1_x509

    trust = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))]
    )
    receipt = publish(signed_channel(tmp_path, ledger), tmp_path)
    _combined, _thumbnail, *letters = receipt.files
    for letter in [*letters, receipt.files[0]]:
        with letter.open("rb") as file:
            signature = PdfFileReader(file).embedded_signatures[0]
            status = validate_pdf_signature(signature, trust)
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.coverage.name == "ENTIRE_FILE"
        assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES baseline


def test_each_letter_verifies_in_pdfsig_and_a_changed_byte_is_caught(
    tmp_path: Path, ledger: Ledger, office_certificate: Any
) -> None:
    receipt = publish(signed_channel(tmp_path, ledger), tmp_path)
    letter = receipt.files[2]
    report = pdfsig(letter)
    assert "Signer Certificate Common Name: Dra. Maria Wenas, M.Si." in report
    assert "Signature Validation: Signature is Valid." in report
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Total document signed" in report
    data = bytearray(letter.read_bytes())
    spot = data.index(b"\n%", 4) + 2  # inside the binary comment below the header: still a PDF
    data[spot] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    assert "Signature Validation: Digest Mismatch." in pdfsig(tampered)


def test_the_visible_block_names_the_signatory_and_its_qr_states_the_certificate(
    tmp_path: Path, ledger: Ledger, office_certificate: Any
) -> None:
    import zxingcpp
    from PIL import Image

    from chanpub.render.pdf.raster import page_png

    _path, cert, _ca = office_certificate
    receipt = publish(signed_channel(tmp_path, ledger), tmp_path)
    letter = receipt.files[2]
    text = " ".join(pages_text(letter))
    assert "Ditandatangani secara elektronik" in text and "Dra. Maria Wenas, M.Si." in text
    png = tmp_path / "page.png"
    png.write_bytes(page_png(letter.read_bytes(), 1600))
    codes = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
    fingerprint = ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
    assert [c.text for c in codes] == [f"Dra. Maria Wenas, M.Si.\nSHA-256 {fingerprint}"]


def test_a_re_run_keeps_the_same_signed_letter(
    tmp_path: Path, ledger: Ledger, office_certificate: Any
) -> None:
    """A run killed after the letters were written publishes again: same numbers, same bytes."""
    first = publish(signed_channel(tmp_path, ledger), tmp_path)
    before = {path: path.read_bytes() for path in first.files if path.suffix == ".pdf"}
    second = publish(signed_channel(tmp_path, ledger), tmp_path)
    assert {path: path.read_bytes() for path in second.files if path.suffix == ".pdf"} == before


def test_a_wrong_password_is_reported_before_anything_is_written(
    tmp_path: Path, ledger: Ledger, office_certificate: Any
) -> None:
    letters = signed_channel(tmp_path, ledger, password="salah-sandi")
    with pytest.raises(
        ConfigError, match=r"channels.letters.sign: cannot open .*kadis.p12 with the password given"
    ):
        letters.check()
    assert not (tmp_path / "letters").exists()
