"""The plugin contract for a domain.

A domain is any object with ``name``, ``version``, ``fields`` and
``check(record, limits) -> Verdict``; it need not subclass anything. The registry
builds it by calling the entry point with the domain's options (the
``[domains.<name>]`` table of the config, possibly empty), so a plugin class takes
one ``options`` mapping argument.

Rules a domain must keep (``synthvet.testing`` checks them):

* garbage in gives ``needs_review`` (or ``refuted``), never an exception — though the
  harness turns a stray exception into ``needs_review``/``harness_error`` anyway;
* the same record gives the same verdict;
* ``verified`` only when correctness was positively established;
* ``version`` changes whenever a result could change (it keys the ledger).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from synthvet.model import Limits, Record, Verdict

__all__ = ["Domain", "CheckerStatus", "which_version"]


@dataclass(frozen=True, slots=True)
class CheckerStatus:
    """Whether an external checker or protection is usable here, for ``synthvet domains``."""

    name: str
    available: bool
    detail: str = ""


@runtime_checkable
class Domain(Protocol):
    """What the harness needs from a domain."""

    # Read-only properties, so a plain class attribute (``fields = ("a", "b")``) satisfies
    # the protocol; mutable attributes would be invariant and reject a tuple.
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str:
        """Changes whenever a result could change; part of the ledger key."""
        ...

    @property
    def fields(self) -> Sequence[str]:
        """Canonical field names the domain reads (for error messages and docs)."""
        ...

    def check(self, record: Record, limits: Limits) -> Verdict:
        """Check one record within ``limits``; never raise for bad input."""
        ...


def checkers_of(domain: Any) -> list[CheckerStatus]:
    """The domain's external checkers; a domain without any may omit ``checkers()``."""
    fn = getattr(domain, "checkers", None)
    return list(fn()) if callable(fn) else []


def which_version(
    executable: str, args: Sequence[str] = ("--version",), timeout: float = 10.0
) -> CheckerStatus:
    """Probe an executable on PATH and report its first version line."""
    path = shutil.which(executable)
    if path is None:
        return CheckerStatus(executable, False, "not found on PATH")
    try:
        out = subprocess.run(
            [path, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return CheckerStatus(executable, False, f"{path}: {exc}")
    first = (out.stdout or out.stderr).strip().splitlines()
    return CheckerStatus(executable, True, f"{path}: {first[0] if first else 'no version'}")


def reject_unknown_options(domain: str, options: Mapping[str, Any],
                           known: Iterable[str]) -> dict[str, Any]:
    """A copy of ``options``; a key the domain does not know is a config error naming it."""
    import difflib

    from synthvet.errors import UsageError

    known = list(known)
    unknown = sorted(set(options) - set(known))
    if unknown:
        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(f"[domains.{domain}] has unknown option(s) "
                         f"{', '.join(map(repr, unknown))}{hint}; known: {', '.join(known)}")
    return dict(options)


def options_get(options: Mapping[str, Any], key: str, default: Any, kind: type) -> Any:
    """Read one typed option, with an error that names it."""
    from synthvet.errors import UsageError

    value = options.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise UsageError(
            f"option {key!r} must be {kind.__name__}, got {value!r} ({type(value).__name__})"
        )
    return value
