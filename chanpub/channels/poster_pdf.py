"""poster-pdf: a print-ready poster or banner (spanduk) PDF of a release, with a PNG
thumbnail and a share kit (a 1080x1080 card and a ready-to-forward text) beside it.

Service: none (local files, no credentials, no limits); print shops take PDF as is.
PDF: fpdf2 (https://py-pdf.github.io/fpdf2/), fonts embedded (DejaVu, chanpub/fonts/),
QR code as vector (segno), byte-identical output for the same input.
Corrections and retractions (`amend`) print the poster again under the same file names,
with a "RALAT" stamp and the note, or as a "DICABUT" notice with the reason.
Options: out, size (A4, A3 or WIDTHxHEIGHT in cm), orientation, margin_mm, organisation,
logo, colors, language (of dates and labels: id or en), url (when no canonical channel ran).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chanpub.contract import (
    Action,
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Mechanism,
    Preview,
    PreviewKind,
    Receipt,
)
from chanpub.errors import ConfigError, PermanentError, ReleaseError
from chanpub.files import check_writable_folder, remove_stale_temporaries, write_atomically
from chanpub.i18n import N_, _
from chanpub.options import WebAddress
from chanpub.release import Release
from chanpub.render.dates import release_day
from chanpub.render.pdf.amended import Notice, amended_at, print_notice
from chanpub.render.pdf.blocks import Theme
from chanpub.render.pdf.document import page_size, parse_colour
from chanpub.render.pdf.images import Picture, UnreadableImage, inspect_image
from chanpub.render.pdf.poster import Layout, PosterContent, labels_for


class PosterColors(BaseModel):
    """The poster's colours as #RRGGBB."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: str = "#0B3D6E"
    accent: str = "#C8102E"
    text: str = "#1A1A1A"

    @field_validator("primary", "accent", "text")
    @classmethod
    def _hex(cls, value: str) -> str:
        parse_colour(value)
        return value


