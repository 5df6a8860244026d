"""The x channel: publish, look up and verify (corrections live in amend.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from chanpub.channels.post_texts import social_parts
from chanpub.channels.thread_posting import FindPart, post_parts, resolve_parts
from chanpub.channels.x.api import RULE, TEXT_LIMIT, XApi, status_url
from chanpub.channels.x.options import XOptions
from chanpub.channels.x_text import count_x
from chanpub.contract import (
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Mechanism,
    Preview,
    Receipt,
)
from chanpub.errors import PermanentError
from chanpub.i18n import N_, _
from chanpub.release import Release
from chanpub.render.media import MediaSpec, check_release_image, prepare_image

# Images: JPEG, PNG, WebP or GIF up to 5 MB (read as 5,000,000 bytes, the stricter reading).
IMAGE_SPEC = MediaSpec("x", formats=("JPEG", "PNG", "WEBP"), max_bytes=5_000_000)
ALT_TEXT_LIMIT = 1000


def _utc_now() -> datetime:
    return datetime.now(UTC)


class XChannel:
    """Posts the release's text, link and image (or a thread) to X."""

    channel_type: ClassVar[str] = "x"
    Options: ClassVar[type[BaseModel]] = XOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        max_length=TEXT_LIMIT,
        length_unit=N_("weighted characters"),
        images=1,
        corrections=Mechanism.REPLY,
        retractions=Mechanism.DELETE,
    )

    def __init__(self, name: str, options: XOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context
        self.now: Callable[[], datetime] = _utc_now  # tests pass the stand-in's clock
        self._api: XApi | None = None

    @property
    def api(self) -> XApi:
        """The channel's X API client (made on first use: no I/O in __init__)."""
        if self._api is None:
            self._api = XApi(self.name, self.options, self.context, lambda: self.now())
        return self._api

    def check_release(self, release: Release) -> None:
        """The release's picture can be read, so it can be fitted (ReleaseError if not)."""
        check_release_image(release)

    def check(self) -> None:
        """Fail before sending on missing credentials or a template that cannot render."""
        from chanpub.errors import ConfigError

        if not self.options.has_credentials:
            raise ConfigError(
                _(
                    "channels.{channel}: no credentials: give api_key, api_secret, access_token "
                    "and access_secret (OAuth 1.0a), or oauth2_token, each as ${{VARIABLE}}"
                ).format(channel=self.name)
            )
        where = f"channels.{self.name}.template"
        if self.options.thread:
            from chanpub.render.threads import check_thread_template

            check_thread_template(self.options.template, where)
        else:
            from chanpub.render.social import check_post_template

            check_post_template(self.options.template, where)

    # --- preview ------------------------------------------------------------------------

    def preview(self, release: Release, links: Links) -> Preview:
        """The post (or the thread's posts), counted X's way (URLs 23, wide characters 2)."""
        parts, warnings = social_parts(self, release, links, RULE)
        picture, note = prepare_image(release, IMAGE_SPEC, self.context.state_dir)
        if note:
            warnings.append(note)
        if release.image is not None and len(release.image_alt or "") > ALT_TEXT_LIMIT:
            warnings.append(
                _("the alt text is cut to {limit} characters").format(limit=ALT_TEXT_LIMIT)
            )
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text="\n\n---\n\n".join(parts),
            length=max(count_x(part) for part in parts),
            limit=TEXT_LIMIT,
            unit=N_("weighted characters"),
            warnings=tuple(warnings),
            attachments=(picture.path,) if picture else (),
            parts=tuple(parts),
            image_alt=(release.image_alt or "")[:ALT_TEXT_LIMIT],
            data={
                "alt_text": (release.image_alt or "")[:ALT_TEXT_LIMIT],
                "image": str(picture.path) if picture else "",
                "image_name": picture.filename(release.image.stem)
                if picture and release.image
                else "",
                "image_mime": picture.mime if picture else "",
                "image_problem": "" if picture else note or "",
            },
        )

    # --- publish ------------------------------------------------------------------------

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Upload the image (with alt text), then the post, or the thread part by part
        (each a reply to the one before), resuming where an interrupted run stopped."""
        if preview.over_limit:
            raise PermanentError(
                _(
                    "{channel}: the text weighs {length}, over X's limit of {limit}, and nothing "
                    "more can be shortened: shorten channels.{channel}.template"
                ).format(channel=self.name, length=preview.length, limit=preview.limit)
            )
        parts = list(preview.posts)
        notes = self.api.store()
        if notes.get(f"delivery:{key}") is None:  # what lookup needs, before the first post
            notes.put(f"delivery:{key}", {"parts": parts, "since": self.now().isoformat()})
        since = datetime.fromisoformat(notes.get(f"delivery:{key}")["since"])
        find = self._finder(parts, since)

        def post(index: int, ids: Sequence[str]) -> str:
            body: dict[str, Any] = {"text": parts[index]}
            if index == 0 and preview.release.image is not None:
                body["media"] = {"media_ids": [self.upload_picture(preview)]}
            if index > 0:
                body["reply"] = {"in_reply_to_tweet_id": ids[index - 1]}
            answer = self.api.json("POST", "/2/tweets", json=body)
            post_id = str((answer.get("data") or {}).get("id") or "")
            if not post_id:
                raise PermanentError(
                    _("{channel}: X answered without a post id").format(channel=self.name)
                )
            return post_id

        ids = post_parts(
            self.context.journal(key),
            len(parts),
            post,
            find,
            channel=self.name,
            receipt=lambda done: self._receipt(done, since),
        )
        return self._receipt(ids, since)

    def upload_picture(self, preview: Preview) -> str:
        """The fitted picture uploaded, its alt text attached: the media id."""
        from pathlib import Path

        from chanpub.files import read_file_for

        data = preview.data
        if not data.get("image"):
            raise PermanentError(
                _("{channel}: {problem}").format(channel=self.name, problem=data["image_problem"])
            )
        content = read_file_for(self.name, Path(data["image"]))
        answer = self.api.json(
            "POST",
            "/2/media/upload",
            upload=True,
            data={"media_category": "tweet_image"},
            files={"media": (data["image_name"], content, data["image_mime"])},
        )
        media_id = str((answer.get("data") or {}).get("id") or "")
        if not media_id:
            raise PermanentError(
                _("{channel}: the media upload answered without an id").format(channel=self.name)
            )
        if data["alt_text"]:
            self.api.call(
                "POST",
                "/2/media/metadata",
                upload=True,
                json={"id": media_id, "metadata": {"alt_text": {"text": data["alt_text"]}}},
            )
        return media_id

    def _receipt(self, ids: Sequence[str], since: datetime) -> Receipt:
        """The first post identifies the delivery; every part's id is kept for amendments."""
        return Receipt(
            remote_id=ids[0],
            url=status_url(ids[0]),
            published_at=self.now(),
            details={"ids": list(ids), "posted_at": since.isoformat()},
        )

    # --- finding what an interrupted run posted -------------------------------------------

    def _finder(self, parts: Sequence[str], since: datetime) -> FindPart:
        def find(index: int, ids: Sequence[str]) -> str | None:
            parent = ids[index - 1] if index > 0 else None
            found = self.api.find(parts[index], since, reply_to=parent)
            return str(found["id"]) if found else None

        return find

    def lookup(self, key: str) -> Receipt | None:
        """The delivery's posts among the account's recent ones (same text, links compared
        by where they point, posted since the delivery began, each replying to the part
        before); None when something is still to be posted (publish then resumes)."""
        notes = self.api.store().get(f"delivery:{key}")
        if not isinstance(notes, dict):
            return None  # the post request was never sent
        since = datetime.fromisoformat(notes["since"])
        parts = list(notes["parts"])
        ids = resolve_parts(self.context.journal(key), len(parts), self._finder(parts, since))
        return self._receipt(ids, since) if ids else None

    # --- corrections, verification ------------------------------------------------------

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """A correction as an edit (where X allows it) or a reply; a retraction deletes
        every post of the delivery (see chanpub.channels.x.amend)."""
        from chanpub.channels.x.amend import amend

        return amend(self, preview, amendment, key)

    def verify(self) -> None:
        """The credentials work (GET /2/users/me names the account); for an OAuth 2.0
        token, when it expires (renewed automatically when chanpub holds a refresh token)."""
        if not self.options.has_credentials:
            self.api.call("GET", "/2/users/me")  # raises the AuthError naming the options
        account = self.api.me().get("username", "")
        tokens = self.api.tokens
        if tokens is None:
            self.context.report("verified", account=account)
            return
        expires = tokens.expires_at()
        if tokens.renewable:
            self.context.report(
                "verified",
                account=account,
                expires_at=expires.isoformat() if expires else None,
                renewed_automatically=True,
            )
            return
        # A token without its refresh token lasts two hours: the next cron run fails.
        self.context.report("verified", account=account, days_left=0)
