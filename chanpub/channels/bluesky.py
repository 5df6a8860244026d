"""bluesky: the release as a post (or a thread) on an official Bluesky / AT Protocol account.

Service: https://bsky.social or any PDS. Docs: https://docs.bsky.app/docs/advanced-guides/posts
and the lexicons com.atproto.repo.createRecord / uploadBlob, app.bsky.feed.post,
app.bsky.richtext.facet, app.bsky.embed.images / external. Auth: an app password exchanged
for a session (createSession); the session is kept in the state directory (mode 0600) and
renewed with refreshSession, because logins are limited to 30 per 5 minutes and 300 a day
per account. Limits: 300 graphemes and 3000 UTF-8 bytes per post, URLs counted in full;
images up to 2,000,000 bytes, sent with their aspectRatio (fitted by
chanpub.render.media); 5,000 write points an hour (`RateLimit-Reset` is Unix time).
Double posts: each post's record key is a TID derived from the delivery key, so a retried
createRecord cannot make a second record; getRecord on that key is the lookup.

Options: service, handle, app_password, template, thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from chanpub.channels.atproto import (
    GRAPHEME_LIMIT,
    HANDLE,
    IMAGE_MAX_BYTES,
    POST,
    Session,
    SessionStore,
    bluesky_length,
    facets,
    tid_for,
)
from chanpub.channels.social import (
    DeliveryNotes,
    FindPart,
    classify,
    http_url,
    now_iso,
    post_parts,
    resolve_parts,
    send,
    social_parts,
)
from chanpub.contract import Capabilities, ChannelContext, Links, Preview, Receipt
from chanpub.errors import (
    AmbiguousError,
    AuthError,
    ChannelError,
    PermanentError,
    RetryableError,
)
from chanpub.i18n import _
from chanpub.release import Release
from chanpub.render.media import MediaSpec, check_release_image, prepare_image
from chanpub.render.shaping import LengthRule, count_graphemes

# app.bsky.embed.images: any image/* blob up to 2,000,000 bytes; the Bluesky app itself
# uploads at most 2000 px on the longest side.
IMAGE_SPEC = MediaSpec(
    "bluesky", formats=("JPEG", "PNG", "WEBP"), max_bytes=IMAGE_MAX_BYTES, max_side=2000
)


class BlueskyOptions(BaseModel):
    """Options of a bluesky channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str = "https://bsky.social"
    handle: str
    app_password: SecretStr
    template: str | None = None
    thread: bool = False

    @field_validator("service")
    @classmethod
    def _service_url(cls, value: str) -> str:
        return http_url(value, "https://bsky.social")

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        handle = value.strip().removeprefix("@").lower()
        if len(handle) > 253 or not HANDLE.fullmatch(handle):
            raise ValueError(
                "must be a handle like kominfo.bsky.social (a domain name, "
                "without https:// or an e-mail address)"
            )
        return handle


