"""Signed approvals: who may approve (channels.yaml `approvers:`), the approval records a
release carries (front matter `approvals:`), signing them and checking them before `send`.

One kind of signature today (`ssh`: OpenSSH's sshsig format, made and checked by
`ssh-keygen -Y`); a kind is one verifier in `verify.VERIFIERS`, so another (WebAuthn
passkeys) plugs in beside it without touching the rest.
"""

from __future__ import annotations

NAMESPACE = "chanpub-approval"  # sshsig namespace: a signature made for git or ssh is no approval
