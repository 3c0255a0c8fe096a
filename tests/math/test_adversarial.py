"""Structured answers made wrong in small ways are never verified (hypothesis).

Each test builds a right answer in one notation and the reference in another, checks the
right one is not refuted, then corrupts it minimally (one element, one end, one digit, one
entry, a conjugate) and requires that the corruption is not verified.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
fracs = st.fractions(min_value=-50, max_value=50, max_denominator=12)


def tex(q: Fraction) -> str:
    if q.denominator == 1:
        return str(q.numerator)
    sign = "-" if q < 0 else ""
    return f"{sign}\\frac{{{abs(q.numerator)}}}{{{q.denominator}}}"


def plain(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


@SETTINGS
@given(st.lists(fracs, min_size=1, max_size=6, unique=True), st.randoms(use_true_random=False),
       fracs)
def test_sets(check: Any, elems: list[Fraction], rnd: Any, other: Fraction) -> None:
    ref = "\\{" + ", ".join(tex(q) for q in elems) + "\\}"
    shuffled = elems[:]
    rnd.shuffle(shuffled)
    right = ", ".join(plain(q) for q in shuffled)
    if len(shuffled) == 1:  # a lone number against a one-element set is left to review
        right = "\\{" + right + "\\}"
    assert check(answer=right, reference=ref).status.value == "verified"
    wrong_sets = [shuffled[1:]] if len(shuffled) > 1 else []
    if other not in elems:
        wrong_sets += [shuffled[:-1] + [other], shuffled + [other]]
    for ws in wrong_sets:
        v = check(answer="\\{" + ", ".join(tex(q) for q in ws) + "\\}", reference=ref)
        assert v.status.value != "verified", (ws, elems)


@SETTINGS
@given(fracs, fracs, st.booleans(), st.booleans(), st.fractions(
    min_value=Fraction(1, 10**9), max_value=1, max_denominator=10**9))
def test_intervals(check: Any, a: Fraction, b: Fraction, lo_open: bool, hi_open: bool,
                   eps: Fraction) -> None:
    assume(a < b and a + eps < b)
    lo, hi = "(" if lo_open else "[", ")" if hi_open else "]"
    ref = f"{lo}{plain(a)}, {plain(b)}{hi}"
    rel_lo, rel_hi = ("<" if lo_open else "\\le"), ("<" if hi_open else "\\le")
    right = f"{tex(a)} {rel_lo} x {rel_hi} {tex(b)}"
    assert check(answer=right, reference=ref).status.value == "verified", (right, ref)
    flipped_lo = ("[" if lo_open else "(") + f"{plain(a)}, {plain(b)}{hi}"
    flipped_hi = f"{lo}{plain(a)}, {plain(b)}" + ("]" if hi_open else ")")
    moved = f"{lo}{plain(a + eps)}, {plain(b)}{hi}"
    for wrong in (flipped_lo, flipped_hi, moved):
        assert check(answer=wrong, reference=ref).status.value != "verified", (wrong, ref)


@SETTINGS
@given(st.integers(-99, 99), st.integers(-99, 99).filter(bool), st.integers(-3, 3).filter(bool))
def test_complex(check: Any, re_: int, im: int, delta: int) -> None:
    ref = f"{re_} + {im}*I"
    right = f"{im}i + {re_}" if re_ >= 0 else f"{im}i - {-re_}"
    assert check(answer=right, reference=ref).status.value == "verified"
    for wrong in (f"{re_} + {-im}i", f"{re_ + delta} + {im}i", f"{re_} + {im + delta}i",
                  f"{im} + {re_}i" if im != re_ else f"{re_}"):
        assert check(answer=wrong, reference=ref).status.value != "verified", wrong


@SETTINGS
@given(st.integers(10**6, 10**15), st.integers(1, 12), st.integers(1, 9))
def test_long_decimals_one_digit(check: Any, digits: int, point: int, bump: int) -> None:
    s = str(digits)
    assume(point < len(s))
    ref = s[:-point] + "." + s[-point:]
    pos = len(ref) - 1 - (bump % point)
    if ref[pos] == ".":
        pos -= 1
    d = str((int(ref[pos]) + bump) % 10)
    wrong = ref[:pos] + d + ref[pos + 1:]
    assume(wrong != ref)
    assert check(answer=ref + "0", reference=ref).status.value == "verified"
    assert check(answer=wrong, reference=ref).status.value == "refuted"


@SETTINGS
@given(st.lists(st.lists(st.integers(-20, 20), min_size=2, max_size=2), min_size=2,
                max_size=3), st.integers(0, 5), st.integers(1, 5))
def test_matrices(check: Any, rows: list[list[int]], where: int, delta: int) -> None:
    body = " \\\\ ".join(" & ".join(str(v) for v in r) for r in rows)
    ref = f"Matrix({rows})"
    assert check(answer=f"\\begin{{pmatrix}}{body}\\end{{pmatrix}}",
                 reference=ref).status.value == "verified"
    flat = [v for r in rows for v in r]
    flat[where % len(flat)] += delta
    wrong = [flat[i:i + 2] for i in range(0, len(flat), 2)]
    assert check(answer=f"Matrix({wrong})", reference=ref).status.value != "verified"
