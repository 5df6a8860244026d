"""channels.yaml -> Config: `${VAR}` and `.env`, validation of every channel at once,
and readiness per channel (ready, disabled, missing secret, broken adapter)."""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from chanpub.errors import MASK, ConfigError, PluginError, remember_secrets
from chanpub.i18n import _

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chanpub.approvals.record import Approvers
    from chanpub.contract import Channel

CONFIG_NAME = "channels.yaml"
TOP_LEVEL = (
    "organisation", "language", "state_dir", "channels", "approvers", "require_approvals",
)  # fmt: skip
COMMON_KEYS = ("type", "enabled", "canonical")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
SECRET_MIN_LENGTH = 8  # a shorter secret is too likely to turn up in ordinary text
MASKED_MIN_LENGTH = 4  # a shorter value of a plain option would mask ordinary words


@dataclass(frozen=True)
class ChannelConfig:
    """One configured channel, validated; `ready` tells whether it can run now."""

    name: str
    type: str
    enabled: bool = True
    canonical: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    options: BaseModel | None = field(default=None, repr=False)
    adapter: builtins.type[Channel] | None = field(default=None, repr=False)
    missing: tuple[str, ...] = ()  # environment variables that are not set
    secrets: Mapping[str, str] = field(default_factory=dict)  # option -> its first VARIABLE
    variables: tuple[str, ...] = ()  # every ${VARIABLE} in the options, in order
    problem: str | None = None  # the adapter could not be loaded

    @property
    def ready(self) -> bool:
        """Enabled, loadable and with every secret present."""
        return self.enabled and not self.missing and self.problem is None

    @property
    def readiness(self) -> str:
        """'ready', 'disabled', 'missing secret X' or the adapter's problem."""
        if not self.enabled:
            return _("disabled")
        if self.problem:
            return self.problem
        if self.missing:
            return _("missing secret {names}").format(names=", ".join(self.missing))
        return _("ready")


@dataclass(frozen=True)
class Config:
    """The whole configuration, validated."""

    path: Path
    organisation: str
    language: str
    language_setting: str | None  # `language:` as written (None: choose from the locale)
    state_dir: Path
    channels: Mapping[str, ChannelConfig]
    secret_values: tuple[str, ...] = field(default=(), repr=False)
    approvers: Approvers | None = None  # None: approvals are not signed

    @property
    def base_dir(self) -> Path:
        """The folder of channels.yaml: relative paths in it start here."""
        return self.path.parent

    def redact(self, text: str) -> str:
        """Mask every value that came from a ${VARIABLE}, longest first (so a value that
        contains another is masked whole)."""
        for value in sorted(self.secret_values, key=len, reverse=True):
            if value:
                text = text.replace(value, MASK)
        return text


def find_config(option: Path | None, cwd: Path | None = None) -> Path:
    """Where the config is: `--config`, then CHANPUB_CONFIG, then ./channels.yaml."""
    candidates = [
        (option, "--config"),
        (
            Path(os.environ["CHANPUB_CONFIG"]) if os.environ.get("CHANPUB_CONFIG") else None,
            "CHANPUB_CONFIG",
        ),
    ]
    for path, origin in candidates:
        if path is not None:
            if not path.is_file():
                raise ConfigError(
                    _("{path}: no such config file (from {origin}): check the path").format(
                        path=path, origin=origin
                    )
                )
            return path
    default = (cwd or Path.cwd()) / CONFIG_NAME
    if default.is_file():
        return Path(CONFIG_NAME) if cwd is None else default
    raise ConfigError(
        _("no {name} here: run 'chanpub init' to write one, or pass --config").format(
            name=CONFIG_NAME
        )
    )


def state_dir_for(config_path: Path, configured: str | None) -> Path:
    """The state directory: CHANPUB_STATE_DIR, then `state_dir` in the config (relative
    to the config's folder), then `.chanpub/` beside channels.yaml."""
    if os.environ.get("CHANPUB_STATE_DIR"):
        return Path(os.environ["CHANPUB_STATE_DIR"])
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else config_path.parent / path
    return config_path.parent / ".chanpub"


def _environment(config_path: Path) -> dict[str, str]:
    """The process environment over a `.env` beside the config (the environment wins)."""
    values: dict[str, str] = {}
    dotenv_path = config_path.parent / ".env"
    if dotenv_path.is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ)
    return values


