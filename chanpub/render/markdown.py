"""Markdown -> sanitised HTML and plain text (markdown-it-py + nh3)."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# What a press release may contain; everything else (script, style, iframes, event
# handlers, javascript: URLs) is removed by nh3.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "ul", "del", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"},
                      "td": {"align"}}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto", "tel"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # commonmark with tables and strikethrough; raw HTML is escaped, not passed through.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"]
    )


def sanitise_html(fragment: str) -> str:
    """Remove anything that is not plain article markup from an HTML fragment."""
    import nh3

    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener",
    )


def to_html(markdown: str) -> str:
    """Render release Markdown as sanitised HTML; the release's own h1 is demoted."""
    rendered = _parser().render(markdown)
    rendered = re.sub(r"<(/?)h1>", r"<\1h2>", rendered)
    return sanitise_html(rendered)


def to_plain(markdown: str) -> str:
    """Render Markdown as readable plain text: paragraphs, list items, links as 'text (url)'."""
    tokens = _parser().parse(markdown)
    blocks: list[str] = []
    in_item: list[bool] = []  # list items are joined by single newlines
    prefix_stack: list[str] = []
    counters: list[int] = []
    for token in tokens:
        if token.type == "bullet_list_open":
            prefix_stack.append("- ")
            counters.append(0)
        elif token.type == "ordered_list_open":
            prefix_stack.append("#")
            counters.append(int(token.attrs.get("start", 1) or 1) - 1)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            prefix_stack.pop()
            counters.pop()
            in_item.clear()
        elif token.type == "list_item_open" and counters:
            counters[-1] += 1
        elif token.type == "inline":
            text = _inline_plain(token)
            if prefix_stack:
                marker = prefix_stack[-1]
                bullet = f"{counters[-1]}. " if marker == "#" else marker
                text = "  " * (len(prefix_stack) - 1) + bullet + text
                if in_item and in_item[-1] and blocks:
                    blocks[-1] += "\n" + text
                    continue
                in_item.append(True)
            blocks.append(text)
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(block for block in blocks if block.strip())


def _inline_plain(token: object) -> str:
    parts: list[str] = []
    href_stack: list[str] = []
    for child in getattr(token, "children", None) or []:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" " if kind == "softbreak" else "\n")
        elif kind == "link_open":
            href_stack.append(str(child.attrs.get("href", "")))
            parts.append("")
        elif kind == "link_close" and href_stack:
            href = href_stack.pop()
            if href and not parts[-1].endswith(href):
                parts.append(f" ({href})")
        elif kind == "image":
            parts.append(child.content)
    return "".join(parts).strip()


def first_paragraph(markdown: str) -> str:
    """The first paragraph of the text, as plain text (the summary when none is given)."""
    for token in _parser().parse(markdown):
        if token.type == "inline" and token.content.strip():
            return _inline_plain(token)
    return ""


def escape(text: str) -> str:
    """HTML-escape text (quotes included)."""
    return html.escape(text, quote=True)
