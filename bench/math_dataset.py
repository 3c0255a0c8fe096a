"""The labelled answer/reference pairs of the math benchmark, built deterministically.

Items come from seeded ``reasoning_gym`` datasets (integers, fractions, complex numbers,
decimals, polynomials, integrals with ``+ C``, prime factorisations) plus a few hand-made
families (irrational closed forms, intervals, sets) where reasoning_gym has none. Every
reference gets:

* ``right`` answers: the reference itself and rewrites that are equal in value but
  written differently (LaTeX vs sympy syntax, ``\\frac`` vs ``/``, thousands separators,
  a different integration constant, factored vs expanded, a boxed answer inside a
  response, ``x = ...`` labels, ``\\times 10^{k}`` vs ``e`` notation);
* ``wrong`` answers: subtle corruptions (off by one, a digit changed far right, a sign
  flipped in one term, a coefficient doubled, an exponent changed, a conjugate, an
  open end made closed, an element dropped) — each checked with exact sympy arithmetic
  to really differ from the reference.

``python bench/math_dataset.py OUT.jsonl`` writes them; the benchmark imports
:func:`build_pairs`.
"""

from __future__ import annotations

import json
import random
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import sympy as sp

x = sp.Symbol("x")
Pair = dict[str, Any]


def _rg_items(name: str, n: int, seed: int) -> list[dict[str, Any]]:
    import reasoning_gym as rg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(rg.create_dataset(name, size=n, seed=seed))


