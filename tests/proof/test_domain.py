"""The proof domain: field validation, dispatch, options, conformance kit."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from synthvet.domains.proof import ProofDomain, _normalise_imports
from synthvet.errors import UsageError
from synthvet.model import Limits, Record, Status
from synthvet.testing import check_domain, make_record
from synthvet.verifiers.coq import parse_statement

ROOT = Path(__file__).resolve().parents[2]
LIMITS = Limits(seconds=30.0)
HAVE_COQ = shutil.which("coqc") is not None and shutil.which("coqchk") is not None


def _rec(**fields: object) -> Record:
    return make_record({"domain": "proof", **fields})


@pytest.fixture(scope="module")
def domain() -> ProofDomain:
    return ProofDomain({})


@pytest.mark.parametrize("fields,reason", [
    ({"statement": "Theorem t : True.", "proof": "x"}, "missing_field"),
    ({"system": "", "statement": "Theorem t : True.", "proof": "x"}, "missing_field"),
    ({"system": 3, "statement": "Theorem t : True.", "proof": "x"}, "parse_error"),
    ({"system": "isabelle", "statement": "lemma t: True", "proof": "x"},
     "unsupported_system"),
    ({"system": "coq", "proof": "x"}, "missing_field"),
    ({"system": "coq", "statement": "Theorem t : True.", "proof": "  "}, "missing_field"),
    ({"system": "coq", "statement": ["Theorem"], "proof": "x"}, "parse_error"),
    ({"system": "coq", "statement": "Theorem t : True.", "proof": "x", "imports": 3},
     "parse_error"),
    ({"system": "coq", "statement": "Theorem t : True.", "proof": "x",
      "imports": ["Require Import List.", None]}, "parse_error"),
], ids=["no-system", "empty-system", "system-not-string", "unknown-system", "no-statement",
        "blank-proof", "statement-list", "imports-int", "imports-none-item"])
def test_bad_fields_go_to_review(domain: ProofDomain, fields: dict[str, Any], reason: str) -> None:
    verdict = domain.check(_rec(**fields), LIMITS)
    assert verdict.status is Status.NEEDS_REVIEW
    assert verdict.reason == reason


def test_unknown_system_names_the_supported_ones(domain: ProofDomain) -> None:
    verdict = domain.check(_rec(system="isabelle", statement="s", proof="p"), LIMITS)
    assert "coq" in verdict.detail and "lean" in verdict.detail


@pytest.mark.parametrize("raw,expected", [
    (None, []),
    ("Require Import List.", ["Require Import List."]),
    ("Require Import List.\n\nRequire Import Arith.\n", ["Require Import List.",
                                                          "Require Import Arith."]),
    (["Require Import List.", " import Mathlib "], ["Require Import List.", "import Mathlib"]),
    ((), []),
    (3, None),
    ([1], None),
    ({"a": 1}, None),
])
def test_imports_normalised(raw: object, expected: list[str] | None) -> None:
    assert _normalise_imports(raw) == expected


def test_lean_records_never_verified_here(domain: ProofDomain) -> None:
    """No Lean binary here: a Lean record is checker_unavailable, not an error of the run."""
    if shutil.which("lean") is not None:
        pytest.skip("a real lean is on PATH; tests/lean covers it")
    verdict = domain.check(_rec(system="lean", statement="theorem t : 1 + 1 = 2",
                                proof="theorem t : 1 + 1 = 2 := rfl"), LIMITS)
    assert verdict.status is Status.NEEDS_REVIEW
    assert verdict.reason == "checker_unavailable"


def test_no_lean_here_is_checker_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no `lean` and no REPL on PATH, a Lean record goes to review, never verified."""
    monkeypatch.setenv("PATH", "/nonexistent")
    fresh = ProofDomain({})
    verdict = fresh.check(_rec(system="lean", statement="theorem t : True",
                               proof="theorem t : True := trivial"), LIMITS)
    assert verdict.status is Status.NEEDS_REVIEW and verdict.reason == "checker_unavailable"
    assert any(c.name == "lean" and not c.available for c in fresh.checkers())
    assert "no-lean" in fresh.version


@pytest.mark.parametrize("options", [
    {"coq_allowed_axioms": "x"},
    {"coq_coqchk": 1},
    {"coq": {"coqchk": True}, "coq_coqchk": False},
    {"coq": "table"},
    {"lean": 3},
    {"coq_allowd_axioms": []},
    {"timeout": 3},
], ids=["axioms-not-list", "coqchk-int", "twice", "coq-not-table", "lean-not-table",
        "typo", "unknown"])
def test_bad_options(options: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        ProofDomain(options)


def test_typo_gets_a_suggestion() -> None:
    with pytest.raises(UsageError, match="did you mean 'coq_allowed_axioms'"):
        ProofDomain({"coq_allowd_axioms": []})


def test_good_options_accepted() -> None:
    d = ProofDomain({"coq_allowed_axioms": ["Coq.Logic.Classical_Prop.classic"],
                     "coq": {"coqchk": False}, "lean": {}})
    assert d.version.startswith("1+coq-")


def test_version_names_the_engine(domain: ProofDomain) -> None:
    if HAVE_COQ:
        assert re.fullmatch(r"1\+coq-8\.\d+(\.\d+)?\+lean-adapter-\d+\+.+", domain.version), domain.version


def test_checkers_listed(domain: ProofDomain) -> None:
    names = {c.name for c in domain.checkers()}
    assert {"coqc", "coqchk"} <= names
    assert any(n.startswith("lean") or n == "lean" for n in names)


def _wrong_statement(record: Record) -> Record | None:
    """A right proof paired with a different (false) statement under the same name."""
    if record.get("system") != "coq":
        return None
    stmt = parse_statement(record.get("statement"))
    return make_record({**dict(record.data), "statement": f"{stmt.keyword} {stmt.name} : "
                        "forall n : nat, n = S n.", "id": record.id + "-perturbed"})


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_COQ, reason="coqc/coqchk not installed (apt-get install coq)")
def test_conformance_kit() -> None:
    report = check_domain(ProofDomain, ROOT / "fixtures" / "proof" / "coq.jsonl",
                          perturb=_wrong_statement, limits=LIMITS)
    assert report.cases >= 50
    assert report.perturbed >= 12


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_COQ, reason="coqc/coqchk not installed (apt-get install coq)")
def test_demo_file_expectations(domain: ProofDomain) -> None:
    """fixtures/demo/proof.jsonl: Coq records as expected, Lean ones to review."""
    from synthvet.testing import golden_cases

    cases = golden_cases(ROOT / "fixtures" / "demo" / "proof.jsonl", "proof")
    assert len(cases) >= 10
    systems = {c.record.get("system") for c in cases}
    assert systems == {"coq", "lean"}
    for case in cases:
        verdict = domain.check(case.record, LIMITS)
        assert verdict.status is case.expect_status, (case.where, verdict.detail)
        if case.expect_reason:
            assert verdict.reason == case.expect_reason, (case.where, verdict.detail)
