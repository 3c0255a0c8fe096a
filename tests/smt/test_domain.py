"""The smt domain end to end with the real solvers: golden cases, conformance, models
checked by evaluation, bad input, options, limits and the hard kill."""

from __future__ import annotations

import multiprocessing
import os
import time
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthvet.domains.smt import SmtDomain
from synthvet.errors import UsageError
from synthvet.model import Limits, Record, Status
from synthvet.testing import check_domain, golden_cases, make_record
from synthvet.verifiers.smt import SmtEngine, parse_script, solver_versions

LIMITS = Limits(seconds=20)
I2 = ("(declare-const x Int)\n(declare-const y Int)\n(assert (> x 0))\n"
      "(assert (= (+ x y) 10))\n(assert (< y 3))\n(check-sat)\n")


def check(domain: SmtDomain, smtlib: Any, claim: Any, model: Any = None,
          limits: Limits = LIMITS) -> Any:
    data = {"domain": "smt", "smtlib": smtlib, "claim": claim}
    if model is not None:
        data["model"] = model
    return domain.check(make_record(data), limits)


def php(pigeons: int, holes: int) -> str:
    """The pigeonhole problem: unsat, and exponentially hard for resolution."""
    lines = [f"(declare-const p_{i}_{j} Bool)" for i in range(pigeons) for j in range(holes)]
    lines += ["(assert (or " + " ".join(f"p_{i}_{j}" for j in range(holes)) + "))"
              for i in range(pigeons)]
    lines += [f"(assert (not (and p_{a}_{j} p_{b}_{j})))" for j in range(holes)
              for a in range(pigeons) for b in range(a + 1, pigeons)]
    return "\n".join(lines) + "\n(check-sat)\n"


def _perturb(record: Record) -> Record | None:
    """A surely wrong copy of a verified golden record: the claim flipped. (A verified
    model shows the problem sat, so "unsat" is wrong; a verified "unsat" makes "sat"
    wrong. Moved model values are not surely wrong; they are tested against ground truth
    below and on the corpus.)"""
    data = dict(record.data)
    claim = str(data["claim"]).strip().lower()
    data["claim"] = "sat" if claim == "unsat" else "unsat"
    return make_record(data)


def test_conformance_suite_with_perturbed_copies() -> None:
    report = check_domain(SmtDomain, "fixtures/smt", perturb=_perturb, limits=LIMITS)
    assert report.cases >= 40
    assert report.perturbed >= 15
    assert report.garbage > 0


@pytest.mark.parametrize("path", ["fixtures/smt/golden.jsonl", "fixtures/demo/smt.jsonl"])
def test_golden_and_demo_expectations(domain: SmtDomain, path: str) -> None:
    cases = golden_cases(path, "smt")
    assert cases
    wrong = []
    for case in cases:
        v = domain.check(case.record, LIMITS)
        if (v.status, v.reason) != (case.expect_status, case.expect_reason):
            wrong.append(f"{case.where}: {v.status}/{v.reason}: {v.detail}")
    assert not wrong, wrong


def test_demo_has_right_wrong_and_unverifiable_with_tags() -> None:
    cases = golden_cases("fixtures/demo/smt.jsonl", "smt")
    assert 10 <= len(cases) <= 20
    assert {c.expect_status for c in cases} == set(Status)
    assert all({"difficulty", "source"} <= set(c.record.tags) for c in cases)


def test_false_assertion_is_the_evidence(domain: SmtDomain) -> None:
    v = check(domain, I2, "sat", {"x": 5, "y": 5})
    assert v.status is Status.REFUTED and v.reason == "model_false"
    assert v.evidence["assertion"] == "(assert (< y 3))"
    assert v.evidence["assertion_index"] == 2
    assert v.evidence["model"] == {"x": 5, "y": 5}


@settings(max_examples=60, deadline=None)
@given(st.integers(-20, 20), st.integers(-20, 20))
def test_claimed_int_model_verified_exactly_when_it_satisfies(x: int, y: int) -> None:
    d = _shared()
    v = check(d, I2, "sat", {"x": x, "y": y})
    truth = x > 0 and x + y == 10 and y < 3
    assert v.status is (Status.VERIFIED if truth else Status.REFUTED), (x, y, v)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255))
def test_claimed_bitvector_model_wraps_like_hardware(a: int, b: int) -> None:
    d = _shared()
    s = ("(declare-const a (_ BitVec 8))(declare-const b (_ BitVec 8))"
         "(assert (bvult (bvadd a b) a))(assert (bvslt a #x00))")
    v = check(d, s, "sat", {"a": a, "b": b})
    truth = (a + b) % 256 < a and a >= 128
    assert v.status is (Status.VERIFIED if truth else Status.REFUTED), (a, b, v)


