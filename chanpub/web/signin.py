"""Sign-in with a passkey and enrollment from a one-time link, on the approval page.

Registration and authentication are verified by the `webauthn` library (py_webauthn);
sign-in is rate-limited per address and every attempt is logged."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from chanpub.i18n import _
from chanpub.web.guard import address, same_origin

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from chanpub.web.pages import Pages


def signin_routes(pages: Pages) -> list[BaseRoute]:
    """/login (page, options, finish) and /enroll/{token} (page, options, finish)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def refused(message: str, status: int = 400) -> Response:
        return JSONResponse({"error": message}, status)

    def too_many(request: Request) -> Response | None:
        if not same_origin(request, pages.origin):
            return refused(_("Open this page at {origin}.").format(origin=pages.origin), 403)
        if pages.limit.allow(address(request)):
            return None
        pages.log(request, "refused", "?", detail="sign-in rate limit")
        return refused(_("Too many sign-in attempts: wait a few minutes."), 429)

    async def login_page(request: Request) -> Response:
        return pages.render("phone_login.html", request)

    async def login_options(request: Request) -> Response:
        blocked = too_many(request)
        if blocked is not None:
            return blocked
        from webauthn import generate_authentication_options, options_to_json
        from webauthn.helpers.structs import UserVerificationRequirement

        challenge = secrets.token_bytes(32)
        options = generate_authentication_options(
            rp_id=pages.rp_id,
            challenge=challenge,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        ticket = pages.challenges.issue(challenge, purpose="login")
        return JSONResponse({"ticket": ticket, "options": json.loads(options_to_json(options))})

    async def login_finish(request: Request) -> Response:
        blocked = too_many(request)
        if blocked is not None:
            return blocked
        body = await request.json()
        taken = pages.challenges.take(str(body.get("ticket", "")))
        if taken is None or taken[1].get("purpose") != "login":
            return refused(_("The sign-in expired: press the button again."))
        who, problem = await run_in_threadpool(_sign_in, pages, body.get("credential"), taken[0])
        if problem:
            pages.log(request, "refused", who or "?", detail=f"sign-in: {problem}")
            return refused(problem, 403)
        pages.log(request, "signed-in", who)
        response = JSONResponse({"message": _("Signed in."), "next": "/"})
        credential = str((body.get("credential") or {}).get("id", ""))
        pages.sessions.start(response, who, credential)
        return response

    async def enroll_page(request: Request) -> Response:
        token = request.path_params["token"]
        found = await run_in_threadpool(_enrollment, pages, token)
        if found is None:
            return pages.render(
                "phone_message.html", request, 410, result="refused", link="",
                link_text="", message=_enrollment_gone(),
            )  # fmt: skip
        return pages.render("phone_enroll.html", request, name=found["name"], token=token)

    async def enroll_options(request: Request) -> Response:
        if not same_origin(request, pages.origin):
            return refused(_("Open this page at {origin}.").format(origin=pages.origin), 403)
        token = request.path_params["token"]
        found = await run_in_threadpool(_enrollment, pages, token)
        if found is None:
            return refused(_enrollment_gone(), 410)
        challenge = secrets.token_bytes(32)
        options = await run_in_threadpool(_creation_options, pages, found["name"], challenge)
        ticket = pages.challenges.issue(challenge, purpose="enroll", token=token)
        return JSONResponse({"ticket": ticket, "options": options})

    async def enroll_finish(request: Request) -> Response:
        if not same_origin(request, pages.origin):
            return refused(_("Open this page at {origin}.").format(origin=pages.origin), 403)
        token = request.path_params["token"]
        body = await request.json()
        taken = pages.challenges.take(str(body.get("ticket", "")))
        if taken is None or taken[1].get("token") != token:
            return refused(_("The enrollment expired: press the button again."))
        name, problem = await run_in_threadpool(
            _enroll, pages, token, body.get("credential"), taken[0]
        )
        if problem:
            pages.log(request, "refused", name or "?", detail=f"enrollment: {problem}")
            return refused(problem)
        pages.log(request, "enrolled", name)
        return JSONResponse({"message": _("Passkey created. You can now sign in.")})

    return [
        Route("/login", login_page),
        Route("/login/options", login_options, methods=["POST"]),
        Route("/login/finish", login_finish, methods=["POST"]),
        Route("/enroll/{token}", enroll_page),
        Route("/enroll/{token}/options", enroll_options, methods=["POST"]),
        Route("/enroll/{token}/finish", enroll_finish, methods=["POST"]),
    ]


def _enrollment_gone() -> str:
    return _(
        "This enrollment link is used, expired or unknown: ask for a new one "
        "(chanpub approvers enroll NAME)."
    )


def _enrollment(pages: Pages, token: str) -> dict[str, str] | None:
    """The enrollment this link opens on this origin, or None."""
    store = pages.store()
    try:
        found = store.enrollment(token)
    finally:
        store.close()
    return found if found is not None and found["origin"] == pages.origin else None


def _creation_options(pages: Pages, name: str, challenge: bytes) -> Any:
    """WebAuthn creation options: a discoverable passkey, verified by the phone's lock."""
    import hashlib

    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    from chanpub.approvals.passkey_check import unb64url

    store = pages.store()
    try:
        existing = [c for c in store.credentials(name) if not c.revoked_at]
    finally:
        store.close()
    options = generate_registration_options(
        rp_id=pages.rp_id,
        rp_name=pages.config.organisation or "chanpub",
        user_name=name,
        user_id=hashlib.sha256(f"chanpub-approver:{name}".encode()).digest()[:16],
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=unb64url(c.id)) for c in existing],
    )
    return json.loads(options_to_json(options))


def _enroll(pages: Pages, token: str, data: Any, challenge: bytes) -> tuple[str, str | None]:
    """Verify the new passkey and keep its public key for the link's approver."""
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import InvalidRegistrationResponse

    from chanpub.approvals.passkey_check import b64url
    from chanpub.approvals.passkeys import Credential, now_text

    store = pages.store()
    try:
        found = store.enrollment(token)
        if found is None:
            return "", _enrollment_gone()
        try:
            verified = verify_registration_response(
                credential=data,
                expected_challenge=challenge,
                expected_rp_id=pages.rp_id,
                expected_origin=pages.origin,
                require_user_verification=True,
            )
        except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as error:
            return found["name"], _("the passkey could not be verified: {reason}").format(
                reason=error
            )
        store.add(
            Credential(
                b64url(verified.credential_id),
                found["name"],
                b64url(verified.credential_public_key),
                verified.sign_count,
                pages.rp_id,
                pages.origin,
                now_text(),
            )
        )
        store.finish_enrollment(token)
        return found["name"], None
    finally:
        store.close()


def _sign_in(pages: Pages, data: Any, challenge: bytes) -> tuple[str, str | None]:
    """Check a sign-in assertion; (approver, why not)."""
    from chanpub.approvals.passkey_check import Assertion, Refused, check_signature
    from chanpub.approvals.passkeys import now_text

    assertion = Assertion.from_browser(data if isinstance(data, dict) else {})
    store = pages.store()
    try:
        credential = store.credential(assertion.credential_id)
        if credential is None or credential.revoked_at:
            return "", _("this passkey is not enrolled or was revoked")
        person = pages.approvers.named(credential.name)
        if person is None or not person.passkey:
            return credential.name, _("not listed with 'passkey: true' under approvers:")
        try:
            counter = check_signature(assertion, credential, challenge, credential.sign_count)
        except Refused as error:
            return credential.name, str(error)
        store.used(credential, counter, now_text())
        return person.name, None
    finally:
        store.close()
