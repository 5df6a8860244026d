"""A software passkey for tests: an ES256 key (cryptography) that makes WebAuthn
assertions the way an authenticator does (https://www.w3.org/TR/webauthn-3/#sctn-op-get-assertion):
authenticator data (RP id hash, flags, counter) and client data JSON, signed together."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from chanpub.approvals.passkey_check import Assertion, b64url
from chanpub.approvals.passkeys import Credential, PasskeyStore, now_text

UP_UV = 0x01 | 0x04  # user present, user verified


@dataclass
class SoftPasskey:
    """One approver's passkey on a pretend phone."""

    rp_id: str = "localhost"
    origin: str = "http://localhost:8750"
    counter: int = 0
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    id: str = field(default_factory=lambda: b64url(secrets.token_bytes(16)))

    def cose_public_key(self) -> bytes:
        """The public key as COSE (EC2, ES256), as a registration hands it over."""
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def enroll(self, store: PasskeyStore, name: str) -> Credential:
        """Keep the public key in the ledger for `name`, as the enrollment page does."""
        credential = Credential(
            self.id,
            name,
            b64url(self.cose_public_key()),
            self.counter,
            self.rp_id,
            self.origin,
            now_text(),
        )
        store.add(credential)
        return credential

    def sign(self, challenge: bytes, counter: int | None = None) -> Assertion:
        """navigator.credentials.get() over `challenge`: the counter goes up by one."""
        self.counter = self.counter + 1 if counter is None else counter
        authenticator_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([UP_UV])
            + self.counter.to_bytes(4, "big")
        )
        client_data = json.dumps(
            {
                "type": "webauthn.get",
                "challenge": b64url(challenge),
                "origin": self.origin,
                "crossOrigin": False,
            }
        ).encode()
        signature = self.key.sign(
            authenticator_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return Assertion(
            self.id, b64url(authenticator_data), b64url(client_data), b64url(signature)
        )


def challenge_for(content_sha256: str) -> bytes:
    """What the approval server asks the phone to sign: hash bytes + one-time nonce."""
    return bytes.fromhex(content_sha256) + secrets.token_bytes(16)
