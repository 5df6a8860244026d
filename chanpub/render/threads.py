"""Threads for social channels with `thread: true`: the release's text split into posts
that each fit, at paragraph and then word boundaries, with the canonical link (and a
clarification's verdict, which opens the text) always in the first post.

Template fields are those of chanpub.render.social plus `body`, the release's text as
plain paragraphs. In a thread the link always closes the first post, so `{{ url }}` is
left empty in the template.
"""

from __future__ import annotations

from chanpub.contract import Links
from chanpub.release import Release
from chanpub.render.shaping import LengthRule

DEFAULT_THREAD_TEMPLATE = (
    "{% if verdict %}[{{ verdict }}] {% endif %}{{ title }}\n\n"
    "{{ summary }}\n\n"
    "{{ body }}"
    "{% if hashtags %}\n\n{{ hashtags }}{% endif %}"
)
NUMBER_ROOM = " (99/99)"  # room kept in every post for its number


def thread_text(
    release: Release,
    links: Links,
    *,
    template: str | None,
    where: str,
    organisation: str = "",
) -> str:
    """The whole text of a thread, before splitting: the template with `body` filled."""
    from chanpub.markdown import to_plain
    from chanpub.render.social import _tidy, post_fields
    from chanpub.render.templating import render_template

    fields = {
        **post_fields(release, links, organisation),
        "url": "",
        "body": to_plain(release.body),
    }
    text = render_template(template or DEFAULT_THREAD_TEMPLATE, fields, where=where)
    return _tidy(text)


def check_thread_template(template: str | None, where: str) -> None:
    """Fail before sending on a thread template with a syntax error or an unknown field."""
    if template is None:
        return
    from chanpub.render.social import FIELDS
    from chanpub.render.templating import render_template

    sample: dict[str, object] = {name: "x" for name in FIELDS}
    sample.update(tags=["x"], body="x")
    render_template(template, sample, where=where)


def split_paragraphs(
    text: str, rule: LengthRule, *, link: str = "", first_rule: LengthRule | None = None
) -> list[str]:
    """Split text into posts that each fit their rule, keeping paragraphs together where
    they fit and splitting longer ones at word boundaries.

    `link` closes the first post and is never split; `first_rule` (e.g. a photo caption's
    limit) applies to the first post instead of `rule`. Posts are numbered " (i/n)" when
    there is more than one.
    """

    def fits(index: int, body: str) -> bool:
        chosen = (first_rule or rule) if index == 0 else rule
        return chosen.fits(_finish(body, index, link) + NUMBER_ROOM)

    posts: list[str] = [""]
    for paragraph in [p.strip() for p in text.split("\n\n") if p.strip()]:
        current = posts[-1]
        joined = f"{current}\n\n{paragraph}" if current else paragraph
        if fits(len(posts) - 1, joined):
            posts[-1] = joined
            continue
        if current and fits(len(posts), paragraph):
            posts.append(paragraph)  # it fits a post of its own: keep it whole
            continue
        separator = "\n\n"  # a paragraph longer than a post fills this one, then the next
        for word in paragraph.split():
            current = posts[-1]
            joined = f"{current}{separator}{word}" if current else word
            if fits(len(posts) - 1, joined) or not current:
                posts[-1] = joined
            else:
                posts.append(word)
            separator = " "
    total = len(posts)
    return [
        _finish(body, index, link) + (f" ({index + 1}/{total})" if total > 1 else "")
        for index, body in enumerate(posts)
    ]


def _finish(body: str, index: int, link: str) -> str:
    if index == 0 and link:
        return f"{body}\n\n{link}" if body else link
    return body
