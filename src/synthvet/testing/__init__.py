"""Conformance kit for domain authors.

``check_domain(MyDomain, "fixtures/mine")`` asserts what every domain owes the harness:

* a declared, non-empty ``version`` and the contract's attributes;
* garbage in gives ``needs_review`` or ``refuted``, never an exception and never
  ``verified``;
* the same record gives the same verdict (status and reason) twice;
* every golden case gets its expected status (and reason, when given);
* with a ``perturb`` function, a wrong answer made from each verified case is not verified.

Golden files are JSON Lines: ordinary records with an ``expect`` object
(``{"status": "verified", "reason": "answer_matches"}``). They double as demo data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthvet.domains.registry import build_domain, validate_domain
from synthvet.model import Limits, Record, Status, Verdict

__all__ = ["check_domain", "golden_cases", "make_record", "ConformanceFailure", "GARBAGE"]


class ConformanceFailure(AssertionError):
    """A domain broke the contract; the message names the case."""


#: Values that a careless adapter might choke on. Each is tried in every field.
GARBAGE: tuple[Any, ...] = (
    None, "", " ", "\x00", "}{", "\\boxed{", 0, -1, 1e308, float("nan"), True, [], {},
    [1, [2, [3]]], {"kind": "??"}, "x" * 20000, "(((((((((((", "ñ∑∫√∞", "1/0",
    "__import__('os').system('true')",
)


def make_record(data: Mapping[str, Any], *, domain: str | None = None, line: int = 0,
                source: str = "<test>") -> Record:
    """Build a :class:`Record` from a plain dict the way the harness does."""
    from synthvet.harness.records import to_record

    return to_record(dict(data), source=source, line=line, default_domain=domain)


@dataclass
class GoldenCase:
    record: Record
    expect_status: Status
    expect_reason: str | None
    where: str


@dataclass
class ConformanceReport:
    domain: str
    cases: int = 0
    garbage: int = 0
    perturbed: int = 0
    verdicts: list[Verdict] = field(default_factory=list)


def golden_cases(path: str | Path, domain: str | None = None) -> list[GoldenCase]:
    """Golden cases from a ``.jsonl`` file or every ``.jsonl`` file in a folder."""
    p = Path(path)
    files = sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
    cases: list[GoldenCase] = []
    for f in files:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            data = json.loads(line)
            expect = data.get("expect") or {}
            if "status" not in expect:
                continue
            rec = make_record(data, domain=domain, line=n, source=str(f))
            if domain is not None and rec.domain != domain:
                continue
            cases.append(GoldenCase(rec, Status(expect["status"]), expect.get("reason"),
                                    f"{f.name}:{n}"))
    return cases


def _check_once(domain: Any, record: Record, limits: Limits, where: str) -> Verdict:
    try:
        verdict = domain.check(record, limits)
    except Exception as exc:  # the point of the kit is to catch exactly this
        raise ConformanceFailure(f"{where}: check() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(verdict, Verdict):
        raise ConformanceFailure(f"{where}: check() returned {type(verdict).__name__}, "
                                 "not a Verdict")
    return verdict


def check_domain(
    domain: Any,
    golden: str | Path | Iterable[GoldenCase] | None = None,
    *,
    perturb: Callable[[Record], Record | None] | None = None,
    limits: Limits | None = None,
    options: Mapping[str, Any] | None = None,
) -> ConformanceReport:
    """Run the conformance suite; raise :class:`ConformanceFailure` on the first breach.

    ``domain`` is a domain object, or a class/factory that is called with ``options``.
    """
    limits = limits or Limits(seconds=30.0)
    if isinstance(domain, type) or (callable(domain) and not hasattr(domain, "check")):
        domain = build_domain(getattr(domain, "name", "?"), domain, options or {})
    validate_domain(domain.name, domain)
    report = ConformanceReport(domain.name)

    base: dict[str, Any] = {"domain": domain.name}
    for fname in domain.fields:
        for junk in GARBAGE:
            rec = make_record({**base, fname: junk}, line=0, source="<garbage>")
            v = _check_once(domain, rec, limits, f"garbage {fname}={junk!r:.40}")
            if v.status is Status.VERIFIED:
                raise ConformanceFailure(f"garbage {fname}={junk!r:.40} was verified")
            report.garbage += 1
    # The same junk in every field at once: only values that are never an answer, since
    # for some domains (exact) the same string in answer and reference is a right answer.
    for junk in (None, "", " ", [], {}, float("nan"), True):
        rec = make_record({**base, **{f: junk for f in domain.fields}}, source="<garbage>")
        v = _check_once(domain, rec, limits, f"garbage all fields={junk!r:.40}")
        if v.status is Status.VERIFIED:
            raise ConformanceFailure(f"garbage in all fields ({junk!r:.40}) was verified")
        report.garbage += 1

    cases = golden_cases(golden, domain.name) if isinstance(golden, (str, Path)) else list(
        golden or [])
    for case in cases:
        first = _check_once(domain, case.record, limits, case.where)
        second = _check_once(domain, case.record, limits, case.where)
        if (first.status, first.reason) != (second.status, second.reason):
            raise ConformanceFailure(
                f"{case.where}: not deterministic: {first.status}/{first.reason} then "
                f"{second.status}/{second.reason}")
        if first.status is not case.expect_status or (
            case.expect_reason is not None and first.reason != case.expect_reason
        ):
            raise ConformanceFailure(
                f"{case.where}: expected {case.expect_status}/{case.expect_reason or '*'}, "
                f"got {first.status}/{first.reason}: {first.detail}")
        report.cases += 1
        report.verdicts.append(first)
        if perturb is not None and first.status is Status.VERIFIED:
            wrong = perturb(case.record)
            if wrong is not None:
                v = _check_once(domain, wrong, limits, f"{case.where} perturbed")
                if v.status is Status.VERIFIED:
                    raise ConformanceFailure(f"{case.where}: a perturbed (wrong) copy was "
                                             f"verified: {dict(wrong.data)}")
                report.perturbed += 1
    return report
