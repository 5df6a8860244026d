"""facebook-page: a post on a Facebook Page through Meta's Graph API.

Docs: https://developers.facebook.com/docs/pages-api/posts and
https://developers.facebook.com/docs/graph-api/reference/page/photos
Auth: a Page access token (`pages_manage_posts`, `pages_read_engagement`,
`pages_show_list`), sent as the `access_token` parameter; the API version is pinned.
Create: POST /{page-id}/feed with `message` + `link`, or POST /{page-id}/photos with the
picture (fitted by chanpub.render.media: 4 MB at most, no location data) as multipart
`source`, the text as `caption` and the alt text as `alt_text_custom`. No idempotency
key: a marker (the message, the start time and the slug) is journalled before the call,
so `lookup` can read the feed back by `message` and `created_time` (the fields Graph
still serves: `link` is refused since v3.3) and settle a lost answer as one post; when
it cannot read the feed, its error names the `chanpub resolve` command. Error 506 means
the same text is already there. Corrections edit the post's message (POST /{post-id}
`message`), retractions delete it (DELETE /{post-id}):
https://developers.facebook.com/docs/pages-api/posts. Text limit: none documented (63,206 is
quoted by third parties); limits and usage headers: see chanpub.channels.meta_graph.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, SecretStr, field_validator

from chanpub.channels import meta_graph, meta_tokens
from chanpub.contract import Action, Amendment, Capabilities, Links, Mechanism, Preview, Receipt
from chanpub.errors import AuthError, ChannelError, PermanentError, RetryableError
from chanpub.i18n import N_, _
from chanpub.release import Release
from chanpub.render.media import MediaSpec, check_release_image, prepare_image
from chanpub.render.notices import labelled_note
from chanpub.render.shaping import LengthRule
from chanpub.status import Status

TEXT_LIMIT = 63206  # third-party figure; press releases stay far below it
MARKER = "request"  # journal item: what lookup looks for (message, start time, slug)
POST = "post"  # journal item: the post id once created
EDIT = "edit"  # journal item of an amendment: the message edited
DELETE = "delete"  # journal item of an amendment: the post deleted
FEED_FIELDS = "id,message,created_time"  # served by /{page-id}/feed since v3.3
# /{page-id}/photos: JPEG, PNG (also BMP, GIF, TIFF), 4 MB at most.
PHOTO_SPEC = MediaSpec("facebook-page", formats=("JPEG", "PNG"), max_bytes=4_000_000)


class FacebookPageOptions(meta_graph.GraphOptions):
    """Options of a facebook-page channel."""

    page_id: str
    page_token: SecretStr

    _page_id = field_validator("page_id", mode="before")(meta_graph.numeric_id)


def post_url(post_id: str) -> str:
    """The public address of a Page post (`{page-id}_{post-id}` works as a path)."""
    return f"https://www.facebook.com/{post_id}"


def same_text(posted: Any, sent: str) -> bool:
    """The message Graph gives back is the one chanpub sent (whitespace may differ)."""
    return isinstance(posted, str) and posted.split() == sent.split()


def created_after(created_time: Any, since: int) -> bool:
    """A post's `created_time` ('2026-09-07T08:00:00+0000') is at or after `since`; an
    unreadable time does not rule the post out."""
    try:
        created = datetime.strptime(str(created_time), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return True
    return created.timestamp() >= since


class FacebookPageChannel(meta_graph.GraphChannel):
    """Posts the release's text and link, or a photo with caption, to a Facebook Page."""

    channel_type: ClassVar[str] = "facebook-page"
    options: FacebookPageOptions
    token_option: ClassVar[str] = "page_token"
    Options: ClassVar[type[BaseModel]] = FacebookPageOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        max_length=TEXT_LIMIT,
        length_unit=N_("characters"),
        images=1,
        corrections=Mechanism.EDIT,
        retractions=Mechanism.DELETE,
    )

    # --- preview ------------------------------------------------------------------------

    def preview(self, release: Release, links: Links) -> Preview:
        """The post's text, and whether it goes out as a photo post."""
        from chanpub.render.social import fit_post

        fitted, warnings = fit_post(
            release,
            links,
            LengthRule(TEXT_LIMIT, N_("characters"), len),
            channel=self.name,
            template=self.options.template,
            organisation=self.context.organisation,
        )
        if not links.canonical_url:
            warnings.append(_("no canonical URL: the post will have no link to the article"))
        picture, note = prepare_image(release, PHOTO_SPEC, self.context.state_dir)
        if note:
            warnings.append(note)
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text=fitted.text,
            length=fitted.length,
            limit=fitted.limit,
            unit=fitted.unit,
            warnings=tuple(warnings),
            attachments=(picture.path,) if picture else (),
            data={
                "kind": "photo" if release.image else "link",
                "link": links.canonical_url or "",
                "photo": str(picture.path) if picture else "",
                "photo_name": picture.filename(release.image.stem)
                if picture and release.image
                else "",
                "photo_mime": picture.mime if picture else "",
                "photo_problem": "" if picture else note or "",
                "alt_text": release.image_alt or "",
            },
        )

    def check_release(self, release: Release) -> None:
        """The release's picture can be read, so it can be fitted (ReleaseError if not)."""
        check_release_image(release)

    # --- publish ------------------------------------------------------------------------

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Create the post (link or photo) and return its id and address."""
        if preview.over_limit:
            raise PermanentError(
                _(
                    "{channel}: the text is {length} characters, over the limit of {limit}, and "
                    "nothing more can be shortened: shorten the template in channels.{channel}."
                    "template"
                ).format(channel=self.name, length=preview.length, limit=preview.limit)
            )
        journal = self.context.journal(key)
        kind = str(preview.data.get("kind", "link"))
        done = journal.remote_id(POST)
        if done:
            return self._receipt(done, kind)
        link = str(preview.data.get("link") or "")
        # Recorded before the call, so that a run that dies mid-request can be read back.
        since = int(datetime.now(UTC).timestamp())
        marker = {"message": preview.text, "since": since, "slug": preview.release.slug}
        journal.sent(MARKER, json.dumps(marker | {"kind": kind}))
        journal.begin(POST)
        try:
            if kind == "photo":
                payload = self._photo(preview)
                post_id = str(payload.get("post_id") or payload.get("id") or "")
            else:
                data = {"message": preview.text}
                if link:
                    data["link"] = link
                payload = self._call("POST", f"{self.options.page_id}/feed", data=data)
                post_id = str(payload.get("id") or "")
        except ChannelError as error:
            journal.failed(POST, error.message, permanent=False)
            raise
        if not post_id:
            raise PermanentError(
                _("{channel}: the Graph API answered without a post id").format(channel=self.name)
            )
        journal.sent(POST, post_id)
        return self._receipt(post_id, kind)

    def _photo(self, preview: Preview) -> dict[str, Any]:
        """POST /{page-id}/photos: the fitted picture, the caption and the alt text."""
        from chanpub.files import read_file_for

        data = preview.data
        if not data["photo"]:
            raise PermanentError(
                _("{channel}: {problem}").format(channel=self.name, problem=data["photo_problem"])
            )
        content = read_file_for(self.name, Path(data["photo"]))
        form = {"caption": preview.text}
        if data["alt_text"]:
            form["alt_text_custom"] = data["alt_text"]  # what screen readers say
        return self._call(
            "POST",
            f"{self.options.page_id}/photos",
            data=form,
            files={"source": (data["photo_name"], content, data["photo_mime"])},
        )

    def _receipt(self, post_id: str, kind: str, action: Action | None = None) -> Receipt:
        return Receipt(
            remote_id=post_id,
            url=None if action == Action.DELETED else post_url(post_id),
            published_at=datetime.now(UTC),
            details={"kind": kind, "page_id": self.options.page_id},
            action=action,
        )

    def lookup(self, key: str) -> Receipt | None:
        """Find the post of an interrupted run: by its journalled id, else by reading the
        Page's feed since the attempt started for the same message. Raises, naming the
        `chanpub resolve` command, when the feed cannot be read."""
        journal = self.context.journal(key)
        raw = journal.remote_id(MARKER)
        marker = json.loads(raw) if raw else {}
        kind = str(marker.get("kind", "link"))
        done = journal.remote_id(POST)
        if done:
            return self._receipt(done, kind)
        if not raw:
            return None  # the request was never sent
        since = int(marker["since"]) - 300  # the Page's clock may differ from ours
        try:
            payload = self._call(
                "GET",
                f"{self.options.page_id}/feed",
                params={"fields": FEED_FIELDS, "since": str(since), "limit": "25"},
            )
        except RetryableError:
            raise  # the next attempt reads again
        except ChannelError as error:
            raise PermanentError(
                meta_graph.resolve_hint(self.name, str(marker.get("slug", "")), error.message)
            ) from None
        for post in payload.get("data") or []:
            if (
                isinstance(post, dict)
                and same_text(post.get("message"), marker["message"])
                and created_after(post.get("created_time"), since)
            ):
                journal.sent(POST, str(post["id"]))
                return self._receipt(str(post["id"]), kind)
        return None

    # --- corrections and retractions ----------------------------------------------------

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """A correction edits the post's message (the note above the new text); a
        retraction deletes the post. Exactly once per key: an edit whose answer was lost
        is checked against the post's message, a delete against the post's absence."""
        post_id = amendment.previous.remote_id
        kind = str(amendment.previous.details.get("kind", "link"))
        journal = self.context.journal(key)
        step = DELETE if amendment.retraction else EDIT
        tried = journal.status(step)
        if tried == Status.SENT:
            action = Action.DELETED if amendment.retraction else Action.EDITED
            return self._receipt(post_id, kind, action)
        language = preview.release.language or self.context.language
        note = labelled_note(amendment.kind, amendment.note, language)
        current = self._current_message(post_id)
        if amendment.retraction:
            if current is None:
                action = Action.UNCHANGED if tried is None else Action.DELETED
            else:
                self._step(journal, step, "DELETE", post_id)
                action = Action.DELETED
        else:
            message = f"{note}\n\n{preview.text}"
            if current is None:
                raise PermanentError(
                    _(
                        "{channel}: the post {id} is no longer on the Page, so the correction "
                        "cannot be made: publish it as a new release (a new slug)"
                    ).format(channel=self.name, id=post_id)
                )
            if same_text(current, message):
                action = Action.UNCHANGED if tried is None else Action.EDITED
            else:
                self._step(journal, step, "POST", post_id, data={"message": message})
                action = Action.EDITED
        journal.sent(step, post_id)
        return self._receipt(post_id, kind, action)

    def _current_message(self, post_id: str) -> str | None:
        """The post's message now ('' when it has none); None when the post is gone."""
        try:
            payload = self._call("GET", post_id, params={"fields": "id,message"})
        except AuthError:
            raise
        except PermanentError:
            return None  # (#100) subcode 33: the object does not exist (any more)
        return str(payload.get("message") or "")

    def _step(self, journal: Any, step: str, method: str, path: str, **kwargs: Any) -> None:
        journal.begin(step)
        try:
            self._call(method, path, **kwargs)
        except ChannelError as error:
            journal.failed(step, error.message, permanent=False)
            raise

    # --- verify -------------------------------------------------------------------------

    def verify(self) -> None:
        """The token works, belongs to this Page, and (where Meta tells) when it expires."""
        me = self._call("GET", "me", params={"fields": "id,name"})
        if str(me.get("id")) != self.options.page_id:
            raise PermanentError(
                _(
                    "{channel}: the token in ${variable} belongs to '{name}' ({id}), not to Page "
                    "{page}: use the Page access token from /me/accounts"
                ).format(
                    channel=self.name,
                    variable=self.context.variable_for("page_token"),
                    name=me.get("name", ""),
                    id=me.get("id"),
                    page=self.options.page_id,
                )
            )
        expiry = meta_tokens.token_expiry(
            self.context.http,
            self._graph,
            token=self.options.page_token,
            channel=self.name,
            token_variable=self.context.variable_for("page_token"),
        )
        self.context.report(
            "verified", account=me.get("name", ""), days_left=expiry.get("days_left")
        )
