"""Licences: chanpub is MIT, so nothing it installs may be GPL or AGPL.

Every installed distribution in chanpub's requirement tree (read from importlib.metadata,
markers and extras evaluated as pip does) is judged by its metadata: `License-Expression`
(an SPDX expression, PEP 639) when present, else its `License ::` classifiers (several of
them are alternatives, as in a dual licence), else the free-text `License` field.

GPL and AGPL fail: the combined program would have to be distributed under them. LGPL passes:
Python imports a library at run time (dynamic linking), which the LGPL allows from a program
under any licence, provided the library itself stays replaceable. An alternative that is a
commercial or proprietary licence does not count: chanpub holds none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

FORBIDDEN = ("AGPL", "GPL")
# Order matters: AGPL and LGPL contain "GPL".
KINDS = (
    ("AGPL", re.compile(r"AGPL|AFFERO", re.I)),
    ("LGPL", re.compile(r"LGPL|LESSER GENERAL|LIBRARY GENERAL|LIBRARY OR LESSER", re.I)),
    ("GPL", re.compile(r"GPL|GENERAL PUBLIC LICEN[CS]E", re.I)),
    ("commercial", re.compile(r"COMMERCIAL|PROPRIETARY", re.I)),
)

Lookup = Callable[[str], "Mapping[str, object] | Message | None"]


def kind_of(licence: str) -> str:
    """The copyleft family a licence name belongs to, "commercial", or "permissive"."""
    return next((kind for kind, pattern in KINDS if pattern.search(licence)), "permissive")


def acceptable(kind: str) -> bool:
    """Whether chanpub (MIT) may depend on a licence of this kind."""
    return kind not in (*FORBIDDEN, "commercial")


def spdx_acceptable(expression: str) -> bool:
    """Whether an SPDX expression leaves an acceptable choice: OR takes any, AND needs all."""
    tokens = re.findall(r"\(|\)|[^\s()]+", expression)
    position = 0

    def parse_or() -> bool:
        nonlocal position
        result = parse_and()
        while position < len(tokens) and tokens[position].upper() == "OR":
            position += 1
            result = parse_and() or result
        return result

    def parse_and() -> bool:
        nonlocal position
        result = parse_one()
        while position < len(tokens) and tokens[position].upper() == "AND":
            position += 1
            result = parse_one() and result
        return result

    def parse_one() -> bool:
        nonlocal position
        token = tokens[position]
        position += 1
        if token == "(":
            result = parse_or()
            position += 1  # the closing parenthesis
            return result
        if position < len(tokens) and tokens[position].upper() == "WITH":
            position += 2  # an exception only widens what the licence allows
        return acceptable(kind_of(token))

    return parse_or()


def licence_verdict(meta: Mapping[str, object] | Message) -> tuple[bool, str]:
    """(acceptable, the licence as the metadata states it) for one distribution."""
    expression = _field(meta, "License-Expression")
    if expression:
        return spdx_acceptable(expression), expression
    classifiers = [
        c.split("::")[-1].strip()
        for c in _fields(meta, "Classifier")
        if c.startswith("License ::") and c.strip() != "License :: OSI Approved"
    ]
    if classifiers:
        # Several licence classifiers are alternatives (a dual licence).
        return any(acceptable(kind_of(c)) for c in classifiers), " | ".join(classifiers)
    text = _field(meta, "License")
    # Free text: "A or B" offers a choice; "A and B" or "A, B" binds to every part.
    choices = re.split(r"\s+or\s+", text, flags=re.I)
    return any(acceptable(kind_of(choice)) for choice in choices), text


def _field(meta: Mapping[str, object] | Message, name: str) -> str:
    value = meta.get(name)
    return str(value).strip() if value else ""


def _fields(meta: Mapping[str, object] | Message, name: str) -> list[str]:
    if isinstance(meta, Message):
        return [str(v) for v in meta.get_all(name) or []]
    values = meta.get(name) or []
    return [str(v) for v in values] if isinstance(values, list) else [str(values)]


@dataclass(frozen=True)
class Installed:
    """One installed distribution in the tree, with the path that pulled it in."""

    name: str
    via: tuple[str, ...]
    meta: Mapping[str, object] | Message


def requirement_tree(root: str, extras: Iterable[str], lookup: Lookup) -> list[Installed]:
    """Every installed distribution that `root` with `extras` requires, directly or not.
    A requirement whose marker does not hold here, or that is not installed, is skipped."""
    found: dict[str, Installed] = {}
    pending: list[tuple[str, frozenset[str], tuple[str, ...]]] = [(root, frozenset(extras), ())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, wanted, via = pending.pop()
        key = canonicalize_name(name)
        if (key, wanted) in seen:
            continue
        seen.add((key, wanted))
        meta = lookup(name)
        if meta is None:
            continue
        found.setdefault(key, Installed(key, via, meta))
        for line in _fields(meta, "Requires-Dist"):
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in sorted(wanted)] or [{"extra": ""}]
            if requirement.marker is None or any(
                requirement.marker.evaluate(env) for env in environments
            ):
                pending.append((requirement.name, frozenset(requirement.extras), (*via, key)))
    return sorted(found.values(), key=lambda d: d.name)


def installed(name: str) -> Message | None:
    """The metadata of an installed distribution, or None."""
    try:
        return metadata.metadata(name)  # type: ignore[return-value]  # an email Message
    except metadata.PackageNotFoundError:
        return None


def copyleft_in(root: str, extras: Iterable[str], lookup: Lookup) -> list[str]:
    """One line per distribution in the tree whose licence chanpub may not depend on."""
    return [
        f"{d.name} ({licence}), required by {' -> '.join(d.via) or 'nothing'}"
        for d in requirement_tree(root, extras, lookup)
        for ok, licence in [licence_verdict(d.meta)]
        if not ok
    ]


# --- the real environment ------------------------------------------------------------


def test_nothing_chanpub_installs_is_gpl_or_agpl() -> None:
    assert installed("chanpub") is not None
    assert copyleft_in("chanpub", [], installed) == []


def test_nothing_the_test_tools_install_is_gpl_or_agpl() -> None:
    assert copyleft_in("chanpub", ["test"], installed) == []


# --- the rules, on a made-up environment ---------------------------------------------

FAKE: dict[str, dict[str, object]] = {
    "app": {
        "Requires-Dist": [
            "viewer>=1",
            "feeds",
            "windows-only; sys_platform == 'nonexistent'",
            "absent",
            "pytest; extra == 'test'",
        ]
    },
    "viewer": {"License": "Dual Licensed - GNU AFFERO GPL 3.0 or Artifex Commercial License"},
    "feeds": {
        "License": "FreeBSD and LGPLv3+",
        "Classifier": [
            "License :: OSI Approved :: BSD License",
            "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)",
        ],
        "Requires-Dist": ["parser[speed]"],
    },
    "parser": {"License-Expression": "BSD-3-Clause", "Requires-Dist": ["fast; extra == 'speed'"]},
    "fast": {"License-Expression": "GPL-3.0-only"},
    "windows-only": {"License-Expression": "GPL-2.0-only"},
    "pytest": {"License-Expression": "MIT"},
}


def fake(name: str) -> dict[str, object] | None:
    return FAKE.get(name)


def test_an_agpl_or_commercial_dependency_fails_and_its_path_is_named() -> None:
    assert copyleft_in("app", [], fake) == [
        "fast (GPL-3.0-only), required by app -> feeds -> parser",
        "viewer (Dual Licensed - GNU AFFERO GPL 3.0 or Artifex Commercial License), "
        "required by app",
    ]


def test_the_tree_follows_extras_and_skips_what_the_markers_or_the_machine_leave_out() -> None:
    runtime = [d.name for d in requirement_tree("app", [], fake)]
    assert runtime == ["app", "fast", "feeds", "parser", "viewer"]
    assert "pytest" in [d.name for d in requirement_tree("app", ["test"], fake)]


@pytest.mark.parametrize(
    ("meta", "ok"),
    [
        ({"License-Expression": "MIT"}, True),
        ({"License-Expression": "AGPL-3.0-or-later"}, False),
        ({"License-Expression": "GPL-2.0-or-later WITH Classpath-exception-2.0"}, False),
        ({"License-Expression": "LGPL-3.0-or-later"}, True),  # dynamic linking: allowed
        ({"License-Expression": "MIT OR GPL-3.0-only"}, True),  # we take MIT
        ({"License-Expression": "MIT AND GPL-3.0-only"}, False),
        ({"License-Expression": "(Apache-2.0 OR BSD-3-Clause) AND AGPL-3.0-only"}, False),
        ({"License-Expression": "LicenseRef-Proprietary"}, False),
        (
            {"Classifier": ["License :: OSI Approved :: GNU General Public License v3 (GPLv3)"]},
            False,
        ),
        (
            {"Classifier": ["License :: OSI Approved :: GNU Affero General Public License v3"]},
            False,
        ),
        (
            {
                "Classifier": [
                    "License :: OSI Approved :: GNU Library or Lesser General Public License (LGPL)"
                ]
            },
            True,
        ),
        (
            {"Classifier": ["License :: OSI Approved", "License :: OSI Approved :: MIT License"]},
            True,
        ),
        ({"License": "GPLv3", "Classifier": ["License :: OSI Approved"]}, False),
        ({"License": "BSD-3-Clause, Apache-2.0, dependency licenses"}, True),
        ({"License": "MPL-2.0"}, True),
        ({}, True),  # says nothing: nothing to hold against it
    ],
)
def test_licence_rules(meta: dict[str, object], ok: bool) -> None:
    assert licence_verdict(meta)[0] is ok
