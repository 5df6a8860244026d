"""wordpress: the article as a post on a WordPress site, through the core REST API.

API: https://developer.wordpress.org/rest-api/reference/posts/ (also media, tags, categories).
Auth: HTTP Basic with the user name and an Application Password (Users → Profile →
Application Passwords; WordPress 5.6+, offered on https sites). The user needs the Author
role to publish and upload, and Editor (manage_categories) to create missing categories/tags.
Limits: none in core for text; hosts may answer 429/503 with Retry-After.

Options (channels.yaml)::

    website:
      type: wordpress
      canonical: true
      site: https://kominfo.example.go.id      # the site's address (REST API under /wp-json/)
      username: ${WP_USER}                     # or the name written out
      app_password: ${WP_APP_PASSWORD}
      categories: [Siaran Pers]                # by name; created when missing
      status: publish                          # or: future
      retract: draft                           # or: trash (where a retracted post goes)

`status: publish` (the default) publishes when chanpub sends. `status: future` lets WordPress
schedule the post: a release whose `publish_at` is still ahead is created with status
`future` and that time as `date_gmt`, and WordPress publishes it then; a release without a
future `publish_at` is published at once.

Exactly once: the content carries an invisible marker `<!-- chanpub:<key> -->`; before
creating, publish (and `lookup`) search for it, so a retried or crashed run finds the post it
made instead of making another. A post with the same slug that this delivery did not make is
reported, never overwritten. `send --update` edits the post in place by id.

Corrections edit the post in place with the note above the text; retractions leave a notice
and move the post to draft, or to the trash with `retract: trash` (amend.py).
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from chanpub.channels.wordpress.rest import WordpressRest, decode, json_or_none
from chanpub.contract import (
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Mechanism,
    Preview,
    Receipt,
)
from chanpub.errors import DuplicateError, PermanentError
from chanpub.files import read_file_for
from chanpub.i18n import N_, _
from chanpub.options import WebAddress
from chanpub.release import Release

STATUSES = "publish,future,draft,pending,private"
POST_FIELDS = "id,link,status,slug,date_gmt,content,permalink_template,featured_media"
TAXONOMIES = {"categories": "category", "tags": "tag"}


class WordpressOptions(BaseModel):
    """Options of a wordpress channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: WebAddress  # the site's address, e.g. https://kominfo.example.go.id
    username: str
    app_password: SecretStr
    categories: list[str] = []
    status: Literal["publish", "future"] = "publish"
    retract: Literal["draft", "trash"] = "draft"  # where a retracted release's post goes

    @field_validator("app_password")
    @classmethod
    def _without_spaces(cls, value: SecretStr) -> SecretStr:
        # WordPress shows the password in groups of four; the groups are one password.
        return SecretStr("".join(value.get_secret_value().split()))


def marker(key: str) -> str:
    """The invisible comment that ties a post to its delivery key."""
    return f"<!-- chanpub:{key} -->"