def _int_family(ref: int, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    yield "right", "same", str(ref)
    yield "right", "latex", f"${ref}$"
    yield "right", "boxed_response", f"Working it out step by step, we get \\boxed{{{ref}}}."
    if abs(ref) >= 1000:
        yield "right", "thousands", f"{ref:,}"
    yield "right", "label", f"x = {ref}"
    yield "wrong", "off_by_one", str(ref + rng.choice([-1, 1]))
    yield "wrong", "sign" if ref else "off_by_two", str(-ref if ref else 2)
    s = str(abs(ref))
    if len(s) >= 3:
        i = len(s) - 1 - rng.randrange(min(3, len(s) - 1))
        d = str((int(s[i]) + rng.randint(1, 8)) % 10)
        wrong = ("-" if ref < 0 else "") + s[:i] + d + s[i + 1:]
        yield "wrong", "digit", wrong
    yield "wrong", "boxed_response_wrong", f"Therefore the answer is \\boxed{{{ref + 10}}}."


def _frac_family(p: int, q: int, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    yield "right", "same", f"{p}/{q}"
    yield "right", "latex_frac", f"$\\frac{{{p}}}{{{q}}}$"
    yield "right", "dfrac", f"\\dfrac{{{p}}}{{{q}}}"
    yield "right", "rational", f"Rational({p}, {q})"
    yield "wrong", "den_plus_one", f"{p}/{q + 1}"
    yield "wrong", "num_plus_one", f"\\frac{{{p + 1}}}{{{q}}}"
    yield "wrong", "inverted", f"{q}/{p}"
    rounded = f"{p / q:.6f}"
    if sp.Rational(rounded) != sp.Rational(p, q):  # 223/250 = 0.892000 exactly: not wrong
        yield "wrong", "decimal_rounded", rounded


def _complex_family(ref: str, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    z = sp.sympify(ref.replace("i", "*I"))
    a, b = sp.re(z), sp.im(z)
    ai, bi = int(a), int(b)
    yield "right", "same", ref
    yield "right", "integers", f"{ai} + {bi}i" if bi >= 0 else f"{ai} - {-bi}i"
    yield "right", "sympy", f"{ai} + {bi}*I"
    yield "right", "imag_first", f"{bi}i + {ai}" if ai >= 0 else f"{bi}i - {-ai}"
    yield "wrong", "conjugate", f"{ai} + {-bi}i" if bi != 0 else f"{ai} + 1i"
    yield "wrong", "swap", f"{bi} + {ai}i" if ai != bi else f"{ai + 1} + {bi}i"
    yield "wrong", "imag_off", f"{ai} + {bi + 1}i"


def _decimal_family(ref: str, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    yield "right", "same", ref
    if "." in ref:
        yield "right", "trailing_zero", ref + "0"
        last = int(ref[-1])
        yield "wrong", "last_digit", ref[:-1] + str((last + 1) % 10)
        yield "wrong", "extra_digit", ref + "1"
    val = sp.Rational(ref)
    if val != 0:
        m, e = f"{float(ref):.15e}".split("e")
        m = m.rstrip("0").rstrip(".")
        if sp.Rational(m) * sp.Rational(10) ** int(e) == val:
            yield "right", "sci_e", f"{m}e{int(e)}"
            yield "right", "sci_times", f"{m} \\times 10^{{{int(e)}}}"
            yield "wrong", "sci_exponent", f"{m}e{int(e) + 1}"
    yield "wrong", "sign", ref[1:] if ref.startswith("-") else "-" + ref


def _expr_family(expr: Any, with_c: bool, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    for label, variant, text, value in _expr_variants(expr, with_c, rng):
        if label == "wrong":
            gap = sp.diff(value - expr, x) if with_c else value - expr
            if sp.simplify(gap) == 0:  # e.g. a shifted linear antiderivative: still right
                continue
        yield label, variant, text


def _expr_variants(expr: Any, with_c: bool, rng: random.Random
                   ) -> Iterator[tuple[str, str, str, Any]]:
    c = " + C" if with_c else ""
    yield "right", "same", str(expr) + c, expr
    yield "right", "latex", f"${sp.latex(expr)}{c}$", expr
    fac = sp.factor(expr)
    if fac != expr:
        yield "right", "factored", str(fac) + c, expr
    exp_ = sp.expand(expr)
    if exp_ != expr:
        yield "right", "expanded", sp.latex(exp_) + c, expr
    if with_c:
        yield "right", "other_constant", str(expr) + " + 7", expr
    terms = sp.Add.make_args(sp.expand(expr))
    if len(terms) >= 2:
        k = rng.randrange(len(terms))
        flipped = sp.Add(*[(-t if i == k else t) for i, t in enumerate(terms)])
        yield "wrong", "term_sign", str(flipped) + c, flipped
        dropped = sp.Add(*[t for i, t in enumerate(terms) if i != k])
        yield "wrong", "term_dropped", sp.latex(dropped) + c, dropped
    k = rng.randrange(len(terms))
    doubled = sp.Add(*[(2 * t if i == k else t) for i, t in enumerate(terms)])
    yield "wrong", "coef_doubled", str(doubled) + c, doubled
    bumped = expr.subs(x, x + sp.Rational(1, 2)) if expr.has(x) else expr + 1
    yield "wrong", "shifted", sp.latex(sp.expand(bumped)) + c, bumped
    if with_c:
        yield "wrong", "derivative_instead", str(sp.diff(expr, x)) + c, sp.diff(expr, x)


def _prime_family(number: int, factors: list[int], rng: random.Random
                  ) -> Iterator[tuple[str, str, str]]:
    ref = " × ".join(map(str, factors))
    powers = sp.factorint(number)
    yield "right", "same", ref
    yield "right", "powers", " \\cdot ".join(f"{p}^{{{e}}}" if e > 1 else str(p)
                                          for p, e in sorted(powers.items()))
    yield "right", "star", "*".join(map(str, factors))
    if len(factors) >= 2:
        yield "wrong", "factor_dropped", " × ".join(map(str, factors[1:]))
    yield "wrong", "factor_changed", " × ".join(map(str, factors[:-1] + [factors[-1] + 2]))


_HANDMADE: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    ("closed_form", r"\frac{\sqrt{3}}{2}", [
        ("right", "sympy", "sqrt(3)/2"), ("right", "cos", r"\cos(\pi/6)"),
        ("right", "inverse", r"\frac{3}{2\sqrt{3}}"),
        ("wrong", "sqrt2", r"\frac{\sqrt{2}}{2}"), ("wrong", "rounded", "0.866"),
        ("wrong", "no_sqrt", r"\frac{3}{2}")]),
    ("closed_form", r"1-\frac{1}{e}", [
        ("right", "sympy", "1 - exp(-1)"), ("right", "frac", r"\frac{e-1}{e}"),
        ("wrong", "sign", r"1+\frac{1}{e}"), ("wrong", "rounded", "0.632"),
        ("wrong", "e_squared", r"1-\frac{1}{e^2}")]),
    ("closed_form", r"2\pi", [
        ("right", "sympy", "2*pi"), ("right", "frac", r"\frac{4\pi}{2}"),
        ("wrong", "pi", r"\pi"), ("wrong", "rounded", "6.28")]),
    ("tiny", r"\frac{1}{2^{99}}", [
        ("right", "pow", "2**(-99)"), ("right", "half", r"\left(\frac{1}{2}\right)^{99}"),
        ("wrong", "98", r"\frac{1}{2^{98}}"), ("wrong", "100", "2**(-100)")]),
    ("tiny", r"\frac{1}{2004!}", [
        ("right", "same_plain", "1/factorial(2004)"),
        ("wrong", "2006", r"\frac{1}{2006!}"), ("wrong", "2003", r"\frac{1}{2003!}")]),
    ("interval", r"(-\infty, 3]", [
        ("right", "ineq", r"x \le 3"), ("right", "in", r"x \in (-\infty, 3]"),
        ("wrong", "open", r"(-\infty, 3)"), ("wrong", "strict", "x < 3"),
        ("wrong", "other", r"[3, \infty)")]),
    ("interval", r"(1, 4) \cup (5, \infty)", [
        ("right", "same_spaced", r"(1,4)\cup(5,\infty)"),
        ("wrong", "closed", r"[1, 4) \cup (5, \infty)"),
        ("wrong", "merged", r"(1, \infty)")]),
    ("set", r"\{-2, 3\}", [
        ("right", "list", "3, -2"), ("right", "labels", "x = -2, x = 3"),
        ("right", "or", "x = 3 or x = -2"),
        ("wrong", "missing", r"\{3\}"), ("wrong", "sign", r"\{2, -3\}"),
        ("wrong", "extra", r"\{-2, 3, 0\}")]),
    ("set", r"\frac{-1 \pm \sqrt{5}}{2}", [
        ("right", "explicit", r"\frac{-1+\sqrt{5}}{2}, \frac{-1-\sqrt{5}}{2}"),
        ("wrong", "one", r"\frac{-1+\sqrt{5}}{2}"), ("wrong", "sign", r"\frac{1 \pm \sqrt{5}}{2}")]),
    ("line", "2x+4y-3=0", [
        ("right", "slope", r"y = -\frac{1}{2}x + \frac{3}{4}"),
        ("right", "scaled", "-4x-8y+6=0"),
        ("wrong", "other", "3x + 4y + 14 = 0"), ("wrong", "intercept", "2x+4y+3=0")]),
    ("matrix", r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", [
        ("right", "sympy", "Matrix([[1, 2], [3, 4]])"),
        ("right", "bmatrix", r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"),
        ("wrong", "transposed", r"\begin{pmatrix} 1 & 3 \\ 2 & 4 \end{pmatrix}"),
        ("wrong", "entry", "Matrix([[1, 2], [3, 5]])")]),
]


def build_pairs(seed: int = 1234, per_dataset: int = 40) -> list[Pair]:
    """All labelled pairs, deterministic for a seed."""
    rng = random.Random(seed)
    pairs: list[Pair] = []

    def add(family: str, ref: str, items: Iterator[tuple[str, str, str]], src: str) -> None:
        for label, variant, ans in items:
            key = "response" if "response" in variant else "answer"
            pairs.append({"id": f"{family}-{len(pairs)}", "family": family, "label": label,
                          "variant": variant, key: ans, "reference": ref, "source": src})

    for name in ("simple_equations", "basic_arithmetic", "chain_sum", "products", "gcd",
                 "lcm"):
        for it in _rg_items(name, per_dataset // 2, seed):
            ref = str(it["answer"]).strip()
            try:
                val = int(ref)
            except ValueError:
                continue
            add("integer", ref, _int_family(val, rng), name)
    for it in _rg_items("fraction_simplification", per_dataset, seed):
        m = it["metadata"]
        p, q = int(m["simplified_numerator"]), int(m["simplified_denominator"])
        add("fraction", str(it["answer"]).strip(), _frac_family(p, q, rng),
            "fraction_simplification")
    for it in _rg_items("complex_arithmetic", per_dataset, seed):
        ref = str(it["answer"]).strip()
        try:
            add("complex", ref, _complex_family(ref, rng), "complex_arithmetic")
        except (TypeError, ValueError, sp.SympifyError):
            continue
    for it in _rg_items("decimal_chain_sum", per_dataset, seed):
        add("decimal", str(it["answer"]).strip(), _decimal_family(str(it["answer"]).strip(), rng),
            "decimal_chain_sum")
    for name, with_c in (("simple_integration", True), ("intermediate_integration", True),
                         ("polynomial_multiplication", False)):
        for it in _rg_items(name, per_dataset, seed):
            ref = str(it["answer"]).strip()
            if "Integral" in ref:  # reasoning_gym left the integral unevaluated
                continue
            body = ref.removesuffix(" + C")
            try:
                expr = sp.sympify(body, locals={"x": x, "X": sp.Symbol("X")})
            except (sp.SympifyError, TypeError, SyntaxError):
                continue
            if expr.free_symbols - {x}:
                continue
            add("integral" if with_c else "polynomial", ref, _expr_family(expr, with_c, rng),
                name)
    for it in _rg_items("prime_factorization", per_dataset, seed):
        m = it["metadata"]
        add("prime_factorization", str(it["answer"]).strip(),
            _prime_family(int(m["number"]), [int(f) for f in m["factors"]], rng),
            "prime_factorization")
    for family, ref, items in _HANDMADE:
        add(family, ref, iter(items), "handmade")
    _check_labels(pairs)
    return pairs


def _check_labels(pairs: list[Pair]) -> None:
    """Guard the generator: a 'wrong' pair whose value provably equals the reference is a
    bug in this file (only checked for plain numbers, where it is cheap and certain)."""
    for p in pairs:
        if p["label"] != "wrong" or "answer" not in p:
            continue
        try:
            a = sp.Rational(p["answer"])
            r = sp.Rational(p["reference"])
        except (TypeError, ValueError):
            continue
        if a == r:
            raise AssertionError(f"generator bug: wrong pair equals its reference: {p}")


if __name__ == "__main__":
    out = build_pairs()
    with open(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdout", "w") as fh:
        fh.writelines(json.dumps(pair) + "\n" for pair in out)
    print(f"{len(out)} pairs", file=sys.stderr)
