"""synthvet: vet synthetic training examples with real verifiers.

Public names live here; everything else is internal and may change.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synthvet.domains.base import CheckerStatus, Domain
    from synthvet.errors import (
        DomainValidationError,
        HarnessError,
        InputError,
        SynthvetError,
        UsageError,
    )
    from synthvet.model import Limits, Record, Status, Verdict, needs_review, refuted, verified

#: where each public name lives; imported on first use, so that the command line's entry
#: point (:mod:`synthvet._entry`) can catch Ctrl-C from its first milliseconds
_HOMES = {
    "CheckerStatus": "synthvet.domains.base", "Domain": "synthvet.domains.base",
    "DomainValidationError": "synthvet.errors", "HarnessError": "synthvet.errors",
    "InputError": "synthvet.errors", "SynthvetError": "synthvet.errors",
    "UsageError": "synthvet.errors", "Limits": "synthvet.model", "Record": "synthvet.model",
    "Status": "synthvet.model", "Verdict": "synthvet.model",
    "needs_review": "synthvet.model", "refuted": "synthvet.model",
    "verified": "synthvet.model",
}

__all__ = [
    "CheckerStatus",
    "Domain",
    "DomainValidationError",
    "HarnessError",
    "InputError",
    "Limits",
    "Record",
    "Status",
    "SynthvetError",
    "UsageError",
    "Verdict",
    "needs_review",
    "refuted",
    "verified",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'synthvet' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
