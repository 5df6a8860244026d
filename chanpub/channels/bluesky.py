"""bluesky: the release as a post (or a thread) on an official Bluesky / AT Protocol account.

Service: https://bsky.social or any PDS. Docs: https://docs.bsky.app/docs/advanced-guides/posts
and the lexicons com.atproto.repo.createRecord / uploadBlob / deleteRecord,
app.bsky.feed.post, app.bsky.richtext.facet, app.bsky.embed.images / external. Auth: an app
password exchanged for a session (createSession); the session is kept in the channel's
store and renewed with refreshSession (chanpub.channels.bluesky_xrpc). Limits: 300
graphemes and 3000 UTF-8 bytes per post, URLs counted in full; images up to 2,000,000
bytes, sent with their aspectRatio, a link card's picture (`thumb`) up to 1,000,000 bytes
(both fitted by chanpub.render.media); 5,000 write points an hour. Mentions become facets
when com.atproto.identity.resolveHandle knows the handle; otherwise they stay plain text.
Double posts: each post's record key is a TID from the time the delivery started (kept in
the store), one microsecond apart per thread part, so a retried createRecord cannot make a
second record; getRecord on that key is the lookup. Corrections are replies (posts cannot
be edited), retractions delete every record (chanpub.channels.bluesky_amend).

Options: service, handle, app_password, template, thread, link_card, card_image.
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
    bluesky_length,
    facets,
    new_tid_start,
    now_iso,
    tid_for,
)
from chanpub.channels.bluesky_xrpc import Xrpc
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
from chanpub.errors import AmbiguousError, AuthError, ChannelError, PermanentError, RetryableError
from chanpub.files import read_file_for
from chanpub.i18n import N_, _
from chanpub.options import WebAddress
from chanpub.release import Release
from chanpub.render.media import MediaSpec, check_release_image, fit_image, prepare_image
from chanpub.render.shaping import LengthRule, count_graphemes

# app.bsky.embed.images: any image/* blob up to 2,000,000 bytes; the Bluesky app itself
# uploads at most 2000 px on the longest side.
IMAGE_SPEC = MediaSpec(
    "bluesky", formats=("JPEG", "PNG", "WEBP"), max_bytes=IMAGE_MAX_BYTES, max_side=2000
)
# app.bsky.embed.external: the card's `thumb` is an image/* blob of at most 1,000,000 bytes.
THUMB_SPEC = MediaSpec("bluesky-card", formats=("JPEG",), max_bytes=1_000_000, max_side=1200)


class BlueskyOptions(BaseModel):
    """Options of a bluesky channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: WebAddress = "https://bsky.social"
    handle: str
    app_password: SecretStr
    template: str | None = None
    thread: bool = False
    # The release image as the picture of a link card to the canonical page, instead of
    # a post showing the picture itself.
    link_card: bool = False
    # A poster-pdf channel whose card picture the link card shows when there is no image.
    card_image: str | None = None

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
    """Posts to Bluesky with link, tag and mention facets and the image or a link card."""

    channel_type: ClassVar[str] = "bluesky"
    Options: ClassVar[type[BaseModel]] = BlueskyOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        max_length=GRAPHEME_LIMIT,
        length_unit=N_("graphemes"),
        images=1,
        idempotent=True,
        corrections=Mechanism.REPLY,
        retractions=Mechanism.DELETE,
    )

    def __init__(self, name: str, options: BlueskyOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context
        self.xrpc = Xrpc(
            context, name, options.service, options.handle, options.app_password.get_secret_value()
        )
        self._dids: dict[str, str | None] = {}

    def check_release(self, release: Release) -> None:
        """The release's picture can be read, so it can be fitted (ReleaseError if not)."""
        check_release_image(release)

    def check(self) -> None:
        """The template compiles and uses only known fields."""
        from chanpub.render.social import check_post_template
        from chanpub.render.threads import check_thread_template

        checker = check_thread_template if self.options.thread else check_post_template
        checker(self.options.template, f"channels.{self.name}.template")

    def depends_on(self) -> tuple[str, ...]:
        """The poster channel whose card the link card shows publishes first."""
        return (self.options.card_image,) if self.options.card_image else ()

    def preview(self, release: Release, links: Links) -> Preview:
        """The post (or the thread's posts) exactly as they will be created."""
        rule = LengthRule(GRAPHEME_LIMIT, N_("graphemes"), bluesky_length)
        parts, warnings = social_parts(self, release, links, rule)
        card = self.options.link_card and bool(links.canonical_url)
        fitted, note = prepare_image(
            release, THUMB_SPEC if card else IMAGE_SPEC, self.context.state_dir
        )
        if note:
            warnings.append(note)
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text="\n\n---\n\n".join(parts),
            length=max(count_graphemes(part) for part in parts),
            limit=GRAPHEME_LIMIT,
            unit=N_("graphemes"),
            warnings=tuple(warnings),
            attachments=(fitted.path,) if fitted else (),
            parts=tuple(parts),
            image_alt=release.image_alt or "",
            data={
                "language": release.language or self.context.language,
                "url": links.canonical_url or "",
                "card": card,
                "image": str(fitted.path) if fitted else "",
                "image_mime": fitted.mime if fitted else "",
                "aspect_ratio": {"width": fitted.width, "height": fitted.height} if fitted else {},
                "image_problem": "" if fitted else note or "",
                "image_alt": release.image_alt or "",
            },
        )

    # --- publishing ---------------------------------------------------------------------

    def notes(self, key: str, parts: Sequence[str] = (), url: str = "") -> dict[str, Any]:
        """The delivery's notes in the store: its texts, link and the time its record
        keys start from; written before the first record, so retries reuse the keys."""
        store = self.context.store(self.channel_type)
        notes = store.get(f"{self.name}:delivery:{key}")
        if not isinstance(notes, dict) and parts:
            notes = {"parts": list(parts), "url": url, **new_tid_start(key)}
            store.put(f"{self.name}:delivery:{key}", notes)
        return notes if isinstance(notes, dict) else {}

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Create the post (or the thread, resuming where an earlier run stopped)."""
        parts: list[str] = list(preview.posts)
        notes = self.notes(key, parts, preview.data["url"])
        finder = self.finder(notes)

        def post(index: int, ids: Sequence[str]) -> str:
            record: dict[str, Any] = {
                "$type": POST,
                "text": parts[index],
                "createdAt": now_iso(),
                "langs": [preview.data["language"]],
            }
            if found := facets(parts[index], self.resolve_handle):
                record["facets"] = found
            if index == 0:
                if embed := self._embed(preview):
                    record["embed"] = embed
            else:
                record["reply"] = {"root": json.loads(ids[0]), "parent": json.loads(ids[index - 1])}
            return self.create(record, _rkey(notes, index), lambda: finder(index, ids))

        ids = post_parts(
            self.context.journal(key),
            len(parts),
            post,
            finder,
            channel=self.name,
            receipt=self.receipt,
        )
        return self.receipt(ids)

    def create(self, record: dict[str, Any], rkey: str, existing: Any) -> str:
        """createRecord at a record key we chose; after a failure that may have stored
        it, `existing()` reads the key back (the key makes a retry safe)."""
        body = {"repo": self.xrpc.session().did, "collection": POST, "rkey": rkey, "record": record}
        try:
            answer = self.xrpc.call("POST", "com.atproto.repo.createRecord", json=body)
        except (AuthError, RetryableError):
            raise
        except ChannelError as error:
            if found := existing():  # the key holds this post: an earlier attempt went through
                return str(found)
            if isinstance(error, AmbiguousError):
                raise RetryableError(error.message) from None  # the rkey makes it safe
            raise
        return json.dumps({"uri": answer["uri"], "cid": answer["cid"]})

    def resolve_handle(self, handle: str) -> str | None:
        """A mentioned handle's DID (com.atproto.identity.resolveHandle), None when the
        handle does not resolve: the mention then stays plain text."""
        if handle not in self._dids:
            try:
                answer = self.xrpc.call(
                    "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
                )
            except PermanentError as error:
                if isinstance(error, AuthError):
                    raise
                answer = {}
            did = answer.get("did")
            self._dids[handle] = did if isinstance(did, str) and did.startswith("did:") else None
        return self._dids[handle]

    def _upload(self, path: Path, mime: str) -> dict[str, Any]:
        data = read_file_for(self.name, path)
        blob: dict[str, Any] = self.xrpc.call(
            "POST", "com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": mime}
        )["blob"]
        return blob

    def _embed(self, preview: Preview) -> dict[str, Any] | None:
        if preview.data["image_problem"]:
            raise PermanentError(
                _("{channel}: {problem}").format(
                    channel=self.name, problem=preview.data["image_problem"]
                )
            )
        if preview.data["image"] and not preview.data["card"]:
            blob = self._upload(Path(preview.data["image"]), preview.data["image_mime"])
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
        if not preview.data["url"]:
            return None
        release = preview.release
        external: dict[str, Any] = {
            "uri": preview.data["url"],
            "title": release.title,
            "description": release.summary,
        }
        if thumb := self._thumb(preview):
            external["thumb"] = thumb
        return {"$type": "app.bsky.embed.external", "external": external}

    def _thumb(self, preview: Preview) -> dict[str, Any] | None:
        """The link card's picture: the release image fitted under 1,000,000 bytes, or the
        card of the poster channel named in `card_image`; None when there is neither."""
        if preview.data["image"]:
            return self._upload(Path(preview.data["image"]), preview.data["image_mime"])
        receipt = preview.links.outputs.get(self.options.card_image or "")
        cards = [
            path for path in (receipt.files if receipt else ()) if path.name.endswith("-card.png")
        ]
        if not cards:
            return None
        fitted = fit_image(cards[0], THUMB_SPEC, self.context.state_dir / "media")
        return self._upload(fitted.path, fitted.mime)

    @staticmethod
    def finder_key(notes: dict[str, Any], index: int) -> str:
        """The record key of part `index` of the delivery these notes describe."""
        return _rkey(notes, index)

    def finder(self, notes: dict[str, Any]) -> FindPart:
        """Reads part `index` back at its record key (None: nothing there yet)."""
        parts = list(notes.get("parts") or [])

        def find(index: int, ids: Sequence[str]) -> str | None:
            return self.read_back(_rkey(notes, index), parts[index])

        return find

    def read_back(self, rkey: str, text: str) -> str | None:
        """The post at `rkey` when it holds `text`; None when there is none; an error
        when the key holds something else."""
        try:
            answer = self.xrpc.call(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": self.xrpc.session().did, "collection": POST, "rkey": rkey},
            )
        except PermanentError as error:
            if isinstance(error, AuthError):
                raise
            return None  # 400 RecordNotFound: nothing at that key
        if answer.get("value", {}).get("text") != text:
            raise PermanentError(
                _(
                    "{channel}: the record key {rkey} already holds a different post: "
                    "check the account, then resolve this delivery by hand"
                ).format(channel=self.name, rkey=rkey)
            )
        return json.dumps({"uri": answer["uri"], "cid": answer["cid"]})

    def receipt(self, ids: Sequence[str]) -> Receipt:
        """The receipt of a post (or a thread): the first post's URI and web address, and
        every part's URI and CID (a correction replies to them, a retraction deletes them)."""
        posts = [json.loads(item) for item in ids]
        uri = posts[0]["uri"]
        details: dict[str, Any] = {"posts": posts}
        if len(ids) > 1:
            details["parts"] = len(ids)
        return Receipt(
            remote_id=uri,
            url=self.web_url(uri),
            published_at=datetime.now(UTC),
            details=details,
        )

    def web_url(self, uri: str) -> str:
        """The bsky.app address of a post's at:// URI."""
        session = self.xrpc.current
        handle = session.handle if session else self.options.handle
        return f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}"

    def lookup(self, key: str) -> Receipt | None:
        """The delivery's posts, read back at their record keys; None when something is
        still to be posted (publish then resumes without duplicating)."""
        notes = self.notes(key)
        if not notes:
            return None
        count = len(notes["parts"])
        ids = resolve_parts(self.context.journal(key), count, self.finder(notes))
        return self.receipt(ids) if ids else None

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """A correction replies to the post with the note and the link; a retraction
        deletes the thread and its correction replies (chanpub.channels.bluesky_amend)."""
        from chanpub.channels.bluesky_amend import amend_post

        return amend_post(self, preview, amendment, key)

    def verify(self) -> None:
        """The app password (or the stored session) works: getSession."""
        self.xrpc.call("GET", "com.atproto.server.getSession")


def _rkey(notes: dict[str, Any], index: int) -> str:
    """Part `index`'s record key: a TID one microsecond after part index-1's."""
    return tid_for(int(notes["start_us"]), int(notes["clock_id"]), index)