class WordpressChannel:
    """Publishes the article as a WordPress post, with its image as the featured image."""

    channel_type: ClassVar[str] = "wordpress"
    Options: ClassVar[type[BaseModel]] = WordpressOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        title=True,
        html=True,
        images=1,
        edit=True,
        canonical=True,
        idempotent=True,
        corrections=Mechanism.EDIT,
        retractions=Mechanism.EDIT,
    )

    def __init__(self, name: str, options: WordpressOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context
        self.rest = WordpressRest(name, options, context)

    def canonical_url(self, release: Release) -> str | None:
        """Unknown until WordPress answers (it depends on the site's permalink settings)."""
        return None

    # --- preview ------------------------------------------------------------------------

    def _schedule(self, release: Release) -> tuple[str, str | None]:
        """('future', date_gmt) when WordPress should publish later, else ('publish', None)."""
        when = release.publish_at
        if self.options.status == "future" and when is not None and when > datetime.now(UTC):
            return "future", when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return "publish", None

    def preview(self, release: Release, links: Links) -> Preview:
        """The post as it will be created: title, sanitised HTML, excerpt, terms, status."""
        from chanpub.markdown import to_html

        status, date_gmt = self._schedule(release)
        warnings = []
        if status == "future":
            warnings.append(_("WordPress will publish it at {when} UTC").format(when=date_gmt))
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            title=release.title,
            text=release.summary,
            html=to_html(release.body),
            unit=N_("characters"),
            attachments=(release.image,) if release.image else (),
            warnings=tuple(warnings),
            data={
                "site": self.options.site,
                "slug": release.slug,
                "status": status,
                "date_gmt": date_gmt,
                "categories": list(self.options.categories),
                "tags": list(release.tags),
                "image_alt": release.image_alt,
            },
        )

    # --- publish, update, lookup, verify -------------------------------------------------

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Create the post, unless this delivery already made it (then return that one)."""
        found = self.lookup(key)
        if found is not None:
            return found
        self._refuse_foreign_slug(preview.release.slug)
        post = self.rest.call(
            "POST",
            "posts",
            json=self.post_body(preview, key),
            params={"_fields": POST_FIELDS, "context": "edit"},
        )
        return self._receipt(post, key)

    def update(self, preview: Preview, receipt: Receipt) -> Receipt:
        """Edit the published post in place (`send --update` on a re-approved release)."""
        key = str(receipt.details.get("key") or "")
        post = self.rest.call(
            "POST",
            f"posts/{int(receipt.remote_id)}",
            json=self.post_body(preview, key),
            params={"_fields": POST_FIELDS, "context": "edit"},
        )
        return self._receipt(post, key)

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """A correction edits the post in place with the note above the text; a retraction
        leaves a notice and moves the post to draft or trash (`retract`); see amend.py."""
        from chanpub.channels.wordpress.amend import amend_post

        return amend_post(self, preview, amendment, key)

    def lookup(self, key: str) -> Receipt | None:
        """The post carrying this delivery's marker, in any status, or None."""
        posts = self.rest.call(
            "GET",
            "posts",
            params={"search": key, "status": STATUSES, "context": "edit", "_fields": POST_FIELDS},
        )
        for post in posts if isinstance(posts, list) else []:
            if marker(key) in str((post.get("content") or {}).get("raw", "")):
                return self._receipt(post, key)
        return None

    def verify(self) -> None:
        """The REST API answers, the credentials work and the user may publish."""
        capabilities = self.rest.capabilities()
        for capability in ("publish_posts", "upload_files"):
            if not capabilities.get(capability):
                raise PermanentError(
                    _(
                        "{channel}: the user '{user}' lacks the '{capability}' permission on "
                        "{site}: give them the Author role or higher"
                    ).format(
                        channel=self.name,
                        user=self.options.username,
                        capability=capability,
                        site=self.options.site,
                    )
                )
        missing = [n for n in self.options.categories if self._find_term("categories", n) is None]
        if missing and not capabilities.get("manage_categories"):
            raise self._cannot_create("categories", missing[0])

    # --- the post -----------------------------------------------------------------------

    def post_body(self, preview: Preview, key: str) -> dict[str, Any]:
        """The REST fields: terms are resolved (created) and the image uploaded first."""
        release = preview.release
        status, date_gmt = self._schedule(release)
        body: dict[str, Any] = {
            # WordPress treats title and excerpt as HTML (kept raw for editors): send text.
            "title": html.escape(release.title, quote=False),
            "content": (preview.html or "") + ("\n" + marker(key) if key else ""),
            "excerpt": html.escape(release.summary, quote=False),
            "slug": release.slug,
            "status": status,
            "categories": self._term_ids("categories", self.options.categories),
            "tags": self._term_ids("tags", list(release.tags)),
            "featured_media": self._featured_media(release),
        }
        if date_gmt:
            body["date_gmt"] = date_gmt
        return body

    def _refuse_foreign_slug(self, slug: str) -> None:
        """Never make a second post beside one with our slug (WordPress would add '-2')."""
        posts = self.rest.call(
            "GET",
            "posts",
            params={"slug": slug, "status": STATUSES, "context": "edit", "_fields": POST_FIELDS},
        )
        for post in posts if isinstance(posts, list) else []:
            ours = "<!-- chanpub:" in str((post.get("content") or {}).get("raw", ""))
            hint = (
                _(
                    "it was published from an earlier approval of this release: run "
                    "'chanpub send --update' to edit it in place"
                )
                if ours
                else _("change the release's slug, or rename that post in WordPress")
            )
            raise DuplicateError(
                _(
                    "{channel}: {site} already has a post with the slug '{slug}' (id {id}, {link}) "
                    "that this delivery did not make: {hint}"
                ).format(
                    channel=self.name,
                    site=self.options.site,
                    slug=slug,
                    id=post.get("id"),
                    link=post.get("link"),
                    hint=hint,
                )
            )

    def _receipt(self, post: dict[str, Any], key: str) -> Receipt:
        link = str(post.get("link") or "")
        template = str(post.get("permalink_template") or "")
        if post.get("status") == "future" and "%postname%" in template:
            link = template.replace("%postname%", str(post.get("slug")))  # the link it will have
        published = datetime.now(UTC)
        if post.get("date_gmt"):
            published = datetime.fromisoformat(str(post["date_gmt"])).replace(tzinfo=UTC)
        return Receipt(
            remote_id=str(post["id"]),
            url=link or None,
            published_at=published,
            details={
                "id": post["id"],
                "status": post.get("status"),
                "slug": post.get("slug"),
                "key": key,
                "featured_media": post.get("featured_media"),
            },
        )

    def _term_ids(self, kind: str, names: list[str]) -> list[int]:
        """Term ids for names, creating the missing terms."""
        return [self._find_term(kind, name) or self._create_term(kind, name) for name in names]

    def _find_term(self, kind: str, name: str) -> int | None:
        """The id of the term with this name (case-insensitive), or None."""
        found = self.rest.call(
            "GET", kind, params={"search": name, "per_page": 100, "_fields": "id,name"}
        )
        for term in found if isinstance(found, list) else []:
            if html.unescape(str(term.get("name", ""))).casefold() == name.casefold():
                return int(term["id"])
        return None

    def _create_term(self, kind: str, name: str) -> int:
        response = self.rest.send("POST", kind, json={"name": name}, accept=(400, 401, 403))
        payload = json_or_none(response)
        code = payload.get("code") if isinstance(payload, dict) else None
        if code == "term_exists":  # made meanwhile, or a name we did not match
            return int((payload.get("data") or {}).get("term_id", 0))
        if response.status_code == 403 or (
            code == "rest_cannot_create" and response.status_code != 401
        ):
            raise self._cannot_create(kind, name)
        if not response.is_success:
            raise self.rest.refused(response)
        return int(decode(response, self.name, self.options.site)["id"])

    def _cannot_create(self, kind: str, name: str) -> PermanentError:
        return PermanentError(
            _(
                "{channel}: the user '{user}' may not create the {taxonomy} '{name}' on {site}: "
                "create it in WordPress first, or give the user the Editor role"
            ).format(
                channel=self.name,
                user=self.options.username,
                taxonomy=TAXONOMIES[kind],
                name=name,
                site=self.options.site,
            )
        )

    def _featured_media(self, release: Release) -> int:
        """Upload the image once (found again by its content hash) and set its alt text."""
        if release.image is None:
            return 0
        data = read_file_for(self.name, release.image)
        stem = f"{release.slug}-{hashlib.sha256(data).hexdigest()[:12]}"
        alt = release.image_alt or ""
        found = self.rest.call(
            "GET", "media", params={"search": stem, "context": "edit", "_fields": "id,title"}
        )
        for item in found if isinstance(found, list) else []:
            if (item.get("title") or {}).get("raw") == stem:
                self.rest.call("POST", f"media/{int(item['id'])}", json={"alt_text": alt})
                return int(item["id"])
        extension = release.image.suffix.lower()
        kind = mimetypes.guess_type(f"x{extension}")[0] or "application/octet-stream"
        media = self.rest.call(
            "POST",
            "media",
            content=data,
            params={"title": stem, "alt_text": alt},
            headers={
                "Content-Type": kind,
                "Content-Disposition": f'attachment; filename="{stem}{extension}"',
            },
        )
        return int(media["id"])
