"""Real SMTP servers on loopback (aiosmtpd): STARTTLS with AUTH on a self-signed certificate
made by trustme, implicit TLS, and a plain local relay. Each records what it received."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from smtp_servers import RecordingHandler, SmtpServer, run_server, server_tls


@pytest.fixture(scope="session")
def certificate_authority() -> trustme.CA:
    """A throwaway CA; its certificate for localhost/127.0.0.1 is self-signed as a whole."""
    return trustme.CA()


@pytest.fixture
def ca_file(
    certificate_authority: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The CA as a PEM file that the client trusts through SSL_CERT_FILE."""
    path = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    return path


@pytest.fixture
def starttls_server(certificate_authority: trustme.CA, ca_file: Path) -> Iterator[SmtpServer]:
    """A submission server like a provider's: STARTTLS required, AUTH only after it."""
    yield from run_server(
        RecordingHandler(),
        tls_context=server_tls(certificate_authority),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
    )


@pytest.fixture
def tls_server(certificate_authority: trustme.CA, ca_file: Path) -> Iterator[SmtpServer]:
    """Implicit TLS from the first byte (port 465 style), AUTH offered inside it."""
    yield from run_server(
        RecordingHandler(),
        ssl_context=server_tls(certificate_authority),
        auth_required=False,
        auth_require_tls=False,
    )


@pytest.fixture
def relay() -> Iterator[SmtpServer]:
    """A local relay: no TLS, no login."""
    yield from run_server(RecordingHandler(), auth_required=False, auth_require_tls=True)


@pytest.fixture
def plaintext_auth_server() -> Iterator[SmtpServer]:
    """A careless server that offers AUTH without any TLS (the client must not use it)."""
    yield from run_server(RecordingHandler(), auth_required=False, auth_require_tls=False)
