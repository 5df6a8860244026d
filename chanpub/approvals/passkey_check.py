"""Passkey (WebAuthn) approvals: the assertion an approval record carries, checked by the
`webauthn` library (py_webauthn, https://github.com/duo-labs/py_webauthn) against the
credential enrolled in the ledger, by the approval server when the button is pressed and
again by `send`, without the server.

The challenge the phone signs is the 32 raw bytes of the release's content hash followed
by a single-use server nonce (https://www.w3.org/TR/webauthn-3/#sctn-cryptographic-challenges),
so the signature itself says which content was approved.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from chanpub.approvals.passkeys import LEDGER_FILE, Credential, PasskeyStore
from chanpub.approvals.record import Approval, Approvers, Checked, Signer
from chanpub.i18n import _

if TYPE_CHECKING:
    from chanpub.release import Release

HASH_BYTES = 32


def b64url(data: bytes) -> str:
    """Unpadded base64url, as WebAuthn's JSON forms use."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    """The bytes of an unpadded base64url text."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Assertion:
    """What navigator.credentials.get() returned, base64url each: the proof fields of a
    `kind: webauthn` approval record."""

    credential_id: str
    authenticator_data: str
    client_data: str
    signature: str
    user_handle: str = ""

    @classmethod
    def from_browser(cls, data: Mapping[str, Any]) -> Assertion:
        """From the page's JSON ({id, response: {authenticatorData, clientDataJSON, ...}})."""
        response = data.get("response") or {}
        return cls(
            str(data.get("id", "")),
            str(response.get("authenticatorData", "")),
            str(response.get("clientDataJSON", "")),
            str(response.get("signature", "")),
            str(response.get("userHandle") or ""),
        )

    @classmethod
    def from_proof(cls, proof: Mapping[str, str]) -> Assertion:
        """From an approval record's proof fields."""
        return cls(**{k: proof.get(k, "") for k in cls.__dataclass_fields__})

    def proof(self) -> dict[str, str]:
        """The proof fields written into the release file."""
        return {k: v for k, v in asdict(self).items() if v}

    def challenge(self) -> bytes:
        """The challenge the client data says was signed (b'' when unreadable)."""
        try:
            return unb64url(json.loads(unb64url(self.client_data))["challenge"])
        except (ValueError, KeyError, TypeError):
            return b""

    def counter(self) -> int:
        """The authenticator's signature counter (bytes 33-36 of authenticator data)."""
        data = unb64url(self.authenticator_data)
        return int.from_bytes(data[33:37], "big") if len(data) >= 37 else 0


class Refused(Exception):
    """The assertion does not verify; the message says why (from the library)."""


def check_signature(
    assertion: Assertion, credential: Credential, challenge: bytes, sign_count: int
) -> int:
    """Verify the assertion with the `webauthn` library: signature by the credential's
    public key over authenticator data and client data, the challenge, origin, relying
    party, user presence and verification, and a counter above `sign_count`. Returns the
    new counter; raises Refused."""
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import InvalidAuthenticationResponse

    credential_json = {
        "id": assertion.credential_id,
        "rawId": assertion.credential_id,
        "type": "public-key",
        "response": {
            "authenticatorData": assertion.authenticator_data,
            "clientDataJSON": assertion.client_data,
            "signature": assertion.signature,
            **({"userHandle": assertion.user_handle} if assertion.user_handle else {}),
        },
    }
    try:
        verified = verify_authentication_response(
            credential=credential_json,
            expected_challenge=challenge,
            expected_rp_id=credential.rp_id,
            expected_origin=credential.origin,
            credential_public_key=unb64url(credential.public_key),
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as error:
        raise Refused(str(error) or type(error).__name__) from None
    return int(verified.new_sign_count)


def verify_passkeys(
    records: Sequence[Approval], approvers: Approvers, current: str, release: Release
) -> list[Checked]:
    """The `webauthn` kind's verifier for `send` (see chanpub.approvals.verify)."""
    if approvers.state_dir is None or not (approvers.state_dir / LEDGER_FILE).is_file():
        return [_refused(r, release, _not_enrolled) for r in records]
    store = PasskeyStore.at(approvers.state_dir)
    try:
        return [_check(record, approvers, current, release, store) for record in records]
    finally:
        store.close()


def _check(
    record: Approval, approvers: Approvers, current: str, release: Release, store: PasskeyStore
) -> Checked:
    """One record: every refusal names which check failed."""
    assertion = Assertion.from_proof(record.proof)
    credential = store.credential(assertion.credential_id)
    if credential is None:
        return _refused(record, release, _not_enrolled)
    where = {"path": release.path, "by": record.by, "key": credential.key_id}
    if credential.revoked_at:
        return Checked(None, _revoked().format(at=credential.revoked_at, **where))
    person = approvers.named(credential.name)
    if person is None or not person.passkey:
        return Checked(None, _unlisted().format(name=credential.name, **where))
    challenge = assertion.challenge()
    signed = challenge[:HASH_BYTES].hex()
    try:
        counter = check_signature(assertion, credential, challenge, 0)
    except Refused as error:
        return Checked(None, _altered().format(reason=error, **where))
    if signed != current:
        return Checked(None, _copied().format(signed=signed[:16], current=current[:16], **where))
    if record.sha256 != signed or approvers.named(record.by) is not person:
        return Checked(None, _altered().format(reason=_("the record was edited"), **where))
    use = store.accepted(unb64url(assertion.client_data))
    if use is None and counter <= credential.sign_count and (counter or credential.sign_count):
        return Checked(
            None, _backwards().format(counter=counter, seen=credential.sign_count, **where)
        )
    if use is None or use.credential != credential.id or use.counter != counter:
        return Checked(None, _replayed().format(**where))
    return Checked(Signer(person.name, "webauthn", credential.key_id, record.at))


def _refused(record: Approval, release: Release, message: Any) -> Checked:
    return Checked(None, message().format(path=release.path, by=record.by))


def _not_enrolled() -> str:
    return _(
        "{path}: approvals: the passkey that signed for '{by}' is not enrolled here: enroll "
        "it (chanpub approvers enroll NAME) and approve again on the approval page"
    )


def _revoked() -> str:
    return _(
        "{path}: approvals: the passkey of '{by}' ({key}) was revoked at {at}: approve again "
        "with an enrolled passkey"
    )


def _unlisted() -> str:
    return _(
        "{path}: approvals: the passkey {key} belongs to '{name}', who is not listed with "
        "'passkey: true' under approvers: ask a listed approver to approve it"
    )


def _altered() -> str:
    return _(
        "{path}: approvals: the passkey signature for '{by}' ({key}) does not verify "
        "(altered or forged: {reason}): approve again on the approval page"
    )


def _copied() -> str:
    return _(
        "{path}: approvals: the passkey signature for '{by}' ({key}) was made for other "
        "content (sha256 {signed}), not this content (sha256 {current}): check it and "
        "approve again on the approval page"
    )


def _backwards() -> str:
    return _(
        "{path}: approvals: the passkey of '{by}' ({key}) signed with counter {counter}, not "
        "above {seen} seen before (a replayed signature or a cloned passkey): revoke it "
        "(chanpub approvers revoke NAME KEY-ID) and approve again"
    )


def _replayed() -> str:
    return _(
        "{path}: approvals: the passkey signature for '{by}' ({key}) was never accepted by "
        "the approval server over a one-time challenge (replayed or made elsewhere): "
        "approve again on the approval page"
    )
