"""The API adapter authors import from `chanpub` is pinned: changing it is a decision."""

from __future__ import annotations

import chanpub


def test_the_public_api_is_exactly_this() -> None:
    assert sorted(chanpub.__all__) == [
        "Action",
        "AmbiguousError",
        "Amendment",
        "AuthError",
        "Capabilities",
        "Channel",
        "ChannelContext",
        "ChannelError",
        "DuplicateError",
        "ItemJournal",
        "Links",
        "Mechanism",
        "PermanentError",
        "Preview",
        "PreviewKind",
        "Receipt",
        "Release",
        "RetryableError",
        "Status",
        "__version__",
    ]


def test_every_public_name_resolves() -> None:
    for name in chanpub.__all__:
        assert getattr(chanpub, name) is not None, name


def test_exit_codes_are_the_contract() -> None:
    from chanpub.errors import ExitCode

    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "CHANNEL_FAILED": 1,
        "BAD_INPUT": 2,
        "LOCK_HELD": 75,
        "INTERRUPTED": 130,
        "TERMINATED": 143,
    }
