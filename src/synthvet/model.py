"""Records in, verdicts out: the typed vocabulary every layer shares.

A domain never builds a complete :class:`Verdict` by hand. It returns one made by
:func:`verified`, :func:`refuted` or :func:`needs_review`; the harness stamps the
record's id, the domain, the verifier's name@version, the time taken and whether
it came from the ledger. Keeping that bookkeeping out of domains means a plugin
cannot get it wrong.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "Status",
    "Record",
    "Verdict",
    "Limits",
    "verified",
    "refuted",
    "needs_review",
    "canonical_json",
    "content_hash",
    "record_content_key",
    "dump_json",
    "REASONS",
]


class Status(str, enum.Enum):
    """The three outcomes. There is deliberately no boolean."""

    VERIFIED = "verified"
    REFUTED = "refuted"
    NEEDS_REVIEW = "needs_review"

    def __str__(self) -> str:  # so f-strings and JSON show the bare value
        return self.value


#: Reason codes shared across domains. Domains may add their own short codes;
#: these are the ones the harness itself emits or that DESIGN.md names.
REASONS: Final[frozenset[str]] = frozenset(
    {
        "answer_matches",
        "answer_mismatch",
        "tests_passed",
        "tests_failed",
        "timeout",
        "parse_error",
        "missing_field",
        "unknown_domain",
        "checker_unavailable",
        "sorry_used",
        "axiom_used",
        "statement_changed",
        "weak_evidence",
        "high_stakes",
        "audit_sample",
        "expert_accepted",
        "expert_rejected",
        "harness_error",
    }
)


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              default=_json_default)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the form that is hashed.

    NaN and the infinities come out as the bare tokens ``NaN``/``Infinity`` (not strict
    JSON, but deterministic), so the same record always hashes the same way.
    """
    return _CANONICAL.encode(value)


_DUMP = json.JSONEncoder(ensure_ascii=False, default=_json_default)


def dump_json(value: Any) -> str:
    """One line of JSON for output files; values JSON cannot hold become strings."""
    return _DUMP.encode(value)


def content_hash(value: Any) -> str:
    """SHA-256 hex digest of :func:`canonical_json` of ``value``."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def record_content_key(data: Mapping[str, Any]) -> str:
    """Hash of what a check may depend on: the record without ``id`` and ``tags``.

    A renamed or re-tagged record keeps its cached verdict and its expert decision;
    any change to what is checked gives a new key.
    """
    if "id" in data or "tags" in data:
        data = {k: v for k, v in data.items() if k != "id" and k != "tags"}
    return hashlib.sha256(_CANONICAL.encode(data).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-record budget. The harness enforces it from outside the check (a killed
    worker); domains use it to size the timeouts of their own subprocesses, which
    should end a little before the harness would have to step in."""

    seconds: float = 30.0
    memory_mb: int = 4096

    def inner_seconds(self, fraction: float = 0.8) -> float:
        """The time a domain should give its own subprocess: under the hard limit."""
        return max(0.1, self.seconds * fraction)


@dataclass(frozen=True, slots=True)
class Record:
    """One input example, with its fields already mapped to canonical names.

    ``data`` is the whole mapped object (so plugins can read fields of their own);
    ``source`` and ``line`` say where it came from, for error messages.
    """

    id: str
    domain: str
    data: Mapping[str, Any]
    tags: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<input>"
    line: int = 0
    #: computed from ``data`` when not given; see :func:`record_content_key`
    content_key: str = ""

    def __post_init__(self) -> None:
        if not self.content_key:
            object.__setattr__(self, "content_key", record_content_key(self.data))

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    @property
    def where(self) -> str:
        """``file:line`` for messages that must name the record."""
        return f"{self.source}:{self.line}" if self.line else self.source



@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer about one record, as DESIGN.md defines it."""

    status: Status
    reason: str
    detail: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""
    domain: str = ""
    verifier: str = ""
    seconds: float = 0.0
    cached: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status(self.status))
        if not self.reason or not isinstance(self.reason, str):
            raise ValueError(f"a verdict needs a reason code, got {self.reason!r}")

    def stamped(self, **changes: Any) -> Verdict:
        """A copy with harness bookkeeping (id, domain, verifier, seconds, cached) set."""
        if not changes.keys() <= _STAMPS:
            raise TypeError(f"stamped() sets only {sorted(_STAMPS)}, not "
                            f"{sorted(changes.keys() - _STAMPS)}")
        new = object.__new__(Verdict)
        for name in _SLOTS:  # a plain copy: dataclasses.replace costs 10x more per record
            object.__setattr__(new, name, changes[name] if name in changes
                               else getattr(self, name))
        return new

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "domain": self.domain,
            "status": self.status.value,
            "reason": self.reason,
            "detail": self.detail,
            "evidence": dict(self.evidence),
            "verifier": self.verifier,
            "seconds": round(self.seconds, 6),
            "cached": self.cached,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(
            status=Status(data["status"]),
            reason=str(data["reason"]),
            detail=str(data.get("detail", "")),
            evidence=dict(data.get("evidence") or {}),
            id=str(data.get("id", "")),
            domain=str(data.get("domain", "")),
            verifier=str(data.get("verifier", "")),
            seconds=float(data.get("seconds", 0.0)),
            cached=bool(data.get("cached", False)),
        )


_STAMPS: Final = frozenset({"id", "domain", "verifier", "seconds", "cached"})
_SLOTS: Final = tuple(f.name for f in dataclasses.fields(Verdict))


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def verified(reason: str, detail: str = "", evidence: Mapping[str, Any] | None = None) -> Verdict:
    """A positive check. Only call this when correctness was actually established."""
    return Verdict(Status.VERIFIED, reason, _one_line(detail), dict(evidence or {}))


def refuted(reason: str, detail: str = "", evidence: Mapping[str, Any] | None = None) -> Verdict:
    """The example was shown wrong; ``evidence`` should hold the counterexample."""
    return Verdict(Status.REFUTED, reason, _one_line(detail), dict(evidence or {}))


def needs_review(
    reason: str, detail: str = "", evidence: Mapping[str, Any] | None = None
) -> Verdict:
    """Neither shown right nor wrong: a person decides."""
    return Verdict(Status.NEEDS_REVIEW, reason, _one_line(detail), dict(evidence or {}))
