"""The rules of an Atom 1.0 feed document (RFC 4287, https://www.rfc-editor.org/rfc/rfc4287),
checked with the standard library's XML parser.

Why not the RFC's RELAX NG schema: it is informative, not normative (appendix B), it cannot
express the rules that matter most here (an author on the feed or on every entry, a link
rel="alternate" when an entry has no content), and validating it in Python needs lxml plus a
converted copy of the schema. These checks follow the normative sections instead, one
problem per line, and tests/channels/test_static_site_feed.py shows each rule catching a
broken feed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime

ATOM = "{http://www.w3.org/2005/Atom}"
XHTML_DIV = "{http://www.w3.org/1999/xhtml}div"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# RFC 3339 section 5.6 date-time, as RFC 4287 section 3.3 requires ("T" and "Z" upper case).
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z")
# An IRI (RFC 3987) is a scheme, a colon and characters that are not spaces or delimiters.
IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+\Z")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*\Z")

# Section 4.1.1 and 4.1.2: element, and how often it may appear (None: any number).
FEED_CHILDREN = {
    "author": None, "category": None, "contributor": None, "generator": 1, "icon": 1,
    "id": 1, "link": None, "logo": 1, "rights": 1, "subtitle": 1, "title": 1, "updated": 1,
    "entry": None,
}  # fmt: skip
ENTRY_CHILDREN = {
    "author": None, "category": None, "content": 1, "contributor": None, "id": 1,
    "link": None, "published": 1, "rights": 1, "source": 1, "summary": 1, "title": 1,
    "updated": 1,
}  # fmt: skip
REQUIRED = ("id", "title", "updated")
TEXT_CONSTRUCTS = ("title", "subtitle", "summary", "rights")
DATE_CONSTRUCTS = ("updated", "published")


def atom_problems(document: bytes) -> list[str]:
    """Every way the document breaks RFC 4287, or [] for a valid Atom feed document."""
    root = ET.fromstring(document)
    if root.tag != f"{ATOM}feed":
        return [f"the root element is {root.tag}, not atom:feed (RFC 4287 section 4.1.1)"]
    problems = _children(root, "feed", FEED_CHILDREN)
    entries = root.findall(f"{ATOM}entry")
    for number, entry in enumerate(entries, start=1):
        problems += _children(entry, f"entry {number}", ENTRY_CHILDREN)
        if entry.find(f"{ATOM}content") is None and not _links(entry, "alternate"):
            problems.append(f"entry {number}: no content and no link rel=alternate (4.1.2)")
    if root.find(f"{ATOM}author") is None and not all(
        entry.find(f"{ATOM}author") is not None for entry in entries
    ):
        problems.append("feed: no author, and not every entry has one (4.1.1)")
    if not _links(root, "self"):
        problems.append("feed: no link rel=self (4.2.7.2: a feed SHOULD name its own IRI)")
    ids = Counter(entry.findtext(f"{ATOM}id") for entry in entries)
    problems += [f"entry id {i} appears {n} times" for i, n in ids.items() if n > 1]
    problems += _attributes(root)
    return problems


def _children(element: ET.Element, where: str, allowed: dict[str, int | None]) -> list[str]:
    """Which children may appear and how often; required ones; each construct's rules."""
    problems = []
    atom_children = [c for c in element if c.tag.startswith(ATOM)]
    counts = Counter(c.tag.removeprefix(ATOM) for c in atom_children)
    for name, count in counts.items():
        if name not in allowed:
            problems.append(f"{where}: atom:{name} is not allowed here")
        elif allowed[name] is not None and count > (allowed[name] or 0):
            problems.append(f"{where}: atom:{name} appears {count} times, at most once")
    problems += [f"{where}: atom:{n} is missing" for n in REQUIRED if counts[n] == 0]
    for child in atom_children:
        name = child.tag.removeprefix(ATOM)
        problems += [f"{where}: atom:{name}: {p}" for p in _construct(name, child)]
    return problems


def _construct(name: str, element: ET.Element) -> list[str]:
    """The rules of one element by its construct (sections 3.1 to 3.3, 4.2)."""
    text = element.text or ""
    if name in TEXT_CONSTRUCTS:
        return _text_construct(element)
    if name in DATE_CONSTRUCTS:
        return [] if _is_rfc3339(text) else [f"{text!r} is not an RFC 3339 date-time"]
    if name == "id":
        return [] if IRI.match(text.strip()) else [f"{text!r} is not an IRI"]
    if name == "link":
        href = element.get("href")
        return [] if href and IRI.match(href) else [f"href {href!r} is not an IRI"]
    if name in ("author", "contributor"):
        names = element.findall(f"{ATOM}name")
        return [] if len(names) == 1 and (names[0].text or "").strip() else ["needs one name"]
    if name == "content" and element.get("type", "text") in ("text", "html"):
        return [] if len(element) == 0 else ["text or html content holds markup elements"]
    return []


def _text_construct(element: ET.Element) -> list[str]:
    kind = element.get("type", "text")
    if kind not in ("text", "html", "xhtml"):
        return [f"type {kind!r} is not text, html or xhtml (3.1.1)"]
    if kind == "xhtml":
        ok = len(element) == 1 and element[0].tag == XHTML_DIV
        return [] if ok else ["xhtml text is not one xhtml:div (3.1.1.3)"]
    return [] if len(element) == 0 else [f"{kind} text holds markup elements (3.1.1)"]


def _is_rfc3339(text: str) -> bool:
    if not RFC3339.match(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:  # a well-formed string naming a day or hour that does not exist
        return False
    return True


def _links(element: ET.Element, rel: str) -> list[ET.Element]:
    """The element's own links with this relation (no rel means alternate, 4.2.7.2)."""
    return [link for link in element.findall(f"{ATOM}link") if link.get("rel", "alternate") == rel]


def _attributes(root: ET.Element) -> list[str]:
    return [
        f"xml:lang {element.get(XML_LANG)!r} is not a language tag"
        for element in root.iter()
        if element.get(XML_LANG) is not None and not LANGUAGE_TAG.match(element.get(XML_LANG, ""))
    ]