class BlueskyChannel:
    """Posts to Bluesky with link and hashtag facets and a link card or the image."""

    channel_type: ClassVar[str] = "bluesky"
    Options: ClassVar[type[BaseModel]] = BlueskyOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        max_length=GRAPHEME_LIMIT, length_unit="graphemes", images=1, idempotent=True
    )

    def __init__(self, name: str, options: BlueskyOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context
        self.sessions = SessionStore(context.state_dir, options.service, options.handle)
        self._session: Session | None = None

    def check_release(self, release: Release) -> None:
        """The release's picture can be read, so it can be fitted (ReleaseError if not)."""
        check_release_image(release)

    def check(self) -> None:
        """The template compiles and uses only known fields."""
        from chanpub.render.social import check_post_template
        from chanpub.render.threads import check_thread_template

        checker = check_thread_template if self.options.thread else check_post_template
        checker(self.options.template, f"channels.{self.name}.template")

    def preview(self, release: Release, links: Links) -> Preview:
        """The post (or the thread's posts) exactly as they will be created."""
        rule = LengthRule(GRAPHEME_LIMIT, "graphemes", bluesky_length)
        parts, warnings = social_parts(self, release, links, rule)
        fitted, note = prepare_image(release, IMAGE_SPEC, self.context.state_dir)
        if note:
            warnings.append(note)
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text="\n\n---\n\n".join(parts),
            length=max(count_graphemes(part) for part in parts),
            limit=GRAPHEME_LIMIT,
            unit="graphemes",
            warnings=tuple(warnings),
            attachments=(fitted.path,) if fitted else (),
            parts=tuple(parts),
            image_alt=release.image_alt or "",
            data={
                "language": release.language or self.context.language,
                "url": links.canonical_url or "",
                "image": str(fitted.path) if fitted else "",
                "image_mime": fitted.mime if fitted else "",
                "aspect_ratio": {"width": fitted.width, "height": fitted.height} if fitted else {},
                "image_problem": "" if fitted else note or "",
                "image_alt": release.image_alt or "",
            },
        )

    # --- session and XRPC ---------------------------------------------------------------

    def _variable(self) -> str:
        return self.context.variable_for("app_password")

    def _xrpc(self, method: str, nsid: str, **kwargs: Any) -> Any:
        """One XRPC call with the session; an expired access token is renewed once."""
        url = f"{self.options.service}/xrpc/{nsid}"
        headers = dict(kwargs.pop("headers", {}))
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self.session().access}"
            response = send(
                self.context.http, method, url, channel=self.name, headers=headers, **kwargs
            )
            if response.is_success:
                return response.json()
            if attempt == 1 and _error_name(response) in ("ExpiredToken", "InvalidToken"):
                self._renew()
                continue
            raise classify(response, channel=self.name, secret_variable=self._variable())
        raise AssertionError("unreachable")  # pragma: no cover

    def session(self) -> Session:
        """The cached session, refreshed when its access token has expired, else a login."""
        if self._session is None:
            cached = self.sessions.load()
            self._session = cached if cached is not None else self._login()
        if self._session.expired():
            self._renew()
        assert self._session is not None
        return self._session

    def _renew(self) -> None:
        current = self._session or self.sessions.load()
        if current is not None:
            response = send(
                self.context.http,
                "POST",
                f"{self.options.service}/xrpc/com.atproto.server.refreshSession",
                channel=self.name,
                headers={"Authorization": f"Bearer {current.refresh}"},
            )
            if response.is_success:
                self._session = Session.from_answer(response.json())
                self.sessions.save(self._session)
                return
            if response.status_code not in (400, 401):
                raise classify(response, channel=self.name, secret_variable=self._variable())
        self._session = self._login()

    def _login(self) -> Session:
        response = send(
            self.context.http,
            "POST",
            f"{self.options.service}/xrpc/com.atproto.server.createSession",
            channel=self.name,
            json={
                "identifier": self.options.handle,
                "password": self.options.app_password.get_secret_value(),
            },
        )
        if response.status_code == 401 or _error_name(response) == "AuthenticationRequired":
            raise AuthError(
                _(
                    "{channel}: Bluesky refused the login of {handle}: check the app password "
                    "in ${variable} (Settings > Privacy and security > App passwords)"
                ).format(channel=self.name, handle=self.options.handle, variable=self._variable()),
                variable=self._variable(),
            )
        if not response.is_success:
            raise classify(response, channel=self.name, secret_variable=self._variable())
        session = Session.from_answer(response.json())
        self.sessions.save(session)
        return session

    # --- publishing ---------------------------------------------------------------------

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Create the post (or the thread, resuming where an earlier run stopped)."""
        parts: list[str] = list(preview.posts)
        DeliveryNotes.record(
            self.context.state_dir, self.channel_type, key, parts, preview.data["url"]
        )
        finder = self._finder(key, parts)

        def post(index: int, ids: Sequence[str]) -> str:
            record: dict[str, Any] = {
                "$type": POST,
                "text": parts[index],
                "createdAt": now_iso(),
                "langs": [preview.data["language"]],
            }
            if found := facets(parts[index]):
                record["facets"] = found
            if index == 0:
                if embed := self._embed(preview):
                    record["embed"] = embed
            else:
                record["reply"] = {"root": json.loads(ids[0]), "parent": json.loads(ids[index - 1])}
            body = {
                "repo": self.session().did,
                "collection": POST,
                "rkey": tid_for(key, index),
                "record": record,
            }
            try:
                answer = self._xrpc("POST", "com.atproto.repo.createRecord", json=body)
            except (AuthError, RetryableError):
                raise
            except ChannelError as error:
                # The key may already hold this post (an earlier attempt did go through).
                if existing := finder(index, ids):
                    return existing
                if isinstance(error, AmbiguousError):
                    raise RetryableError(error.message) from None  # the rkey makes it safe
                raise
            return json.dumps({"uri": answer["uri"], "cid": answer["cid"]})

        ids = post_parts(
            self.context.journal(key),
            len(parts),
            post,
            finder,
            channel=self.name,
            receipt=self._receipt,
        )
        return self._receipt(ids)

    def _embed(self, preview: Preview) -> dict[str, Any] | None:
        if preview.data["image_problem"]:
            raise PermanentError(
                _("{channel}: {problem}").format(
                    channel=self.name, problem=preview.data["image_problem"]
                )
            )
        if preview.data["image"]:
            path = Path(preview.data["image"])
            mime = preview.data["image_mime"]
            try:
                data = path.read_bytes()
            except OSError as error:
                raise PermanentError(
                    _("{channel}: cannot read the image {path}: {reason}").format(
                        channel=self.name, path=path, reason=error.strerror
                    )
                ) from None
            blob = self._xrpc(
                "POST", "com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": mime}
            )["blob"]
            return {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "image": blob,
                        "alt": preview.data["image_alt"],
                        # Without it, clients crop the picture to a guessed shape.
                        "aspectRatio": dict(preview.data["aspect_ratio"]),
                    }
                ],
            }
        if preview.data["url"]:
            release = preview.release
            return {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": preview.data["url"],
                    "title": release.title,
                    "description": release.summary,
                },
            }
        return None

    def _finder(self, key: str, parts: Sequence[str]) -> FindPart:
        def find(index: int, ids: Sequence[str]) -> str | None:
            rkey = tid_for(key, index)
            try:
                answer = self._xrpc(
                    "GET",
                    "com.atproto.repo.getRecord",
                    params={"repo": self.session().did, "collection": POST, "rkey": rkey},
                )
            except PermanentError as error:
                if isinstance(error, AuthError):
                    raise
                return None  # 400 RecordNotFound: nothing at that key
            if answer.get("value", {}).get("text") != parts[index]:
                raise PermanentError(
                    _(
                        "{channel}: the record key {rkey} already holds a different post: "
                        "check the account, then resolve this delivery by hand"
                    ).format(channel=self.name, rkey=rkey)
                )
            return json.dumps({"uri": answer["uri"], "cid": answer["cid"]})

        return find

    def _receipt(self, ids: Sequence[str]) -> Receipt:
        uri = json.loads(ids[0])["uri"]
        rkey = uri.rsplit("/", 1)[-1]
        handle = self._session.handle if self._session else self.options.handle
        details: dict[str, Any] = {"parts": len(ids)} if len(ids) > 1 else {}
        return Receipt(
            remote_id=uri,
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            published_at=datetime.now(UTC),
            details=details,
        )

    def lookup(self, key: str) -> Receipt | None:
        """The delivery's posts, read back at their record keys; None when something is
        still to be posted (publish then resumes without duplicating)."""
        notes = DeliveryNotes.load(
            DeliveryNotes.path(self.context.state_dir, self.channel_type, key)
        )
        if notes is None:
            return None
        ids = resolve_parts(
            self.context.journal(key), len(notes.parts), self._finder(key, notes.parts)
        )
        return self._receipt(ids) if ids else None

    def verify(self) -> None:
        """The app password (or the cached session) works: getSession."""
        self._xrpc("GET", "com.atproto.server.getSession")


def _error_name(response: Any) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    return str(payload.get("error", "")) if isinstance(payload, dict) else ""
