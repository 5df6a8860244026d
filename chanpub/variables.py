"""`${VARIABLE}` in channels.yaml: the environment (over a `.env` beside the config), the
substitution, and the values that must be masked wherever text is shown."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
SECRET_MIN_LENGTH = 8  # a shorter secret is too likely to turn up in ordinary text
MASKED_MIN_LENGTH = 4  # a shorter value of a plain option would mask ordinary words


def environment_for(config_path: Path) -> dict[str, str]:
    """The process environment over a `.env` beside the config (the environment wins)."""
    values: dict[str, str] = {}
    dotenv_path = config_path.parent / ".env"
    if dotenv_path.is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ)
    return values


@dataclass
class Substitution:
    environment: Mapping[str, str]
    missing: list[str] = field(default_factory=list)
    used: dict[str, str] = field(default_factory=dict)  # VARIABLE -> value

    def expand(self, value: Any) -> Any:
        if isinstance(value, str):
            return VARIABLE.sub(self._replace, value)
        if isinstance(value, list):
            return [self.expand(v) for v in value]
        if isinstance(value, dict):
            return {k: self.expand(v) for k, v in value.items()}
        return value

    def _replace(self, match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in self.environment and self.environment[name] != "":
            self.used[name] = self.environment[name]
            return self.environment[name]
        if default is not None:
            return default
        if name not in self.missing:
            self.missing.append(name)
        return ""


def variables_in(value: Any, path: str = "") -> dict[str, list[str]]:
    """Option path -> every ${VARIABLE} in it (`"${A}:${B}"` names both), nested options
    included (e.g. a webhook's `headers.Authorization`), so every value that came from a
    variable is redacted."""
    if isinstance(value, str):
        names = list(dict.fromkeys(m.group(1) for m in VARIABLE.finditer(value)))
        return {path: names} if names else {}
    items: Any = (
        value.items()
        if isinstance(value, dict)
        else (enumerate(value) if isinstance(value, list) else ())
    )
    found: dict[str, list[str]] = {}
    for key, item in items:
        found.update(variables_in(item, f"{path}.{key}" if path else str(key)))
    return found


def secret_values(variables: Iterable[str], environment: Mapping[str, str]) -> list[str]:
    """The values of these variables long enough to be masked without masking words."""
    return [
        environment[var]
        for var in variables
        if environment.get(var) and len(environment[var]) >= MASKED_MIN_LENGTH
    ]
