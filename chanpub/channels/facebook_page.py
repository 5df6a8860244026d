"""facebook-page: a post on a Facebook Page through Meta's Graph API.

Docs: https://developers.facebook.com/docs/pages-api/posts and
https://developers.facebook.com/docs/graph-api/reference/page/photos
Auth: a Page access token (`pages_manage_posts`, `pages_read_engagement`,
`pages_show_list`), sent as the `access_token` parameter; the API version is pinned.
Create: POST /{page-id}/feed with `message` + `link`, or POST /{page-id}/photos with the
picture (fitted by chanpub.render.media: 4 MB at most, no location data) as multipart
`source`, the text as `caption` and the alt text as `alt_text_custom`. No idempotency
key: a marker (link and start time) is journalled before the call, so `lookup` can read
the feed back;
error 506 means the same text is already there. Text limit: none documented (63,206 is
quoted by third parties); limits and usage headers: see chanpub.channels.meta_graph.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, SecretStr, field_validator

from chanpub.channels import meta_graph
from chanpub.contract import Capabilities, Links, Preview, Receipt
from chanpub.errors import ChannelError, PermanentError
from chanpub.i18n import _
from chanpub.release import Release
from chanpub.render.media import MediaSpec, check_release_image, prepare_image
from chanpub.render.shaping import LengthRule

TEXT_LIMIT = 63206  # third-party figure; press releases stay far below it
MARKER = "request"  # journal item: what lookup looks for (link, message, start time)
POST = "post"  # journal item: the post id once created
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


class FacebookPageChannel(meta_graph.GraphChannel):
    """Posts the release's text and link, or a photo with caption, to a Facebook Page."""

    channel_type: ClassVar[str] = "facebook-page"
    options: FacebookPageOptions
    token_option: ClassVar[str] = "page_token"
    Options: ClassVar[type[BaseModel]] = FacebookPageOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        max_length=TEXT_LIMIT, length_unit="characters", images=1
    )

    # --- preview ------------------------------------------------------------------------

    def preview(self, release: Release, links: Links) -> Preview:
        """The post's text, and whether it goes out as a photo post."""
        from chanpub.render.social import fit_post

        fitted, warnings = fit_post(
            release,
            links,
            LengthRule(TEXT_LIMIT, "characters", len),
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
        done = journal.remote_id(POST)
        if done:
            return self._receipt(done, preview.data.get("kind", "link"))
        link = str(preview.data.get("link") or "")
        # Recorded before the call, so that a run that dies mid-request can be read back.
        journal.sent(
            MARKER,
            json.dumps(
                {"link": link, "message": preview.text, "since": int(datetime.now(UTC).timestamp())}
            ),
        )
        journal.begin(POST)
        image = preview.release.image
        try:
            if image is not None:
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
        return self._receipt(post_id, "photo" if image is not None else "link")

    def _photo(self, preview: Preview) -> dict[str, Any]:
        """POST /{page-id}/photos: the fitted picture, the caption and the alt text."""
        data = preview.data
        if not data["photo"]:
            raise PermanentError(
                _("{channel}: {problem}").format(channel=self.name, problem=data["photo_problem"])
            )
        try:
            content = Path(data["photo"]).read_bytes()
        except OSError as error:
            raise PermanentError(
                _("{channel}: cannot read the image {path}: {reason}").format(
                    channel=self.name, path=data["photo"], reason=error.strerror
                )
            ) from None
        form = {"caption": preview.text}
        if data["alt_text"]:
            form["alt_text_custom"] = data["alt_text"]  # what screen readers say
        return self._call(
            "POST",
            f"{self.options.page_id}/photos",
            data=form,
            files={"source": (data["photo_name"], content, data["photo_mime"])},
        )

    def _receipt(self, post_id: str, kind: str) -> Receipt:
        return Receipt(
            remote_id=post_id,
            url=post_url(post_id),
            published_at=datetime.now(UTC),
            details={"kind": kind, "page_id": self.options.page_id},
        )

    def lookup(self, key: str) -> Receipt | None:
        """Find the post of an interrupted run: by its journalled id, else by reading the
        Page's feed since the attempt started and matching the link or the text."""
        journal = self.context.journal(key)
        done = journal.remote_id(POST)
        if done:
            return self._receipt(done, "link")
        raw = journal.remote_id(MARKER)
        if not raw:
            return None  # the request was never sent
        marker = json.loads(raw)
        payload = self._call(
            "GET",
            f"{self.options.page_id}/feed",
            params={
                "fields": "id,message,link,created_time,permalink_url",
                "since": str(int(marker["since"]) - 300),
                "limit": "25",
            },
        )
        for post in payload.get("data") or []:
            if not isinstance(post, dict):
                continue
            same_link = marker["link"] and post.get("link") == marker["link"]
            if same_link or post.get("message") == marker["message"]:
                journal.sent(POST, str(post["id"]))
                return self._receipt(str(post["id"]), "link")
        return None

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
        expiry = meta_graph.token_expiry(
            self.context.http,
            self._graph,
            token=self.options.page_token,
            channel=self.name,
            token_variable=self.context.variable_for("page_token"),
        )
        self.context.report(
            "verified", account=me.get("name", ""), days_left=expiry.get("days_left")
        )
