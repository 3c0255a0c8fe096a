"""A domain plugin as a researcher writes it; `mypy --strict` must accept it as-is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthvet import CheckerStatus, Domain, Limits, Record, Verdict, needs_review, refuted, verified
from synthvet.testing import check_domain, make_record


class ParityDomain:
    name = "parity"
    version = "1"
    fields = ("answer", "number")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.strict = bool((options or {}).get("strict", True))

    def check(self, record: Record, limits: Limits) -> Verdict:
        number = record.get("number")
        answer = record.get("answer")
        if not isinstance(number, int) or answer not in ("even", "odd"):
            return needs_review("parse_error", "number must be an int, answer even/odd")
        truth = "even" if number % 2 == 0 else "odd"
        if answer == truth:
            return verified("answer_matches", f"{number} is {truth}", {"number": number})
        return refuted("answer_mismatch", f"{number} is {truth}", {"number": number})

    def checkers(self) -> list[CheckerStatus]:
        return [CheckerStatus("arithmetic", True, "built in")]


def use() -> None:
    domain: Domain = ParityDomain({})
    verdict = domain.check(make_record({"domain": "parity", "number": 4, "answer": "even"}),
                           Limits(seconds=1.0))
    status: str = verdict.status.value
    print(status, verdict.reason, verdict.evidence)
    check_domain(ParityDomain)
