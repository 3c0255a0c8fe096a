"""Form requirements: value-equal is not enough when the task asks for a form.

The ``form`` field of a math record is a string or a list of strings:

``lowest_terms``
    an integer, or ``p/q`` / ``\\frac{p}{q}`` (optionally negated) of two integers with
    gcd 1 and ``q > 1``. A decimal or an unreduced fraction is the wrong form.
``integer``
    an integer literal (``4``, not ``8/2`` or ``4.0``).
``factored``
    a product (or power, or single factor) whose non-constant factors are each
    irreducible over the rationals and primitive (integer content 1): ``2(x-1)(x+3)``
    is factored, ``x^2+2x-3`` and ``(2x-2)(x+3)`` are not. Integer constants allowed.
``prime_factorization``
    a product of powers of distinct primes written as integer literals, e.g.
    ``2^3 \\cdot 3 \\cdot 5^2``; exponents are integer literals >= 1.
``simplest_radical``
    no radical in a denominator, every radicand an integer literal free of square
    (k-th power) factors, no nested radicals, no decimals, fractions reduced.
``sig_figs:N`` (also the record field ``sig_figs: N``)
    a decimal literal (or ``a \\times 10^{k}``) with exactly N significant figures whose
    value is the reference rounded to N significant figures (either rounding of a tie).
``decimal_places:N`` (also the record field ``decimal_places: N``)
    a literal with exactly N digits after the point, equal to the reference rounded to N
    places.

A form the checker cannot judge for this answer (e.g. ``1200`` for 3 significant figures)
gives ``unknown``, which becomes ``needs_review``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from synthvet.verifiers.symbolic.parse import Node

__all__ = ["FORMS", "FormResult", "FormSpec", "check_form", "parse_form", "rounded_values"]

FORMS = ("lowest_terms", "integer", "factored", "prime_factorization", "simplest_radical",
         "sig_figs", "decimal_places")


@dataclass(frozen=True, slots=True)
class FormSpec:
    name: str
    n: int | None = None

    def __str__(self) -> str:
        return self.name if self.n is None else f"{self.name}:{self.n}"


@dataclass(frozen=True, slots=True)
class FormResult:
    status: str  # "ok" | "wrong" | "unknown"
    detail: str = ""


def parse_form(raw: Any) -> list[FormSpec]:
    """The ``form`` field as specs; raise ``ValueError`` naming what is not understood."""
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise ValueError(f"form must be a string or a list of strings, got {raw!r:.80}")
    out = []
    for item in items:
        m = re.fullmatch(r"\s*([a-z_]+)\s*(?:[:= ]\s*(\d+))?\s*", item)
        if not m or m.group(1) not in FORMS:
            raise ValueError(f"unknown form {item!r}; known: {', '.join(FORMS)}")
        name, n = m.group(1), m.group(2)
        needs_n = name in ("sig_figs", "decimal_places")
        if needs_n != (n is not None) or (name == "sig_figs" and n is not None and int(n) < 1):
            raise ValueError(f"form {item!r}: {name} {'needs' if needs_n else 'takes no'} N")
        out.append(FormSpec(name, int(n) if n is not None else None))
    return out


def _strip_neg(node: Node) -> Node:
    while node.kind == "neg":
        node = node.args[0]
    return node


def _int_lit(node: Node) -> int | None:
    if node.kind == "num" and node.args[2] == "int":
        return int(node.args[0])
    return None


def _factors(node: Node) -> list[Node]:
    if node.kind == "mul":
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]


def _decimal_digits(node: Node) -> tuple[str, int, bool] | None:
    """(mantissa digits without sign/point, exponent of 10 written, has point) of a literal
    decimal (``1.20``, ``1.2e3``, ``1.2 \\times 10^{3}``); None if not one."""
    n = _strip_neg(node)
    exp10 = 0
    if n.kind == "mul" and n.args[2]:
        right = n.args[1]
        if right.kind == "pow" and _int_lit(right.args[0]) == 10:
            e = right.args[1]
            sign = 1
            if e.kind == "neg":
                sign, e = -1, e.args[0]
            if _int_lit(e) is None:
                return None
            exp10 = sign * int(e.args[0])
            n = n.args[0]
    if n.kind != "num":
        return None
    text: str = n.args[0]
    mant, _, e = text.lower().partition("e")
    exp10 += int(e or 0)
    return mant, exp10, "." in mant


def _sig_count(mant: str, has_point: bool) -> tuple[int, int]:
    """(min, max) significant figures of a written mantissa; a range when trailing zeros of
    an integer leave it open (``1200``: 2 to 4)."""
    digits = mant.replace(".", "").lstrip("0")
    if not digits:
        return (1, 1) if not has_point else (len(mant.split(".")[1]) or 1,) * 2
    if has_point:
        return len(digits), len(digits)
    stripped = digits.rstrip("0")
    return len(stripped), len(digits)


def rounded_values(ref: Any, spec: FormSpec) -> list[Fraction] | None:
    """The exact value(s) the reference rounds to (two at an exact tie); None if unknown."""
    import sympy as sp

    assert spec.n is not None
    try:
        if ref.is_Rational:
            r = Fraction(int(ref.p), int(ref.q))
        else:
            if not (ref.is_number and ref.is_real):
                return None
            v = sp.N(ref, 60)
            r = Fraction(str(v))  # 60 digits: ties impossible to miss for irrationals
    except (TypeError, ValueError):
        return None
    if r == 0:
        return [Fraction(0)]
    if spec.name == "decimal_places":
        unit = Fraction(1, 10 ** spec.n)
    else:
        k = math.floor(math.log10(abs(float(r)))) if abs(float(r)) > 0 else 0
        # correct floating error of log10 near powers of 10
        while abs(r) >= Fraction(10) ** (k + 1):
            k += 1
        while abs(r) < Fraction(10) ** k:
            k -= 1
        unit = Fraction(10) ** (k - spec.n + 1)
    q = r / unit
    lo = math.floor(q)
    frac = q - lo
    if frac == Fraction(1, 2):
        return sorted({lo * unit, (lo + 1) * unit})
    return [(lo + (1 if frac > Fraction(1, 2) else 0)) * unit]


def check_form(spec: FormSpec, node: Node | None) -> FormResult:
    """Whether the written answer ``node`` has the form ``spec`` (value checked elsewhere)."""
    if node is None:
        return FormResult("unknown", "no written form to judge")
    name = spec.name
    n = _strip_neg(node)
    if name == "integer":
        return FormResult("ok") if _int_lit(n) is not None else FormResult(
            "wrong", "not written as an integer")
    if name == "lowest_terms":
        if _int_lit(n) is not None:
            return FormResult("ok")
        if n.kind in ("frac", "div"):
            num, den = (_strip_neg(x) for x in n.args[:2])
            p, q = _int_lit(num), _int_lit(den)
            if p is None or q is None or n.args[1].kind == "neg":
                return FormResult("wrong", "not a fraction of two integers")
            if q <= 1 or math.gcd(p, q) != 1:
                return FormResult("wrong", f"{p}/{q} is not in lowest terms")
            return FormResult("ok")
        return FormResult("wrong", "not written as a fraction p/q")
    if name == "prime_factorization":
        from sympy import isprime

        seen: set[int] = set()
        for f in _factors(n):
            base, exp = (f.args[0], f.args[1]) if f.kind == "pow" else (f, None)
            b = _int_lit(base)
            if b is None or not isprime(b):
                return FormResult("wrong", f"factor {base} is not a prime written as an integer")
            if exp is not None and (_int_lit(exp) is None or int(exp.args[0]) < 1):
                return FormResult("wrong", "exponent is not a positive integer literal")
            if b in seen:
                return FormResult("wrong", f"prime {b} appears twice")
            seen.add(b)
        if n.kind == "mul" and not all(_explicit_or_power(x) for x in _mul_nodes(n)):
            return FormResult("wrong", "factors must be joined by a multiplication sign")
        return FormResult("ok")
    if name == "factored":
        return _factored(n)
    if name == "simplest_radical":
        return _simplest_radical(node)
    if name in ("sig_figs", "decimal_places"):
        d = _decimal_digits(node)
        if d is None:
            return FormResult("wrong", "not written as a decimal number")
        mant, exp10, has_point = d
        if name == "decimal_places":
            if exp10 != 0:
                return FormResult("unknown", "decimal places of a number in scientific notation")
            places = len(mant.split(".")[1]) if has_point else 0
            if places != spec.n:
                return FormResult("wrong", f"{places} decimal places, {spec.n} required")
            return FormResult("ok")
        lo, hi = _sig_count(mant, has_point)
        if lo == hi == spec.n:
            return FormResult("ok")
        if lo <= (spec.n or 0) <= hi:
            return FormResult("unknown", f"{mant} has {lo} to {hi} significant figures")
        return FormResult("wrong", f"{lo if lo == hi else f'{lo}-{hi}'} significant figures, "
                          f"{spec.n} required")
    return FormResult("unknown", f"form {name} not supported")


def _mul_nodes(n: Node) -> list[Node]:
    if n.kind == "mul":
        return [n] + _mul_nodes(n.args[0]) + _mul_nodes(n.args[1])
    return []


def _explicit_or_power(n: Node) -> bool:
    # "2^3 5" would be read as 2^35 by a person: require an explicit sign between numbers
    return bool(n.args[2]) or n.args[1].kind not in ("num", "pow")


def _factored(n: Node) -> FormResult:
    import sympy as sp

    from synthvet.verifiers.symbolic.translate import to_expr

    factors = []
    for f in _factors(n):
        base = f.args[0] if f.kind == "pow" else f
        if f.kind == "pow" and _int_lit(f.args[1]) is None:
            return FormResult("unknown", "non-integer exponent")
        factors.append(base)
    for base in factors:
        e = to_expr(base)
        syms = sorted(e.free_symbols, key=str)
        if not syms:
            if not e.is_Rational:
                return FormResult("unknown", f"constant factor {e}")
            continue
        try:
            p = sp.Poly(e, *syms)
        except sp.PolynomialError:
            return FormResult("unknown", f"factor {e} is not a polynomial")
        if not all(c.is_Rational for c in p.coeffs()):
            return FormResult("unknown", "non-rational coefficients")
        if p.total_degree() > 30 or len(syms) > 3:
            return FormResult("unknown", "polynomial too large to test irreducibility quickly")
        content, _ = p.primitive()
        if abs(content) != 1:
            return FormResult("wrong", f"factor {e} has a common factor {content}")
        if p.total_degree() > 1 and not p.is_irreducible:
            return FormResult("wrong", f"factor {e} can be factored further")
    return FormResult("ok")


def _radicals_in(n: Node) -> bool:
    if n.kind in ("sqrt", "root"):
        return True
    if n.kind == "pow" and n.args[1].kind in ("frac", "div"):
        return True
    return any(_radicals_in(a) for a in n.args if isinstance(a, Node))


def _simplest_radical(node: Node) -> FormResult:
    from sympy import factorint

    def walk(n: Node, in_den: bool) -> FormResult | None:
        k = n.kind
        if k == "num" and n.args[2] != "int":
            return FormResult("wrong", "decimal in a radical answer")
        if k in ("sqrt", "root"):
            if in_den:
                return FormResult("wrong", "radical in a denominator")
            rad = n.args[0] if k == "sqrt" else n.args[1]
            idx = 2 if k == "sqrt" else _int_lit(n.args[0])
            if idx is None:
                return FormResult("unknown", "root index")
            v = _int_lit(rad)
            if v is None:
                if _radicals_in(rad):
                    return FormResult("wrong", "nested radical")
                return FormResult("wrong", "radicand is not an integer") if rad.kind in (
                    "frac", "div") else FormResult("unknown", "symbolic radicand")
            if v in (0, 1) or any(e >= idx for e in factorint(v).values()):
                return FormResult("wrong", f"radicand {v} has a perfect-power factor")
            return None
        if k == "pow" and n.args[1].kind in ("frac", "div"):
            return FormResult("wrong", "fractional exponent instead of a radical")
        if k in ("frac", "div"):
            num, den = n.args[0], n.args[1]
            r = walk(num, in_den) or walk(den, True)
            if r:
                return r
            cn, cd = _coef(num), _int_lit(_strip_neg(den))
            if cn is not None and cd is not None and math.gcd(cn, cd) != 1:
                return FormResult("wrong", "fraction not reduced")
            return None
        for a in n.args:
            if isinstance(a, Node):
                r = walk(a, in_den)
                if r:
                    return r
        return None

    return walk(node, False) or FormResult("ok")


def _coef(n: Node) -> int | None:
    """The integer coefficient of ``3\\sqrt{2}`` (3), of ``\\sqrt{2}`` (1)."""
    n = _strip_neg(n)
    if _int_lit(n) is not None:
        return _int_lit(n)
    if n.kind in ("sqrt", "root"):
        return 1
    if n.kind == "mul":
        left = _int_lit(_strip_neg(n.args[0]))
        if left is not None and n.args[1].kind in ("sqrt", "root"):
            return left
    return None
