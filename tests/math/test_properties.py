"""Hypothesis properties of the parsers and the comparison.

* numbers written in any supported notation parse to exactly their value;
* arbitrary text never raises anything but ParseError;
* sympy's own printouts (str and LaTeX) of random expressions parse back to the same value;
* a right answer is never refuted, and a perturbed right answer is never verified.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from synthvet.verifiers.symbolic.compare import Settings, compare_values
from synthvet.verifiers.symbolic.parse import ParseError, parse_answer
from synthvet.verifiers.symbolic.translate import to_value

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
x, y = sp.symbols("x y")


def value_of(text: str) -> Any:
    v = to_value(parse_answer(text))
    assert v.kind == "expr", v
    return v.items[0]


def cmp(answer: str, reference: str) -> str:
    s = Settings(deadline=time.monotonic() + 20, simplify_seconds=5)
    return compare_values(to_value(parse_answer(answer)), to_value(parse_answer(reference)),
                          s).status


# ---------------------------------------------------------------- numbers
@SETTINGS
@given(st.integers(-10**12, 10**12), st.integers(0, 9))
def test_decimal_is_exact(mantissa: int, places: int) -> None:
    sign = "-" if mantissa < 0 else ""
    digits = str(abs(mantissa)).rjust(places + 1, "0")
    text = sign + (digits[:-places] + "." + digits[-places:] if places else digits)
    assert value_of(text) == sp.Rational(mantissa, 10 ** places)


@SETTINGS
@given(st.integers(1, 999), st.integers(0, 99), st.integers(-40, 40))
def test_scientific_notation_is_not_euler(lead: int, frac: int, exp: int) -> None:
    mant = f"{lead}.{frac:02d}"
    expected = Fraction(mant) * Fraction(10) ** exp
    for text in (f"{mant}e{exp}", f"{mant}E{exp:+d}", rf"{mant} \times 10^{{{exp}}}",
                 f"{mant}*10**({exp})"):
        got = value_of(text)
        assert got == sp.Rational(expected.numerator, expected.denominator), text
        assert not got.has(sp.E)


@SETTINGS
@given(st.integers(1000, 10**15))
def test_thousands_separators(n: int) -> None:
    assert value_of(f"{n:,}") == n
    assert value_of(f"{n:,}".replace(",", "{,}")) == n


@SETTINGS
@given(st.integers(-10**6, 10**6), st.integers(1, 10**6))
def test_latex_fractions(p: int, q: int) -> None:
    for text in (rf"\frac{{{p}}}{{{q}}}", rf"\dfrac{{{p}}}{{{q}}}", f"{p}/{q}",
                 f"Rational({p}, {q})"):
        assert value_of(text) == sp.Rational(p, q), text


# ---------------------------------------------------------------- robustness
LATEXISH = st.lists(st.sampled_from(list("0123456789xyzei+-*/^_.,()[]{}|=<>! \\$%") + [
    "\\frac", "\\sqrt", "\\pi", "\\infty", "\\left(", "\\right)", "\\cdot", "\\pm", "\\{",
    "\\}", "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\", "\\text{", "\\log", "\\sin",
]), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), LATEXISH))
def test_garbage_only_raises_parse_error(text: str) -> None:
    try:
        v = to_value(parse_answer(text))
    except ParseError:
        return
    v.show()  # printable


# ---------------------------------------------------------------- round trips
def exprs() -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.sampled_from([x, y]), st.integers(-9, 9).map(sp.Integer),
                     st.fractions(min_value=-5, max_value=5, max_denominator=9).map(
                         lambda f: sp.Rational(f.numerator, f.denominator)))

    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.tuples(children, children).map(lambda t: t[0] + t[1]),
            st.tuples(children, children).map(lambda t: t[0] * t[1]),
            st.tuples(children, st.integers(2, 3)).map(lambda t: t[0] ** t[1]),
            children.map(sp.sin), children.map(sp.cos), children.map(sp.exp),
            children.map(lambda c: sp.sqrt(c ** 2 + 1)),
        )

    return st.recursive(leaf, extend, max_leaves=6)


@SETTINGS
@given(exprs())
def test_sympy_printouts_parse_back(e: Any) -> None:
    for text in (str(e), sp.latex(e)):
        try:
            got = value_of(text)
        except ParseError:
            continue  # refusing is allowed; a different value is not
        assert sp.simplify(got - e) == 0, (text, got, e)


@SETTINGS
@given(exprs(), st.fractions(min_value=-7, max_value=7, max_denominator=7).filter(bool))
def test_perturbed_answer_never_verified(e: Any, k: Fraction) -> None:
    ref = str(e)
    right = sp.latex(e)
    try:
        status = cmp(right, ref)
    except ParseError:
        return
    assert status != "different", (right, ref)
    kk = sp.Rational(k.numerator, k.denominator)
    for wrong in (e + kk, e * (1 + kk) if kk != -1 else e + 1, e.subs(x, x + kk)):
        if sp.simplify(wrong - e) == 0:
            continue
        try:
            assert cmp(sp.latex(wrong), ref) != "equal", (wrong, ref)
            assert cmp(str(wrong), ref) != "equal", (wrong, ref)
        except ParseError:
            pass


@SETTINGS
@given(st.fractions(min_value=Fraction(-10**6), max_value=Fraction(10**6),
                    max_denominator=10**6), st.integers(5, 40))
def test_tiny_relative_change_is_refuted(q: Fraction, digits: int) -> None:
    assume(q != 0)
    wrong = q * (1 + Fraction(1, 10 ** digits))
    assert cmp(f"{wrong.numerator}/{wrong.denominator}",
               f"{q.numerator}/{q.denominator}") == "different"


@pytest.mark.parametrize("text", ["1/2x", "5 cm", r"50\%", r"\log 8", "12:00", r"\ldots",
                                  r"$2^10$", r"\sqrt12", r"\sin 2x", "(1,000, 2)", "x=y=3",
                                  r"\approx 3", r"\text{yes}", "3 4", r"1 \times 10^{9999999}"])
def test_refused_notations(text: str) -> None:
    with pytest.raises(ParseError):
        to_value(parse_answer(text))
