"""synthvet: vet synthetic training examples with real verifiers.

Public names live here; everything else is internal and may change.
"""

from synthvet.domains.base import CheckerStatus, Domain
from synthvet.errors import (
    DomainValidationError,
    HarnessError,
    InputError,
    SynthvetError,
    UsageError,
)
from synthvet.model import Limits, Record, Status, Verdict, needs_review, refuted, verified

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
