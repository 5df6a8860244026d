"""The texts a social channel posts for a release: one fitted post, or a thread's parts,
with the warnings the officer should read in the preview.
"""

from __future__ import annotations

from typing import Any

from chanpub.contract import Links
from chanpub.i18n import _
from chanpub.release import Release
from chanpub.render.shaping import LengthRule


def social_parts(
    channel: Any,
    release: Release,
    links: Links,
    rule: LengthRule,
    *,
    default: str | None = None,
    first_rule: LengthRule | None = None,
) -> tuple[list[str], list[str]]:
    """The post (or thread parts) for a social channel, and the warnings for the officer."""
    where = f"channels.{channel.name}.template"
    warnings: list[str] = []
    if channel.options.thread:
        from chanpub.render.threads import split_paragraphs, thread_text

        text = thread_text(
            release,
            links,
            template=channel.options.template,
            where=where,
            organisation=channel.context.organisation,
        )
        parts = split_paragraphs(text, rule, link=links.canonical_url or "", first_rule=first_rule)
        chosen = [first_rule or rule, *([rule] * (len(parts) - 1))]
        over = [index + 1 for index, part in enumerate(parts) if not chosen[index].fits(part)]
        if over:
            warnings.append(
                _(
                    "{channel}: part {parts} of the thread is still too long: a word "
                    "in it is longer than a post"
                ).format(channel=channel.name, parts=", ".join(map(str, over)))
            )
    else:
        parts = [_fitted_post(channel, release, links, first_rule or rule, default, warnings)]
    if release.image and not release.image_alt:
        warnings.append(
            _("{channel}: the image has no alt text (image_alt)").format(channel=channel.name)
        )
    return parts, warnings


def _fitted_post(
    channel: Any,
    release: Release,
    links: Links,
    rule: LengthRule,
    default: str | None,
    warnings: list[str],
) -> str:
    from chanpub.render.social import fit_post

    fitted, notes = fit_post(
        release,
        links,
        rule,
        channel=channel.name,
        template=channel.options.template,
        organisation=channel.context.organisation,
        default=default,
    )
    warnings.extend(notes)
    return fitted.text


def amendment_text(label: str, note: str, rule: LengthRule, *, link: str = "") -> str:
    """'Ralat: <note>' (and the link on its own line) fitted to `rule`: only the note is
    shortened, word by word, never the label or the link."""
    from chanpub.render.shaping import fit

    def render(values: dict[str, str]) -> str:
        line = f"{label}: {values['note']}".strip()
        return f"{line}\n\n{link}" if link else line

    return fit(render, {"note": " ".join(note.split())}, rule).text
