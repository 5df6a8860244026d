"""Markdown -> sanitised HTML and plain text (markdown-it-py + nh3)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
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
                      "td": {"align"}, "ol": {"start"}}  # fmt: skip
# Removed with their content, not just their tags: nothing in them is article text.
HIDDEN_TAGS = {"script", "style", "noscript", "template", "iframe", "object", "svg", "math",
               "textarea", "title"}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto", "tel"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # commonmark with tables and strikethrough; raw HTML passes through to nh3, which keeps
    # only ALLOWED_TAGS (so `<b>` stays bold and `<script>` goes, content and all).
    return MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(
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
        clean_content_tags=HIDDEN_TAGS,
        strip_comments=True,
        link_rel="noopener",
    )


def to_html(markdown: str) -> str:
    """Render release Markdown as sanitised HTML; the release's own h1 is demoted."""
    rendered = _parser().render(markdown)
    rendered = re.sub(r"<(/?)h1>", r"<\1h2>", rendered)
    return sanitise_html(rendered)


def to_plain(markdown: str) -> str:
    """The text the website shows of this Markdown, as readable plain text: paragraphs,
    list items, links as 'text (url)'. Print, e-mail text parts and posts use it, so raw
    HTML in a body reads alike everywhere: what the sanitiser drops is gone, never shown
    as markup."""
    return "\n\n".join(_joined(visible_blocks(to_html(markdown))))


def first_paragraph(markdown: str) -> str:
    """The first paragraph the website shows, as plain text (the summary when none is
    given)."""
    return next((b.text for b in visible_blocks(to_html(markdown)) if not b.code), "")


@dataclass(frozen=True)
class Block:
    """One block of visible text: a paragraph, heading, list item, table row or code."""

    text: str  # without the list marker
    prefix: str = ""  # "- ", "2. " or the indent of an item's later paragraph
    group: int | None = None  # blocks of one list or table are joined by single newlines
    code: bool = False


def visible_blocks(html: str) -> list[Block]:
    """The visible text of sanitised HTML (see `to_html`), block by block."""
    walker = _VisibleText()
    walker.feed(html)
    walker.close()
    walker.flush()
    return walker.blocks


def _joined(blocks: list[Block]) -> list[str]:
    joined: list[str] = []
    previous: Block | None = None
    for block in blocks:
        text = block.prefix + block.text
        if previous is not None and block.group is not None and block.group == previous.group:
            joined[-1] += "\n" + text
        else:
            joined.append(text)
        previous = block
    return joined


_BLOCK_TAGS = frozenset(
    {"p", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "table", "thead", "tbody"}
)


class _VisibleText(HTMLParser):
    """Walks sanitised HTML (only ALLOWED_TAGS are left) and collects its visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.lists: list[int | None] = []  # per open list: its counter, None for bullets
        self.bullet_due = False  # the next text starts a list item
        self.group: int | None = None  # the open list or table
        self.groups = 0
        self.links: list[tuple[str, int]] = []  # href, where the link's text starts
        self.pre = False
        self.cells = 0  # cells so far in the open table row

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in _BLOCK_TAGS or tag in ("ul", "ol", "li", "pre", "tr"):
            self.flush()
        if tag in ("ul", "ol"):
            start = values.get("start", "1")
            self.lists.append(int(start) - 1 if tag == "ol" and start.isdigit() else None)
            self._open_group()
        elif tag == "li" and self.lists:
            if self.lists[-1] is not None:
                self.lists[-1] += 1
            self.bullet_due = True
        elif tag == "table":
            self._open_group()
        elif tag == "tr":
            self.cells = 0
        elif tag in ("td", "th"):
            self.parts.append(" | " if self.cells else "")
            self.cells += 1
        elif tag == "pre":
            self.pre = True
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "img":
            self.parts.append(values.get("alt", ""))
        elif tag == "a":
            self.links.append((values.get("href", ""), len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href, start = self.links.pop()
            if href and not "".join(self.parts[start:]).strip().endswith(href):
                self.parts.append(f" ({href})")
        elif tag == "pre":
            text = "".join(self.parts).rstrip("\n")
            self.parts.clear()
            self.pre = False
            if text.strip():
                self.blocks.append(Block(text, group=None, code=True))
        elif tag in _BLOCK_TAGS or tag in ("ul", "ol", "li", "tr"):
            self.flush()
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
                if not self.lists:
                    self.group = None
            elif tag == "table":
                self.group = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data if self.pre else re.sub(r"[ \t\n\r\f]+", " ", data))

    def flush(self) -> None:
        """End the text collected so far as one block (nothing if it is blank)."""
        lines = ("".join(self.parts)).split("\n")
        self.parts.clear()
        text = "\n".join(" ".join(line.split()) for line in lines).strip()
        if not text:
            return
        prefix = ""
        if self.lists:
            counter = self.lists[-1]
            bullet = "- " if counter is None else f"{counter}. "
            indent = "  " * (len(self.lists) - 1)
            prefix = indent + (bullet if self.bullet_due else " " * len(bullet))
            self.bullet_due = False
        self.blocks.append(Block(text, prefix, self.group))

    def _open_group(self) -> None:
        if self.group is None:
            self.groups += 1
            self.group = self.groups


def escape(text: str) -> str:
    """HTML-escape text (quotes included)."""
    return html.escape(text, quote=True)