@settings(max_examples=40, deadline=None)
@given(st.fractions(min_value=-5, max_value=5, max_denominator=12))
def test_claimed_real_model_is_exact(r: Fraction) -> None:
    d = _shared()
    v = check(d, "(declare-const r Real)(assert (= (* 6.0 r r) 1.5))", "sat",
              {"r": f"{r.numerator}/{r.denominator}"})
    assert v.status is (Status.VERIFIED if 6 * r * r == Fraction(3, 2) else Status.REFUTED)


_SHARED: list[SmtDomain] = []


def _shared() -> SmtDomain:
    if not _SHARED:
        _SHARED.append(SmtDomain())
    return _SHARED[0]


@pytest.mark.parametrize("model, reason", [
    ({"x": 1.5, "y": 8.5}, "model_invalid"),
    ({"x": "8", "y": "2"}, "model_checks"),
    ({"x": 8.0, "y": 2}, "model_checks"),
    ({"x": float("nan"), "y": 2}, "model_invalid"),
    ({"x": [8], "y": 2}, "model_invalid"),
    ({"x": None, "y": 2}, "model_invalid"),
    ({"|x|": 8, "y": 2}, "model_checks"),
    ({"x": "8/1", "y": "4/2"}, "model_checks"),
    ({"x": "abc", "y": 2}, "model_invalid"),
], ids=["fraction-for-int", "digit-strings", "integral-float", "nan", "list", "null",
        "quoted-name", "p/q-integers", "word"])
def test_model_value_forms(domain: SmtDomain, model: dict[str, Any], reason: str) -> None:
    v = check(domain, I2, "sat", model)
    assert v.reason == reason, v
    assert v.status is (Status.VERIFIED if reason == "model_checks" else Status.REFUTED)


@pytest.mark.parametrize("smtlib, claim, model, status, reason", [
    (I2, "sat", "not json", Status.NEEDS_REVIEW, "parse_error"),
    (I2, "sat", '{"x": 8, "y": 2}', Status.VERIFIED, "model_checks"),
    (I2, "sat", [8, 2], Status.NEEDS_REVIEW, "parse_error"),
    (I2, None, None, Status.NEEDS_REVIEW, "missing_field"),
    (I2, 1, None, Status.NEEDS_REVIEW, "unknown_claim"),
    (None, "sat", None, Status.NEEDS_REVIEW, "missing_field"),
    (["(assert true)"], "sat", None, Status.NEEDS_REVIEW, "parse_error"),
    (I2, "unique", {}, Status.NEEDS_REVIEW, "missing_field"),
    (I2, "sat", {}, Status.VERIFIED, "model_found"),
    (I2, "sat", " ", Status.VERIFIED, "model_found"),
    (I2, "unsat", {"x": 8, "y": 2}, Status.REFUTED, "counter_model"),
    ("(declare-const x Int)(assert (> x 0))(assert (< x 0))", "unsat", {"x": 1},
     Status.VERIFIED, "unsat_confirmed"),
    ("(declare-sort U 0)(declare-const u U)(declare-const v U)(assert (distinct u v))",
     "sat", {"u": 1, "v": 2}, Status.NEEDS_REVIEW, "unsupported"),
    ("(declare-sort U 0)(declare-const u U)(declare-const v U)(assert (distinct u v))",
     "sat", None, Status.VERIFIED, "model_found"),
    ("(declare-const x Int)(assert (forall ((y Int)) (> (+ x y y) y)))", "sat", {"x": 1},
     Status.NEEDS_REVIEW, "eval_undetermined"),
    ("(declare-const x Int)(assert (> (^ 2 x) 3))(assert (< x 0))", "unsat", None,
     Status.NEEDS_REVIEW, "second_solver_error"),  # z3 reads ^ with a variable, cvc5 not
], ids=["model-text-garbage", "model-as-json-text", "model-list", "no-claim", "claim-int",
        "no-script", "script-list", "unique-empty-model", "sat-empty-model",
        "sat-blank-model", "unsat-with-satisfying-model",
        "unsat-with-wrong-model-ignored", "uninterpreted-sort-model", "uninterpreted-sort-found",
        "quantifier", "cvc5-cannot-read"])
def test_bad_and_odd_input(domain: SmtDomain, smtlib: Any, claim: Any, model: Any,
                           status: Status, reason: str) -> None:
    v = check(domain, smtlib, claim, model)
    assert (v.status, v.reason) == (status, reason), v


