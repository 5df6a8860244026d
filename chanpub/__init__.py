"""chanpub: one approved release to every official channel, exactly once.

The names in `__all__` are the API for adapter authors; everything else is internal.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
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

_LAZY = {
    "Action": "chanpub.contract",
    "Amendment": "chanpub.contract",
    "Capabilities": "chanpub.contract",
    "Channel": "chanpub.contract",
    "ChannelContext": "chanpub.contract",
    "ItemJournal": "chanpub.contract",
    "Links": "chanpub.contract",
    "Mechanism": "chanpub.contract",
    "Preview": "chanpub.contract",
    "PreviewKind": "chanpub.contract",
    "Status": "chanpub.status",
    "Receipt": "chanpub.contract",
    "Release": "chanpub.release",
    "AmbiguousError": "chanpub.errors",
    "AuthError": "chanpub.errors",
    "ChannelError": "chanpub.errors",
    "DuplicateError": "chanpub.errors",
    "PermanentError": "chanpub.errors",
    "RetryableError": "chanpub.errors",
}


def __getattr__(name: str) -> object:
    """Import API names on first use, so `import chanpub` stays cheap."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'chanpub' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
