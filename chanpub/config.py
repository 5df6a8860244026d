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

from chanpub.channel_options import (
    InstalledAdapters,
    adapter_for,
    installed_adapters,
    refuse_short_secrets,
    validate_options,
)
from chanpub.errors import MASK, ConfigError, remember_secrets
from chanpub.i18n import _
from chanpub.variables import (
    SECRET_MIN_LENGTH,
    VARIABLE,
    Substitution,
    environment_for,
    secret_values,
    variables_in,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chanpub.approvals.record import Approvers
    from chanpub.contract import Channel

CONFIG_NAME = "channels.yaml"
TOP_LEVEL = (
    "organisation", "language", "state_dir", "channels", "approvers", "require_approvals",
    "approvals",
    "database", "queue",
)  # fmt: skip
BATCH = 500  # recipients per queued job (`queue: batch:`)
COMMON_KEYS = ("type", "enabled", "canonical", "backfill")


@dataclass(frozen=True)
class ChannelConfig:
    """One configured channel, validated; `ready` tells whether it can run now."""

    name: str
    type: str
    enabled: bool = True
    canonical: bool = False
    backfill: bool = False  # also send the releases that went out before it was added
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
    database: str | None = field(default=None, repr=False)  # postgresql:// URL; None: SQLite
    batch: int = BATCH  # with `database:`, recipients per queued job (`queue: batch:`)

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
            if path.is_dir():
                raise ConfigError(
                    _(
                        "{path}: is a folder, not a config file (from {origin}): give the "
                        "file in it, e.g. {example}"
                    ).format(path=path, origin=origin, example=path / CONFIG_NAME)
                )
            if path.exists() and not path.is_file():
                raise ConfigError(
                    _(
                        "{path}: is not a regular file (from {origin}): give the path of {name}"
                    ).format(path=path, origin=origin, name=CONFIG_NAME)
                )
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
    from chanpub.yaml_load import YamlContentError, YamlSyntaxError, load_yaml

    try:
        return load_yaml(text, str(path))[0]
    except YamlSyntaxError as error:
        where = f"{path}:{error.line}" if error.line else str(path)
        raise ConfigError(
            _("{where}: not valid YAML ({problem}): fix the syntax").format(
                where=where, problem=error.problem
            )
        ) from None
    except YamlContentError as error:
        raise ConfigError("\n".join(error.problems)) from None


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
    _unknown_settings(data, path, problems)
    environment = environment_for(path)
    organisation = _top_text(data, "organisation", path, problems) or ""
    language_setting = _top_text(data, "language", path, problems) or None
    state_dir = state_dir_for(path, _top_text(data, "state_dir", path, problems))
    from chanpub.approvals.record import load_approvers

    approvers = load_approvers(data, path, problems, state_dir)
    masked: list[str] = []  # every secret value, to be masked in all that is shown
    database = _database(data.get("database"), path, environment, problems, masked)
    batch = _batch(data.get("queue"), path, problems)
    channels = _channels(data.get("channels"), path, environment, problems, load_adapters)
    for channel in channels.values():
        masked.extend(v for v in secret_values(channel.variables, environment) if v not in masked)
    _one_canonical(channels, path, problems)
    if problems:
        raise ConfigError(problems)
    remember_secrets(masked)  # error messages and cut reasons are masked from now on
    return Config(
        path=path,
        organisation=organisation,
        language=language_setting or "en",
        language_setting=language_setting,
        state_dir=state_dir,
        channels=channels,
        secret_values=tuple(masked),
        approvers=approvers,
        database=database,
        batch=batch,
    )


def _unknown_settings(data: Mapping[str, Any], path: Path, problems: list[str]) -> None:
    for key in data:
        if key not in TOP_LEVEL:
            problems.append(
                _("{path}: {key}: unknown setting: use one of {known}").format(
                    path=path, key=key, known=", ".join(TOP_LEVEL)
                )
            )


def _channels(
    value: Any,
    path: Path,
    environment: Mapping[str, str],
    problems: list[str],
    load_adapters: bool,
) -> dict[str, ChannelConfig]:
    """`channels:`, each checked against its adapter's options (with `load_adapters`)."""
    channels_data = value or {}
    if not isinstance(channels_data, dict):
        problems.append(
            _("{path}: channels: must be a mapping of channel name to settings").format(path=path)
        )
        return {}
    channels: dict[str, ChannelConfig] = {}
    entry_points = installed_adapters() if load_adapters and channels_data else None
    for name, entry in channels_data.items():
        channel = _load_channel(path, str(name), entry, environment, problems, entry_points)
        if channel is not None:
            channels[str(name)] = channel
    return channels


def _one_canonical(channels: Mapping[str, ChannelConfig], path: Path, problems: list[str]) -> None:
    """At most one enabled channel holds the official article the others link to."""
    canonical = [c.name for c in channels.values() if c.canonical and c.enabled]
    if len(canonical) > 1:
        problems.append(
            _(
                "{path}: channels: {names} are all marked canonical: keep "
                "'canonical: true' on one channel only"
            ).format(path=path, names=", ".join(canonical))
        )


def _batch(value: Any, path: Path, problems: list[str]) -> int:
    """`queue: {batch: N}`: how many recipients of one delivery one queued job sends."""
    if value is None:
        return BATCH
    size = value.get("batch", BATCH) if isinstance(value, dict) else None
    if not isinstance(value, dict) or set(value) - {"batch"} or not _positive(size):
        problems.append(
            _(
                "{path}: queue: write 'queue: {{batch: 500}}', the number of recipients one "
                "queued job sends (a whole number above 0)"
            ).format(path=path)
        )
        return BATCH
    return int(value.get("batch", BATCH))


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _database(
    value: Any, path: Path, environment: Mapping[str, str], problems: list[str], masked: list[str]
) -> str | None:
    """`database:`: a postgresql:// URL, its password only through a ${VARIABLE}; the
    expanded URL and its password are masked in everything shown."""
    if value is None:
        return None
    where = f"{path}: database"
    if not isinstance(value, str) or not value.strip():
        problems.append(_("{where}: must be a postgresql:// URL").format(where=where))
        return None
    from urllib.parse import urlsplit

    if urlsplit(VARIABLE.sub("", value)).password:
        problems.append(
            _(
                "{where}: the password is written into the file: put the whole URL in a "
                "variable, e.g. database: ${{CHANPUB_DATABASE_URL}}"
            ).format(where=where)
        )
        return None
    substitution = Substitution(environment)
    url = str(substitution.expand(value))
    if substitution.missing:
        problems.append(
            _("{where}: {names} is not set: set it to the postgresql:// URL").format(
                where=where, names=", ".join(substitution.missing)
            )
        )
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        problems.append(_("{where}: must be a postgresql:// URL").format(where=where))
        return None
    password = urlsplit(url).password
    masked.extend(v for v in (url, password) if v and len(v) >= SECRET_MIN_LENGTH)
    return url


def _top_text(data: Mapping[str, Any], key: str, path: Path, problems: list[str]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        problems.append(_("{path}: {key}: must be text").format(path=path, key=key))
        return None
    return str(value)


def _load_channel(
    path: Path,
    name: str,
    entry: Any,
    environment: Mapping[str, str],
    problems: list[str],
    entry_points: InstalledAdapters | None,
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
    flags = _flags(entry, where, problems)
    options_raw = {k: v for k, v in entry.items() if k not in COMMON_KEYS}
    substitution = Substitution(environment)
    options = substitution.expand(options_raw)
    variables = variables_in(options_raw)
    secrets = {option: names[0] for option, names in variables.items()}
    adapter, problem, model = None, None, None
    if entry_points is not None:
        adapter, problem = adapter_for(channel_type, where, problems, entry_points)
        if adapter is not None:
            if flags["canonical"] and not adapter.capabilities.canonical:
                problems.append(
                    _(
                        "{where}.canonical: a '{type}' channel cannot be the "
                        "canonical one: mark the website channel instead"
                    ).format(where=where, type=channel_type)
                )
            model = validate_options(
                adapter, options, options_raw, substitution.missing, where, problems
            )
            refuse_short_secrets(adapter, variables, substitution.used, where, problems)
    return ChannelConfig(
        name=name,
        type=channel_type,
        enabled=flags["enabled"],
        canonical=flags["canonical"],
        backfill=flags["backfill"],
        raw=options,
        options=model,
        adapter=adapter,
        missing=tuple(substitution.missing),
        secrets=secrets,
        variables=tuple(dict.fromkeys(n for names in variables.values() for n in names)),
        problem=problem,
    )


def _flags(entry: Mapping[str, Any], where: str, problems: list[str]) -> dict[str, bool]:
    """`enabled:` (default true), `canonical:` and `backfill:` (default false) of one
    channel."""
    flags = {}
    for flag, default in (("enabled", True), ("canonical", False), ("backfill", False)):
        value = entry.get(flag, default)
        if not isinstance(value, bool):
            problems.append(
                _("{where}.{flag}: must be true or false").format(where=where, flag=flag)
            )
            value = default
        flags[flag] = value
    return flags
