"""One root error, and user mistakes that are also the matching builtin.

The CLI turns :class:`UsageError` into exit code 2 with its message and no traceback;
:class:`HarnessError` into exit code 3.
"""

from __future__ import annotations

__all__ = ["SynthvetError", "UsageError", "InputError", "DomainValidationError", "HarnessError"]


class SynthvetError(Exception):
    """Root of every error synthvet raises on purpose."""


class UsageError(SynthvetError, ValueError):
    """A bad flag, option or config value: the message says what to change."""


class InputError(UsageError, OSError):
    """An input that cannot be read at all (missing, unreadable, unknown format)."""


class DomainValidationError(SynthvetError, TypeError):
    """A domain plugin is malformed; raised when it is loaded, naming the plugin."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f"domain plugin {plugin!r}: {message}")
        self.plugin = plugin
        self.message = message


class HarnessError(SynthvetError, RuntimeError):
    """synthvet itself failed (e.g. the ledger cannot be written)."""
