"""static-site: the article as a standalone HTML page, plus an index page and an Atom feed,
in a folder that any web server can serve as is. No credentials; the default canonical
channel. A clarification's page carries schema.org ClaimReview markup. The release image
goes to media/ turned upright and without its location or other photo metadata
(chanpub.render.media); the receipt names that folder (`media_dir`, `media_url`) so that
Instagram's fitted copy can be published beside it.

Options: path (folder), base_url (public URL of that folder), site_title.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from chanpub.contract import Capabilities, ChannelContext, Links, Preview, Receipt
from chanpub.errors import PermanentError, ReleaseError
from chanpub.files import copy_atomically, remove_stale_temporaries, write_atomically
from chanpub.i18n import _
from chanpub.release import Release
from chanpub.render.media import MediaSpec

MANIFEST = ".chanpub-site.json"
OG_LOCALES = {"id": "id_ID", "en": "en_US"}
# Pictures on the website: any web format, no size rule; upright and without metadata.
WEB_SPEC = MediaSpec("static-site", formats=("JPEG", "PNG", "WEBP", "GIF"))
SAME_FORMAT = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "WEBP": (".webp",), "GIF": (".gif",)}


class StaticSiteOptions(BaseModel):
    """Options of a static-site channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    base_url: str | None = None
    site_title: str | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (the public address of the folder)")
        return value.rstrip("/") + "/" if value else value


@dataclass(frozen=True)
class _Page:
    slug: str
    html: str
    image: Path | None  # the fitted copy: upright, without location or other metadata
    image_name: str | None
    entry: dict[str, Any]