class PosterPdfOptions(BaseModel):
    """Options of a poster-pdf channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out: str
    size: str = "A4"
    orientation: Literal["portrait", "landscape"] = "portrait"
    margin_mm: float | None = Field(default=None, ge=0)
    organisation: str | None = None
    logo: str | None = None
    colors: PosterColors = PosterColors()
    language: Literal["id", "en"] | None = None
    url: WebAddress | None = None  # the public page of the releases

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        page_size(value)
        return value

    @model_validator(mode="after")
    def _margin_fits(self) -> PosterPdfOptions:
        width, height = page_size(self.size, self.orientation)
        if self.margin_mm is not None and self.margin_mm * 4 >= min(width, height):
            raise ValueError(
                f"margin_mm {self.margin_mm:g} leaves no room on a "
                f"{width:g} x {height:g} mm page: use less than "
                f"{min(width, height) / 4:g}"
            )
        return self

    def dimensions(self) -> tuple[float, float]:
        """Page width and height in mm."""
        return page_size(self.size, self.orientation)


class PosterPdfChannel:
    """Writes a poster PDF, its thumbnail and a share kit to a folder."""

    channel_type: ClassVar[str] = "poster-pdf"
    Options: ClassVar[type[BaseModel]] = PosterPdfOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        title=True,
        images=1,
        edit=True,
        idempotent=True,
        corrections=Mechanism.EDIT,  # printed again under the same names, with a stamp
        retractions=Mechanism.EDIT,  # printed again as a withdrawal notice
    )

    def __init__(self, name: str, options: PosterPdfOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context
        self.folder = context.resolve(options.out)

    # --- checks ---------------------------------------------------------------------------

    def check(self) -> None:
        """The logo exists and is a picture this program can read."""
        self._logo()

    def _logo(self) -> Picture | None:
        if not self.options.logo:
            return None
        try:
            return inspect_image(self.context.resolve(self.options.logo))
        except UnreadableImage as error:
            raise ConfigError(
                _(
                    "channels.{channel}.logo: {reason}: check the path (relative "
                    "to channels.yaml) or remove the option"
                ).format(channel=self.name, reason=error)
            ) from None

    def _image(self, release: Release) -> Picture | None:
        if release.image is None:
            return None
        try:
            return inspect_image(release.image)
        except UnreadableImage as error:
            raise ReleaseError(
                _("{path}: image: {reason}").format(path=release.path, reason=error)
            ) from None

    # --- preview and publish ----------------------------------------------------------------

    def _language(self, release: Release) -> str:
        return self.options.language or release.language or self.context.language

    def _url(self, links: Links) -> str | None:
        canonical = links.canonical_url
        if canonical and canonical.startswith(("http://", "https://")):
            return canonical
        return self.options.url or canonical

    def _content(self, release: Release, url: str, notice: Notice | None = None) -> PosterContent:
        from chanpub.markdown import to_plain
        from chanpub.render.dates import long_date

        language = self._language(release)
        organisation = self.options.organisation or self.context.organisation
        day = release_day(release)
        return PosterContent(
            title=release.title,
            summary=release.summary,
            body=to_plain(release.body),
            url=url,
            organisation=organisation,
            date_text=long_date(day, language),
            source=release.source or organisation,
            language=language,
            logo=self._logo(),
            image=self._image(release),
            image_alt=release.image_alt or "",
            clarification=release.is_clarification,
            verdict=release.verdict or "",
            claim=release.claim or "",
            created=day,
            notice=notice,
        )

    def _layout(self) -> Layout:
        width, height = self.options.dimensions()
        margin = self.options.margin_mm
        if margin is None:
            margin = round(12 * min(width, height) / 210, 1)
        colours = self.options.colors
        theme = Theme(
            primary=parse_colour(colours.primary),
            accent=parse_colour(colours.accent),
            text=parse_colour(colours.text),
        )
        return Layout(width, height, margin, theme)

    def _paths(self, release: Release) -> tuple[Path, Path, Path, Path]:
        base = self.folder / f"{release.slug}-{self.name}"
        return (
            base.with_suffix(".pdf"),
            base.with_suffix(".png"),
            base.with_name(base.name + "-card.png"),
            base.with_name(base.name + "-share.txt"),
        )

    def preview(self, release: Release, links: Links) -> Preview:
        """What will be printed: the share text, the page, the files and the QR target."""
        from chanpub.render.pdf.fonts import missing_glyphs

        url = self._url(links)
        warnings: list[str] = []
        if url is None:
            warnings.append(
                _(
                    "no canonical URL: set channels.{channel}.url or run a website "
                    "channel, the QR code needs an address"
                ).format(channel=self.name)
            )
        elif not url.startswith(("http://", "https://")):
            warnings.append(
                _(
                    "the QR code points to {url}, which phones cannot open: set "
                    "channels.{channel}.url"
                ).format(url=url, channel=self.name)
            )
        content = self._content(release, url or "")
        missing = missing_glyphs(
            " ".join(
                (content.title, content.summary, content.body, content.organisation, content.claim)
            )
        )
        if missing:
            warnings.append(
                _("the font has no glyphs for {chars}: they will print as boxes").format(
                    chars=missing
                )
            )
        width, height = self.options.dimensions()
        text = share_text(content)
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            title=release.title,
            text=text,
            length=len(text),
            unit=N_("characters"),
            warnings=tuple(warnings),
            attachments=(release.image,) if release.image else (),
            kind=PreviewKind.PICTURE,
            facts=self._facts(release, url),
            data={
                "size": self.options.size,
                "orientation": self.options.orientation,
                "width_mm": width,
                "height_mm": height,
                "qr": url,
                "files": [str(path) for path in self._paths(release)],
            },
        )

    def _render(
        self, preview: Preview, notice: Notice | None = None
    ) -> tuple[PosterContent, Layout, bytes]:
        """The poster's content, layout and PDF bytes (with the notice of an amendment)."""
        from chanpub.render.pdf.poster import render_poster

        url = self._url(preview.links)
        if url is None:
            raise PermanentError(
                _(
                    "{channel}: no URL for the QR code: set channels.{channel}.url "
                    "or run a website channel first"
                ).format(channel=self.name)
            )
        try:
            content = self._content(preview.release, url, notice)
        except ReleaseError as error:  # the picture changed since the preview
            raise PermanentError(
                _("{channel}: {reason}").format(channel=self.name, reason=error)
            ) from None
        layout = self._layout()
        return content, layout, render_poster(content, layout)

    def picture(self, preview: Preview) -> bytes:
        """The poster's page as PNG, for the preview page; nothing is written."""
        from chanpub.render.pdf.raster import page_png

        _content, layout, pdf = self._render(preview)
        return page_png(pdf, 800 if layout.width <= layout.height else 1200)

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Render the poster, thumbnail, card and share text, and write them whole."""
        return self._write(preview, key)

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """Print the poster again, under the same file names (links and print shops pick
        up the new version), for a correction or a retraction.

        A correction is the corrected poster with a "RALAT"/"CORRECTION" stamp and the
        note: Action.EDITED. A retraction is a new printed notice, "DICABUT"/"WITHDRAWN"
        with the reason and date, in place of the poster (its QR code still leads to the
        page, which now shows the retraction): Action.SENT, as paper cannot be deleted.
        The time printed is the new version's approval, so a re-run after a crash writes
        the same bytes again; rewriting the files is harmless, nothing is journalled."""
        release = preview.release
        when = amended_at(release.approved_at, amendment.at)
        notice = print_notice(amendment.kind, amendment.note, when, self._language(release))
        previous = amendment.previous
        written = self._write(preview, str(previous.details.get("key") or key), notice)
        return Receipt(
            remote_id=previous.remote_id or written.remote_id,
            url=written.url,
            published_at=written.published_at,
            details={**written.details, "amended": amendment.kind},
            files=written.files,
            action=Action.SENT if amendment.retraction else Action.EDITED,
        )

    def _write(self, preview: Preview, key: str, notice: Notice | None = None) -> Receipt:
        """Render and write the four files; the receipt of the first publication."""
        from chanpub.render.pdf.poster import render_card
        from chanpub.render.pdf.raster import page_png

        release = preview.release
        content, layout, pdf = self._render(preview, notice)
        url = content.url
        thumbnail = page_png(pdf, 800 if layout.width <= layout.height else 1200)
        card = page_png(render_card(content, layout.theme), 1080)
        paths = self._paths(release)
        outputs: tuple[bytes | str, ...] = (pdf, thumbnail, card, share_text(content))
        try:
            remove_stale_temporaries(self.folder)  # left by a run killed mid-write
            for path, data in zip(paths, outputs, strict=True):
                write_atomically(path, data)
        except OSError as error:
            raise PermanentError(
                _(
                    "{channel}: cannot write to {path}: {reason}: check the "
                    "folder in channels.{channel}.out"
                ).format(channel=self.name, path=self.folder, reason=error.strerror)
            ) from None
        digest = hashlib.sha256(pdf).hexdigest()
        details: dict[str, Any] = {
            "path": str(paths[0]),
            "sha256": digest,
            "qr": url,
            "size": self.options.size,
            "key": key,
        }
        return Receipt(
            remote_id=digest[:16],
            url=paths[0].resolve().as_uri(),
            published_at=datetime.now(UTC),
            details=details,
            files=paths,
        )

    def _facts(self, release: Release, url: str | None) -> tuple[tuple[str, str], ...]:
        """Paper, orientation, where the QR code leads and the files, for the preview card."""
        rows = [(_("Paper size"), self.options.size), (_("Orientation"), self.options.orientation)]
        if url:
            rows.append((_("QR code leads to"), url))
        rows.append((_("Files"), ", ".join(path.name for path in self._paths(release))))
        return tuple(rows)

    def update(self, preview: Preview, receipt: Receipt) -> Receipt:
        """Render again in place (a re-approved release with `send --update`)."""
        return self.publish(preview, key=str(receipt.details.get("key", "")))

    def verify(self) -> None:
        """The output folder can be written and the logo read."""
        self.check()
        check_writable_folder(self.name, self.folder)


def share_text(content: PosterContent) -> str:
    """A short text with the canonical link, for officers to paste into messaging apps."""
    labels = labels_for(content.language)
    more = labels["more"].format(url=content.url)
    notice = content.notice
    head = [f"*[{notice.stamp}]* {' '.join(notice.text.split())}", ""] if notice else []
    if notice is not None and notice.retraction:
        lines = [f"*{content.title}*"]
    elif content.clarification:
        lines = [
            f"*[{content.verdict.upper()}]* {content.claim}",
            "",
            f"*{labels['facts']}:* {content.title}",
            content.summary,
        ]
    else:
        lines = [f"*{content.title}*", "", content.summary]
    return "\n".join([*head, *lines, "", more, "", f"— {content.organisation}"]) + "\n"
