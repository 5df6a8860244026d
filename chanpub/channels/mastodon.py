"""mastodon: the release as a status (or a thread) on an official Mastodon account.

Service: any Mastodon-API instance. Docs: https://docs.joinmastodon.org/methods/statuses/
and https://docs.joinmastodon.org/methods/media/. Auth: `Authorization: Bearer <token>`, a
user token with the scopes write:statuses and write:media (read:accounts for lookup).
Limits: 500 characters by default but set per instance (`max_chars`), counted as grapheme
clusters with every URL as 23; media upload 30 per 30 minutes; 300 requests per 5 minutes
(`X-RateLimit-Reset` is an ISO 8601 time). Pictures: the instance's `image_size_limit` and
`image_matrix_limit` from /api/v2/instance, asked at publish time (the preview assumes 10 MB
and 16.7 megapixels); fitted by chanpub.render.media. Double posts: `Idempotency-Key` (the
delivery key) is honoured by the server for one hour; after that, `lookup` reads the
account's recent statuses. A 429 carries `X-RateLimit-Reset` (ISO 8601), read against the
answer's `Date`. Corrections edit the statuses in place (PUT /api/v1/statuses/:id, edits
keep history); retractions delete them (DELETE /api/v1/statuses/:id).

Options: instance, token, visibility, max_chars, template, thread.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from chanpub.channels.mastodon_text import count_mastodon, encode_status, plain, text_of
from chanpub.channels.post_texts import social_parts
from chanpub.channels.thread_posting import FindPart, post_parts, resolve_parts
from chanpub.contract import (
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Mechanism,
    Preview,
    Receipt,
)
from chanpub.errors import AuthError, ChannelError, ConfigError, PermanentError, RetryableError
from chanpub.files import read_file_for
from chanpub.http import retry_after_seconds, send
from chanpub.i18n import N_, _
from chanpub.options import WebAddress
from chanpub.release import Release
from chanpub.render.media import MediaSpec, check_release_image, fit_image, prepare_image
from chanpub.render.shaping import LengthRule

if TYPE_CHECKING:
    import httpx

ALT_TEXT_LIMIT = 1500  # MediaAttachment::MAX_DESCRIPTION_LENGTH
MEDIA_POLL_DELAYS = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 10.0)  # waiting for media processing
RECENT_STATUSES = 40  # the most the statuses list returns per page
# Until publish asks the instance (/api/v2/instance, configuration.media_attachments):
# the limits of Mastodon before 4.x (10 MB, 16.7 megapixels), which every instance allows.
IMAGE_SPEC = MediaSpec(
    "mastodon",
    formats=("JPEG", "PNG", "WEBP", "GIF"),
    max_bytes=10_485_760,
    max_pixels=16_777_216,
)


class MastodonOptions(BaseModel):
    """Options of a mastodon channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instance: WebAddress
    token: SecretStr
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    max_chars: int = Field(500, ge=50, le=100_000)
    template: str | None = None
    thread: bool = False


