"""The ChanpubError tree and the exit codes that users and cron depend on."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import ClassVar

MASK = "***"
REASON_LIMIT = 200  # characters of a service's own explanation kept in a message

# The secret values of the loaded config (set by config.load_config), longest first so a
# secret that contains another is masked whole. Replaced as a whole, never mutated, so
# adapters running in parallel threads only ever read one consistent tuple.
_secrets: tuple[str, ...] = ()


def remember_secrets(values: Iterable[str]) -> None:
    """Mask these values in every error message and shortened reason from now on."""
    global _secrets
    _secrets = tuple(sorted({v for v in values if v}, key=len, reverse=True))


def mask_secrets(text: str) -> str:
    """`text` with every remembered secret value replaced by ***."""
    for value in _secrets:
        text = text.replace(value, MASK)
    return text


def shorten_reason(text: str, limit: int = REASON_LIMIT) -> str:
    """A service's reason on one line, at most `limit` characters (then …), masked first:
    cutting before masking could keep a secret's first characters, which no longer match
    the whole value and so would escape the mask."""
    text = " ".join(mask_secrets(text).split())
    return text[:limit] + ("…" if len(text) > limit else "")


class ExitCode(IntEnum):
    """Process exit codes: the contract scripts and cron read."""

    OK = 0  # everything due was published, or already had been
    CHANNEL_FAILED = 1  # at least one channel failed
    BAD_INPUT = 2  # release, config or approval is wrong; nothing was sent
    LOCK_HELD = 75  # another send run holds the lock (EX_TEMPFAIL)
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM (systemd, cron timeouts): the work in flight was recorded


class ChanpubError(Exception):
    """An error chanpub explains to the user: a complete sentence, an optional hint."""

    exit_code: ClassVar[ExitCode] = ExitCode.CHANNEL_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        message = mask_secrets(message)  # a last guard: a message never carries a secret
        super().__init__(message)
        self.message = message
        self.hint = mask_secrets(hint) if hint is not None else None

    def __str__(self) -> str:
        return self.message


class InputError(ChanpubError):
    """Bad input: a release, the config, an approval or `--log-file`. Found before the
    run, nothing is sent; a log that fails after the run says that what was sent is
    recorded in the ledger."""

    exit_code = ExitCode.BAD_INPUT


class ReleaseError(InputError):
    """A release file cannot be used as it is."""


class ConfigError(InputError):
    """channels.yaml (or a value it refers to) is wrong."""

    def __init__(self, problems: list[str] | str, *, hint: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems), hint=hint)


class ApprovalError(InputError):
    """A release is not approved, or changed after it was approved."""


class LockHeld(ChanpubError):
    """Another `chanpub send` is running on the same state directory."""

    exit_code = ExitCode.LOCK_HELD


class StateError(ChanpubError):
    """The state directory or ledger cannot be used (read-only, full disk, corrupt)."""

    exit_code = ExitCode.BAD_INPUT


class LedgerUnavailable(StateError):
    """The ledger database went away during a run: the run failed, like a channel (exit 1)."""

    exit_code = ExitCode.CHANNEL_FAILED


class PluginError(ChanpubError):
    """A channel adapter could not be found or loaded."""

    exit_code = ExitCode.BAD_INPUT


class ChannelError(ChanpubError):
    """A channel could not publish; becomes a `failed` outcome for that channel only."""

    exit_code = ExitCode.CHANNEL_FAILED


class PartialFailure(ChannelError):
    """Some items of a delivery failed (e.g. recipients); the rest went out."""

    def __init__(self, message: str, *, receipt: object, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.receipt = receipt  # a chanpub.contract.Receipt for what did go out


class RetryableError(ChannelError):
    """Nothing was applied; trying again later with the same key is safe."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class AmbiguousError(ChannelError):
    """The request may have been applied: look it up before sending again."""


class PermanentError(ChannelError):
    """The platform refused the request; sending it again unchanged will not help."""


class AuthError(PermanentError):
    """Credentials are missing, wrong or expired; names the variable to fix."""

    def __init__(self, message: str, *, variable: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.variable = variable


class DuplicateError(PermanentError):
    """The platform says this exact content was already posted."""
