"""instagram: an image post on an Instagram professional account (Graph API publishing).

Docs: https://developers.facebook.com/docs/instagram-platform/content-publishing and the
reference pages ig-user/media, ig-user/media_publish, ig-container,
ig-user/content_publishing_limit.
Auth: a Facebook user token with instagram_basic + instagram_content_publish on
graph.facebook.com, or an Instagram user token on graph.instagram.com (`graph_base`).
Flow: POST /{ig-id}/media (image_url, caption, alt_text) -> poll GET /{container}?fields=
status_code once a minute for at most five minutes until FINISHED -> POST
/{ig-id}/media_publish (creation_id). Instagram fetches the image itself, so it needs a
public http(s) URL. The release image is fitted to
Instagram's rules (JPEG, at most 8 MB, 4:5 to 1.91:1: padded with `pad_color` or cropped,
`image_fit`; see chanpub.render.media) and written, just before the container is created,
into the media folder the static-site channel named in its receipt, as
`<slug>-<stem>-instagram.jpg`. Without a release image: a poster thumbnail. Limits: caption
2200 characters and 30 hashtags per the reference (Instagram has announced 5:
`max_hashtags`); publishing quota per rolling 24 h from content_publishing_limit. The
container id, journalled at once, is the idempotency anchor: a retried run reuses it and
never publishes it twice; a lost answer is settled by the container's status and the
account's media (chanpub.channels.instagram.publishing). Corrections and retractions are
comments (chanpub.channels.instagram.amend); Instagram Login tokens are refreshed
(chanpub.channels.instagram.tokens).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from chanpub.channels import meta_graph, meta_tokens
from chanpub.channels.instagram.amend import CommentSteps
from chanpub.channels.instagram.publishing import CONTAINER, PUBLISHED, ContainerSteps
from chanpub.channels.instagram.tokens import TokenKeeper
from chanpub.contract import Capabilities, ChannelContext, Links, Mechanism, Preview, Receipt
from chanpub.errors import ChannelError, PermanentError
from chanpub.i18n import N_, _
from chanpub.release import Release
from chanpub.render.media import MediaSpec, check_release_image, prepare_image, public_copy
from chanpub.render.shaping import HASHTAG_PATTERN, LengthRule, hashtags

CAPTION_LIMIT = 2200
ALT_TEXT_LIMIT = 1000
ANNOUNCED_HASHTAG_CAP = 5
# ig-user/media image specifications: JPEG only, at most 8 MB, aspect ratio 4:5 to 1.91:1,
# width 320 to 1440 (Instagram scales outside that range).
IMAGE_SPEC = MediaSpec(
    "instagram", formats=("JPEG",), max_bytes=8_000_000, max_width=1440, aspect=(0.8, 1.91)
)


class InstagramOptions(meta_graph.GraphOptions):
    """Options of an instagram channel."""

    account_id: str
    access_token: SecretStr
    max_hashtags: int = Field(default=30, ge=0, le=30)
    image_fit: Literal["pad", "crop"] = "pad"
    pad_color: str = "#ffffff"

    check_account_id = field_validator("account_id", mode="before")(meta_graph.numeric_id)

    @field_validator("pad_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", value.strip()):
            raise ValueError("must be a colour like #ffffff (or your brand colour, e.g. #003366)")
        return value.strip().lower()


def public_image_url(release: Release, links: Links) -> str | None:
    """The release image's public address, from what earlier channels published.

    Order: an `image_url` in any receipt's details (the canonical channel's first), the
    static-site layout `<base>media/<slug>-<file>` beside a canonical `<base><slug>.html`,
    then a poster's `thumbnail_url`. Only http(s) addresses count: Instagram fetches them.
    """
    receipts = sorted(links.outputs.values(), key=lambda r: r.url != links.canonical_url)
    candidates: list[str] = [str(r.details.get("image_url") or "") for r in receipts]
    canonical = links.canonical_url or ""
    page = f"/{release.slug}.html"
    if release.image is not None and canonical.endswith(page) and not links.predicted:
        candidates.append(f"{canonical[: -len(page)]}/media/{release.slug}-{release.image.name}")
    candidates += [str(r.details.get("thumbnail_url") or "") for r in receipts]
    for url in candidates:
        if url.startswith(("https://", "http://")):
            return url
    return None


class InstagramChannel(meta_graph.GraphChannel, ContainerSteps, CommentSteps):
    """Publishes the release image with a caption to an Instagram professional account."""

    channel_type: ClassVar[str] = "instagram"
    options: InstagramOptions
    token_option: ClassVar[str] = "access_token"
    Options: ClassVar[type[BaseModel]] = InstagramOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        max_length=CAPTION_LIMIT,
        length_unit=N_("characters"),
        images=1,
        corrections=Mechanism.REPLY,
        retractions=Mechanism.REPLY,
    )

    def __init__(self, name: str, options: Any, context: ChannelContext) -> None:
        super().__init__(name, options, context)
        # Waiting between status queries; tests pass the stand-in's clock.
        self.sleep: Callable[[float], None] = time.sleep
        self.clock: Callable[[], float] = time.monotonic

    # --- preview ------------------------------------------------------------------------

    def preview(self, release: Release, links: Links) -> Preview:
        """The caption, the image address Instagram will fetch, and what stops the post."""
        from chanpub.render.social import fit_post

        cap = self.options.max_hashtags
        tags = " ".join(hashtags(release.tags).split()[:cap])
        fitted, warnings = fit_post(
            release,
            links,
            LengthRule(CAPTION_LIMIT, N_("characters"), len),
            channel=self.name,
            template=self.options.template,
            organisation=self.context.organisation,
            overrides={"hashtags": tags},
        )
        count = len(HASHTAG_PATTERN.findall(fitted.text))
        picture, note = prepare_image(release, self._image_spec(), self.context.state_dir)
        if note:
            warnings.append(note)
        target = public_copy(release, links, "instagram") if picture else None
        image_url = target[1] if target else None
        if release.image is None or (picture is not None and not picture.changes):
            # No picture (a poster thumbnail), or one the website copy serves as it is.
            image_url = image_url or public_image_url(release, links)
        if count > cap:
            warnings.append(
                _("the caption has {count} hashtags; at most {cap} are allowed").format(
                    count=count, cap=cap
                )
            )
        elif count > ANNOUNCED_HASHTAG_CAP:
            warnings.append(
                _(
                    "{count} hashtags: Instagram has announced a cap of {cap}; set "
                    "max_hashtags: {cap} if posts are refused"
                ).format(count=count, cap=ANNOUNCED_HASHTAG_CAP)
            )
        if image_url is None and (picture is not None or release.image is None):
            warnings.append(self._no_image_reason(release, links))
        if release.image and not release.image_alt:
            warnings.append(_("the image has no alt text (image_alt)"))
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
                "image_url": image_url,
                "picture": str(picture.path) if picture else "",
                "copy_to": str(target[0]) if target else "",
                "image_problem": "" if picture or release.image is None else note or "",
                "hashtags": count,
                "alt_text": (release.image_alt or "")[:ALT_TEXT_LIMIT],
            },
        )

    def _image_spec(self) -> MediaSpec:
        return replace(IMAGE_SPEC, fit=self.options.image_fit, pad_color=self.options.pad_color)

    def check_release(self, release: Release) -> None:
        """The release's picture can be read, so it can be fitted (ReleaseError if not)."""
        check_release_image(release)

    def _no_image_reason(self, release: Release, links: Links) -> str:
        if release.image is None:
            return _(
                "Instagram posts need an image: the release has none and no poster "
                "thumbnail was published"
            )
        if links.predicted:
            return _(
                "the image's public address will be known once the website channel has published"
            )
        return _(
            "Instagram fetches the image from a public address, and the website "
            "channel published none (is its base_url an https:// address? Is the "
            "canonical channel a static-site, which publishes the fitted copy?)"
        )

    # --- publish ------------------------------------------------------------------------

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Create (or reuse) the container, wait until it is ready, publish it once."""
        self._refuse_bad_input(preview)
        self._tokens().refresh_if_due()
        journal = self.context.journal(key)
        media_id = journal.remote_id(PUBLISHED)
        if media_id:
            return self._receipt(media_id)
        self._note_attempt(journal, preview.text, preview.release.slug)
        container = journal.remote_id(CONTAINER)
        status = self._known_status(container) if container else None
        if container and status == "PUBLISHED":
            found = self._find_media(journal)
            if found is None:
                raise self._unfound(journal, container)
            return self._receipt(found)
        if container is None or status in ("ERROR", "EXPIRED", "GONE"):
            self._publish_picture(preview)
            container = self._create_container(self._container_form(preview), journal)
            status = None
        self._wait_until_ready(container, journal, status)
        self._check_quota()
        journal.begin(PUBLISHED)
        try:
            payload = self._call(
                "POST", f"{self.options.account_id}/media_publish", data={"creation_id": container}
            )
        except ChannelError as error:
            journal.failed(PUBLISHED, error.message, permanent=False)
            raise
        media_id = str(payload.get("id") or "")
        if not media_id:
            raise PermanentError(
                _("{channel}: media_publish answered without a media id").format(channel=self.name)
            )
        journal.sent(PUBLISHED, media_id)
        return self._receipt(media_id)

    def _container_form(self, preview: Preview) -> dict[str, str]:
        data = {"image_url": str(preview.data["image_url"]), "caption": preview.text}
        if preview.data.get("alt_text"):
            data["alt_text"] = str(preview.data["alt_text"])
        return data

    def _refuse_bad_input(self, preview: Preview) -> None:
        if preview.over_limit:
            raise PermanentError(
                _(
                    "{channel}: the caption is {length} characters, over Instagram's {limit}, and "
                    "nothing more can be shortened: shorten channels.{channel}.template"
                ).format(channel=self.name, length=preview.length, limit=preview.limit)
            )
        if int(preview.data.get("hashtags", 0)) > self.options.max_hashtags:
            raise PermanentError(
                _(
                    "{channel}: the caption has {count} hashtags, over the cap of {cap}: remove "
                    "some from the template or the text"
                ).format(
                    channel=self.name, count=preview.data["hashtags"], cap=self.options.max_hashtags
                )
            )
        if preview.data.get("image_problem"):
            raise PermanentError(
                _("{channel}: {problem}").format(
                    channel=self.name, problem=preview.data["image_problem"]
                )
            )
        if not preview.data.get("image_url"):
            raise PermanentError(
                _("{channel}: cannot post: {reason}").format(
                    channel=self.name, reason=self._no_image_reason(preview.release, preview.links)
                )
            )

    def _publish_picture(self, preview: Preview) -> None:
        """Put the fitted JPEG where its public address points, for Instagram to fetch."""
        if not preview.data.get("copy_to"):
            return
        from chanpub.files import read_file_for, write_atomically

        target = Path(preview.data["copy_to"])
        content = read_file_for(self.name, Path(preview.data["picture"]))
        try:
            write_atomically(target, content)
        except OSError as error:
            raise PermanentError(
                _(
                    "{channel}: cannot put the fitted image in {path}: {reason}: check that "
                    "the website's folder can be written"
                ).format(channel=self.name, path=target, reason=error.strerror)
            ) from None

    def _receipt(self, media_id: str) -> Receipt:
        try:
            permalink = self._call("GET", media_id, params={"fields": "permalink"}).get("permalink")
        except ChannelError:
            permalink = None  # published all the same; the address is only a convenience
        return Receipt(
            remote_id=media_id,
            url=str(permalink) if permalink else None,
            published_at=datetime.now(UTC),
            details={"account_id": self.options.account_id},
        )

    def lookup(self, key: str) -> Receipt | None:
        """The post of an interrupted run: journalled, or among the account's media with
        its caption (without a status query, which Meta limits to one a minute). When it
        is not there, the container's status decides: PUBLISHED needs a person (the error
        names `chanpub resolve`), else None: the next attempt reuses the container."""
        journal = self.context.journal(key)
        media_id = journal.remote_id(PUBLISHED) or None
        container = journal.remote_id(CONTAINER)
        if media_id is None and container:
            media_id = self._find_media(journal)
            if media_id is None and self._known_status(container) == "PUBLISHED":
                raise self._unfound(journal, container)
        return self._receipt(media_id) if media_id else None

    # --- tokens and verify --------------------------------------------------------------

    def _tokens(self) -> TokenKeeper:
        return TokenKeeper(
            self.context,
            self.name,
            self.options.graph_base,
            self.options.access_token,
            self.context.variable_for("access_token"),
        )

    def _token(self) -> SecretStr:
        return self._tokens().current()

    def verify(self) -> None:
        """The token reaches the account; report the quota left and the token's expiry
        (debug_token on graph.facebook.com; the kept refresh on graph.instagram.com)."""
        keeper = self._tokens()
        keeper.refresh_if_due()
        account = self._call("GET", self.options.account_id, params={"fields": "id,username"})
        limit = self._call(
            "GET",
            f"{self.options.account_id}/content_publishing_limit",
            params={"fields": "quota_usage,config"},
        )
        if keeper.refreshable:
            days = keeper.days_left()
        else:
            days = meta_tokens.token_expiry(
                self.context.http,
                self._graph,
                token=keeper.current(),
                channel=self.name,
                token_variable=self.context.variable_for("access_token"),
            ).get("days_left")
        entry = (limit.get("data") or [{}])[0]
        self.context.report(
            "verified",
            account=account.get("username", ""),
            quota_usage=entry.get("quota_usage"),
            days_left=days,
        )
