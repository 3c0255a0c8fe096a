"""fixtures/lean/records.jsonl: Lean proof records, through LeanChecker and the proof domain.

Records with ``expect`` are decided before Lean runs (the gate, the statement, the
imports), so the same verdict holds with or without Lean. The others say what they
expect with and without Lean; here, without Lean, they must all be
``needs_review``/``checker_unavailable``.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
from lean_replay import FIXTURES

from synthvet.model import Limits, Status
from synthvet.verifiers.lean import LeanChecker

RECORDS: list[dict[str, Any]] = [
    json.loads(line) for line in (FIXTURES / "records.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
HAVE_LEAN = shutil.which("lean") is not None
CHECKER = LeanChecker({})


@pytest.mark.parametrize("record", RECORDS, ids=[r["id"] for r in RECORDS])
def test_record(record: dict[str, Any]) -> None:
    expect = record.get("expect") or record[
        "expect_with_lean" if HAVE_LEAN else "expect_without_lean"]
    verdict = CHECKER.check(record["statement"], record["proof"], record.get("imports", []),
                            Limits(seconds=60))
    assert (verdict.status.value, verdict.reason) == (expect["status"], expect["reason"]), \
        verdict.detail


def test_the_records_hold_right_wrong_and_unverifiable() -> None:
    kinds = {(r.get("expect") or r["expect_with_lean"])["status"] for r in RECORDS}
    assert kinds == {"verified", "refuted", "needs_review"}


def test_through_the_proof_domain() -> None:
    """The proof domain dispatches `system = "lean"` here; the conformance kit agrees."""
    proof = pytest.importorskip("synthvet.domains.proof")
    from synthvet.testing import check_domain

    report = check_domain(proof.ProofDomain, FIXTURES / "records.jsonl",
                          limits=Limits(seconds=60))
    assert report.cases == sum(1 for r in RECORDS if "expect" in r)
    if not HAVE_LEAN:
        domain = proof.ProofDomain({})
        from synthvet.testing import make_record
        for r in RECORDS:
            if "expect" not in r:
                v = domain.check(make_record(r), Limits(seconds=10))
                assert (v.status, v.reason) == (Status.NEEDS_REVIEW, "checker_unavailable")
