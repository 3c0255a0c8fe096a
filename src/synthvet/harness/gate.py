"""The gate: thresholds on a run's outcome, overall (``[gate]``) and per domain (``[gate.<d>]``).

A threshold that is a whole number is a count; one with a decimal point is a fraction
of the records in its scope (``max_refuted = 0`` allows none; ``min_verified = 0.95``
wants 95%). TOML keeps the distinction, so ``1`` and ``1.0`` mean different things, on
purpose.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from synthvet.errors import UsageError
from synthvet.model import Status

__all__ = ["GateRule", "Gate", "RuleResult"]

RULES: dict[str, tuple[Status | None, str]] = {
    # rule name -> (status counted, direction)
    "max_refuted": (Status.REFUTED, "max"),
    "max_review": (Status.NEEDS_REVIEW, "max"),
    "min_verified": (Status.VERIFIED, "min"),
}


@dataclass(frozen=True, slots=True)
class GateRule:
    scope: str  # "overall" or a domain name
    rule: str
    limit: float
    kind: str  # "count" | "fraction"

    @property
    def text(self) -> str:
        where = "" if self.scope == "overall" else f"{self.scope}."
        shown = f"{self.limit:g}" if self.kind == "fraction" else str(int(self.limit))
        return f"{where}{self.rule} = {shown}"


@dataclass(slots=True)
class RuleResult:
    rule: GateRule
    actual: float | None
    passed: bool
    records: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.rule.scope, "rule": self.rule.rule, "limit": self.rule.limit,
                "kind": self.rule.kind, "actual": self.actual, "passed": self.passed,
                "records": self.records, "text": self.rule.text}


def _parse_rule(scope: str, name: str, value: Any) -> GateRule:
    if name not in RULES:
        close = difflib.get_close_matches(name, RULES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        table = "[gate]" if scope == "overall" else f"[gate.{scope}]"
        raise UsageError(f"{table}: unknown rule {name!r}{hint} Rules: {', '.join(RULES)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"gate rule {name} must be a number, got {value!r}")
    if isinstance(value, float):
        if not 0.0 <= value <= 1.0:
            raise UsageError(f"gate rule {name} = {value!r}: a fraction must be between 0.0 "
                             "and 1.0 (write a whole number for a count)")
        return GateRule(scope, name, value, "fraction")
    if value < 0:
        raise UsageError(f"gate rule {name} = {value!r}: a count cannot be negative")
    return GateRule(scope, name, float(value), "count")


class Gate:
    def __init__(self, rules: list[GateRule]) -> None:
        self.rules = rules

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> Gate:
        rules: list[GateRule] = []
        for key, value in table.items():
            if isinstance(value, dict):
                rules += [_parse_rule(key, k, v) for k, v in value.items()]
            else:
                rules.append(_parse_rule("overall", key, value))
        return cls(rules)

    def evaluate(self, by_domain: Mapping[str, Mapping[str, int]],
                 ids: Mapping[tuple[str, str], list[str]]) -> list[RuleResult]:
        """``by_domain``: domain -> status -> count; ``ids``: (domain, status) -> sample ids."""
        results = []
        for rule in self.rules:
            domains = list(by_domain) if rule.scope == "overall" else [rule.scope]
            counts = {s.value: sum(by_domain.get(d, {}).get(s.value, 0) for d in domains)
                      for s in Status}
            total = sum(counts.values())
            status, direction = RULES[rule.rule]
            assert status is not None
            hit = counts[status.value]
            if rule.scope != "overall" and total == 0:
                results.append(RuleResult(rule, None, True))
                continue
            actual = float(hit) if rule.kind == "count" else (hit / total if total else 0.0)
            passed = actual <= rule.limit if direction == "max" else actual >= rule.limit
            offenders: list[str] = []
            if not passed:
                wanted = [status.value] if direction == "max" else [
                    s.value for s in Status if s is not status]
                for d in domains:
                    for s in wanted:
                        offenders += ids.get((d, s), [])
            results.append(RuleResult(rule, round(actual, 6), passed, offenders[:50]))
        return results