class StaticSiteChannel:
    """Publishes the article to a folder served as a website."""

    channel_type: ClassVar[str] = "static-site"
    Options: ClassVar[type[BaseModel]] = StaticSiteOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        title=True, html=True, images=1, edit=True, canonical=True, idempotent=True
    )

    def __init__(self, name: str, options: StaticSiteOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context
        self.folder = context.resolve(options.path)

    # --- URLs -------------------------------------------------------------------------

    def _base(self) -> str:
        return self.options.base_url or self.folder.resolve().as_uri() + "/"

    def canonical_url(self, release: Release) -> str:
        """The article's public URL, known before publishing."""
        return f"{self._base()}{release.slug}.html"

    # --- preview and publish ----------------------------------------------------------

    def preview(self, release: Release, links: Links) -> Preview:
        """The page as it will be written."""
        page = self._page(release, key="")
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            title=release.title,
            text=release.summary,
            html=page.html,
            unit="characters",
            attachments=(release.image,) if release.image else (),
            data={"url": self.canonical_url(release), "path": str(self.folder)},
        )

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Write the page, the image, the index and the feed."""
        release = preview.release
        page = self._page(release, key)
        try:
            self._clean()
            if page.image is not None and page.image_name:
                copy_atomically(page.image, self.folder / "media" / page.image_name)
            page_path = self.folder / f"{release.slug}.html"
            write_atomically(page_path, page.html)
            self._update_listing(page.entry)
        except OSError as error:
            raise PermanentError(
                _(
                    "{channel}: cannot write to {path}: {reason}: check the folder in "
                    "channels.{channel}.path"
                ).format(channel=self.name, path=self.folder, reason=error.strerror)
            ) from None
        # The media folder and its public address: channels that need a picture fetched
        # from a public address (Instagram) put their fitted copy there.
        details = {
            "path": str(page_path),
            "media_dir": str(self.folder / "media"),
            "media_url": f"{self._base()}media/",
        }
        if page.image_name:  # the public address other channels (Instagram) can fetch
            details["image_url"] = f"{self._base()}media/{page.image_name}"
        return Receipt(
            remote_id=release.slug,
            url=self.canonical_url(release),
            published_at=datetime.now(UTC),
            files=(page_path,),
            details=details,
        )

    def update(self, preview: Preview, receipt: Receipt) -> Receipt:
        """Rewrite the page in place (a re-approved release with `send --update`)."""
        return self.publish(preview, key=str(receipt.details.get("key", "")))

    def lookup(self, key: str) -> Receipt | None:
        """A page an interrupted run wrote carries the delivery key in a meta tag."""
        marker = f'<meta name="chanpub-key" content="{key}">'
        self._clean()  # a run that stopped mid-write may have left a temporary file
        for page in self.folder.glob("*.html"):
            try:
                if marker in page.read_text(encoding="utf-8"):
                    return Receipt(
                        remote_id=page.stem,
                        url=f"{self._base()}{page.name}",
                        published_at=datetime.now(UTC),
                        files=(page,),
                    )
            except OSError:
                continue
        return None

    def verify(self) -> None:
        """The folder can be created and written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / ".chanpub-probe"
            probe.write_text("ok", encoding="utf-8")
            probe.unlink()
        except OSError as error:
            raise PermanentError(
                _("{channel}: cannot write to {path}: {reason}").format(
                    channel=self.name, path=self.folder, reason=error.strerror
                )
            ) from None

    def _clean(self) -> None:
        """Remove temporary files that a killed run left in the site's folders."""
        remove_stale_temporaries(self.folder)
        remove_stale_temporaries(self.folder / "media")

    # --- rendering ----------------------------------------------------------------------

    def _language(self, release: Release) -> str:
        return release.language or self.context.language

    def _page(self, release: Release, key: str) -> _Page:
        from chanpub.markdown import to_html
        from chanpub.render.dates import long_date, release_day
        from chanpub.render.templating import render_page

        language = self._language(release)
        url = self.canonical_url(release)
        day = release_day(release)
        published = (
            datetime.combine(day, time(), tzinfo=UTC)
            if release.publish_at is None
            else release.publish_at
        )
        picture, image_name = self._picture(release)
        image_url = f"{self._base()}media/{image_name}" if image_name else None
        organisation = self.context.organisation
        html = render_page(
            "article.html",
            language=language,
            title=release.title,
            summary=release.summary,
            url=url,
            key=key,
            organisation=organisation,
            site_title=self.options.site_title or organisation,
            og_locale=OG_LOCALES.get(language, language),
            image_url=image_url,
            image_src=f"media/{image_name}" if image_name else None,
            image_alt=release.image_alt or "",
            published_iso=published.isoformat(),
            published_long=long_date(day, language),
            tags=release.tags,
            verdict=release.verdict if release.is_clarification else None,
            claim=release.claim if release.is_clarification else None,
            claim_label=_("Claim") if language != "id" else "Klaim",
            source=release.source,
            source_label="Sumber" if language == "id" else _("Source"),
            body_html=to_html(release.body),
            index_url="index.html",
            feed_url="feed.xml",
            json_ld=_json_ld(release, url, organisation, published, image_url),
        )
        entry = {
            "slug": release.slug,
            "title": release.title,
            "summary": release.summary,
            "date": day.isoformat(),
            "published": published.isoformat(),
            "url": url,
            "href": f"{release.slug}.html",
            "language": language,
            "verdict": release.verdict if release.is_clarification else None,
        }
        return _Page(release.slug, html, picture, image_name, entry)

    def _picture(self, release: Release) -> tuple[Path | None, str | None]:
        """The release image fitted for the web (upright, no metadata) and its file name
        in media/: `<slug>-<file name>`, with the suffix of the format when it changed."""
        if release.image is None:
            return None, None
        from chanpub.render.media import fit_image

        try:
            fitted = fit_image(release.image, WEB_SPEC, self.context.state_dir / "media")
        except ReleaseError as error:
            raise PermanentError(error.message) from None
        name = f"{release.slug}-{release.image.name}"
        if release.image.suffix.lower() not in SAME_FORMAT[fitted.format]:
            name = f"{release.slug}-{fitted.filename(release.image.stem)}"
        return fitted.path, name

    def check_release(self, release: Release) -> None:
        """The release's picture can be read, so it can be fitted (ReleaseError if not)."""
        from chanpub.render.media import check_release_image

        check_release_image(release)

    def _update_listing(self, entry: dict[str, Any]) -> None:
        manifest_path = self.folder / MANIFEST
        entries: dict[str, dict[str, Any]] = {}
        if manifest_path.is_file():
            try:
                entries = {e["slug"]: e for e in json.loads(manifest_path.read_text("utf-8"))}
            except (ValueError, KeyError, TypeError):
                entries = {}  # a damaged manifest is rebuilt from what we publish next
        entries[entry["slug"]] = entry
        ordered = sorted(entries.values(), key=lambda e: (e["published"], e["slug"]), reverse=True)
        write_atomically(manifest_path, json.dumps(ordered, ensure_ascii=False, indent=1))
        write_atomically(self.folder / "index.html", self._index(ordered))
        write_atomically(self.folder / "feed.xml", self._feed(ordered))

    def _index(self, entries: list[dict[str, Any]]) -> str:
        from chanpub.render.dates import long_date
        from chanpub.render.templating import render_page

        shown = [
            {
                **e,
                "date_long": long_date(
                    date.fromisoformat(e["date"]), e.get("language") or self.context.language
                ),
            }
            for e in entries
        ]
        return render_page(
            "index.html",
            language=self.context.language,
            entries=shown,
            site_title=self.options.site_title or self.context.organisation or _("Releases"),
            feed_url="feed.xml",
        )

    def _feed(self, entries: list[dict[str, Any]]) -> bytes:
        """The newest 50 articles as an Atom 1.0 feed (RFC 4287,
        https://www.rfc-editor.org/rfc/rfc4287), newest first. The template is autoescaped,
        which escapes & < > and both quotes as XML needs; the file is UTF-8."""
        from chanpub.render.templating import render_page

        shown = [
            {
                "url": item["url"],  # the id too: stable, and an IRI
                "title": f"[{item['verdict']}] {item['title']}"
                if item.get("verdict")
                else item["title"],
                "summary": item["summary"],
                "published": _rfc3339(item["published"]),
            }
            for item in entries[:50]
        ]
        feed = render_page(
            "feed.xml",
            language=self.context.language,
            base=self._base(),
            title=self.options.site_title or self.context.organisation or "chanpub",
            author=self.context.organisation or "chanpub",
            # The feed's time is its newest entry's, so the same articles give the same file.
            updated=shown[0]["published"] if shown else "1970-01-01T00:00:00+00:00",
            entries=shown,
        )
        return (feed + "\n").encode("utf-8")


def _rfc3339(stamp: str) -> str:
    """An ISO timestamp from the manifest as RFC 3339 (a date-time with its UTC offset)."""
    moment = datetime.fromisoformat(stamp)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _json_ld(
    release: Release, url: str, organisation: str, published: datetime, image_url: str | None
) -> str:
    """NewsArticle markup, or ClaimReview for a clarification (no link to the hoax)."""
    author = {"@type": "Organization", "name": organisation or release.source or ""}
    data: dict[str, Any]
    if release.is_clarification:
        data = {
            "@context": "https://schema.org",
            "@type": "ClaimReview",
            "url": url,
            "claimReviewed": release.claim,
            "datePublished": published.date().isoformat(),
            "author": author,
            "itemReviewed": {"@type": "Claim", "name": release.claim},
            "reviewRating": {
                "@type": "Rating",
                "alternateName": release.verdict,
                "ratingValue": 1,
                "bestRating": 5,
                "worstRating": 1,
            },
        }
    else:
        data = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": release.title,
            "description": release.summary,
            "datePublished": published.isoformat(),
            "mainEntityOfPage": url,
            "author": author,
            "publisher": author,
        }
        if image_url:
            data["image"] = [image_url]
    # "<" escaped so no text inside can close the script element.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
