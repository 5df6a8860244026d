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
account's recent statuses.

Options: instance, token, visibility, max_chars, template, thread.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from chanpub.channels.social import (
    DeliveryNotes,
    FindPart,
    call,
    http_url,
    post_parts,
    resolve_parts,
    social_parts,
)
from chanpub.contract import Capabilities, ChannelContext, Links, Preview, Receipt
from chanpub.errors import AuthError, ConfigError, PermanentError, RetryableError
from chanpub.i18n import _
from chanpub.release import Release
from chanpub.render.media import MediaSpec, check_release_image, fit_image, prepare_image
from chanpub.render.shaping import LengthRule, count_mastodon

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

    instance: str
    token: SecretStr
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    max_chars: int = Field(500, ge=50, le=100_000)
    template: str | None = None
    thread: bool = False

    @field_validator("instance")
    @classmethod
    def _instance_url(cls, value: str) -> str:
        return http_url(value, "https://mastodon.social")


class MastodonChannel:
    """Posts a status, with the release image and its alt text, to a Mastodon account."""

    channel_type: ClassVar[str] = "mastodon"
    Options: ClassVar[type[BaseModel]] = MastodonOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        max_length=500, length_unit="characters", images=1, idempotent=True
    )

    def __init__(self, name: str, options: MastodonOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context
        self._account_id: str | None = None

    # --- text ---------------------------------------------------------------------------

    def _rule(self) -> LengthRule:
        return LengthRule(self.options.max_chars, "characters", count_mastodon)

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
        """The status (or the thread's statuses) exactly as they will be posted."""
        parts, warnings = social_parts(self, release, links, self._rule())
        picture, note = prepare_image(release, IMAGE_SPEC, self.context.state_dir)
        if note:
            warnings.append(note)
        if release.image and len(release.image_alt or "") > ALT_TEXT_LIMIT:
            warnings.append(
                _("{channel}: the alt text is cut to {limit} characters").format(
                    channel=self.name, limit=ALT_TEXT_LIMIT
                )
            )
        rule = self._rule()
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

    # --- publishing ---------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.options.token.get_secret_value()}"}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = call(
            self.context.http,
            method,
            f"{self.options.instance}{path}",
            channel=self.name,
            secret_variable=self.context.variable_for("token"),
            forbidden_is_auth=True,
            headers={**self._headers(), **kwargs.pop("headers", {})},
            **kwargs,
        )
        return response

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Post the status (or the thread, resuming where an earlier run stopped)."""
        parts: list[str] = list(preview.posts)
        DeliveryNotes.record(
            self.context.state_dir, self.channel_type, key, parts, preview.data["url"]
        )

        def post(index: int, ids: Sequence[str]) -> str:
            form: dict[str, Any] = {
                "status": parts[index],
                "visibility": self.options.visibility,
                "language": preview.data["language"],
            }
            if index == 0 and preview.release.image:
                form["media_ids[]"] = self._upload(preview)
            if index > 0:
                form["in_reply_to_id"] = json.loads(ids[index - 1])["id"]
            idempotency = key if index == 0 else f"{key}-{index}"
            status = self._call(
                "POST", "/api/v1/statuses", data=form, headers={"Idempotency-Key": idempotency}
            ).json()
            return _encode(status)

        ids = post_parts(
            self.context.journal(key),
            len(parts),
            post,
            self._finder(parts),
            channel=self.name,
            receipt=self._receipt,
        )
        return self._receipt(ids)

    def _media_spec(self) -> MediaSpec:
        """This instance's picture limits (configuration.media_attachments of
        /api/v2/instance); the safe defaults when the instance does not say."""
        try:
            instance = self._call("GET", "/api/v2/instance").json()
        except PermanentError as error:
            if isinstance(error, AuthError):
                raise
            return IMAGE_SPEC  # an older server without /api/v2/instance
        limits = (instance.get("configuration") or {}).get("media_attachments") or {}
        size, matrix = limits.get("image_size_limit"), limits.get("image_matrix_limit")
        return replace(
            IMAGE_SPEC,
            max_bytes=size if isinstance(size, int) and size > 0 else IMAGE_SPEC.max_bytes,
            max_pixels=matrix if isinstance(matrix, int) and matrix > 0 else IMAGE_SPEC.max_pixels,
        )

    def _upload(self, preview: Preview) -> str:
        image = preview.release.image
        assert image is not None  # only called for a release with an image
        picture = fit_image(image, self._media_spec(), self.context.state_dir / "media")
        try:
            data = picture.path.read_bytes()
        except OSError as error:
            raise PermanentError(
                _("{channel}: cannot read the image {path}: {reason}").format(
                    channel=self.name, path=picture.path, reason=error.strerror
                )
            ) from None
        response = self._call(
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
            if self._call("GET", f"/api/v1/media/{media_id}").status_code == 200:
                return media_id
        raise RetryableError(
            _("{channel}: the instance is still processing the image; trying again later").format(
                channel=self.name
            )
        )

    def _receipt(self, ids: Sequence[str]) -> Receipt:
        first = json.loads(ids[0])
        details: dict[str, Any] = {"parts": len(ids)} if len(ids) > 1 else {}
        if len(ids) > 1:
            details["ids"] = [json.loads(item)["id"] for item in ids]
        return Receipt(
            remote_id=first["id"], url=first["url"], published_at=datetime.now(UTC), details=details
        )

    # --- finding what an interrupted run posted -------------------------------------------

    def _finder(self, parts: Sequence[str]) -> FindPart:
        def find(index: int, ids: Sequence[str]) -> str | None:
            parent = json.loads(ids[index - 1])["id"] if index > 0 else None
            wanted = _plain(parts[index])
            for status in self._recent_statuses():
                if (status.get("in_reply_to_id") or None) == parent and _plain(
                    _text_of(str(status.get("content", "")))
                ) == wanted:
                    return _encode(status)
            return None

        return find

    def _recent_statuses(self) -> list[dict[str, Any]]:
        if self._account_id is None:
            account = self._call("GET", "/api/v1/accounts/verify_credentials").json()
            self._account_id = str(account["id"])
        statuses = self._call(
            "GET",
            f"/api/v1/accounts/{self._account_id}/statuses",
            params={"limit": RECENT_STATUSES},
        ).json()
        return [status for status in statuses if isinstance(status, dict)]

    def lookup(self, key: str) -> Receipt | None:
        """The delivery's statuses among the account's recent ones; None when something is
        still to be posted (publish then resumes without duplicating)."""
        notes = DeliveryNotes.load(
            DeliveryNotes.path(self.context.state_dir, self.channel_type, key)
        )
        if notes is None:
            return None
        ids = resolve_parts(self.context.journal(key), len(notes.parts), self._finder(notes.parts))
        return self._receipt(ids) if ids else None

    def verify(self) -> None:
        """The token works, and max_chars is not above what the instance allows."""
        self._call("GET", "/api/v1/accounts/verify_credentials")
        instance = self._call("GET", "/api/v2/instance").json()
        allowed = instance.get("configuration", {}).get("statuses", {}).get("max_characters")
        if isinstance(allowed, int) and allowed < self.options.max_chars:
            raise ConfigError(
                _(
                    "channels.{channel}.max_chars: the instance allows {allowed} "
                    "characters: set max_chars to {allowed}"
                ).format(channel=self.name, allowed=allowed)
            )


def _encode(status: dict[str, Any]) -> str:
    return json.dumps({"id": str(status["id"]), "url": status.get("url") or status.get("uri")})


def _text_of(content: str) -> str:
    """A status's HTML content as plain text (paragraphs and line breaks as spaces)."""
    content = re.sub(r"</p>\s*<p>|<br\s*/?>", " ", content)
    return html.unescape(re.sub(r"<[^>]+>", "", content))


def _plain(text: str) -> str:
    return " ".join(text.split())