def test_evidence_is_small(domain: SmtDomain) -> None:
    names = [f"v{i}" for i in range(200)]
    s = "".join(f"(declare-const {n} Int)" for n in names) + "(assert (> v0 0))"
    v = check(domain, s, "sat", None)
    assert v.status is Status.VERIFIED
    assert len(v.evidence["model"]) <= 51
    assert len(str(v.evidence)) < 5000


def test_options_are_validated() -> None:
    with pytest.raises(UsageError, match="second_solvr"):
        SmtDomain({"second_solvr": True})
    with pytest.raises(UsageError, match="require_second_solver"):
        SmtDomain({"require_second_solver": "yes"})
    with pytest.raises(UsageError, match="timeout"):
        SmtDomain({"timeout": -1})
    assert SmtDomain({"timeout": 5}).timeout == 5.0


def test_version_names_both_solvers() -> None:
    v = solver_versions()
    assert v["z3"] and v["cvc5"]
    assert SmtDomain().version == f"1+z3-{v['z3']}+cvc5-{v['cvc5']}"
    assert SmtDomain({"second_solver": False}).version == f"1+z3-{v['z3']}"
    names = {c.name: c.available for c in SmtDomain().checkers()}
    assert names == {"z3": True, "cvc5": True}


def test_without_second_solver_z3_alone_decides() -> None:
    d = SmtDomain({"second_solver": False})
    v = check(d, "(declare-const x Int)(assert (> x 0))(assert (< x 0))", "unsat")
    assert (v.status, v.reason) == (Status.VERIFIED, "unsat_confirmed")
    assert v.evidence["solvers"] == ["z3"]


def test_required_second_solver_missing_goes_to_review() -> None:
    d = SmtDomain()
    d.cvc5 = False  # as on a machine without cvc5 installed
    v = check(d, "(declare-const x Int)(assert (> x 0))(assert (< x 0))", "unsat")
    assert (v.status, v.reason) == (Status.NEEDS_REVIEW, "checker_unavailable")
    v = check(d, "(declare-const x Int)(assert (> x 0))(assert (< x 0))", "sat")
    assert (v.status, v.reason) == (Status.NEEDS_REVIEW, "checker_unavailable")
    v = check(d, I2, "sat")  # a model found and evaluated needs no second opinion
    assert (v.status, v.reason) == (Status.VERIFIED, "model_found")


@pytest.mark.slow
@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_pigeonhole_times_out_within_the_limit(isolation: str) -> None:
    domain = SmtDomain({"isolation": isolation})
    limits = Limits(seconds=3.0)
    started = time.monotonic()
    v = check(domain, php(11, 10), "unsat", limits=limits)
    took = time.monotonic() - started
    assert (v.status, v.reason) == (Status.NEEDS_REVIEW, "timeout"), v
    assert took < limits.seconds, took
    # still answers afterwards
    assert check(domain, php(4, 3), "unsat").reason == "unsat_confirmed"


@pytest.mark.slow
def test_hard_kill_when_the_solver_overruns() -> None:
    """The solver process is given more time than the caller waits: it is killed."""
    engine = SmtEngine()
    script = parse_script(php(11, 10))
    started = time.monotonic()
    res = engine.check(script, "unsat", None, timeout=1.5, budget=60.0)
    took = time.monotonic() - started
    assert res["outcome"] == "inconclusive" and res["reason"] == "timeout", res
    assert 1.4 < took < 2.5, took
    assert engine._proc is None  # killed, not left running
    res = engine.check(parse_script(php(3, 2)), "unsat", None, timeout=10)
    assert res["reason"] == "unsat_confirmed" and engine.spawns == 2
    engine.close()


def test_dead_solver_process_is_replaced(domain: SmtDomain) -> None:
    assert check(domain, I2, "sat").status is Status.VERIFIED
    proc = domain._engine._proc
    os.killpg(proc.pid, 9)
    proc.wait()
    v = check(domain, I2, "sat")  # the next check notices and starts a new one
    assert v.status is Status.VERIFIED


def _in_child(queue: Any, domain: SmtDomain) -> None:
    v = check(domain, I2, "sat", {"x": 8, "y": 2})
    queue.put((v.reason, domain._engine._proc.pid))


def test_forked_worker_starts_its_own_solver(domain: SmtDomain) -> None:
    assert check(domain, I2, "sat").status is Status.VERIFIED
    parent_pid = domain._engine._proc.pid
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_in_child, args=(queue, domain))
    child.start()
    reason, child_solver = queue.get(timeout=30)
    child.join(30)
    assert reason == "model_checks" and child_solver != parent_pid
    # the child's exit did not kill the parent's solver process
    assert domain._engine._proc.poll() is None and domain._engine._proc.pid == parent_pid
    assert check(domain, I2, "sat").status is Status.VERIFIED