class MastodonChannel:
    """Posts a status, with the release image and its alt text, to a Mastodon account."""

    channel_type: ClassVar[str] = "mastodon"
    Options: ClassVar[type[BaseModel]] = MastodonOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        max_length=500,
        length_unit=N_("characters"),
        images=1,
        idempotent=True,
        corrections=Mechanism.EDIT,
        retractions=Mechanism.DELETE,
    )

    def __init__(self, name: str, options: MastodonOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context
        self._account_id: str | None = None
        self._spec: MediaSpec | None = None

    # --- text ---------------------------------------------------------------------------

    def rule(self) -> LengthRule:
        """How this channel counts a status, and its limit (max_chars)."""
        return LengthRule(self.options.max_chars, N_("characters"), count_mastodon)

    def check_release(self, release: Release) -> None:
        """The release's picture can be read, so it can be fitted (ReleaseError if not)."""
        check_release_image(release)

    def check(self) -> None:
        """The template compiles and uses only known fields."""
        where = f"channels.{self.name}.template"
        if self.options.thread:
            from chanpub.render.threads import check_thread_template

            check_thread_template(self.options.template, where)
        else:
            from chanpub.render.social import check_post_template

            check_post_template(self.options.template, where)

    def preview(self, release: Release, links: Links) -> Preview:
        """The status (or the thread's statuses) exactly as they will be posted; the
        picture fitted to the instance's limits as `verify` last read them."""
        parts, warnings = social_parts(self, release, links, self.rule())
        picture, note = prepare_image(release, self._known_spec(), self.context.state_dir)
        if note:
            warnings.append(note)
        if release.image and len(release.image_alt or "") > ALT_TEXT_LIMIT:
            warnings.append(
                _("{channel}: the alt text is cut to {limit} characters").format(
                    channel=self.name, limit=ALT_TEXT_LIMIT
                )
            )
        rule = self.rule()
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text="\n\n---\n\n".join(parts),
            length=max(rule.count(part) for part in parts),
            limit=rule.limit,
            unit=_("characters (a link counts as 23)"),
            warnings=tuple(warnings),
            attachments=(picture.path,) if picture else (),
            parts=tuple(parts),
            image_alt=(release.image_alt or "")[:ALT_TEXT_LIMIT],
            data={
                "language": release.language or self.context.language,
                "url": links.canonical_url or "",
                "image_alt": (release.image_alt or "")[:ALT_TEXT_LIMIT],
            },
        )

    # --- HTTP ---------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call with the token, classified by chanpub.http.send with Mastodon's
        wait signal and its meaning of 403 (a token without the needed scope)."""
        variable = self.context.variable_for("token")
        headers = {
            "Authorization": f"Bearer {self.options.token.get_secret_value()}",
            **kwargs.pop("headers", {}),
        }
        return send(
            self.context.http,
            method,
            f"{self.options.instance}{path}",
            channel=self.name,
            secret_variable=variable,
            wait=rate_limit_wait,
            refine=lambda response, error: _refine(response, error, variable),
            headers=headers,
            **kwargs,
        )

    def store_key(self, key: str) -> str:
        """Where this channel keeps the notes of one delivery in its store."""
        return f"{self.name}:delivery:{key}"

    # --- publishing ---------------------------------------------------------------------

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Post the status (or the thread, resuming where an earlier run stopped)."""
        parts: list[str] = list(preview.posts)
        store = self.context.store(self.channel_type)
        if store.get(self.store_key(key)) is None:  # what a later lookup recognises
            store.put(self.store_key(key), {"parts": parts, "url": preview.data["url"]})

        def post(index: int, ids: Sequence[str]) -> str:
            form: dict[str, Any] = {
                "status": parts[index],
                "visibility": self.options.visibility,
                "language": preview.data["language"],
            }
            if index == 0 and preview.release.image:
                form["media_ids[]"] = self._media_for(preview, key)
            if index > 0:
                form["in_reply_to_id"] = json.loads(ids[index - 1])["id"]
            idempotency = key if index == 0 else f"{key}-{index}"
            status = self.call(
                "POST", "/api/v1/statuses", data=form, headers={"Idempotency-Key": idempotency}
            ).json()
            return encode_status(status)

        ids = post_parts(
            self.context.journal(key),
            len(parts),
            post,
            self.finder(parts),
            channel=self.name,
            receipt=self.receipt,
        )
        return self.receipt(ids)

    def _known_spec(self) -> MediaSpec:
        """The picture limits `verify` or an earlier publish read from this instance
        (the preview asks no network), else the safe defaults."""
        limits = self.context.store(self.channel_type).get(f"instance:{self.options.instance}")
        return _spec_from(limits) if isinstance(limits, dict) else IMAGE_SPEC

    def instance_limits(self) -> dict[str, Any]:
        """GET /api/v2/instance: the status length and the picture limits this instance
        states (an empty dict from an older server without v2), kept in the store for
        the preview."""
        try:
            instance = self.call("GET", "/api/v2/instance").json()
        except PermanentError as error:
            if isinstance(error, AuthError):
                raise
            return {}
        configuration = instance.get("configuration") or {}
        limits = {
            **(configuration.get("media_attachments") or {}),
            "max_characters": (configuration.get("statuses") or {}).get("max_characters"),
        }
        self.context.store(self.channel_type).put(f"instance:{self.options.instance}", limits)
        return limits

    def _media_for(self, preview: Preview, key: str) -> str:
        """The uploaded picture of this delivery: the one an earlier attempt uploaded
        while it is still on the instance (uploads are limited to 30 per 30 minutes),
        else a new upload."""
        store = self.context.store(self.channel_type)
        notes = store.get(self.store_key(key)) or {}
        earlier = notes.get("media_id")
        if earlier:
            answer = self.call("GET", f"/api/v1/media/{earlier}", accept=(404,))
            if answer.status_code == 200:
                return str(earlier)
        media_id = self._upload(preview)
        store.put(self.store_key(key), {**notes, "media_id": media_id})
        return media_id

    def _upload(self, preview: Preview) -> str:
        image = preview.release.image
        assert image is not None  # only called for a release with an image
        if self._spec is None:
            self._spec = _spec_from(self.instance_limits())
        picture = fit_image(image, self._spec, self.context.state_dir / "media")
        data = read_file_for(self.name, picture.path)
        response = self.call(
            "POST",
            "/api/v2/media",
            files={"file": (picture.filename(image.stem), data, picture.mime)},
            data={"description": preview.data["image_alt"]},
        )
        media_id = str(response.json()["id"])
        if response.status_code == 200:
            return media_id
        for delay in MEDIA_POLL_DELAYS:  # 202: still processing; 206 until it is done
            time.sleep(delay)
            if self.call("GET", f"/api/v1/media/{media_id}").status_code == 200:
                return media_id
        raise RetryableError(
            _("{channel}: the instance is still processing the image; trying again later").format(
                channel=self.name
            )
        )

    def receipt(self, ids: Sequence[str]) -> Receipt:
        """The receipt of a status (or a thread) from its parts' encoded ids."""
        first = json.loads(ids[0])
        details: dict[str, Any] = {"parts": len(ids)} if len(ids) > 1 else {}
        if len(ids) > 1:
            details["ids"] = [json.loads(item)["id"] for item in ids]
        return Receipt(
            remote_id=first["id"], url=first["url"], published_at=datetime.now(UTC), details=details
        )

    # --- finding what an interrupted run posted -------------------------------------------

    def finder(self, parts: Sequence[str]) -> FindPart:
        """Finds part `index` among the account's recent statuses: the same text, replying
        to the part before it."""

        def find(index: int, ids: Sequence[str]) -> str | None:
            parent = json.loads(ids[index - 1])["id"] if index > 0 else None
            wanted = plain(parts[index])
            for status in self._recent_statuses():
                if (status.get("in_reply_to_id") or None) == parent and plain(
                    text_of(str(status.get("content", "")))
                ) == wanted:
                    return encode_status(status)
            return None

        return find

    def _recent_statuses(self) -> list[dict[str, Any]]:
        if self._account_id is None:
            account = self.call("GET", "/api/v1/accounts/verify_credentials").json()
            self._account_id = str(account["id"])
        statuses = self.call(
            "GET",
            f"/api/v1/accounts/{self._account_id}/statuses",
            params={"limit": RECENT_STATUSES},
        ).json()
        return [status for status in statuses if isinstance(status, dict)]

    def lookup(self, key: str) -> Receipt | None:
        """The delivery's statuses among the account's recent ones; None when something is
        still to be posted (publish then resumes without duplicating)."""
        notes = self.context.store(self.channel_type).get(self.store_key(key))
        if not isinstance(notes, dict):
            return None
        parts = list(notes["parts"])
        ids = resolve_parts(self.context.journal(key), len(parts), self.finder(parts))
        return self.receipt(ids) if ids else None

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """A correction edits the status (every part of a thread) in place with the note
        on top; a retraction deletes every part (see chanpub.channels.mastodon_amend)."""
        from chanpub.channels.mastodon_amend import amend_statuses

        return amend_statuses(self, preview, amendment, key)

    def verify(self) -> None:
        """The token works; max_chars is not above what the instance allows; the
        instance's picture limits are read (and kept for the preview)."""
        self.call("GET", "/api/v1/accounts/verify_credentials")
        limits = self.instance_limits()
        allowed = limits.get("max_characters")
        if isinstance(allowed, int) and allowed < self.options.max_chars:
            raise ConfigError(
                _(
                    "channels.{channel}.max_chars: the instance allows {allowed} "
                    "characters: set max_chars to {allowed}"
                ).format(channel=self.name, allowed=allowed)
            )


def rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds a 429/503 asks to wait: `Retry-After`, else `X-RateLimit-Reset` (ISO 8601,
    https://docs.joinmastodon.org/api/rate-limits/) measured from the answer's own `Date`
    (the server's clock, so a skewed local clock does not matter), else from now."""
    now = datetime.now(UTC)
    if date := response.headers.get("Date"):
        server_now = retry_after_seconds(date, now=datetime(1970, 1, 1, tzinfo=UTC))
        if server_now is not None:
            now = datetime.fromtimestamp(server_now, UTC)
    wait = retry_after_seconds(response.headers.get("Retry-After"), now)
    if wait is not None:
        return wait
    reset = response.headers.get("X-RateLimit-Reset", "").strip()
    try:
        when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _refine(response: httpx.Response, error: ChannelError, variable: str) -> ChannelError:
    """A 403 is a token without the needed scope, a 401 one that does not work: an
    AuthError whose message names the variable to fix."""
    if response.status_code == 403:
        return AuthError(
            _(
                "{message}: the credential in ${variable} lacks a permission this "
                "needs: renew it with the right scopes"
            ).format(message=error.message, variable=variable),
            variable=variable,
        )
    if isinstance(error, AuthError):
        return AuthError(
            _("{message}: check or renew the credential in ${variable}").format(
                message=error.message, variable=variable
            ),
            variable=variable,
        )
    return error


def _spec_from(limits: dict[str, Any]) -> MediaSpec:
    """The picture spec from an instance's configuration.media_attachments."""
    size, matrix = limits.get("image_size_limit"), limits.get("image_matrix_limit")
    types = limits.get("supported_mime_types")
    formats = IMAGE_SPEC.formats
    if isinstance(types, list) and types:
        accepted = tuple(f for f in IMAGE_SPEC.formats if f"image/{f.lower()}" in types)
        formats = accepted or formats  # none we know: try the defaults, the server says no
    return replace(
        IMAGE_SPEC,
        formats=formats,
        max_bytes=size if isinstance(size, int) and size > 0 else IMAGE_SPEC.max_bytes,
        max_pixels=matrix if isinstance(matrix, int) and matrix > 0 else IMAGE_SPEC.max_pixels,
    )
