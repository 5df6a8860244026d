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
from chanpub.contract import Links, Preview, PreviewKind
from chanpub.errors import ChanpubError, InputError
from chanpub.handle import ChannelHandle
from chanpub.i18n import _, current_language
from chanpub.release import Release
from chanpub.render.pictures import byte_label

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
    kind: str  # a PreviewKind's value (article, social, message, picture, text) or none
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
    amends: str | None = None  # for a correction or retraction: what it will do here


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
    from chanpub.files import (
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
    from chanpub.contract import Links
    from chanpub.intake import approval_problem

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
            assert check.handle is not None  # a preview comes from a handle
            card = _card(channel, check.handle, check.preview, config, sending=True)
            cards.append(replace(card, amends=check.amends))
        else:
            card = _unsent_card(channel, release, links, config, check.reason or "")
            cards.append(replace(card, amends=check.amends))
    signed = _signed_state(release, config)
    problem = approval_problem(release)
    signature_flags: tuple[Flag, ...] = ()
    if signed is not None:
        state, level, signature_flags = signed
    elif problem:
        state, level = (
            _("changed after approval: nothing goes out until it is approved again"),
            "error",
        )
    elif release.is_approved:
        state, level = _("approved by {by}").format(by=release.approved_by or "?"), "ok"
    else:
        state, level = _("draft: nothing goes out until it is approved"), "warning"
    flags = signature_flags + tuple(Flag("warning", warning) for warning in release.warnings)
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


def _signed_state(release: Release, config: Config) -> tuple[str, str, tuple[Flag, ...]] | None:
    """With approvers configured, an approved release's state names who signed it (with
    the key fingerprint) or says why the signatures do not hold; else None."""
    if config.approvers is None or not release.is_signed_off:
        return None
    from chanpub.approvals.verify import signed_by, verify_release

    verdict = verify_release(release, config.approvers)
    if verdict.problems:
        state = _("approval does not hold: nothing goes out until it is signed again")
        return state, "error", tuple(Flag("error", p) for p in verdict.problems)
    return signed_by(verdict.signers), "ok", ()


def _unsent_card(
    channel: ChannelConfig, release: Release, links: Links, config: Config, reason: str
) -> Card:
    """A channel that will not be sent; still shown as it would look when it can be."""
    off = Flag("off", _("not sent: {reason}").format(reason=reason))
    if channel.adapter is None or channel.options is None:
        return Card(channel.name, channel.type, "none", False, (off,))
    from chanpub.context import channel_context

    try:
        handle = ChannelHandle(
            channel.adapter(
                channel.name, channel.options, channel_context(config, channel, release)
            )
        )
        preview = handle.preview(release, links)
    except ChanpubError:
        return Card(channel.name, channel.type, "none", False, (off,))
    card = _card(channel, handle, preview, config, sending=False)
    return replace(card, flags=(off, *card.flags))


def _card(
    channel: ChannelConfig,
    handle: ChannelHandle,
    preview: Preview,
    config: Config,
    *,
    sending: bool,
) -> Card:
    """A card from a channel's Preview: only the contract's typed fields are read."""
    release = preview.release
    pictures = [p for p in preview.attachments if Path(p).suffix.lower() in IMAGE_SUFFIXES]
    alt = release.image_alt if preview.image_alt is None else preview.image_alt
    flags = _flags(channel.name, preview, missing_alt=bool(pictures) and not (alt or "").strip())
    shown = preview.picture or (pictures[0] if pictures else None)
    rows = list(preview.facts)
    if preview.recipients is not None:
        rows.append((_("Recipients"), str(preview.recipients)))
    common: dict[str, Any] = {
        "name": channel.name,
        "type": channel.type,
        "sending": sending,
        "flags": tuple(flags),
        "title": preview.title,
        "length": preview.length,
        "limit": preview.limit,
        "unit": _(preview.unit),
        "details": tuple(rows),
    }
    kind = preview.shown_as
    if kind == PreviewKind.PICTURE:
        picture, problem = _rendered_picture(handle, preview, config)
        if problem:
            common["flags"] = (*common["flags"], Flag("error", problem))
        return Card(
            kind=kind.value,
            parts=(preview.text,),
            image=picture or (_picture_uri(shown) if shown else None),
            image_alt=preview.title,
            **{**common, "length": None, "limit": None},
        )
    if kind == PreviewKind.MESSAGE:
        return Card(
            kind=kind.value,
            frame=_frame(preview.html, release),
            parts=(preview.text,) if not preview.html else (),
            attachments=tuple(_attachment_line(p) for p in preview.attachments),
            **common,
        )
    if kind == PreviewKind.ARTICLE:
        # The article's address, on the canonical channel's card; adapters' own URLs (a
        # webhook's endpoint) stay off the page.
        url = preview.links.canonical_url if channel.canonical else None
        if url:
            common["details"] = ((_("Address"), str(url)), *rows)
        return Card(kind=kind.value, frame=_frame(preview.html, release), **common)
    return Card(
        kind=kind.value,
        parts=preview.posts,
        image=_picture_uri(shown) if shown else None,
        image_alt=(alt or None) if shown else None,
        **common,
    )


def _flags(name: str, preview: Preview, *, missing_alt: bool) -> list[Flag]:
    """What the card warns of: over the limit first, then the channel's own warnings
    (without its name: the card already names it), then a picture without alt text."""
    prefix = f"{name}: "
    flags = [
        Flag("warning", w[len(prefix) :] if w.startswith(prefix) else w) for w in preview.warnings
    ]
    if preview.over_limit:
        over = _("{length} of {limit} {unit}: over the limit").format(
            length=preview.length, limit=preview.limit, unit=_(preview.unit)
        )
        flags.insert(0, Flag("error", over))
    if missing_alt:
        flags.append(
            Flag("warning", _("the image has no alt text: add 'image_alt:' to the release"))
        )
    return flags


def _attachment_line(path: Path) -> str:
    try:
        size = Path(path).stat().st_size
    except OSError:
        return Path(path).name
    return f"{Path(path).name} ({byte_label(size)})"  # as SMTP servers state their SIZE


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
    handle: ChannelHandle, preview: Preview, config: Config
) -> tuple[str | None, str | None]:
    """The channel's own picture of its output (a poster) as a data: URI, or why there is
    none; nothing is written."""
    try:
        data = handle.picture(preview)
    except ChanpubError as error:
        return None, config.redact(error.message)
    if data is None:
        return None, None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii"), None


def render_preview(page: PreviewPage, config: Config) -> str:
    """The page as HTML (autoescaped), with every configured secret value masked."""
    from chanpub.render.templating import environment

    template = environment(True).get_template("preview.html")
    return config.redact(template.render(**preview_context(page)))


def preview_context(page: PreviewPage) -> dict[str, Any]:
    """What preview.html and its parts (preview_cards.html) need: the same cards on the
    preview page and on the phone approval page."""
    counts = {
        level: sum(1 for card in page.cards for flag in card.flags if flag.level == level)
        for level in ("error", "warning", "off")
    }
    return {
        "page": page,
        "release": page.release,
        "_": _,
        "counts": counts,
        "sending": sum(1 for card in page.cards if card.sending),
        "frame_policy": FRAME_POLICY,
    }
