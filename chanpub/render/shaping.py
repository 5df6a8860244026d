"""Text shaped for each network: counting the way the platform counts, and shortening
at a word boundary without ever cutting the canonical link or a clarification's verdict.

Counting rules, each from the platform's documentation:
- Mastodon: extended grapheme clusters; every http(s) URL counts as 23
  (https://docs.joinmastodon.org/user/posting/#text).
- Bluesky: 300 graphemes and 3000 UTF-8 bytes; URLs count in full
  (https://docs.bsky.app/docs/advanced-guides/post-richtext).
- X: twitter-text v3's weighted length, counted by the x channel's own module; URLs
  count as 23, emoji as 2 (https://docs.x.com/resources/fundamentals/counting-characters).
Telegram's count (UTF-16 code units after HTML entity parsing) lives in its adapter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import regex

URL_PATTERN = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
HASHTAG_PATTERN = regex.compile(r"(?<![\p{L}\p{N}_&])#([\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*)")
URL_WEIGHT = 23


def graphemes(text: str) -> list[str]:
    """Split text into user-perceived characters (extended grapheme clusters)."""
    return regex.findall(r"\X", text)


def count_graphemes(text: str) -> int:
    """Grapheme clusters, as Bluesky and Mastodon count."""
    return len(graphemes(text))


def count_utf8_bytes(text: str) -> int:
    """UTF-8 bytes (Bluesky's second cap, and facet offsets)."""
    return len(text.encode("utf-8"))


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """Every http(s) URL in the text as (start, end, url), in str indices."""
    return [(m.start(), m.end(), m.group(0)) for m in URL_PATTERN.finditer(text)]


@dataclass(frozen=True)
class LengthRule:
    """How one channel counts its text, and its limit."""

    limit: int
    unit: str
    count: Callable[[str], int]

    def fits(self, text: str) -> bool:
        """True when the text is within the limit."""
        return self.count(text) <= self.limit


def hashtag(tag: str) -> str:
    """A tag as a hashtag networks recognise: '#' and the words joined in CamelCase."""
    words = regex.findall(r"[\p{L}\p{N}_]+", tag)
    if not words:
        return ""
    if len(words) == 1:
        return "#" + str(words[0])
    return "#" + "".join(w[:1].upper() + w[1:] for w in words)


def hashtags(tags: Iterable[str]) -> str:
    """Tags as space-separated hashtags, duplicates dropped."""
    seen: dict[str, None] = {}
    for tag in tags:
        tagged = hashtag(tag)
        if tagged and tagged.lower() not in {s.lower() for s in seen}:
            seen[tagged] = None
    return " ".join(seen)


def shorten_words(text: str, words: int, ellipsis: str = "…") -> str:
    """The first `words` words of text, with an ellipsis when something was cut."""
    parts = text.split()
    if words >= len(parts):
        return text.strip()
    if words <= 0:
        return ""
    return " ".join(parts[:words]).rstrip(",;:-–—") + ellipsis


@dataclass(frozen=True)
class Fitted:
    """Text fitted to a rule, with what had to be done to it."""

    text: str
    length: int
    limit: int
    unit: str
    shortened: bool

    @property
    def over_limit(self) -> bool:
        """Still too long after shortening everything that may be shortened."""
        return self.length > self.limit


def fit(
    render: Callable[[dict[str, str]], str],
    flexible: dict[str, str],
    rule: LengthRule,
) -> Fitted:
    """Render with the flexible fields (summary, then title) shortened word by word
    until the result fits. Fixed parts (link, verdict, hashtags) are never cut, because
    they are not flexible: they stay in the template untouched."""
    values = dict(flexible)
    text = render(values)
    if rule.fits(text):
        return Fitted(text, rule.count(text), rule.limit, rule.unit, False)
    # Cut the last flexible field first (summary before title), each by binary search.
    for name in reversed(list(flexible)):
        original = flexible[name]
        total = len(original.split())
        low, high, best = 0, total, None
        while low <= high:
            middle = (low + high) // 2
            values[name] = shorten_words(original, middle)
            if rule.fits(render(values)):
                best, low = middle, middle + 1
            else:
                high = middle - 1
        values[name] = shorten_words(original, best if best is not None else 0)
        text = render(values)
        if rule.fits(text):
            break
    return Fitted(text, rule.count(text), rule.limit, rule.unit, True)


def split_thread(text: str, rule: LengthRule, *, keep_first: str = "") -> list[str]:
    """Split a long text into posts that each fit, at word boundaries.

    `keep_first` (e.g. the canonical link) is appended to the first post and never split.
    A numbering suffix " (i/n)" is added when there is more than one post.
    """
    words = text.split()
    posts: list[list[str]] = [[]]
    suffix_room = " (99/99)"

    def candidate(index: int, parts: list[str]) -> str:
        body = " ".join(parts)
        if index == 0 and keep_first:
            body = f"{body}\n\n{keep_first}" if body else keep_first
        return body + suffix_room

    for word in words:
        trial = [*posts[-1], word]
        if rule.fits(candidate(len(posts) - 1, trial)) or not posts[-1]:
            posts[-1] = trial
        else:
            posts.append([word])
    total = len(posts)
    result: list[str] = []
    for index, parts in enumerate(posts):
        body = " ".join(parts)
        if index == 0 and keep_first:
            body = f"{body}\n\n{keep_first}" if body else keep_first
        result.append(f"{body} ({index + 1}/{total})" if total > 1 else body)
    return result


def utf8_spans(
    text: str, pattern: re.Pattern[str] | regex.Pattern[str]
) -> Iterator[tuple[int, int, re.Match[str]]]:
    """Matches of a pattern with UTF-8 byte offsets (start inclusive, end exclusive)."""
    for match in pattern.finditer(text):
        start = len(text[: match.start()].encode("utf-8"))
        end = start + len(match.group(0).encode("utf-8"))
        yield start, end, match  # type: ignore[misc]  # regex and re matches share the API
