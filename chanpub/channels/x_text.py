"""X's weighted text length, computed as twitter-text v3's `parseTweet` computes it.

Reference: https://developer.x.com/en/docs/counting-characters and twitter-text's
js/src/parseTweet.js, extractUrlsWithIndices.js and config/v3.json
(https://github.com/twitter/twitter-text). A code point weighs 1 in the light ranges and 2
elsewhere; every URL the extractor finds weighs 23; every emoji twemoji-parser's pattern
matches weighs 2, whatever its length. twitter-text counts in UTF-16 code units, so this
module does too: `utf16_units` spells astral characters as surrogate pairs, and the
patterns, like JavaScript's without the `u` flag, see each half on its own.

Python's case-insensitive matching folds a few non-ASCII letters onto ASCII ones (`ſ` onto
`s`, dotless `ı` onto `i`), which JavaScript's does not: URLs are matched on a copy where
those letters are replaced by a caseless letter of the same class (see `_FOLD_MASK`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

SCALE = 100
DEFAULT_WEIGHT = 200
LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))  # weight 100
LIGHT_WEIGHT = 100
URL_LENGTH = 23
MAX_WEIGHTED_LENGTH = 280
MAX_URL_LENGTH = 4096
MAX_TCO_SLUG_LENGTH = 40
MAX_LABEL_LENGTH = 63

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_PUNCT = r"!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$"
_SPACES = r"\x09-\x0d\x20\x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_INVALID = r"\ufffe\ufeff\uffff"
_DIRECTIONAL = r"\u202a-\u202e\u061c\u200e\u200f\u2066\u2067\u2068\u2069"
LATIN_ACCENTS = (
    r"\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263"
    r"\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_CYRILLIC = r"\u0400-\u04ff"
_PUNYCODE_TLD = r"(?:xn--[\-0-9a-z]+)"
_IDNA_SEPARATORS = re.compile("[.\u3002\uff0e\uff61]")
# Letters Python's re.IGNORECASE folds onto ASCII, JavaScript's not: each becomes a caseless
# letter that every pattern here treats as it treats the original (kra is a Latin accent
# letter like the first three; U+2100 is, like the last two, a domain character only).
_FOLD_MASK = str.maketrans("\u017f\u0130\u0131\u212a\u212b", "\u0138\u0138\u0138\u2100\u2100")


def _pair(match: re.Match[str]) -> str:
    point = ord(match.group(0)) - 0x10000
    return chr(0xD800 + (point >> 10)) + chr(0xDC00 + (point & 0x3FF))


def utf16_units(text: str) -> str:
    """The text with each astral character spelled as its UTF-16 surrogate pair."""
    return _ASTRAL.sub(_pair, text)


def from_units(units: str) -> str:
    """The inverse of `utf16_units`: surrogate pairs joined into code points again."""
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


@dataclass(frozen=True)
class _Patterns:
    url: re.Pattern[str]
    ascii_domain: re.Pattern[str]
    tco: re.Pattern[str]
    emoji: re.Pattern[str]


@cache
def _any_tld() -> str:
    """twitter-text's TLD alternation, in its order (the first TLD that fits wins)."""
    from chanpub.channels.x_data import CCTLDS, GTLDS

    def tlds(names: list[str]) -> str:
        alternatives = "|".join(re.escape(utf16_units(name)) for name in names)
        return rf"(?:(?:{alternatives})(?=[^0-9a-zA-Z@+-]|\Z))"

    return f"(?:{tlds(GTLDS)}|{tlds(CCTLDS)}|{_PUNYCODE_TLD})"


@cache
def domain_pattern() -> str:
    """twitter-text's validDomain: subdomains, a domain name and a known TLD (group `domain`)."""
    char = f"[^{_PUNCT}{_SPACES}{_INVALID}{_DIRECTIONAL}]"
    subdomain = rf"(?:(?:{char}(?:[_-]|{char})*)?{char}\.)"
    domain_name = rf"(?:(?:{char}(?:-|{char})*)?{char}\.)"
    return rf"(?P<domain>{subdomain}*{domain_name}{_any_tld()})"


@cache
def _patterns() -> _Patterns:
    """Compiled once, on first use: the TLD alternations are large."""
    from chanpub.channels.x_data import EMOJI_UTF16

    path_char = rf"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{LATIN_ACCENTS}]"
    parens = rf"\((?:{path_char}+|(?:{path_char}*\({path_char}+\){path_char}*))\)"
    path_end = rf"(?:[+\-a-z{_CYRILLIC}0-9=_#/{LATIN_ACCENTS}]|(?:{parens}))"
    path = rf"(?:(?:{path_char}*(?:{parens}{path_char}*)*{path_end})|(?:@{path_char}+/))"
    query_char = r"[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"
    query_end = r"[a-z0-9\-_&=#/]"
    before = rf"(?:[^A-Za-z0-9@\uff20$#\uff03{_INVALID}]|[{_DIRECTIONAL}]|^)"
    url = (
        rf"(?P<before>{before})(?P<url>(?P<protocol>https?://)?"
        rf"{domain_pattern()}(?::[0-9]+)?"
        rf"(?P<path>/{path}*)?(?:\?{query_char}*{query_end})?)"
    )
    return _Patterns(
        url=re.compile(url, re.IGNORECASE),
        ascii_domain=re.compile(rf"(?:[\-a-z0-9{LATIN_ACCENTS}]+\.)+{_any_tld()}", re.I),
        tco=re.compile(rf"^https?://t\.co/([a-z0-9]+)(?:\?{query_char}*{query_end})?", re.I),
        emoji=re.compile(EMOJI_UTF16),
    )


