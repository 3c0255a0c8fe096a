"""The Coq checker against the real ``coqc``/``coqchk``: honest proofs verified, every known
fake refuted or sent to review, by each layer on its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthvet.domains.proof import ProofDomain
from synthvet.errors import UsageError
from synthvet.model import Limits, Status
from synthvet.testing import make_record
from synthvet.verifiers.coq import CoqChecker, parse_statement

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "fixtures" / "proof" / "coq.jsonl"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("coqc") is None or shutil.which("coqchk") is None,
                       reason="coqc/coqchk not installed (apt-get install coq)"),
]

LIMITS = Limits(seconds=30.0, memory_mb=4096)


def _golden() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _imports(rec: dict[str, Any]) -> list[str]:
    raw = rec.get("imports") or []
    return [raw] if isinstance(raw, str) else list(raw)


GOLDEN_CASES = _golden()
FAKES = [r for r in GOLDEN_CASES if r["tags"].get("kind") == "fake"]
# Fakes whose danger is to the proof itself (not commands that we refuse to run at all):
# the kernel layers must catch these even with the text gate switched off.
KERNEL_FAKES = [r for r in FAKES if r["expect"]["reason"] != "unsafe_command"]
HONEST = [r for r in GOLDEN_CASES if r["tags"].get("kind") == "honest"]


@pytest.fixture(scope="module")
def domain() -> ProofDomain:
    return ProofDomain({})


@pytest.fixture(scope="module", params=[True, False], ids=["coqchk", "no-coqchk"])
def no_gate(request: pytest.FixtureRequest) -> CoqChecker:
    return CoqChecker({"coqchk": request.param}, use_gate=False)


def test_golden_file_covers_the_brief() -> None:
    fakes = {r["tags"]["fake"] for r in FAKES}
    for needed in ("admitted", "admit", "axiom", "parameter", "hypothesis", "conjecture",
                   "admitted_helper", "extra_hypothesis", "redefined_notation",
                   "redefined_nat", "redefined_plus", "abort", "never_stated", "unset_guard",
                   "unset_positivity", "unset_universe", "bypass_check", "declare_ml_module",
                   "extraction", "drop", "load", "require_file", "redirect", "set_printing"):
        assert needed in fakes, needed
    assert len(HONEST) >= 12
    assert any("List" in json.dumps(r.get("imports", "")) for r in HONEST)


@pytest.mark.parametrize("rec", GOLDEN_CASES, ids=[r["id"] for r in GOLDEN_CASES])
def test_golden_case(domain: ProofDomain, rec: dict[str, Any]) -> None:
    verdict = domain.check(make_record(rec), LIMITS)
    assert verdict.status.value == rec["expect"]["status"], verdict.detail
    assert verdict.reason == rec["expect"]["reason"], verdict.detail
    json.dumps(dict(verdict.evidence))  # evidence is JSON-serialisable
    assert "SV_" not in json.dumps(dict(verdict.evidence)), "random prefix leaked"


@pytest.mark.parametrize("rec", KERNEL_FAKES, ids=[r["id"] for r in KERNEL_FAKES])
def test_fake_caught_without_the_text_gate(no_gate: CoqChecker, rec: dict[str, Any]) -> None:
    """Defence in depth: compile + pinned statement + Print Assumptions (+ coqchk) alone."""
    verdict = no_gate.check(rec["statement"], rec["proof"], _imports(rec), LIMITS)
    if rec["id"] == "fake-unused-axiom" and not no_gate.options.coqchk:
        # only coqchk sees a declaration that the target does not use; harmless to it
        assert verdict.status is Status.VERIFIED, verdict.detail
        return
    assert verdict.status is not Status.VERIFIED, verdict.detail
    assert verdict.reason == rec["expect"]["reason"], verdict.detail


@pytest.mark.parametrize("rec", HONEST, ids=[r["id"] for r in HONEST])
def test_honest_proof_evidence(domain: ProofDomain, rec: dict[str, Any]) -> None:
    verdict = domain.check(make_record(rec), LIMITS)
    assert verdict.status is Status.VERIFIED
    ev = verdict.evidence
    assert ev["axioms"] == []
    # coqchk showed the environment holds no axiom, so Print Assumptions was not needed
    assert ev["print_assumptions"].startswith("skipped: coqchk lists no axiom")
    assert "Axioms" in ev["coqchk"]
    assert "pinned statement" in ev["statement_comparison"]
    assert set(ev["steps_seconds"]) == {"compile", "harness", "coqchk"}


@pytest.mark.parametrize("rec", HONEST[:4], ids=[r["id"] for r in HONEST[:4]])
def test_honest_proof_without_coqchk_runs_print_assumptions(rec: dict[str, Any]) -> None:
    checker = CoqChecker({"coqchk": False})
    verdict = checker.check(rec["statement"], rec["proof"], _imports(rec), LIMITS)
    assert verdict.status is Status.VERIFIED, verdict.detail
    assert verdict.evidence["print_assumptions"] == "Closed under the global context"
    assert set(verdict.evidence["steps_seconds"]) == {"compile", "harness"}


def test_weaker_statement_evidence_shows_both_types(domain: ProofDomain) -> None:
    rec = next(r for r in GOLDEN_CASES if r["id"] == "fake-extra-hypothesis")
    verdict = domain.check(make_record(rec), LIMITS)
    comparison = verdict.evidence["statement_comparison"]
    assert "n * n = n" in comparison and "n <= 1" in comparison


def test_timeout_goes_to_review() -> None:
    checker = CoqChecker({})
    verdict = checker.check("Theorem slow : 1 = 1.",
                            "Theorem slow : 1 = 1.\nProof. do 2000000000 idtac. reflexivity. Qed.",
                            [], Limits(seconds=2.0))
    assert verdict.status is Status.NEEDS_REVIEW
    assert verdict.reason == "timeout"
    assert verdict.evidence["step"] == "compile"


def test_memory_limit_goes_to_review() -> None:
    checker = CoqChecker({})
    verdict = checker.check("Theorem big : 1 = 1.",
                            "Ltac spin := idtac; spin.\nTheorem big : 1 = 1.\nProof. spin. Qed.",
                            [], Limits(seconds=20.0, memory_mb=700))
    assert verdict.status is Status.NEEDS_REVIEW
    assert verdict.reason in ("resource_limit", "timeout")


CLASSIC = ("Theorem em : forall P : Prop, P \\/ ~ P.",
           ("Require Import Classical.\nTheorem em : forall P : Prop, P \\/ ~ P.\n"
            "Proof. exact classic. Qed."))


def test_classical_axiom_refuted_by_default() -> None:
    for options in ({}, {"coqchk": False}):
        verdict = CoqChecker(options).check(*CLASSIC, [], LIMITS)
        assert verdict.status is Status.REFUTED and verdict.reason == "axiom_used"
        assert verdict.evidence["axioms"] == ["Classical_Prop.classic"]


def test_loaded_but_unused_classical_axiom_is_fine() -> None:
    """coqchk sees classic in the environment; Print Assumptions shows the target is clean."""
    proof = "Require Import Classical.\nTheorem t : 1 + 1 = 2.\nProof. reflexivity. Qed."
    verdict = CoqChecker({}).check("Theorem t : 1 + 1 = 2.", proof, [], LIMITS)
    assert verdict.status is Status.VERIFIED, verdict.detail
    assert verdict.evidence["print_assumptions"] == "Closed under the global context"
    assert "assumptions" in verdict.evidence["steps_seconds"]


def test_classical_axiom_allowed_by_config() -> None:
    for coqchk in (True, False):
        checker = CoqChecker({"allowed_axioms": ["Coq.Logic.Classical_Prop.classic"],
                              "coqchk": coqchk})
        verdict = checker.check(*CLASSIC, [], LIMITS)
        assert verdict.status is Status.VERIFIED, verdict.detail
        assert "Classical_Prop.classic" in json.dumps(dict(verdict.evidence))


@pytest.mark.parametrize("coqchk", [True, False], ids=["coqchk", "no-coqchk"])
def test_allowed_axiom_name_cannot_be_impersonated(coqchk: bool) -> None:
    """A candidate's own ``Classical_Prop.classic`` is not the standard library's."""
    checker = CoqChecker({"allowed_axioms": ["Coq.Logic.Classical_Prop.classic"],
                          "coqchk": coqchk}, use_gate=False)
    proof = ("Module Classical_Prop.\nAxiom classic : forall P : Prop, P \\/ ~ P.\n"
             "End Classical_Prop.\nTheorem em : forall P : Prop, P \\/ ~ P.\n"
             "Proof. exact Classical_Prop.classic. Qed.")
    verdict = checker.check(CLASSIC[0], proof, [], LIMITS)
    assert verdict.status is Status.REFUTED and verdict.reason == "axiom_used"


@pytest.mark.parametrize("coqchk", [True, False], ids=["coqchk", "no-coqchk"])
def test_leaked_printing_options_do_not_fool_the_harness(coqchk: bool) -> None:
    """``Global Set`` survives ``Require``; the harness resets what it reads."""
    proof = ("Global Set Printing Width 3.\nGlobal Set Printing All.\n"
             "Global Unset Printing Notations.\nAxiom cheat : False.\n"
             "Theorem t : 0 = 1.\nProof. destruct cheat. Qed.")
    verdict = CoqChecker({"coqchk": coqchk}, use_gate=False).check("Theorem t : 0 = 1.",
                                                                   proof, [], LIMITS)
    assert verdict.status is Status.REFUTED and verdict.reason == "axiom_used"


def test_candidate_cannot_shadow_harness_names() -> None:
    proof = ("Module Type __SynthvetSpec. End __SynthvetSpec.\n"
             "Theorem t : 0 = 0.\nProof. reflexivity. Qed.")
    verdict = CoqChecker({}).check("Theorem t : 0 = 1.", proof, [], LIMITS)
    assert verdict.status is not Status.VERIFIED
    verdict = CoqChecker({}, use_gate=False).check("Theorem t : 0 = 1.", proof, [], LIMITS)
    assert verdict.status is Status.REFUTED and verdict.reason == "statement_changed"


def test_statement_is_elaborated_without_the_candidate_notations() -> None:
    """Same text, different meaning: the candidate's ``+`` is multiplication."""
    proof = ('Notation "x + y" := (Nat.mul x y) : nat_scope.\n'
             "Theorem t : 2 + 2 = 4.\nProof. reflexivity. Qed.")
    verdict = CoqChecker({}, use_gate=False).check("Theorem t : 3 + 0 = 0.",
                                                   proof.replace("2 + 2 = 4", "3 + 0 = 0"),
                                                   [], LIMITS)
    assert verdict.status is Status.REFUTED and verdict.reason == "statement_changed"


