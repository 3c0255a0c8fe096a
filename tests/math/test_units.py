"""Extraction, forms, tasks and the bounded runner, one behaviour per test."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from synthvet.domains.math import MathDomain
from synthvet.model import Limits, Status
from synthvet.testing import make_record
from synthvet.verifiers.symbolic.bounded import run_bounded
from synthvet.verifiers.symbolic.extract import extract_answer
from synthvet.verifiers.symbolic.forms import FormSpec, parse_form, rounded_values


# ---------------------------------------------------------------- extraction
@pytest.mark.parametrize("text,answer", [
    (r"so $\boxed{\frac{\sqrt{2}}{2}}$.", r"\frac{\sqrt{2}}{2}"),
    (r"\boxed{\{1, 2\}}", r"\{1, 2\}"),
    (r"\boxed{3} and again \boxed{ 3 }", "3"),
    ("The final answer is $42$.", "42"),
    ("Final Answer: **73**", "73"),
    ("final answer:\n 7/2", "7/2"),
    (r"The final answer is \boxed{5}. Done", "5"),
], ids=["nested", "set", "repeated", "phrase", "bold", "nextline", "phrase+box"])
def test_extracts(text: str, answer: str) -> None:
    assert extract_answer(text).answer == answer


@pytest.mark.parametrize("text,problem", [
    (r"\boxed{3} or \boxed{4}", "ambiguous"),
    (r"\boxed{3", "ambiguous"),
    (r"The final answer is 4. \boxed{3}", "ambiguous"),
    ("Probably 73.", "none"),
    (r"\boxed{}", "none"),
], ids=["two-boxes", "unclosed", "phrase-vs-box", "nothing", "empty"])
def test_extraction_refuses(text: str, problem: str) -> None:
    ex = extract_answer(text)
    assert ex.answer is None and ex.problem == problem


@pytest.mark.parametrize("response,status", [
    (r"\boxed{\frac12} so \boxed{\frac{1}{2}}", "verified"),
    (r"\boxed{\frac12} so \boxed{0.5}", "verified"),
    (r"\boxed{\frac12} so \boxed{\frac{1}{3}}", "needs_review"),
    ("\\boxed{1} " * 7 + r"\boxed{2}", "needs_review"),
], ids=["frac-forms", "decimal", "different", "many"])
def test_boxes_with_the_same_value(check: Any, response: str, status: str) -> None:
    assert check(response=response, reference="1/2").status.value == status


@pytest.mark.parametrize("answer,status", [
    ("No real solutions.", "verified"), (r"$\text{no solution}$", "verified"),
    ("none", "verified"), ("no solution", "verified"),
])
def test_no_solution_words(check: Any, answer: str, status: str) -> None:
    v = check(answer=answer, check={"kind": "solve", "equation": "x^2 + 1 = 0",
                                    "domain": "real"})
    assert v.status.value == status
    # no domain stated: over the complexes x = ±i, so "no solution" is not settled
    v = check(answer=answer, check={"kind": "solve", "equation": "x^2 + 1 = 0"})
    assert (v.status.value, v.reason) == ("needs_review", "ambiguous_task")
    v = check(answer=answer, check={"kind": "solve", "equation": "x^2 - 1 = 0"})
    assert v.status.value == "refuted"


def test_never_takes_a_number_from_text(check: Any) -> None:
    v = check(response="We computed 12 and then 73 in the end", reference="73")
    assert v.status is Status.NEEDS_REVIEW and v.reason == "no_answer"


# ---------------------------------------------------------------- forms
def test_parse_form() -> None:
    assert parse_form(["sig_figs:3", "lowest_terms"]) == [FormSpec("sig_figs", 3),
                                                           FormSpec("lowest_terms")]
    for bad in ("sig_figs", "lowest_terms:2", "pretty", 3):
        with pytest.raises(ValueError):
            parse_form(bad)


def test_rounding_ties_accept_both() -> None:
    import sympy as sp

    assert rounded_values(sp.Rational(5, 2), FormSpec("decimal_places", 0)) == [2, 3]
    assert rounded_values(sp.pi, FormSpec("sig_figs", 3)) == [pytest.approx(3.14)]


@pytest.mark.parametrize("answer,reference,form,status", [
    ("0.5", "1/2", "lowest_terms", "refuted"),
    ("4", "8/2", "integer", "verified"),
    ("4.0", "4", "integer", "refuted"),
    ("x^2+1", "x^2+1", "factored", "verified"),
    ("(x+1)^2", "x^2+2x+1", "factored", "verified"),
    (r"2^2 \cdot 2", "8", "prime_factorization", "refuted"),
    ("2^3", "8", "prime_factorization", "verified"),
    (r"\sqrt{\frac{1}{2}}", r"\frac{\sqrt2}{2}", "simplest_radical", "refuted"),
    (r"\frac{2\sqrt{3}}{4}", r"\frac{\sqrt3}{2}", "simplest_radical", "refuted"),
    ("3.10", "3.1", "decimal_places:2", "verified"),
    ("3.1", "3.1", "decimal_places:2", "refuted"),
    ("0.00123", "0.0012355", "sig_figs:3", "refuted"),
    ("0.00123", "0.001234", "sig_figs:3", "verified"),
    ("1.23e-3", "0.001234", "sig_figs:3", "verified"),
], ids=lambda v: str(v)[:18])
def test_forms(check: Any, answer: str, reference: str, form: str, status: str) -> None:
    assert check(answer=answer, reference=reference, form=form).status.value == status


# ---------------------------------------------------------------- tasks
@pytest.mark.parametrize("answer,task,status", [
    ("-2, 2", {"kind": "solve", "equation": "x^4 - 16 = 0", "variable": "x",
               "domain": "real"}, "verified"),
    ("-2, 2", {"kind": "solve", "equation": "x^4 - 16 = 0", "variable": "x"},
     "needs_review"),  # no domain stated and the complex roots ±2i exist: ambiguous
    ("-2, 2, 2i, -2i", {"kind": "solve", "equation": "x^4 - 16", "domain": "complex"},
     "verified"),
    ("-2, 2", {"kind": "solve", "equation": "x^4 - 16", "domain": "complex"}, "refuted"),
    ("2i", {"kind": "solve", "equation": "x^2 + 4"}, "refuted"),
    ("3", {"kind": "solve", "equation": "(x-3)^2"}, "verified"),
    ("3, 3", {"kind": "solve", "equation": "(x-3)^2"}, "verified"),
    (r"\sqrt{2}", {"kind": "solve", "equation": "x^2 = 2"}, "refuted"),
    ("1", {"kind": "solve", "equation": "exp(x) = e"}, "needs_review"),
    (r"1, \sqrt{1 - \sqrt{5}}", {"kind": "solve", "equation": "(x-1)*(x**4 - 2*x**2 - 4)"},
     "refuted"),
    ("0, 1", {"kind": "solve", "equation": "x^2 - x = 0", "variable": "y"}, "needs_review"),
    (r"x\ln x - x + C", {"kind": "antiderivative", "integrand": "ln(x)"}, "verified"),
    (r"x\ln x + C", {"kind": "antiderivative", "integrand": "ln(x)"}, "refuted"),
    (r"\frac{1}{x}", {"kind": "derivative", "function": "ln(x)"}, "verified"),
    ("false", {"kind": "identity", "lhs": "sin(2*x)", "rhs": "2*sin(x)*cos(x)"}, "refuted"),
    ("maybe", {"kind": "identity", "lhs": "x", "rhs": "x"}, "needs_review"),
    ("2", {"kind": "evaluate", "expression": r"\sqrt{4}"}, "verified"),
    ("2", {"kind": "integrate"}, "needs_review"),
], ids=lambda v: str(v)[:24])
def test_tasks(check: Any, answer: str, task: dict[str, Any], status: str) -> None:
    v = check(answer=answer, check=task)
    assert v.status.value == status, (v.reason, v.detail)


def test_reference_and_check_must_agree(check: Any) -> None:
    task = {"kind": "solve", "equation": "x^2 - 4 = 0"}
    assert check(answer="2, -2", reference=r"\{2, -2\}", check=task).status.value == "verified"
    v = check(answer="2", reference="2", check=task)  # the reference itself is incomplete
    assert v.status.value == "needs_review" and "disagree" in v.detail
    ident = {"kind": "identity", "lhs": "x", "rhs": "x"}
    assert check(answer="true", reference="true", check=ident).status.value == "verified"
    assert check(answer="true", reference="false", check=ident).status.value != "verified"


def test_refutation_carries_a_counterexample(check: Any) -> None:
    v = check(answer=r"\frac{x^3}{2}", check={"kind": "antiderivative", "integrand": "x**2",
                                               "variable": "x"})
    assert v.status is Status.REFUTED
    assert "counterexample" in v.evidence and "x" in v.evidence["counterexample"]


def test_evidence_has_both_parsed_forms_and_method(check: Any) -> None:
    v = check(answer="(x+1)^2", reference="x^2+2x+1")
    assert v.status is Status.VERIFIED
    assert {"answer_parsed", "reference_parsed", "method"} <= set(v.evidence)
    assert "probe" in v.evidence["method"]


# ---------------------------------------------------------------- isolation
def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "late"


def _boom() -> None:
    raise ValueError("inside")


def test_bounded_runner() -> None:
    assert run_bounded(pow, 2, 10, seconds=5).value == 1024
    t = time.monotonic()
    res = run_bounded(_sleep, 30, seconds=0.3)
    assert res.status == "timeout" and time.monotonic() - t < 5
    err = run_bounded(_boom, seconds=5)
    assert err.status == "error" and "inside" in err.detail


def _children() -> set[int]:
    """This process's children, zombies included (other tests may own long-lived ones)."""
    me, out = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                out.add(int(entry))
    return out


def test_bounded_child_is_reaped() -> None:
    before_threads = len(os.listdir("/proc/self/task"))
    before = _children()
    for _ in range(3):
        run_bounded(_sleep, 30, seconds=0.05)
    assert _children() == before  # killed and reaped: no child, no zombie left
    assert len(os.listdir("/proc/self/task")) == before_threads


def test_simplify_budget_becomes_timeout() -> None:
    d = MathDomain({"simplify_seconds": 0.001})
    rec = make_record({"domain": "math", "answer": r"\sec^2 y", "reference": r"\tan^2 y + 1"})
    v = d.check(rec, Limits(10))
    assert v.status is Status.NEEDS_REVIEW and v.reason == "timeout"


def test_runaway_inputs_are_refused_fast(check: Any) -> None:
    t = time.monotonic()
    for ans in (r"10^{10^{10}}", r"(10^{100})!", r"2^{2^{2^{2^{2^{2}}}}}", "9" * 1900,
                "(" * 500 + "1" + ")" * 500, "(x+y+z)^{100000}", "x^{1000000} - 1"):
        v = check(answer=ans, reference="1")
        assert v.status is not Status.VERIFIED
    assert time.monotonic() - t < 20