def _label_length(label: str) -> int:
    """Length of a label after punycode.js's toASCII (non-ASCII parts become xn--...)."""
    parts = _IDNA_SEPARATORS.split(from_units(label))
    encoded = [
        part if part.isascii() else "xn--" + part.encode("punycode").decode("ascii")
        for part in parts
    ]
    return len(".".join(encoded))


def _valid_domain(domain: str) -> bool:
    """twitter-text's lightweight IDNA check: label lengths, and ASCII-only punycode."""
    if domain.startswith("xn--") and not _patterns().ascii_domain.search(domain):
        return False
    return all(1 <= _label_length(label) <= MAX_LABEL_LENGTH for label in domain.split("."))


@dataclass(frozen=True)
class UrlEntity:
    """A URL found in UTF-16 units: where it starts, where it ends, its text's length."""

    start: int
    end: int
    length: int


def extract_urls(units: str, *, without_protocol: bool = True) -> list[UrlEntity]:
    """URLs as twitter-text's `extractUrlsWithIndices` finds them, in UTF-16 units.

    Without a protocol, only ASCII domains with a known TLD count, and not after `-_./`;
    a t.co link stops after its slug."""
    if ("." if without_protocol else ":") not in units:
        return []
    patterns = _patterns()
    found: list[UrlEntity] = []
    for match in patterns.url.finditer(units.translate(_FOLD_MASK)):
        url, protocol, domain = match["url"], match["protocol"], match["domain"]
        end = match.end()
        start = end - len(url)
        if (
            not _valid_domain(units[match.start("domain") : match.end("domain")])
            or len(protocol or "https://") + len(url) > MAX_URL_LENGTH
        ):
            continue
        if protocol:
            if tco := patterns.tco.match(url):
                if len(tco.group(1)) > MAX_TCO_SLUG_LENGTH:
                    continue
                url, end = tco.group(0), start + len(tco.group(0))
            found.append(UrlEntity(start, end, len(url)))
            continue
        if not without_protocol or match["before"][-1:] in ("-", "_", ".", "/"):
            continue
        found.extend(_ascii_parts(domain, start, url, end, bool(match["path"])))
    return found


def _ascii_parts(domain: str, start: int, url: str, end: int, path: bool) -> list[UrlEntity]:
    """A protocol-less URL keeps only its ASCII domains; the last one takes the path."""
    parts: list[UrlEntity] = []
    searched = 0
    for match in _patterns().ascii_domain.finditer(domain):
        at = domain.index(match.group(0), searched)
        searched = at + len(match.group(0))
        parts.append(UrlEntity(start + at, start + searched, len(match.group(0))))
    if parts and path:
        last = parts[-1]
        length = len(url.replace(domain, domain[last.start - start : last.end - start], 1))
        parts[-1] = UrlEntity(last.start, end, length)
    return parts


def _weight(unit: str) -> int:
    point = ord(unit)
    return LIGHT_WEIGHT if any(lo <= point <= hi for lo, hi in LIGHT_RANGES) else DEFAULT_WEIGHT


def weighted_length(text: str) -> int:
    """X's weighted length of a post (twitter-text v3 `parseTweet(text).weightedLength`)."""
    units = utf16_units(unicodedata.normalize("NFC", text))
    urls = {url.start: url.length for url in extract_urls(units)}
    emoji = {match.start(): len(match.group(0)) for match in _patterns().emoji.finditer(units)}
    total = 0
    index = 0
    while index < len(units):
        if index in urls:
            total += URL_LENGTH * SCALE
            index += urls[index]
            continue
        if index in emoji:
            total += DEFAULT_WEIGHT
            index += emoji[index]
            continue
        if (
            "\ud800" <= units[index] <= "\udbff"
            and "\udc00" <= units[index + 1 : index + 2] <= "\udfff"
        ):
            index += 1  # a surrogate pair weighs as its low half does, like charAt() there
        total += _weight(units[index])
        index += 1
    return total // SCALE


def count_x(text: str) -> int:
    """X's weighted length, exactly as twitter-text v3 computes it: URLs (with a protocol,
    or a known TLD) as 23, emoji as 2, CJK and Javanese as 2 a code point, Latin and
    Indonesian as 1 (the x channel's LengthRule counter)."""
    return weighted_length(text)


def link_texts(text: str) -> list[str]:
    """The links of a post as X finds them (and wraps in t.co), in order: with or without
    a protocol, exactly as twitter-text's extractor finds them."""
    units = utf16_units(unicodedata.normalize("NFC", text))
    return [from_units(units[url.start : url.end]) for url in extract_urls(units)]
