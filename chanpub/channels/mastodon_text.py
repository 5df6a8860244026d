"""Mastodon's status text: its length as the StatusLengthValidator counts it, and a
status read back as plain text (to recognise it after a lost answer).

Reference: app/validators/status_length_validator.rb, lib/extractor.rb, app/models/account.rb
(MENTION_RE) and config/initializers/twitter_regex.rb in https://github.com/mastodon/mastodon.
Every URL the extractor finds (a protocol is required; twitter-text's domain and TLD rules,
Mastodon's wider path rules) counts as 23 characters, every `@user@domain` as `@user`, and
the rest in grapheme clusters.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from typing import Any

from chanpub.channels.x_text import LATIN_ACCENTS, domain_pattern
from chanpub.render.shaping import count_graphemes

URL_LENGTH = 23
_WHITE_SPACE = r"\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_UCHARS = (
    r"\xa0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    r"\U00030000-\U0003fffd\U000e1000-\U000efffd\ue000-\uf8ff\U000f0000-\U0010fffd"
)
_MENTION = re.compile(r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(@\w+(?:[.-]+\w+)*)?", re.I)
_MENTION_FOLLOWED_BY = re.compile(rf"[@\uff20{LATIN_ACCENTS}]|://")  # end_mention_match


@cache
def _url() -> re.Pattern[str]:
    """Mastodon's valid_url with the protocol required (extract_url_without_protocol: false)."""
    path_char = rf"[^{_WHITE_SPACE}<>()?]"
    parens = rf"\((?:{path_char}+|(?:{path_char}*\({path_char}+\){path_char}*))\)"
    path_end = rf"(?:[^{_WHITE_SPACE}()?!*\"'「」<>;:=,.$%\[\]~&|@]|{parens})"
    path = rf"(?:(?:{path_char}*(?:{parens}{path_char}*)*{path_end})|(?:{path_char}+/))"
    query_char = rf"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]"
    query_end = rf"[a-z0-9_&=#/\-{_UCHARS}]"
    before = (
        r"(?:[^A-Za-z0-9@\uff20$#\uff03\ufffe\ufeff\uffff]"
        r"|[\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069]|^)"
    )
    return re.compile(
        rf"{before}(?P<url>(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://{domain_pattern()}"
        rf"(?::[0-9]+)?(?:/{path}*)?(?:\?{query_char}*{query_end})?)",
        re.IGNORECASE,
    )


def countable_text(text: str) -> str:
    """The text with URLs as 23 `x` and remote mentions as the local part, as Mastodon
    rewrites it before counting (overlapping entities: the first one wins)."""
    entities: list[tuple[int, int, str]] = []
    for match in _url().finditer(text):
        entities.append((match.start("url"), match.end("url"), "x" * URL_LENGTH))
    for match in _MENTION.finditer(text):
        if not _MENTION_FOLLOWED_BY.match(text, match.end()):
            entities.append((match.start(), match.end(), "@" + match.group(1)))
    pieces: list[str] = []
    last = 0
    for start, end, replacement in sorted(entities):
        if start >= last:
            pieces += [text[last:start], replacement]
            last = end
    return "".join([*pieces, text[last:]])


def count_mastodon(text: str) -> int:
    """Mastodon's count: URLs (with a protocol and a known TLD) as 23, `@user@domain` as
    `@user`, then grapheme clusters, as its StatusLengthValidator counts."""
    return count_graphemes(countable_text(text))


def encode_status(status: dict[str, Any]) -> str:
    """A status as its journal entry: its id and URL."""
    return json.dumps({"id": str(status["id"]), "url": status.get("url") or status.get("uri")})


def text_of(content: str) -> str:
    """A status's HTML content as plain text (paragraphs and line breaks as spaces)."""
    content = re.sub(r"</p>\s*<p>|<br\s*/?>", " ", content)
    return html.unescape(re.sub(r"<[^>]+>", "", content))


def plain(text: str) -> str:
    """The text with every run of white space as one space (to compare statuses)."""
    return " ".join(text.split())
