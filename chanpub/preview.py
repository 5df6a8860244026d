"""`chanpub preview`: one self-contained HTML page showing what every configured channel
would publish for a release, with everything the approver should know flagged.

The page needs no network: styles are inline, pictures are data: URIs, and the website
article and the e-mail are shown in sandboxed `srcdoc` frames. It is built from the same
previews as `chanpub check`; it never contains a secret.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chanpub.config import ChannelConfig, Config
from chanpub.errors import ChanpubError, InputError
from chanpub.i18n import _, current_language
from chanpub.release import Release

PICTURE_TYPES = ("poster-pdf",)  # rendered into a temporary folder to show as a picture
EMBED_LIMIT = 400_000  # bytes: larger pictures are scaled down before they are embedded
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
_RELATIVE_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")(?!data:|https?:|//)[^"]*(")', re.IGNORECASE)
# Frames may show pictures only from data: URIs and no scripts, so looking is private.
FRAME_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"


@dataclass(frozen=True)
class Flag:
    """Something the approver should know: 'error' (will not go out as is), 'warning' or
    'off' (the channel will not be sent)."""

    level: str
    text: str


@dataclass(frozen=True)
class Card:
    """One configured channel on the page: what it would publish, or why it will not."""

    name: str
    type: str
    kind: str  # article, social, email, picture, text or none
    sending: bool
    flags: tuple[Flag, ...] = ()
    title: str | None = None
    parts: tuple[str, ...] = ()
    length: int | None = None
    limit: int | None = None
    unit: str = ""
    frame: str | None = None  # a whole HTML document for a sandboxed srcdoc frame
    image: str | None = None  # data: URI
    image_alt: str | None = None
    details: tuple[tuple[str, str], ...] = ()  # (label, value) rows
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreviewPage:
    """Everything on the page: the release, its state, its hash and one card per channel."""

    release: Release
    state: str
    state_level: str  # ok, warning or error
    approve_command: str
    cards: tuple[Card, ...]
    flags: tuple[Flag, ...] = ()  # about the release as a whole
    organisation: str = ""
    language: str = "en"
    extra: Mapping[str, Any] = field(default_factory=dict)


def write_preview(path: Path, config: Config, out: Path | None = None) -> Path:
    """Write the preview page of the release at `path`; return the page's path.

    The page goes to `out` when given, else to `preview/` in the state directory."""
    page = build_preview(path, config)
    folder = out if out is not None else config.state_dir / "preview"
    target = folder / f"{page.release.slug}-preview.html"
    from chanpub.render.files import (
        make_private_folder,
        remove_stale_temporaries,
        write_atomically,
    )

    try:
        if out is None:  # in the state directory the page is private like the rest
            make_private_folder(config.state_dir)
        write_atomically(target, render_preview(page, config), private=out is None)
        remove_stale_temporaries(folder)
    except OSError as error:
        raise InputError(
            _(
                "{path}: cannot write the preview page ({reason}): choose another folder with --out"
            ).format(path=folder, reason=error.strerror)
        ) from None
    return target


def build_preview(path: Path, config: Config) -> PreviewPage:
    """The release and a card for every configured channel, ready or not."""
    from chanpub import actions
    from chanpub.channels.base import Links
    from chanpub.plan import approval_problem

    release, checks = actions.check(path, config)
    links = next((c.preview.links for c in checks if c.preview is not None), Links())
    by_name = {check.name: check for check in checks}
    cards = []
    for channel in config.channels.values():
        check = by_name.get(channel.name)
        if check is None:
            cards.append(
                Card(
                    channel.name,
                    channel.type,
                    "none",
                    False,
                    (
                        Flag(
                            "off",
                            _("not sent: this release lists only {names} under 'channels:'").format(
                                names=", ".join(release.channels or ())
                            ),
                        ),
                    ),
                )
            )
        elif check.preview is not None and check.reason is None:
            cards.append(_card(channel, check.preview, config, sending=True))
        else:
            cards.append(_unsent_card(channel, release, links, config, check.reason or ""))
    problem = approval_problem(release)
    if problem:
        state, level = (
            _("changed after approval: nothing goes out until it is approved again"),
            "error",
        )
    elif release.is_approved:
        state, level = _("approved by {by}").format(by=release.approved_by or "?"), "ok"
    else:
        state, level = _("draft: nothing goes out until it is approved"), "warning"
    flags = tuple(Flag("warning", warning) for warning in release.warnings)
    return PreviewPage(
        release=release,
        state=state,
        state_level=level,
        approve_command=_('chanpub approve {path} --by "NAME"').format(path=release.path),
        cards=tuple(cards),
        flags=flags,
        organisation=config.organisation,
        language=current_language(),
    )


def _unsent_card(
    channel: ChannelConfig, release: Release, links: Any, config: Config, reason: str
) -> Card:
    """A channel that will not be sent; still shown as it would look when it can be."""
    off = Flag("off", _("not sent: {reason}").format(reason=reason))
    if channel.adapter is None or channel.options is None:
        return Card(channel.name, channel.type, "none", False, (off,))
    from chanpub.dispatch import context_factory

    try:
        adapter = channel.adapter(
            channel.name, channel.options, context_factory(config, None)(release, channel)
        )
        preview = adapter.preview(release, links)
    except ChanpubError:
        return Card(channel.name, channel.type, "none", False, (off,))
    card = _card(channel, preview, config, sending=False)
    return replace(card, flags=(off, *card.flags))


def _card(channel: ChannelConfig, preview: Any, config: Config, *, sending: bool) -> Card:
    """A card from a channel's Preview."""
    prefix = f"{channel.name}: "  # the card already names the channel
    flags = [
        Flag("warning", w[len(prefix) :] if w.startswith(prefix) else w) for w in preview.warnings
    ]
    if preview.over_limit:
        flags.insert(
            0,
            Flag(
                "error",
                _("{length} of {limit} {unit}: over the limit").format(
                    length=preview.length, limit=preview.limit, unit=preview.unit
                ),
            ),
        )
    release: Release = preview.release
    data: Mapping[str, Any] = preview.data or {}
    pictures = [p for p in preview.attachments if Path(p).suffix.lower() in IMAGE_SUFFIXES]
    alt = str(data.get("image_alt", release.image_alt or ""))
    if pictures and not alt.strip():
        flags.append(
            Flag("warning", _("the image has no alt text: add 'image_alt:' to the release"))
        )
    common: dict[str, Any] = {
        "name": channel.name,
        "type": channel.type,
        "sending": sending,
        "title": preview.title,
        "length": preview.length,
        "limit": preview.limit,
        "unit": preview.unit,
    }
    if channel.type in PICTURE_TYPES:
        picture, problem = _rendered_picture(channel, preview, config)
        if problem:
            flags.append(Flag("error", problem))
        files = [Path(str(f)).name for f in data.get("files", ())]
        return Card(
            kind="picture",
            flags=tuple(flags),
            parts=(preview.text,),
            image=picture,
            image_alt=preview.title,
            attachments=tuple(files),
            details=_details(
                data,
                {
                    "size": _("Paper size"),
                    "orientation": _("Orientation"),
                    "qr": _("QR code leads to"),
                },
            ),
            **{**common, "length": None, "limit": None},
        )
    if channel.type == "email":
        rows = [(_("From"), str(data.get("from") or "")), (_("Subject"), preview.title or "")]
        if data.get("reply_to"):
            rows.append((_("Reply-To"), str(data["reply_to"])))
        if preview.recipients is not None:
            rows.append((_("Recipients"), str(preview.recipients)))
        return Card(
            kind="email",
            flags=tuple(flags),
            frame=_frame(preview.html, release),
            parts=(preview.text,) if not preview.html else (),
            attachments=tuple(_attachment_line(p) for p in preview.attachments),
            details=tuple(rows),
            **common,
        )
    image = _picture_uri(pictures[0]) if pictures else None
    if preview.limit is not None or data.get("parts"):
        parts = tuple(str(p) for p in data.get("parts") or (preview.text,))
        return Card(
            kind="social",
            flags=tuple(flags),
            parts=parts,
            image=image,
            image_alt=alt if pictures else None,
            **common,
        )
    if preview.html:
        # The article's address, on the canonical channel's card; adapters' own URLs (a
        # webhook's endpoint) stay off the page.
        url = preview.links.canonical_url if channel.canonical else None
        return Card(
            kind="article",
            flags=tuple(flags),
            frame=_frame(preview.html, release),
            details=((_("Address"), str(url)),) if url else (),
            **common,
        )
    return Card(
        kind="text",
        flags=tuple(flags),
        parts=(preview.text,),
        image=image,
        image_alt=alt if pictures else None,
        **common,
    )