@dataclass
class _Substitution:
    environment: Mapping[str, str]
    missing: list[str] = field(default_factory=list)
    used: dict[str, str] = field(default_factory=dict)  # VARIABLE -> value

    def expand(self, value: Any) -> Any:
        if isinstance(value, str):
            return _VARIABLE.sub(self._replace, value)
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


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(
            _("{path}: is not UTF-8 text: save it as UTF-8").format(path=path)
        ) from None
    except OSError as error:
        raise ConfigError(
            _("{path}: cannot be read ({reason})").format(path=path, reason=error.strerror)
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(
            _("{where}: not valid YAML ({problem}): fix the syntax").format(
                where=where, problem=error.problem
            )
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(
            _("{path}: not valid YAML ({problem})").format(path=path, problem=error)
        ) from None


def load_config(path: Path, *, load_adapters: bool = True) -> Config:
    """Read and validate channels.yaml; raises ConfigError listing every problem."""
    data = _read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            _("{path}: must be a mapping of settings (organisation, channels, ...)").format(
                path=path
            )
        )
    problems: list[str] = []
    for key in data:
        if key not in TOP_LEVEL:
            problems.append(
                _("{path}: {key}: unknown setting: use one of {known}").format(
                    path=path, key=key, known=", ".join(TOP_LEVEL)
                )
            )
    environment = _environment(path)
    organisation = _top_text(data, "organisation", path, problems) or ""
    language_setting = _top_text(data, "language", path, problems) or None
    state_dir = state_dir_for(path, _top_text(data, "state_dir", path, problems))
    from chanpub.approvals.record import load_approvers

    approvers = load_approvers(data, path, problems)
    channels_data = data.get("channels") or {}
    if not isinstance(channels_data, dict):
        problems.append(
            _("{path}: channels: must be a mapping of channel name to settings").format(path=path)
        )
        channels_data = {}
    channels: dict[str, ChannelConfig] = {}
    secret_values: list[str] = []
    entry_points = _entry_points() if load_adapters and channels_data else None
    for name, entry in channels_data.items():
        channel = _load_channel(path, str(name), entry, environment, problems, entry_points)
        if channel is not None:
            channels[str(name)] = channel
            secret_values.extend(
                v for v in _secret_values(channel, environment) if v not in secret_values
            )
    canonical = [c.name for c in channels.values() if c.canonical and c.enabled]
    if len(canonical) > 1:
        problems.append(
            _(
                "{path}: channels: {names} are all marked canonical: keep "
                "'canonical: true' on one channel only"
            ).format(path=path, names=", ".join(canonical))
        )
    if problems:
        raise ConfigError(problems)
    remember_secrets(secret_values)  # error messages and cut reasons are masked from now on
    return Config(
        path=path,
        organisation=organisation,
        language=language_setting or "en",
        language_setting=language_setting,
        state_dir=state_dir,
        channels=channels,
        secret_values=tuple(secret_values),
        approvers=approvers,
    )


def _top_text(data: Mapping[str, Any], key: str, path: Path, problems: list[str]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        problems.append(_("{path}: {key}: must be text").format(path=path, key=key))
        return None
    return str(value)


@dataclass(frozen=True)
class _Installed:
    """The installed adapters, read once per config: reading them scans every installed
    distribution (~25 ms), too slow to repeat for each channel."""

    entry_points: list[Any]
    known: frozenset[str]
    problem: str | None  # two distributions claim one type


def _entry_points() -> _Installed:
    from importlib import metadata

    from chanpub import registry

    entry_points = list(metadata.entry_points(group=registry.GROUP))
    try:
        known = frozenset(info.type for info in registry.available(entry_points))
    except PluginError as error:
        return _Installed(entry_points, frozenset(), error.message)
    return _Installed(entry_points, known, None)


def _load_channel(
    path: Path,
    name: str,
    entry: Any,
    environment: Mapping[str, str],
    problems: list[str],
    entry_points: _Installed | None,
) -> ChannelConfig | None:
    where = f"{path}: channels.{name}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        problems.append(
            _("{where}: a channel name may hold letters, digits, '-', '_' and '.'").format(
                where=where
            )
        )
        return None
    if not isinstance(entry, dict):
        problems.append(_("{where}: must be a mapping with at least 'type:'").format(where=where))
        return None
    channel_type = entry.get("type")
    if not isinstance(channel_type, str) or not channel_type:
        problems.append(
            _("{where}.type: is missing: name the channel type, e.g. static-site").format(
                where=where
            )
        )
        return None
    flags = {}
    for flag, default in (("enabled", True), ("canonical", False)):
        value = entry.get(flag, default)
        if not isinstance(value, bool):
            problems.append(
                _("{where}.{flag}: must be true or false").format(where=where, flag=flag)
            )
            value = default
        flags[flag] = value
    options_raw = {k: v for k, v in entry.items() if k not in COMMON_KEYS}
    substitution = _Substitution(environment)
    options = substitution.expand(options_raw)
    variables = _variables(options_raw)
    secrets = {option: names[0] for option, names in variables.items()}
    adapter, problem, model = None, None, None
    if entry_points is not None:
        adapter, problem = _adapter(channel_type, where, problems, entry_points)
        if adapter is not None:
            if flags["canonical"] and not adapter.capabilities.canonical:
                problems.append(
                    _(
                        "{where}.canonical: a '{type}' channel cannot be the "
                        "canonical one: mark the website channel instead"
                    ).format(where=where, type=channel_type)
                )
            model = _validate_options(
                adapter, options, options_raw, substitution.missing, where, problems
            )
            _refuse_short_secrets(adapter, variables, substitution.used, where, problems)
    return ChannelConfig(
        name=name,
        type=channel_type,
        enabled=flags["enabled"],
        canonical=flags["canonical"],
        raw=options,
        options=model,
        adapter=adapter,
        missing=tuple(substitution.missing),
        secrets=secrets,
        variables=tuple(dict.fromkeys(n for names in variables.values() for n in names)),
        problem=problem,
    )


def _variables(value: Any, path: str = "") -> dict[str, list[str]]:
    """Option path -> every ${VARIABLE} in it (`"${A}:${B}"` names both), nested options
    included (e.g. a webhook's `headers.Authorization`), so every value that came from a
    variable is redacted."""
    if isinstance(value, str):
        names = list(dict.fromkeys(m.group(1) for m in _VARIABLE.finditer(value)))
        return {path: names} if names else {}
    items: Any = (
        value.items()
        if isinstance(value, dict)
        else (enumerate(value) if isinstance(value, list) else ())
    )
    found: dict[str, list[str]] = {}
    for key, item in items:
        found.update(_variables(item, f"{path}.{key}" if path else str(key)))
    return found


def _adapter(
    channel_type: str, where: str, problems: list[str], installed: _Installed
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


def _secret_fields(adapter: Any) -> set[str]:
    from pydantic import SecretStr

    fields = getattr(adapter.Options, "model_fields", {})
    result = set()
    for field_name, info in fields.items():
        annotation = str(info.annotation)
        if info.annotation is SecretStr or "SecretStr" in annotation:
            result.add(info.alias or field_name)
    return result


def _validate_options(
    adapter: Any,
    options: dict[str, Any],
    raw: Mapping[str, Any],
    missing: list[str],
    where: str,
    problems: list[str],
) -> BaseModel | None:
    from pydantic import ValidationError

    for secret in _secret_fields(adapter):
        value = raw.get(secret)  # as written in the file, before ${VAR} expansion
        if isinstance(value, str) and value and not _VARIABLE.search(value):
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
        if isinstance(v, str) and any(m.group(1) in missing for m in _VARIABLE.finditer(v))
    }
    secrets = _secret_fields(adapter)
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


def _refuse_short_secrets(
    adapter: Any,
    variables: Mapping[str, list[str]],
    used: Mapping[str, str],
    where: str,
    problems: list[str],
) -> None:
    """A secret option filled from a variable holding fewer than 8 characters is refused:
    masking so short a value would also mask ordinary words, and not masking it could
    show it."""
    secret_fields = _secret_fields(adapter)
    for option, names in variables.items():
        if option.split(".")[0] not in secret_fields:
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


def _secret_values(channel: ChannelConfig, environment: Mapping[str, str]) -> list[str]:
    return [
        environment[var]
        for var in channel.variables
        if environment.get(var) and len(environment[var]) >= MASKED_MIN_LENGTH
    ]
