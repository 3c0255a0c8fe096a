"""Random small problems whose every model is known by enumeration in plain Python.

Hypothesis writes problems over two bounded integers or two 4-bit vectors; Python
enumerates all assignments, so the truth of every claim (sat with a model, sat, unsat,
unique) is known without any solver. The domain must never verify a false claim nor
refute a true one, and on these small problems it must not need review either.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthvet.domains.smt import SmtDomain
from synthvet.model import Limits, Status
from synthvet.testing import make_record

LIMITS = Limits(seconds=20)
Env = dict[str, int]
Atom = tuple[str, Callable[[Env], bool]]


def _int(n: int) -> str:
    return str(n) if n >= 0 else f"(- {-n})"


@st.composite
def int_atoms(draw: Any) -> Atom:
    a, b, c = (draw(st.integers(-3, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["lin", "mul", "mod", "div"]))
    k = draw(st.integers(1, 4))
    if kind == "lin":
        term, f = f"(+ (* {_int(a)} x) (* {_int(b)} y))", (lambda e: a * e["x"] + b * e["y"])
    elif kind == "mul":
        term, f = f"(* x y {_int(a)})", (lambda e: e["x"] * e["y"] * a)
    elif kind == "mod":  # SMT-LIB mod with a positive divisor is Python's %
        term, f = f"(mod (+ x {_int(a)}) {k})", (lambda e: (e["x"] + a) % k)
    else:  # and div with a positive divisor is floor division
        term, f = f"(div (- y {_int(b)}) {k})", (lambda e: (e["y"] - b) // k)
    op = draw(st.sampled_from(["<", "<=", "=", "distinct", ">="]))
    cmp: dict[str, Callable[[int, int], bool]] = {
        "<": lambda u, v: u < v, "<=": lambda u, v: u <= v, "=": lambda u, v: u == v,
        "distinct": lambda u, v: u != v, ">=": lambda u, v: u >= v}
    g = cmp[op]
    return f"({op} {term} {_int(c)})", (lambda e: g(f(e), c))


def _bv(n: int) -> str:
    return f"#x{n:x}"


def _signed(n: int) -> int:
    return n - 16 if n >= 8 else n


@st.composite
def bv_atoms(draw: Any) -> Atom:
    c = draw(st.integers(0, 15))
    kind = draw(st.sampled_from(["add", "mul", "udiv", "urem", "and", "shl"]))
    terms: dict[str, tuple[str, Callable[[Env], int]]] = {
        "add": ("(bvadd a b)", lambda e: (e["a"] + e["b"]) % 16),
        "mul": (f"(bvmul a {_bv(c)})", lambda e: (e["a"] * c) % 16),
        # division by zero is defined in SMT-LIB: all ones, and the dividend for urem
        "udiv": ("(bvudiv a b)", lambda e: e["a"] // e["b"] if e["b"] else 15),
        "urem": ("(bvurem a b)", lambda e: e["a"] % e["b"] if e["b"] else e["a"]),
        "and": ("(bvand a (bvnot b))", lambda e: e["a"] & (~e["b"] & 15)),
        "shl": ("(bvshl a b)", lambda e: (e["a"] << e["b"]) % 16 if e["b"] < 4 else 0),
    }
    term, f = terms[kind]
    op = draw(st.sampled_from(["bvult", "bvule", "bvslt", "=", "distinct"]))
    cmp: dict[str, Callable[[int, int], bool]] = {
        "bvult": lambda u, v: u < v, "bvule": lambda u, v: u <= v,
        "bvslt": lambda u, v: _signed(u) < _signed(v), "=": lambda u, v: u == v,
        "distinct": lambda u, v: u != v}
    g = cmp[op]
    return f"({op} {term} {_bv(c)})", (lambda e: g(f(e), c))


def _problem(kind: str, atoms: list[Atom]) -> tuple[str, list[Env]]:
    """The script and every model of it, by enumeration."""
    if kind == "int":
        names, sort, values = ("x", "y"), "Int", range(-4, 5)
        bounds = "".join(f"(assert (<= (- 4) {n} 4))\n" for n in names)
    else:
        names, sort, values, bounds = ("a", "b"), "(_ BitVec 4)", range(16), ""
    script = "".join(f"(declare-const {n} {sort})\n" for n in names) + bounds
    script += "".join(f"(assert {text})\n" for text, _ in atoms) + "(check-sat)\n"
    models = [dict(zip(names, vs)) for vs in itertools.product(values, repeat=2)]
    return script, [m for m in models if all(f(m) for _, f in atoms)]


def _verdict(domain: SmtDomain, script: str, claim: str, model: Env | None) -> Any:
    data: dict[str, Any] = {"domain": "smt", "smtlib": script, "claim": claim}
    if model is not None:
        data["model"] = model
    return domain.check(make_record(data), LIMITS)


def _agrees(v: Any, truth: bool, what: str) -> None:
    expected = Status.VERIFIED if truth else Status.REFUTED
    assert v.status is expected, f"{what}: truth {truth}, got {v.status}/{v.reason}: {v.detail}"


problems = st.one_of(
    st.tuples(st.just("int"), st.lists(int_atoms(), min_size=1, max_size=4)),
    st.tuples(st.just("bv"), st.lists(bv_atoms(), min_size=1, max_size=4)),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=True)
@given(problems, st.data())
def test_every_claim_agrees_with_enumeration(domain: SmtDomain, problem: Any,
                                             data: Any) -> None:
    kind, atoms = problem
    script, models = _problem(kind, atoms)
    names = ("x", "y") if kind == "int" else ("a", "b")
    pool = range(-4, 5) if kind == "int" else range(16)
    everything = [dict(zip(names, vs)) for vs in itertools.product(pool, repeat=2)]
    others = [m for m in everything if m not in models]
    # claimed models: some right, some wrong, most of them next to the boundary
    near = [m for m in others if any({**m, n: m[n] + d} in models
                                     for n in names for d in (-1, 1))]
    guesses = [data.draw(st.sampled_from(group)) for group in (models, models, near, others)
               if group]
    for guess in guesses:
        _agrees(_verdict(domain, script, "sat", guess), guess in models,
                f"{script} sat {guess}")
    guess = guesses[-1]
    _agrees(_verdict(domain, script, "sat", None), bool(models), f"{script} sat")
    _agrees(_verdict(domain, script, "unsat", None), not models, f"{script} unsat")
    claimed = models[0] if models else guess
    _agrees(_verdict(domain, script, "unique", claimed), models == [claimed],
            f"{script} unique {claimed}")


@pytest.mark.parametrize("assertion, a, truth", [
    ("(= (bvudiv a #x0) #xf)", 5, True),   # SMT-LIB: x / 0 is all ones
    ("(= (bvudiv a #x0) #x0)", 5, False),
    ("(= (bvurem a #x0) a)", 9, True),     # and x rem 0 is x
    ("(= (bvurem a #x0) #x0)", 9, False),
    ("(= (bvsdiv a #x0) #x1)", 12, True),  # signed: negative / 0 is 1
    ("(= (bvsdiv a #x0) #xf)", 3, True),   # non-negative / 0 is -1
    ("(= (bvsmod a #x0) a)", 12, True),
    ("(bvslt a #x0)", 8, True),            # 8 is -8 as a signed 4-bit number
    ("(bvsgt a #x0)", 8, False),
], ids=lambda v: str(v))
def test_bitvector_edge_cases_follow_smtlib(domain: SmtDomain, assertion: str, a: int,
                                            truth: bool) -> None:
    script = f"(declare-const a (_ BitVec 4))\n(assert {assertion})\n"
    _agrees(_verdict(domain, script, "sat", {"a": a}), truth, assertion)


def _q(value: Fraction) -> str:
    body = f"(/ {abs(value.numerator)}.0 {value.denominator}.0)"
    return body if value >= 0 else f"(- {body})"


@st.composite
def real_atoms(draw: Any) -> Atom:
    """Atoms over a Real r and an Int n, with Python's exact Fraction as the truth."""
    a = Fraction(draw(st.integers(-6, 6)), draw(st.integers(1, 4)))
    c = Fraction(draw(st.integers(-6, 6)), draw(st.integers(1, 3)))
    kind = draw(st.sampled_from(["lin", "sq", "div", "toint", "isint", "mixed"]))
    terms: dict[str, tuple[str, Callable[[dict[str, Fraction]], Fraction]]] = {
        "lin": (f"(+ (* {_q(a)} r) (to_real n))", lambda e: a * e["r"] + e["n"]),
        "sq": ("(* r r)", lambda e: e["r"] * e["r"]),
        "div": (f"(/ r {_q(a) if a else '2.0'})", lambda e: e["r"] / (a if a else 2)),
        # to_int is the floor, also for negative numbers
        "toint": ("(to_real (to_int r))", lambda e: Fraction(math.floor(e["r"]))),
        "isint": ("(ite (is_int r) 1.0 0.0)", lambda e: Fraction(e["r"].denominator == 1)),
        "mixed": ("(* (to_real n) r)", lambda e: e["n"] * e["r"]),
    }
    term, f = terms[kind]
    op = draw(st.sampled_from(["<", "<=", "=", ">"]))
    cmp: dict[str, Callable[[Fraction, Fraction], bool]] = {
        "<": lambda u, v: u < v, "<=": lambda u, v: u <= v, "=": lambda u, v: u == v,
        ">": lambda u, v: u > v}
    g = cmp[op]
    return f"({op} {term} {_q(c)})", (lambda e: g(f(e), c))  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=True)