def _details(data: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((label, str(data[key])) for key, label in labels.items() if data.get(key))


def _attachment_line(path: Path) -> str:
    try:
        size = Path(path).stat().st_size
    except OSError:
        return Path(path).name
    return f"{Path(path).name} ({_size(size)})"


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KB" if count < 1024 * 1024 else f"{count / 1048576:.1f} MB"


def _frame(html: str | None, release: Release) -> str | None:
    """A whole document for a sandboxed frame: the release picture inlined, a strict
    content policy so nothing is fetched."""
    if not html:
        return None
    if release.image is not None and release.image.is_file():
        uri = _picture_uri(release.image)
        if uri:
            html = _RELATIVE_SRC.sub(lambda m: m.group(1) + uri + m.group(2), html)
    policy = f'<meta http-equiv="Content-Security-Policy" content="{FRAME_POLICY}">'
    if re.search(r"<head[^>]*>", html, re.IGNORECASE):
        return re.sub(
            r"(<head[^>]*>)", lambda m: m.group(1) + policy, html, count=1, flags=re.IGNORECASE
        )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{policy}</head>'
        f'<body style="font-family:sans-serif">{html}</body></html>'
    )


def _picture_uri(path: Path) -> str | None:
    """A picture as a data: URI, scaled down when it is large; None when unreadable."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    suffix = Path(path).suffix.lower().lstrip(".")
    mime = {"jpg": "jpeg"}.get(suffix, suffix)
    if len(data) > EMBED_LIMIT:
        import io

        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as picture:
                picture.thumbnail((1200, 1200))
                buffer = io.BytesIO()
                picture.convert("RGB").save(buffer, "JPEG", quality=85)
        except (OSError, UnidentifiedImageError):
            return None
        data, mime = buffer.getvalue(), "jpeg"
    return f"data:image/{mime};base64," + base64.b64encode(data).decode("ascii")


def _rendered_picture(
    channel: ChannelConfig, preview: Any, config: Config
) -> tuple[str | None, str | None]:
    """Render a print channel into a temporary folder through its own publish(), and
    return its thumbnail as a data: URI (or why it could not be rendered)."""
    import tempfile

    from chanpub.channels.base import ChannelContext

    assert channel.adapter is not None and channel.options is not None
    with tempfile.TemporaryDirectory(prefix="chanpub-preview-") as folder:
        options = channel.options.model_copy(update={"out": folder})
        context = ChannelContext(
            organisation=config.organisation,
            language=preview.release.language or config.language,
            base_dir=config.base_dir,
            state_dir=Path(folder),
        )
        adapter = channel.adapter(channel.name, options, context)
        try:
            receipt = adapter.publish(adapter.preview(preview.release, preview.links), "preview")
        except ChanpubError as error:
            return None, config.redact(error.message)
        pngs = [Path(f) for f in receipt.files if Path(f).suffix == ".png"]
        if pngs:
            return _picture_uri(pngs[0]), None
        pdfs = [Path(f) for f in receipt.files if Path(f).suffix == ".pdf"]
        if pdfs:
            from chanpub.render.pdf.raster import page_png

            data = page_png(pdfs[0].read_bytes(), 800)
            return "data:image/png;base64," + base64.b64encode(data).decode("ascii"), None
    return None, _("{channel}: produced no picture to show").format(channel=channel.name)


def render_preview(page: PreviewPage, config: Config) -> str:
    """The page as HTML (autoescaped), with every configured secret value masked."""
    from chanpub.render.templating import environment

    template = environment(True).get_template("preview.html")
    counts = {
        level: sum(1 for card in page.cards for flag in card.flags if flag.level == level)
        for level in ("error", "warning", "off")
    }
    html = template.render(
        page=page,
        release=page.release,
        _=_,
        counts=counts,
        sending=sum(1 for card in page.cards if card.sending),
        frame_policy=FRAME_POLICY,
    )
    return config.redact(html)
