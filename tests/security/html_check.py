"""Find what would run in a browser: script-like elements, event handlers, script URLs.
A JSON-LD block is data, not code; a title breaking out of it would show as a second,
active <script>."""

from __future__ import annotations

from html.parser import HTMLParser

ACTIVE_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "base", "form"}


class _Finder(HTMLParser):
    def __init__(self, allowed_tags: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed_tags = allowed_tags
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data_only = tag == "script" and dict(attrs).get("type") == "application/ld+json"
        if tag in ACTIVE_TAGS and tag not in self.allowed_tags and not data_only:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "http-equiv":
                self.found.append(f"<{tag} {name}=...>")
            target = "".join((value or "").split()).lower()
            if name in ("href", "src", "action", "formaction", "xlink:href") and target.startswith(
                ("javascript:", "vbscript:", "data:text/html")
            ):
                self.found.append(f"<{tag} {name}={value}>")


def active_content(html: str, allowed_tags: frozenset[str] = frozenset()) -> list[str]:
    """Every piece of `html` a browser would run; [] when it is safe to show."""
    finder = _Finder(allowed_tags)
    finder.feed(html)
    finder.close()
    return finder.found
