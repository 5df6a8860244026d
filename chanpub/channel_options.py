"""One channel's options checked against its adapter: the adapter found among the installed
entry points, its pydantic `Options` model, and the rules for secrets (only `${VARIABLE}`,
never shorter than 8 characters)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chanpub.errors import PluginError
from chanpub.i18n import _
from chanpub.variables import SECRET_MIN_LENGTH, VARIABLE

if TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass(frozen=True)
class InstalledAdapters:
    """The installed adapters, read once per config: reading them scans every installed
    distribution (~25 ms), too slow to repeat for each channel."""

    entry_points: list[Any]
    known: frozenset[str]
    problem: str | None  # two distributions claim one type


def installed_adapters() -> InstalledAdapters:
    from importlib import metadata

    from chanpub import registry

    entry_points = list(metadata.entry_points(group=registry.GROUP))
    try:
        known = frozenset(info.type for info in registry.available(entry_points))
    except PluginError as error:
        return InstalledAdapters(entry_points, frozenset(), error.message)
    return InstalledAdapters(entry_points, known, None)


def adapter_for(
    channel_type: str, where: str, problems: list[str], installed: InstalledAdapters
) -> tuple[Any, str | None]:
    from chanpub import registry

    if installed.problem is not None:
        return None, installed.problem
    known = installed.known
    if channel_type not in known:
        problems.append(
            _(
                "{where}.type: unknown channel type '{type}': use one of {known} "
                "(see 'chanpub channels')"
            ).format(where=where, type=channel_type, known=", ".join(sorted(known)))
        )
        return None, None
    try:
        return registry.load(channel_type, installed.entry_points), None
    except PluginError as error:
        return None, error.message


def secret_fields(adapter: Any) -> set[str]:
    from pydantic import SecretStr

    fields = getattr(adapter.Options, "model_fields", {})
    result = set()
    for field_name, info in fields.items():
        annotation = str(info.annotation)
        if info.annotation is SecretStr or "SecretStr" in annotation:
            result.add(info.alias or field_name)
    return result


def validate_options(
    adapter: Any,
    options: dict[str, Any],
    raw: Mapping[str, Any],
    missing: list[str],
    where: str,
    problems: list[str],
) -> BaseModel | None:
    from pydantic import ValidationError

    for secret in secret_fields(adapter):
        value = raw.get(secret)  # as written in the file, before ${VAR} expansion
        if isinstance(value, str) and value and not VARIABLE.search(value):
            problems.append(
                _(
                    "{where}.{field}: a secret must not be written in the file: "
                    "write ${{VARIABLE}} and set that variable in the environment "
                    "or in .env"
                ).format(where=where, field=secret)
            )
    # Fields whose variable is missing are left out, so the rest is still checked; a secret
    # keeps its "${VAR}" text as a stand-in, so the channel can still be previewed (it is
    # not ready, so nothing is ever sent with it).
    missing_fields = {
        k
        for k, v in raw.items()
        if isinstance(v, str) and any(m.group(1) in missing for m in VARIABLE.finditer(v))
    }
    secrets = secret_fields(adapter)
    candidate = {
        k: (raw[k] if k in secrets else None) if k in missing_fields else v
        for k, v in options.items()
    }
    candidate = {k: v for k, v in candidate.items() if v is not None}
    try:
        return adapter.Options.model_validate(candidate)  # type: ignore[no-any-return]
    except ValidationError as error:
        known = sorted(adapter.Options.model_fields)
        for item in error.errors():
            location = ".".join(str(part) for part in item["loc"])
            if location in missing_fields or (item["loc"] and item["loc"][0] in missing_fields):
                continue
            if item["type"] == "missing" and item["loc"] and item["loc"][0] in missing_fields:
                continue
            path = f"{where}.{location}" if location else where
            problems.append(f"{path}: {_explain(item, known)}")
        return None


def _explain(item: Mapping[str, Any], known: list[str]) -> str:
    kind = item["type"]
    if kind == "extra_forbidden":
        return _("unknown option: check the spelling (options: {known})").format(
            known=", ".join(known)
        )
    if kind == "missing":
        return _("is required: add it")
    message = str(item["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return message


def refuse_short_secrets(
    adapter: Any,
    variables: Mapping[str, list[str]],
    used: Mapping[str, str],
    where: str,
    problems: list[str],
) -> None:
    """A secret option filled from a variable holding fewer than 8 characters is refused:
    masking so short a value would also mask ordinary words, and not masking it could
    show it."""
    secrets = secret_fields(adapter)
    for option, names in variables.items():
        if option.split(".")[0] not in secrets:
            continue
        for name in names:
            if name in used and len(used[name]) < SECRET_MIN_LENGTH:
                problems.append(
                    _(
                        "{where}.{field}: the value of ${{{variable}}} is shorter than "
                        "{minimum} characters: a secret this short cannot be masked safely; "
                        "use the full token or password"
                    ).format(where=where, field=option, variable=name, minimum=SECRET_MIN_LENGTH)
                )