def _owner(queue: Any) -> None:
    d = SmtDomain()
    check(d, I2, "sat")
    queue.put(d._engine._proc.pid)
    check(d, php(11, 10), "unsat", limits=Limits(seconds=120))  # killed while in here


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.slow
def test_solver_dies_with_a_killed_worker() -> None:
    """The harness SIGKILLs a hung worker; its solver process must not keep computing."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    owner = ctx.Process(target=_owner, args=(queue,))
    owner.start()
    solver = queue.get(timeout=30)
    time.sleep(0.5)
    assert not _gone(solver)
    os.kill(owner.pid, 9)
    owner.join(10)
    deadline = time.monotonic() + 5
    while not _gone(solver) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(solver)


@pytest.mark.parametrize("value, status", [
    ("(/ 1 3)", Status.VERIFIED), ("(/ 1.0 3.0)", Status.VERIFIED),
    (" 1 / 3 ", Status.VERIFIED), ("2/6", Status.VERIFIED),
    ("(- (/ 1 3))", Status.REFUTED), ("(/ 1 0)", Status.REFUTED),
    ("(+ 0 (/ 1 3))", Status.REFUTED), ("0.3333333333333333", Status.REFUTED),
    (1 / 3, Status.REFUTED),  # a float is the decimal it prints as, not 1/3
], ids=str)
def test_real_values_as_solvers_print_them(domain: SmtDomain, value: Any,
                                           status: Status) -> None:
    v = check(domain, "(declare-const r Real)(assert (= (* 3.0 r) 1.0))", "sat", {"r": value})
    assert v.status is status, v


@pytest.mark.parametrize("value, status", [
    ("(_ bv255 8)", Status.VERIFIED), ("#b11111111", Status.VERIFIED), ("#xff", Status.VERIFIED),
    ("(_ bv255 16)", Status.REFUTED), ("#xfff", Status.REFUTED), ("(_ bv256 8)", Status.REFUTED),
    ("(- 1)", Status.REFUTED), (255.0, Status.VERIFIED), (255.5, Status.REFUTED),
], ids=str)
def test_bitvector_value_forms(domain: SmtDomain, value: Any, status: Status) -> None:
    v = check(domain, "(declare-const b (_ BitVec 8))(assert (= b #xff))", "sat", {"b": value})
    assert v.status is status, v


def test_cvc5_confirms_models_or_says_it_could_not(domain: SmtDomain) -> None:
    v = check(domain, I2, "sat", {"x": 8, "y": 2})
    assert v.evidence["cross_check"] == "cvc5 confirms"
    # z3 evaluates a recursive function on ground values; cvc5 cannot decide it without
    # finite model finding: the evaluation stands, and the evidence says cvc5 could not tell
    rec = ("(define-fun-rec f ((n Int)) Int (ite (<= n 0) 0 (+ 1 (f (- n 1)))))"
           "(declare-const x Int)(assert (= (f x) 3))")
    v = check(domain, rec, "sat", {"x": 3})
    assert (v.status, v.reason) == (Status.VERIFIED, "model_checks")
    assert v.evidence["cross_check"].startswith("cvc5 could not tell")
    v = check(domain, rec, "sat", {"x": 4})
    assert (v.status, v.reason) == (Status.REFUTED, "model_false")
    v = SmtDomain({"cross_check_models": False}).check(make_record(
        {"domain": "smt", "smtlib": I2, "claim": "sat", "model": {"x": 8, "y": 2}}), LIMITS)
    assert v.status is Status.VERIFIED and "cross_check" not in v.evidence


def test_inline_isolation_gives_the_same_verdicts(domain: SmtDomain) -> None:
    inline = SmtDomain({"isolation": "inline"})
    cases = golden_cases("fixtures/smt/golden.jsonl", "smt")
    for case in cases:
        a, b = domain.check(case.record, LIMITS), inline.check(case.record, LIMITS)
        assert (a.status, a.reason, dict(a.evidence)) == (b.status, b.reason,
                                                          dict(b.evidence)), case.where
    with pytest.raises(UsageError, match="isolation"):
        SmtDomain({"isolation": "thread"})


def test_inline_conformance() -> None:
    check_domain(SmtDomain, "fixtures/smt", perturb=_perturb, limits=LIMITS,
                 options={"isolation": "inline"})