@given(st.lists(real_atoms(), min_size=1, max_size=2),
       st.lists(st.fractions(min_value=-4, max_value=4, max_denominator=6), min_size=3,
                max_size=3),
       st.integers(-3, 3), st.sampled_from(["p/q", "smt", "number"]))
def test_real_models_agree_with_exact_arithmetic(domain: SmtDomain, atoms: list[Atom],
                                                 rs: list[Fraction], n: int,
                                                 form: str) -> None:
    script = "(declare-const r Real)\n(declare-const n Int)\n" + "".join(
        f"(assert {text})\n" for text, _ in atoms)
    for r in rs:
        env = {"r": r, "n": Fraction(n)}
        truth = all(f(env) for _, f in atoms)  # type: ignore[arg-type]
        value: Any = (f"{r.numerator}/{r.denominator}" if form == "p/q" else
                      _q(r) if form == "smt" else
                      int(r) if r.denominator == 1 else f"{r.numerator}/{r.denominator}")
        _agrees(_verdict(domain, script, "sat", {"r": value, "n": n}), truth,
                f"{script} r={value} n={n}")


@pytest.mark.parametrize("assertion, r, truth", [
    ("(= (to_int r) (- 2))", "-3/2", True),    # to_int is the floor, not truncation
    ("(= (to_int r) (- 1))", "-3/2", False),
    ("(= (to_int r) 1)", "3/2", True),
    ("(is_int r)", "4/2", True),
    ("(is_int r)", "5/2", False),
    ("(= (/ r 3.0) (/ 1.0 6.0))", "1/2", True),
    ("(= (* r r) 2.0)", "99/70", False),       # close to sqrt 2, not equal
    ("(< (- (* r r) 2.0) (/ 1.0 1000.0))", "99/70", True),
    ("(= (abs r) 0.5)", "-1/2", True),
], ids=lambda v: str(v))
def test_real_edge_cases(domain: SmtDomain, assertion: str, r: str, truth: bool) -> None:
    script = f"(declare-const r Real)\n(assert {assertion})\n"
    _agrees(_verdict(domain, script, "sat", {"r": r}), truth, assertion)
