"""Safe YAML for release front matter and channels.yaml: one loader, one set of rules.

`yaml.safe_load` alone still accepts what an office file should never hold: aliases (a
335-byte "billion laughs" file expands to a billion strings when the result is walked),
nesting deep enough to crash libyaml's composer, duplicate keys (the last one silently
wins), keys that are not text, `!!set`/`!!binary` values and impossible dates (`2026-02-30`
is a timestamp to YAML and a ValueError to Python). This module refuses them all with the
line, and keeps libyaml's speed (CSafeLoader) and each top-level key's line number.
See https://yaml.org/spec/1.1/ (tags) and https://pyyaml.org/wiki/PyYAMLDocumentation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from chanpub.i18n import _

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
# What JSON can carry, plus timestamps (a release's `date` and `publish_at`).
ALLOWED_TAGS = frozenset(
    _TAG + name for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
)
MAX_DEPTH = 50  # a release needs 3 levels, channels.yaml about 6
# Each level of nesting takes one of these characters. Below this many, libyaml's composer
# (which recurses, and crashes the process past ~100,000 levels) is safe and the node walk
# enforces MAX_DEPTH; above, an event pass measures the depth first. Front matter and
# channels.yaml stay far below it, so they take the fast path.
_STRUCTURE = ("[", "{", "-", "?", ":")
_CHEAP_BOUND = 1_000


class YamlSyntaxError(Exception):
    """The text is not YAML at all; `line` is 1-based in the caller's file (or None)."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


class YamlContentError(Exception):
    """Valid YAML that chanpub refuses; `problems` are complete lines ('file:line: ...')."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class _Walk:
    """What the node walk found, with each line already placed in the caller's file."""

    where: str
    first_line: int
    problems: list[str] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)

    def line(self, node: yaml.Node) -> int:
        return int(node.start_mark.line) + self.first_line

    def add(self, node: yaml.Node, key: str, message: str) -> None:
        prefix = f"{self.where}:{self.line(node)}: "
        self.problems.append(prefix + (f"{key}: {message}" if key else message))


def load_yaml(text: str, where: str, *, first_line: int = 1) -> tuple[Any, dict[str, int]]:
    """Parse one YAML document safely; returns the data and the line of each top-level key.

    `where` names the file in messages; `first_line` is the file line of the text's first
    line (2 for front matter, after the '---' fence). Raises YamlSyntaxError or
    YamlContentError; never anything else for any text.
    """
    if "*" in text or sum(text.count(c) for c in _STRUCTURE) > _CHEAP_BOUND:
        _scan_events(text, where, first_line)  # before composing: aliases, depth
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        walk = _Walk(where, first_line)
        _check(node, "", walk, depth=0)
        if walk.problems:
            raise YamlContentError(walk.problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + first_line if mark else None
        raise YamlSyntaxError(line, str(error.problem or error.context)) from None
    except yaml.YAMLError as error:
        raise YamlSyntaxError(None, str(error)) from None
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _value in node.value:
            lines[str(key_node.value)] = key_node.start_mark.line + first_line
    return data, lines


def _events(text: str) -> Iterator[yaml.Event]:
    loader = _Loader(text)
    try:
        while (event := loader.get_event()) is not None:
            yield event
    finally:
        loader.dispose()


def _scan_events(text: str, where: str, first_line: int) -> None:
    """Refuse aliases and deep nesting from the event stream (libyaml's parser keeps its
    own stack; only the composer recurses, and crashes the process past ~100,000 levels)."""
    depth = 0
    try:
        for event in _events(text):
            line = event.start_mark.line + first_line if event.start_mark else first_line
            if isinstance(event, yaml.AliasEvent):
                message = _(
                    "YAML aliases (*{name}) are not allowed: write the value out in full"
                ).format(name=event.anchor)
                raise YamlContentError([f"{where}:{line}: {message}"])
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlContentError([f"{where}:{line}: {_too_deep()}"])
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line_no = mark.line + first_line if mark else None
        raise YamlSyntaxError(line_no, str(error.problem or error.context)) from None
    except yaml.YAMLError as error:
        raise YamlSyntaxError(None, str(error)) from None


def _too_deep() -> str:
    return _(
        "nested more than {limit} levels deep: write the values as plain lists and fields"
    ).format(limit=MAX_DEPTH)


def _check(node: yaml.Node, key: str, walk: _Walk, depth: int) -> None:
    """Refuse aliases, unsupported types, impossible dates, keys that are not text and
    duplicate keys, anywhere in the document."""
    if id(node) in walk.seen:  # a node met twice is an alias (backstop for _scan_events)
        walk.add(node, key, _("YAML aliases are not allowed: write the value out in full"))
        return
    walk.seen.add(id(node))
    if depth > MAX_DEPTH:
        walk.add(node, key, _too_deep())
        return
    if node.tag not in ALLOWED_TAGS:
        walk.add(
            node,
            key,
            _(
                "the YAML type {tag} is not supported: write text, a number, a date "
                "or a list like [a, b]"
            ).format(tag=node.tag.replace(_TAG, "!!")),
        )
        return
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _TAG + "timestamp":
            _check_timestamp(node, key, walk)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check(item, key, walk, depth + 1)
    elif isinstance(node, yaml.MappingNode):
        _check_mapping(node, key, walk, depth)


def _check_mapping(node: yaml.MappingNode, key: str, walk: _Walk, depth: int) -> None:
    first: dict[str, int] = {}
    for key_node, value_node in node.value:
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _TAG + "str"):
            shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "[...]"
            walk.add(
                key_node,
                key,
                _(
                    "the name {name} is not text: write field names as words, "
                    'in quotes if needed ("{name}")'
                ).format(name=shown),
            )
            continue
        name = str(key_node.value)
        path = f"{key}.{name}" if key else name
        if name in first:
            walk.add(
                key_node,
                path,
                _("appears twice (first on line {line}): keep only one").format(line=first[name]),
            )
        else:
            first[name] = walk.line(key_node)
        _check(value_node, path, walk, depth + 1)


def _check_timestamp(node: yaml.ScalarNode, key: str, walk: _Walk) -> None:
    """`2026-02-30` and `T25:00` match YAML's timestamp pattern but are no real moment."""
    try:
        SafeConstructor().construct_yaml_timestamp(node)
    except (ValueError, OverflowError):
        walk.add(
            node,
            key,
            _(
                "{value} is not a real date or time: check the day, month, hour and UTC "
                "offset, e.g. 2026-08-24 or 2026-08-24T09:00:00+07:00"
            ).format(value=node.value),
        )