def test_without_coqchk_an_honest_proof_still_verifies() -> None:
    checker = CoqChecker({"coqchk": False})
    verdict = checker.check("Theorem t : 1 + 1 = 2.", "Theorem t : 1 + 1 = 2.\nProof. "
                            "reflexivity. Qed.", [], LIMITS)
    assert verdict.status is Status.VERIFIED
    assert "coqchk" not in verdict.evidence["steps_seconds"]


def test_missing_coqc_is_checker_unavailable() -> None:
    checker = CoqChecker({"coqc": "coqc-does-not-exist"})
    verdict = checker.check("Theorem t : True.", "Theorem t : True. exact I. Qed.", [], LIMITS)
    assert verdict.status is Status.NEEDS_REVIEW and verdict.reason == "checker_unavailable"


@pytest.mark.parametrize("options", [
    {"allowed_axioms": "Coq.Logic.Classical_Prop.classic"},
    {"allowed_axioms": ["classic"]},
    {"allowed_axioms": ["Coq.Logic.NoSuchFile.classic"]},
    {"coqchk": "yes"},
    {"typo": 1},
], ids=["not-a-list", "not-qualified", "no-such-library", "bool-as-string", "unknown-key"])
def test_bad_options_are_usage_errors(options: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        CoqChecker(options)


def test_checks_do_not_leak_into_each_other() -> None:
    """One fresh coqc per step: what one candidate declares globally (coercions, hints,
    options, an axiom) is gone for the next candidate."""
    checker = CoqChecker({}, use_gate=False)
    poison = ("Global Set Printing All.\nDefinition b2n (b : bool) : nat := if b then 1 else 0.\n"
              "#[global] Coercion b2n : bool >-> nat.\n"
              "Axiom cheat : False.\n#[global] Hint Resolve cheat : core.\n"
              "Theorem t : True.\nProof. exact I. Qed.")
    first = checker.check("Theorem t : True.", poison, [], LIMITS)
    assert first.status is Status.NEEDS_REVIEW and first.reason == "axiom_used"
    honest = checker.check("Theorem u : 1 + 1 = 2.",
                           "Theorem u : 1 + 1 = 2.\nProof. reflexivity. Qed.", [], LIMITS)
    assert honest.status is Status.VERIFIED, honest.detail
    # without the coercion, "true = 1" does not even elaborate as a statement
    coerced = checker.check("Theorem v : true = 1.",
                            "Theorem v : true = 1.\nProof. reflexivity. Qed.", [], LIMITS)
    assert coerced.status is not Status.VERIFIED


# the same statement written two ways (binders vs forall)
_SAME = {frozenset({"coq-plus-zero", "coq-binders"})}
_HONEST_PAIRS = [(a, b) for a in HONEST for b in HONEST
                 if a["id"] != b["id"] and frozenset({a["id"], b["id"]}) not in _SAME]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=st.sampled_from(_HONEST_PAIRS))
def test_a_proof_never_verifies_another_statement(pair: tuple[dict[str, Any],
                                                             dict[str, Any]]) -> None:
    """A right proof paired with the statement of another problem (renamed to its own
    theorem's name) is never verified: the statements are not convertible."""
    proof_rec, other = pair
    name = parse_statement(proof_rec["statement"]).name
    other_stmt = parse_statement(other["statement"])
    statement = f"{other_stmt.keyword} {name} {other_stmt.rest}."
    checker = CoqChecker({})
    verdict = checker.check(statement, proof_rec["proof"],
                            _imports(proof_rec) + _imports(other), LIMITS)
    assert verdict.status is not Status.VERIFIED, (proof_rec["id"], other["id"])
