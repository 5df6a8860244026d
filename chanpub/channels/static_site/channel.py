"""static-site: the article as a standalone HTML page, plus an index page and an Atom feed,
in a folder that any web server can serve as is. No credentials; the default canonical
channel. A clarification's page carries schema.org ClaimReview markup. The release image
goes to media/ turned upright and without its location or other photo metadata
(chanpub.render.media); the receipt names that folder (`media_dir`, `media_url`) so that
Instagram's fitted copy can be published beside it. A correction re-renders the page with a
visible "Ralat" box and `dateModified`; a retraction replaces it with a notice at the same
URL and takes it off the index; the feed entry is updated either way.

Options: path (folder), base_url (public URL of that folder), site_title.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from chanpub.channels.static_site.listing import Listing
from chanpub.channels.static_site.page import correction_boxes, json_ld, retraction_notice
from chanpub.contract import (
    Action,
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Mechanism,
    Preview,
    Receipt,
)
from chanpub.errors import PermanentError, ReleaseError
from chanpub.files import (
    check_writable_folder,
    copy_atomically,
    remove_stale_temporaries,
    write_atomically,
)
from chanpub.i18n import N_, _
from chanpub.options import WebAddress
from chanpub.release import Release
from chanpub.render.media import MediaSpec
from chanpub.render.notices import notice_labels

OG_LOCALES = {"id": "id_ID", "en": "en_US"}
# Pictures on the website: any web format, no size rule; upright and without metadata.
WEB_SPEC = MediaSpec("static-site", formats=("JPEG", "PNG", "WEBP", "GIF"))
SAME_FORMAT = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "WEBP": (".webp",), "GIF": (".gif",)}


class StaticSiteOptions(BaseModel):
    """Options of a static-site channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    base_url: WebAddress | None = None  # the public address of the folder
    site_title: str | None = None


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
        title=True,
        html=True,
        images=1,
        edit=True,
        canonical=True,
        idempotent=True,
        corrections=Mechanism.EDIT,
        retractions=Mechanism.EDIT,
    )

    def __init__(self, name: str, options: StaticSiteOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context
        self.folder = context.resolve(options.path)

    # --- URLs -------------------------------------------------------------------------

    def _base(self) -> str:
        return (self.options.base_url or self.folder.resolve().as_uri()) + "/"

    def _listing(self) -> Listing:
        return Listing(
            self.folder,
            self._base(),
            site_title=self.options.site_title or "",
            organisation=self.context.organisation,
            language=self.context.language,
        )

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
            unit=N_("characters"),
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
            listing = self._listing()
            # The manifest first: a run killed after the page still has the article listed
            # by the next run's lookup (see listing.py).
            listing.record(page.entry)
            write_atomically(page_path, page.html)
            listing.write()
        except OSError as error:
            raise self._cannot_write(error) from None
        # The media folder and its public address: channels that need a picture fetched
        # from a public address (Instagram) put their fitted copy there.
        details = {
            "key": key,
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

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """A correction re-renders the page with a "Ralat" box (note and time) above the
        text and `dateModified`; a retraction replaces it with a notice at the same URL and
        takes it off the index; the feed entry is updated either way. Rewriting the same
        files again is harmless, so a run that stopped midway simply writes them again."""
        release = preview.release
        listing = self._listing()
        entry = listing.entries().get(release.slug, {})
        corrections = list(entry.get("corrections") or [])
        note = {"note": amendment.note, "at": amendment.at.isoformat()}
        if not amendment.retraction and note not in corrections:
            corrections.append(note)
        publish_key = str(entry.get("key") or amendment.previous.details.get("key") or "")
        page = self._page(
            release,
            publish_key,
            corrections=corrections,
            retracted=note if amendment.retraction else None,
        )
        path = self.folder / f"{release.slug}.html"
        journal = self.context.journal(key)
        retried = journal.status("page") == "in_progress"
        try:
            before = path.read_bytes() if path.is_file() else None
            journal.begin("page")
            self._clean()
            if page.image is not None and page.image_name and not amendment.retraction:
                copy_atomically(page.image, self.folder / "media" / page.image_name)
            listing.record(page.entry)
            write_atomically(path, page.html)
            listing.write()
        except OSError as error:
            raise self._cannot_write(error) from None
        changed = retried or before != page.html.encode("utf-8")
        action = Action.EDITED if changed else Action.UNCHANGED
        journal.sent("page", action)
        return Receipt(
            remote_id=release.slug,
            url=self.canonical_url(release),
            published_at=datetime.now(UTC),
            files=(path,),
            details={"key": publish_key, "path": str(path), "amended": amendment.kind},
            action=action,
        )

    def lookup(self, key: str) -> Receipt | None:
        """A page an interrupted run wrote carries the delivery key in a meta tag; the
        index and feed are brought up to date, as the run may have stopped before them."""
        marker = f'<meta name="chanpub-key" content="{key}">'
        self._clean()  # a run that stopped mid-write may have left a temporary file
        for page in self.folder.glob("*.html"):
            try:
                found = marker in page.read_text(encoding="utf-8")
            except OSError:
                continue
            if found:
                try:
                    self._listing().write()
                except OSError as error:
                    raise self._cannot_write(error) from None
                return Receipt(
                    remote_id=page.stem,
                    url=f"{self._base()}{page.name}",
                    published_at=datetime.now(UTC),
                    files=(page,),
                    details={"path": str(page), "key": key},
                )
        return None

    def verify(self) -> None:
        """The folder can be created and written."""
        check_writable_folder(self.name, self.folder)

    def _cannot_write(self, error: OSError) -> PermanentError:
        return PermanentError(
            _(
                "{channel}: cannot write to {path}: {reason}: check the folder in "
                "channels.{channel}.path"
            ).format(channel=self.name, path=self.folder, reason=error.strerror)
        )

    def _clean(self) -> None:
        """Remove temporary files that a killed run left in the site's folders."""
        remove_stale_temporaries(self.folder)
        remove_stale_temporaries(self.folder / "media")

    # --- rendering ----------------------------------------------------------------------

    def _language(self, release: Release) -> str:
        return release.language or self.context.language

    def _page(
        self,
        release: Release,
        key: str,
        *,
        corrections: list[dict[str, str]] | None = None,
        retracted: dict[str, str] | None = None,
    ) -> _Page:
        """The page and its manifest entry; `corrections` ({note, at} oldest first) and
        `retracted` ({note, at}) come from amendments."""
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
        if retracted:  # the withdrawn text leaves the page, its description included
            notice = notice_labels(self._language(release))["retracted_notice"]
            release = replace(release, summary_given=f"{notice} {retracted['note']}", body="")
        corrections = corrections or []
        moments = [item["at"] for item in corrections] + ([retracted["at"]] if retracted else [])
        modified = max(moments) if moments else None
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
            json_ld=json_ld(release, url, organisation, published, image_url, modified),
            modified_iso=modified,
            corrections=correction_boxes(corrections, language),
            retracted=retraction_notice(retracted, language),
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
            "key": key,
            "corrections": corrections,
            "retracted": retracted,
            "updated": modified,
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
