"""The conformance kit over the golden fixtures and the demo file, with perturbation."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthvet.domains.math import MathDomain
from synthvet.errors import UsageError
from synthvet.model import Record
from synthvet.testing import check_domain, make_record

ROOT = Path(__file__).resolve().parents[2]


def perturb(record: Record) -> Record | None:
    """A wrong answer made from a right one: 2·(answer) + 3 (its fixed point is -3, which
    no fixture answer is); for identities the opposite truth value."""
    data = dict(record.data)
    task = data.get("check") or {}
    if isinstance(task, dict) and task.get("kind") == "identity":
        data["answer"] = "false" if str(data["answer"]).lower() == "true" else "true"
        return make_record(data)
    if "answer" in data:
        ans = str(data["answer"])
        data["answer"] = (f"2\\left({ans}\\right)+3" if "\\" in ans or "{" in ans
                          else f"2*({ans})+3")
        return make_record(data)
    return None


@pytest.mark.parametrize("folder", ["fixtures/math", "fixtures/demo/math.jsonl"])
def test_conformance(folder: str) -> None:
    report = check_domain(MathDomain, ROOT / folder, perturb=perturb)
    assert report.cases >= (60 if folder == "fixtures/math" else 12)
    assert report.perturbed >= (10 if folder == "fixtures/math" else 3)


def test_demo_is_mixed() -> None:
    report = check_domain(MathDomain, ROOT / "fixtures/demo/math.jsonl")
    statuses = {v.status.value for v in report.verdicts}
    assert statuses == {"verified", "refuted", "needs_review"}


@pytest.mark.parametrize("options", [
    {"tolerance": 2.0}, {"tolerance": "1e-6"}, {"probe_points": 1}, {"bogus": 1},
    {"simplify_seconds": 0}, {"probe_digits": 5},
], ids=lambda o: next(iter(o)))
def test_bad_options_are_usage_errors(options: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        MathDomain(options)


def test_config_tolerance_applies() -> None:
    from synthvet.model import Limits, Status

    rec = make_record({"domain": "math", "answer": "3.1416", "reference": "pi"})
    assert MathDomain().check(rec, Limits(10)).status is not Status.VERIFIED
    assert MathDomain({"tolerance": 1e-5}).check(rec, Limits(10)).status is Status.VERIFIED
