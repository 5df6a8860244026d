"""The phone approval pages: the releases waiting for approval, one release exactly as
every channel will carry it (the cards of `chanpub preview`), and the Approve button whose
passkey signature covers the content hash (see chanpub.approvals.passkey_check).

Nothing but the sign-in and enrollment pages is shown without a session."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chanpub.approvals.passkeys import PasskeyStore
from chanpub.i18n import _, current_language
from chanpub.web.guard import PAGE_POLICY, Challenges, RateLimit, Sessions, address, same_origin

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from chanpub.approvals.record import Approvers
    from chanpub.config import Config
    from chanpub.release import Release


@dataclass
class Pages:
    """The approval pages of one office: its config, where the releases are, and the
    public origin (WebAuthn's relying party)."""

    config: Config
    paths: tuple[Path, ...]
    origin: str
    challenges: Challenges = field(default_factory=Challenges)
    limit: RateLimit = field(default_factory=RateLimit)
    sessions: Sessions = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = Sessions(secure=self.origin.startswith("https://"))

    @property
    def rp_id(self) -> str:
        """The relying party id: the origin's host name."""
        return urlsplit(self.origin).hostname or "localhost"

    @property
    def approvers(self) -> Approvers:
        """The config's approvers (serve refuses to start without them)."""
        assert self.config.approvers is not None
        return self.config.approvers

    def session(self, request: Request) -> dict[str, Any] | None:
        """The signed-in approver, while their passkey is enrolled and not revoked."""
        session = self.sessions.who(request)
        if session is None:
            return None
        store = self.store()
        try:
            credential = store.credential(str(session.get("credential", "")))
        finally:
            store.close()
        if credential is None or credential.revoked_at or credential.name != session["who"]:
            return None
        return session

    def store(self) -> PasskeyStore:
        """The passkey store, opened for one request."""
        return PasskeyStore.at(self.config.state_dir)

    def log(self, request: Request, event: str, who: str, slug: str = "", detail: str = "") -> None:
        """Note who did what from which address, for `chanpub history`."""
        store = self.store()
        try:
            store.log(event, who, address(request), slug, detail)
        finally:
            store.close()

    def render(self, template: str, request: Request, status: int = 200, **values: Any) -> Response:
        """A page from the templates, with a strict content policy."""
        from starlette.responses import HTMLResponse

        from chanpub.render.templating import environment

        session = self.sessions.who(request)
        html = (
            environment(True)
            .get_template(template)
            .render(
                {
                    "_": _,
                    "language": current_language(),
                    "organisation": self.config.organisation,
                    "who": session["who"] if session else "",
                    **values,
                }
            )
        )
        headers = {"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"}
        return HTMLResponse(self.config.redact(html), status, headers=headers)


@dataclass(frozen=True)
class Waiting:
    """One release on the list page."""

    slug: str
    title: str
    kind: str
    kind_label: str
    channels: str
    due: str
    state: str
    order: str


def waiting(pages: Pages) -> list[Waiting]:
    """Releases in the paths that still need approval (or another approver's), newest
    first; a file that does not load is left to `chanpub check`."""
    from chanpub.errors import ChanpubError
    from chanpub.intake import approval_problem, release_files
    from chanpub.release import load_release

    found: list[Waiting] = []
    for path, _explicit in release_files(list(pages.paths)):
        try:
            release = load_release(path)
        except ChanpubError:
            continue
        problem = approval_problem(release, pages.approvers) if release.is_signed_off else None
        if release.is_signed_off and problem is None:
            continue  # approved: nothing to do here
        found.append(_waiting(pages, release, problem))
    return sorted(found, key=lambda w: w.order, reverse=True)


def _waiting(pages: Pages, release: Release, problem: str | None) -> Waiting:
    """The list row of a release."""
    channels = release.channels or tuple(pages.config.channels)
    due = release.publish_at.strftime("%Y-%m-%d %H:%M") if release.publish_at else _("now")
    clarification = release.kind in ("clarification", "klarifikasi", "hoax-clarification")
    order = (release.publish_at or release.date or "").__str__() or str(release.path)
    state = _("needs another approval") if problem else _("draft")
    return Waiting(
        release.slug,
        release.title,
        "clarification" if clarification else release.kind,
        _("Hoax clarification") if clarification else release.kind,
        ", ".join(channels),
        _("due {when}").format(when=due),
        state,
        order,
    )


def find_release(pages: Pages, slug: str) -> Path | None:
    """The release file with this slug among the waiting ones."""
    return next(
        (p for p, _e in _files(pages) if _slug(p) == slug),
        None,
    )


def _files(pages: Pages) -> list[tuple[Path, bool]]:
    from chanpub.intake import release_files

    return release_files(list(pages.paths))


def _slug(path: Path) -> str | None:
    from chanpub.errors import ChanpubError
    from chanpub.release import load_release

    try:
        return load_release(path).slug
    except ChanpubError:
        return None


def approval_routes(pages: Pages) -> list[BaseRoute]:
    """Every route of the approval pages."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, RedirectResponse, Response
    from starlette.routing import Route

    from chanpub.web.signin import signin_routes

    async def index(request: Request) -> Response:
        if pages.session(request) is None:
            return RedirectResponse("/login", 303)
        releases = await run_in_threadpool(waiting, pages)
        return pages.render("phone_list.html", request, releases=releases)

    async def release_page(request: Request) -> Response:
        if pages.session(request) is None:
            return RedirectResponse("/login", 303)
        path = await run_in_threadpool(find_release, pages, request.path_params["slug"])
        if path is None:
            return pages.render(
                "phone_message.html", request, 404, result="refused", link="/",
                message=_("This release is not waiting for approval here."),
                link_text=_("All releases waiting"),
            )  # fmt: skip
        from chanpub.preview import build_preview, preview_context

        page = await run_in_threadpool(build_preview, path, pages.config)
        return pages.render("phone_release.html", request, **preview_context(page))

    async def approve_options(request: Request) -> Response:
        session = pages.session(request)
        if session is None or not same_origin(request, pages.origin):
            return JSONResponse({"error": _("Sign in first.")}, 403)
        slug = request.path_params["slug"]
        shown = str((await request.json()).get("sha256", ""))
        path = await run_in_threadpool(find_release, pages, slug)
        current = await run_in_threadpool(_current_hash, path)
        if path is None or current != shown:
            pages.log(request, "refused", session["who"], slug, "changed after it was shown")
            return JSONResponse({"error": _changed(), "reload": True}, 409)
        challenge = bytes.fromhex(current) + secrets.token_bytes(16)
        ticket = pages.challenges.issue(challenge, who=session["who"], slug=slug, path=str(path))
        return JSONResponse(
            {"ticket": ticket, "options": _request_options(pages, session, challenge)}
        )

    async def approve_finish(request: Request) -> Response:
        session = pages.session(request)
        if session is None or not same_origin(request, pages.origin):
            return JSONResponse({"error": _("Sign in first.")}, 403)
        body = await request.json()
        slug = request.path_params["slug"]
        taken = pages.challenges.take(str(body.get("ticket", "")))
        if taken is None or taken[1]["who"] != session["who"] or taken[1]["slug"] != slug:
            pages.log(request, "refused", session["who"], slug, "challenge unknown or used")
            used = _("This approval was already used or has expired: press Approve again.")
            return JSONResponse({"error": used, "reload": True}, 400)
        problem, reload = await run_in_threadpool(
            _approve, pages, Path(taken[1]["path"]), body.get("credential") or {}, taken[0], session
        )
        if problem:
            pages.log(request, "refused", session["who"], slug, problem)
            return JSONResponse({"error": problem, "reload": reload}, 409 if reload else 400)
        pages.log(request, "approved", session["who"], slug, taken[0][:32].hex())
        return JSONResponse({"message": _("Approved: signed with your passkey.")})

    async def script(request: Request) -> Response:
        from importlib import resources

        text = resources.files("chanpub.render").joinpath("templates/phone.js").read_text("utf-8")
        return Response(text, media_type="text/javascript")

    return [
        Route("/", index),
        Route("/release/{slug}", release_page),
        Route("/release/{slug}/options", approve_options, methods=["POST"]),
        Route("/release/{slug}/finish", approve_finish, methods=["POST"]),
        Route("/static/phone.js", script),
        *signin_routes(pages),
    ]


def _current_hash(path: Path | None) -> str:
    from chanpub.errors import ChanpubError
    from chanpub.release import load_release

    try:
        return load_release(path).content_sha256 if path else ""
    except ChanpubError:
        return ""


def _changed() -> str:
    return _("The release changed after it was shown: nothing was approved. Read it again.")


def _request_options(pages: Pages, session: dict[str, Any], challenge: bytes) -> Any:
    """WebAuthn request options for the signed-in approver's passkeys (as JSON data)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    from chanpub.approvals.passkey_check import unb64url

    store = pages.store()
    try:
        mine = [c for c in store.credentials(session["who"]) if not c.revoked_at]
    finally:
        store.close()
    options = generate_authentication_options(
        rp_id=pages.rp_id,
        challenge=challenge,
        allow_credentials=[PublicKeyCredentialDescriptor(id=unb64url(c.id)) for c in mine],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return json.loads(options_to_json(options))


def _approve(
    pages: Pages, path: Path, data: Any, challenge: bytes, session: dict[str, Any]
) -> tuple[str | None, bool]:
    """Verify and record the approval; (why not, whether the page must reload)."""
    from chanpub.approvals.passkey_check import Assertion
    from chanpub.approvals.sign import ContentChanged, approve_passkey
    from chanpub.errors import ChanpubError

    assertion = Assertion.from_browser(data if isinstance(data, dict) else {})
    store = pages.store()
    try:
        credential = store.credential(assertion.credential_id)
        if credential is None or credential.name != session["who"]:
            return _("This passkey is not yours: sign in with your own passkey."), False
        approve_passkey(path, assertion, challenge, pages.approvers, store)
    except ContentChanged:
        return _changed(), True
    except ChanpubError as error:
        return error.message, False
    finally:
        store.close()
    return None, False
