"""Comparing two translated answers, with three outcomes and the evidence for each.

``equal`` needs positive evidence; ``different`` needs a witness; everything else is
``unknown`` with a reason code:

* exact values (rationals) compare exactly: 1/2^99 is not 1/2^98, 0.1234567 is not
  0.1234571; there is no default tolerance;
* a tolerance applies only when the task or the config states one, and it is relative;
* a decimal answer that matches an exact reference only after rounding is ``unknown``
  (``rounded_answer``): the task did not say that rounding is allowed;
* expressions are equal only when a symbolic proof (``cancel``/``simplify`` giving 0 or
  ``equals`` saying True, with ``equals`` not saying False) AND a high-precision numeric
  probe at seeded random points agree; a probe point where they differ (confirmed at
  twice the precision) refutes, and is reported; disagreement or a timeout is ``unknown``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from synthvet.verifiers.symbolic.bounded import Bounded, run_bounded
from synthvet.verifiers.symbolic.parse import Node, ParseError
from synthvet.verifiers.symbolic.translate import Value, interval, safe_str

__all__ = ["Outcome", "Settings", "compare_values", "decimal_ulp", "expr_equal"]

EQUAL, DIFFERENT, UNKNOWN = "equal", "different", "unknown"


@dataclass(frozen=True, slots=True)
class Outcome:
    """Result of one comparison. ``reason`` is set for ``unknown`` outcomes."""

    status: str
    method: str
    detail: str = ""
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Settings:
    """Knobs of a comparison; ``deadline`` is a ``time.monotonic()`` instant."""

    rel_tol: Fraction | None = None
    probe_points: int = 6
    probe_digits: int = 50
    seed: int = 20261124
    simplify_seconds: float = 5.0
    deadline: float = float("inf")

    def budget(self) -> float:
        return max(0.0, min(self.simplify_seconds, self.deadline - time.monotonic()))


def _sp() -> Any:
    import sympy

    return sympy


# ------------------------------------------------------------------ scalars
def decimal_ulp(node: Node | None) -> Fraction | None:
    """For an answer written as one decimal literal (maybe negated), its last digit's unit."""
    if node is None:
        return None
    if node.kind == "neg":
        return decimal_ulp(node.args[0])
    if node.kind != "num" or node.args[2] == "int":
        return None
    text: str = node.args[0]
    mant, _, exp = text.lower().partition("e")
    places = len(mant.split(".")[1]) if "." in mant else 0
    return Fraction(1, 10 ** places) * Fraction(10) ** int(exp or 0)


def _num(x: Any, digits: int) -> Any:
    return _sp().N(x, digits, maxn=digits * 8)


def _is_bad(x: Any) -> bool:
    sp = _sp()
    return x.has(sp.nan, sp.zoo) or bool(x.atoms(sp.AccumBounds))


def expr_equal(a: Any, b: Any, s: Settings, *, a_node: Node | None = None,
               b_node: Node | None = None) -> Outcome:
    """Compare two sympy expressions (``a`` the answer, ``b`` the reference)."""
    # sympy objects, printed once at the end by the engine (printing is costly)
    shown: dict[str, Any] = {"answer_value": a, "reference_value": b}
    if _is_bad(a) or _is_bad(b):
        return Outcome(UNKNOWN, "none", "undefined value (nan or complex infinity)",
                       "parse_error", shown)
    if a == b and s.rel_tol is None:
        return Outcome(EQUAL, "identical", "identical after exact evaluation", evidence=shown)
    if a.free_symbols or b.free_symbols:
        if s.rel_tol is not None:
            return Outcome(UNKNOWN, "none", "a tolerance applies to numbers, not expressions",
                           "weak_evidence", shown)
        return _function_equal(a, b, s, shown)
    return _constant_equal(a, b, s, shown, a_node, b_node)


def _constant_equal(a: Any, b: Any, s: Settings, shown: dict[str, Any],
                    a_node: Node | None, b_node: Node | None) -> Outcome:
    sp = _sp()
    if not (a.is_finite is not False and b.is_finite is not False):
        if a == b:
            return Outcome(EQUAL, "identical", "same infinity", evidence=shown)
        if a.is_extended_real and b.is_extended_real:
            return Outcome(DIFFERENT, "exact", "different values (infinite)", evidence=shown)
        return Outcome(UNKNOWN, "none", "cannot compare these infinities", "weak_evidence",
                       shown)
    digits = s.probe_digits
    if a.is_Rational and b.is_Rational:
        diff = abs(a - b)
        if s.rel_tol is not None:
            tol = sp.Rational(s.rel_tol.numerator, s.rel_tol.denominator) * abs(b)
            if diff <= tol:
                return Outcome(EQUAL, "relative_tolerance",
                               f"within the stated relative tolerance {float(s.rel_tol):g}",
                               evidence=shown)
            return Outcome(DIFFERENT, "relative_tolerance",
                           f"outside the stated relative tolerance {float(s.rel_tol):g}",
                           evidence=shown)
        return _maybe_rounded(a, b, a_node, b_node, shown, "exact rationals differ")
    try:
        va, vb = _num(a, digits), _num(b, digits)
        d = _num(a - b, digits)
    except Exception as exc:  # evalf on odd input
        return Outcome(UNKNOWN, "probe", f"cannot evaluate numerically: {exc}"[:200],
                       "weak_evidence", shown)
    if not (d.is_number and va.is_number and vb.is_number):
        return Outcome(UNKNOWN, "probe", "no numeric value", "weak_evidence", shown)
    shown = {**shown, "answer_numeric": sp.N(va, 20), "reference_numeric": sp.N(vb, 20)}
    scale = max(1.0, float(abs(sp.N(va, 15))), float(abs(sp.N(vb, 15)))) if (
        va.is_finite and vb.is_finite) else 1.0
    if s.rel_tol is not None:
        tol = float(s.rel_tol) * float(abs(sp.N(vb, 30)))
        ok = float(abs(d)) <= tol
        return Outcome(EQUAL if ok else DIFFERENT, "relative_tolerance",
                       f"{'within' if ok else 'outside'} the stated relative tolerance "
                       f"{float(s.rel_tol):g}", evidence=shown)
    if float(abs(d)) > 10.0 ** (-(digits // 2)) * scale:
        d2 = _num(a - b, digits * 2)
        if float(abs(d2)) > 10.0 ** (-(digits // 2)) * scale:
            return _maybe_rounded(a, b, a_node, b_node, shown,
                                  f"values differ numerically by {float(abs(d2)):.3g}")
        return Outcome(UNKNOWN, "probe", "numeric evaluation unstable", "weak_evidence",
                       shown)
    return _prove_zero(a - b, s, shown, "numerically equal to "
                       f"{digits} digits")


def _maybe_rounded(a: Any, b: Any, a_node: Node | None, b_node: Node | None,
                   shown: dict[str, Any], why: str) -> Outcome:
    """A decimal that equals the other side only after rounding is not proven right."""
    for node, other, mine, who in ((a_node, b, a, "answer"), (b_node, a, b, "reference")):
        ulp = decimal_ulp(node)
        if ulp is None:
            continue
        sp = _sp()
        gap = abs(sp.N(mine - other, 40))
        if gap <= sp.Rational(ulp.numerator, ulp.denominator) / 2:
            return Outcome(UNKNOWN, "rounding",
                           f"the {who} is a rounded decimal of the other value and the task "
                           "states no tolerance", "rounded_answer", shown)
    return Outcome(DIFFERENT, "exact" if a.is_Rational and b.is_Rational else "probe", why,
                   evidence=shown)


def _proof_child(d: Any, rational: bool) -> tuple[bool, bool | None, str]:
    """In the forked child: (proved zero, equals() verdict, method)."""
    sp = _sp()
    if rational:
        c = sp.cancel(d)
        return (c == 0, None if c == 0 else False, "cancel")
    try:
        if sp.expand(d) == 0:
            return (True, None, "expand")
    except Exception:
        pass
    simp = sp.simplify(d)
    simplified_zero = simp == 0
    try:
        eq = d.equals(0)
    except Exception:
        eq = None
    return (simplified_zero or eq is True, eq, "simplify" if simplified_zero else "equals")


def _is_rational_function(d: Any) -> bool:
    sp = _sp()
    syms = sorted(d.free_symbols, key=str)
    if not syms:
        return False
    if any(not n.is_Rational for n in d.atoms(sp.Number)):
        return False
    if d.atoms(sp.Function) or d.has(sp.pi, sp.E, sp.I):
        return False
    return bool(d.is_rational_function(*syms))


def _small_polynomial_case(d: Any) -> bool:
    """Small enough that cancel()/expand() finish in milliseconds, so no fork is needed:
    few operations, at most 3 symbols and small integer powers (expanding
    ``(x1+...+x9)^40`` in-process would run away)."""
    sp = _sp()
    if len(d.free_symbols) > 3 or sp.count_ops(d) > 300:
        return False
    for p in d.atoms(sp.Pow):
        if p.exp.is_Number and abs(p.exp) > 12:
            return False
    return True


def _prove_zero(d: Any, s: Settings, shown: dict[str, Any], probe_note: str) -> Outcome:
    rational = _is_rational_function(d)
    if rational and _small_polynomial_case(d):
        res = Bounded("ok", _proof_child(d, True))
    elif _small_polynomial_case(d) and _sp().expand(d) == 0:
        res = Bounded("ok", (True, None, "expand"))
    else:
        res = run_bounded(_proof_child, d, rational, seconds=s.budget())
    if res.status == "timeout":
        return Outcome(UNKNOWN, "simplify", f"{probe_note}, but the symbolic proof timed out",
                       "timeout", shown)
    if res.status != "ok":
        return Outcome(UNKNOWN, "simplify", f"{probe_note}; symbolic step failed: "
                       f"{res.detail}", "weak_evidence", shown)
    proved, eq, method = res.value
    if rational and not proved:
        # cancel() decides rational functions: nonzero means the functions differ, yet the
        # probe found no point; report, do not guess.
        return Outcome(UNKNOWN, "cancel", f"{probe_note}, but cancel() leaves a nonzero "
                       "difference", "weak_evidence", shown)
    if proved and eq is not False:
        return Outcome(EQUAL, f"{method}+probe", f"{method} proves the difference is 0 and "
                       f"{probe_note}", evidence=shown)
    if eq is False:
        return Outcome(UNKNOWN, "equals", f"{probe_note}, but equals() says they differ",
                       "weak_evidence", shown)
    return Outcome(UNKNOWN, "probe", f"{probe_note}, but no symbolic proof was found",
                   "weak_evidence", shown)


def _probe_functions(a: Any, b: Any, syms: list[Any]) -> Any:
    """A callable giving (a - b, b) at a point, evaluated with mpmath at the current
    precision by walking the expression tree (no code generation, no printing)."""
    d = a - b

    def f(*args: Any) -> tuple[Any, Any]:
        env = dict(zip(syms, args))
        memo: dict[Any, Any] = {}
        # the scale of the comparison: the larger side (either may be 0)
        return _mp_eval(d, env, memo), max(abs(_mp_eval(a, env, memo)),
                                           abs(_mp_eval(b, env, memo)))

    return f


def _mp_functions() -> dict[Any, Any]:
    import mpmath

    sp = _sp()
    return {
        sp.exp: mpmath.exp, sp.log: mpmath.log, sp.sin: mpmath.sin, sp.cos: mpmath.cos,
        sp.tan: mpmath.tan, sp.cot: mpmath.cot, sp.sec: mpmath.sec, sp.csc: mpmath.csc,
        sp.asin: mpmath.asin, sp.acos: mpmath.acos, sp.atan: mpmath.atan,
        sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh, sp.tanh: mpmath.tanh,
        sp.Abs: abs, sp.floor: mpmath.floor, sp.ceiling: mpmath.ceil,
        sp.factorial: lambda v: mpmath.gamma(v + 1),
    }


_MP_FUNCS: dict[Any, Any] = {}


def _mp_eval(e: Any, env: dict[Any, Any], memo: dict[Any, Any]) -> Any:
    """Evaluate a sympy expression with mpmath; raise for anything not covered."""
    import mpmath

    sp = _sp()
    if e in memo:
        return memo[e]
    if e.is_Symbol:
        v = env[e]
    elif e.is_Rational:
        v = mpmath.mpf(int(e.p)) / int(e.q)
    elif e is sp.pi:
        v = +mpmath.pi
    elif e is sp.E:
        v = +mpmath.e
    elif e is sp.I:
        v = mpmath.mpc(0, 1)
    elif e.is_Add:
        v = mpmath.fsum(_mp_eval(t, env, memo) for t in e.args)
    elif e.is_Mul:
        v = mpmath.fprod(_mp_eval(t, env, memo) for t in e.args)
    elif e.is_Pow:
        base = _mp_eval(e.base, env, memo)
        ex = e.exp
        if ex.is_Integer:
            v = base ** int(ex)
        elif ex == sp.S.Half:
            v = mpmath.sqrt(base)
        else:
            v = mpmath.power(base, _mp_eval(ex, env, memo))
    else:
        if not _MP_FUNCS:
            _MP_FUNCS.update(_mp_functions())
        fn = _MP_FUNCS.get(e.func)
        if fn is None or len(e.args) != 1:
            raise ValueError(f"no mpmath evaluation for {e.func}")
        v = fn(_mp_eval(e.args[0], env, memo))
    memo[e] = v
    return v


def _function_equal(a: Any, b: Any, s: Settings, shown: dict[str, Any]) -> Outcome:
    """Expressions with free symbols: a seeded high-precision probe, then a proof."""
    import mpmath

    sp = _sp()
    syms = sorted(a.free_symbols | b.free_symbols, key=str)
    rng = random.Random(s.seed)
    d = a - b
    digits = s.probe_digits
    funcs = _probe_functions(a, b, syms)
    used = 0
    tries = 0
    while used < s.probe_points and tries < s.probe_points * 4:
        tries += 1
        point = {x: sp.Rational(rng.randint(3, 97), rng.randint(11, 37)) for x in syms}
        try:
            if funcs is not None:
                with mpmath.workdps(digits):
                    args = [mpmath.mpf(int(v.p)) / int(v.q) for v in point.values()]
                    dv_m, bv_m = funcs(*args)
                    if not all(mpmath.isfinite(v) for v in (dv_m, bv_m)):
                        continue
                    dv_abs, bv_abs = float(abs(dv_m)), float(abs(bv_m))
            else:
                dv = _num(d.subs(point), digits)
                av, bv = _num(a.subs(point), 15), _num(b.subs(point), 15)
                if not (dv.is_number and av.is_number and bv.is_number) or any(
                        _is_bad(v) for v in (dv, av, bv)):
                    continue
                dv_abs, bv_abs = float(abs(dv)), max(float(abs(av)), float(abs(bv)))
        except Exception:  # a pole, a domain error: try another point
            continue
        used += 1
        scale = max(1.0, bv_abs) if bv_abs != float("inf") else 1.0
        if dv_abs > 10.0 ** (-(digits // 2)) * scale:
            # confirm with exact substitution at twice the precision before refuting
            try:
                dv2 = _num(d.subs(point), digits * 2)
                confirmed = dv2.is_number and not _is_bad(dv2) and float(abs(dv2)) > (
                    10.0 ** (-(digits // 2)) * scale)
            except Exception:
                confirmed = False
            if confirmed:
                pt = {str(k): str(v) for k, v in point.items()}
                ev = {**shown, "counterexample": pt,
                      "answer_at_point": safe_str(_num(a.subs(point), 20)),
                      "reference_at_point": safe_str(_num(b.subs(point), 20))}
                return Outcome(DIFFERENT, "probe", f"differ at {pt}", evidence=ev)
            used -= 1  # not confirmed at higher precision: this point tells nothing
            continue
    if used < 3:
        return Outcome(UNKNOWN, "probe", "too few points where both sides are defined",
                       "weak_evidence", shown)
    return _prove_zero(d, s, shown, f"equal at {used} random points to {digits} digits")


# ------------------------------------------------------------------ structures
def _combine(outcomes: list[Outcome], method: str, what: str) -> Outcome:
    for o in outcomes:
        if o.status == DIFFERENT:
            return Outcome(DIFFERENT, o.method, f"{what}: {o.detail}", evidence=o.evidence)
    for o in outcomes:
        if o.status == UNKNOWN:
            return Outcome(UNKNOWN, o.method, f"{what}: {o.detail}", o.reason, o.evidence)
    methods = sorted({o.method for o in outcomes})
    return Outcome(EQUAL, method + "(" + ",".join(methods) + ")",
                   f"{what}: all {len(outcomes)} parts equal")


def _label_value(v: Value) -> Value | None:
    """``x = 5`` as an answer labelled with its variable: the value 5."""
    if v.kind == "rel" and v.ops == ("=",) and v.items[0].is_Symbol and (
            v.items[0] not in v.items[1].free_symbols):
        rhs_node = v.node.args[2] if v.node is not None else None
        return Value("expr", (v.items[1],), node=rhs_node)
    if v.kind == "in" and v.items[0].is_Symbol:
        return v.items[1]
    return None


def _mixed_labels(items: tuple[Value, ...]) -> bool:
    return len({v.items[0] for v in items if v.kind == "rel" and _label_value(v) is not None}) > 1


def _unlabel(items: tuple[Value, ...]) -> tuple[Value, ...]:
    """``x = 1, x = 2`` -> ``1, 2``; labels naming different variables stay (they are not
    one variable's values)."""
    labels = {v.items[0] for v in items if v.kind == "rel" and _label_value(v) is not None}
    if len(labels) > 1:
        return items
    return tuple(_label_value(v) or v for v in items)


def compare_values(ans: Value, ref: Value, s: Settings) -> Outcome:
    """Compare a translated answer with a translated reference."""
    ka, kr = ans.kind, ref.kind
    # "x = 5" against "5" (or the other way round): the label names the variable only
    if ka in ("rel", "in") and kr not in ("rel", "in"):
        lab = _label_value(ans)
        if lab is not None:
            return compare_values(lab, ref, s)
    if kr in ("rel", "in") and ka not in ("rel", "in"):
        lab = _label_value(ref)
        if lab is not None:
            return compare_values(ans, lab, s)
    if ka == "list" and kr != "list":
        ans = Value("list", _unlabel(ans.items), node=ans.node)
    if kr == "list" and ka != "list":
        ref = Value("list", _unlabel(ref.items), node=ref.node)
    if ka == "expr" and kr == "expr":
        return expr_equal(ans.items[0], ref.items[0], s, a_node=ans.node, b_node=ref.node)
    if ka == "rel" and kr == "rel":
        return _rel_equal(ans, ref, s)
    if ka == "matrix" and kr == "matrix":
        ma, mr = ans.items[0], ref.items[0]
        if ma.shape != mr.shape:
            return Outcome(DIFFERENT, "shape", f"matrix shape {ma.shape} != {mr.shape}",
                           evidence={"answer": ans.show(), "reference": ref.show()})
        return _combine([expr_equal(x, y, s) for x, y in zip(ma, mr)], "entries",
                        "matrix entries")
    if ka in ("set", "list") and kr in ("set", "list"):
        if _mixed_labels(ans.items) or _mixed_labels(ref.items):
            return Outcome(UNKNOWN, "set", "labels name different variables (a tuple of "
                           "values, not a set?)", "weak_evidence",
                           {"answer": ans.show(), "reference": ref.show()})
        return _unordered(_unlabel(ans.items), _unlabel(ref.items), s)
    if ka == "group" and kr == "group":
        return _groups(ans, ref, s)
    if {ka, kr} == {"list", "group"}:
        lst, grp = (ans, ref) if ka == "list" else (ref, ans)
        if len(lst.items) == len(grp.items) and (grp.open, grp.close) == ("(", ")"):
            ordered = _combine([compare_values(x, y, s) for x, y in zip(ans.items, ref.items)],
                               "ordered", "tuple components")
            if ordered.status == EQUAL and len(grp.items) == 2:
                return Outcome(UNKNOWN, "ordered", "a bare pair against (a, b), which may be an "
                               "open interval", "weak_evidence", ordered.evidence)
            if ordered.status != DIFFERENT:
                return ordered
            if _unordered(ans.items, ref.items, s).status == EQUAL:
                return Outcome(UNKNOWN, "ordered", "same values in another order; a bare "
                               "list does not say whether order matters", "weak_evidence")
            return ordered
    set_kinds = ("sset", "group", "rel", "in", "set")
    if ka in set_kinds and kr in set_kinds and "sset" in (ka, kr) or (
            {ka, kr} <= {"group", "rel", "in", "sset"} and (ka == "rel") != (kr == "rel")):
        return _sets(ans, ref, s)
    if ka == "set" and kr == "expr" and len(ans.items) == 1 or (
            kr == "set" and ka == "expr" and len(ref.items) == 1):
        inner = compare_values(ans.items[0] if ka == "set" else ans,
                               ref.items[0] if kr == "set" else ref, s)
        if inner.status == EQUAL:
            return Outcome(UNKNOWN, inner.method, "same value, but one side is a set and the "
                           "other a number", "weak_evidence", inner.evidence)
        return inner
    return Outcome(DIFFERENT, "shape", f"the answer is a {_kind_name(ans)}, the reference a "
                   f"{_kind_name(ref)}", evidence={"answer": ans.show(),
                                                   "reference": ref.show()})


def _kind_name(v: Value) -> str:
    names = {"expr": "number or expression", "list": "list", "set": "set",
             "group": "tuple or interval", "matrix": "matrix", "rel": "relation",
             "sset": "set", "in": "set membership"}
    return names.get(v.kind, v.kind)


_MAX_ITEMS = 60


def _unordered(xs: tuple[Value, ...], ys: tuple[Value, ...], s: Settings) -> Outcome:
    """Set semantics: every answer element equals some reference element and vice versa."""
    if len(xs) > _MAX_ITEMS or len(ys) > _MAX_ITEMS:
        return Outcome(UNKNOWN, "set", "too many elements", "weak_evidence")
    cache: dict[tuple[int, int], Outcome] = {}

    def cmp(i: int, j: int) -> Outcome:
        if (i, j) not in cache:
            cache[(i, j)] = compare_values(xs[i], ys[j], s)
        return cache[(i, j)]

    status_unknown: Outcome | None = None
    for side, n, m in (("answer", len(xs), len(ys)), ("reference", len(ys), len(xs))):
        for i in range(n):
            found = False
            pending: Outcome | None = None
            order = [i] + [j for j in range(m) if j != i] if i < m else list(range(m))
            for j in order:
                o = cmp(i, j) if side == "answer" else cmp(j, i)
                if o.status == EQUAL:
                    found = True
                    break
                if o.status == UNKNOWN and pending is None:
                    pending = o
            if not found:
                if pending is None:
                    item = xs[i] if side == "answer" else ys[i]
                    what = "claimed element not in the reference" if side == "answer" else \
                        "reference element missing from the answer"
                    return Outcome(DIFFERENT, "set", f"{what}: {item.show()}",
                                   evidence={"element": item.show()})
                status_unknown = status_unknown or pending
    if status_unknown is not None:
        return Outcome(UNKNOWN, status_unknown.method, "set comparison: "
                       + status_unknown.detail, status_unknown.reason, status_unknown.evidence)
    return Outcome(EQUAL, "set", f"same set ({len(xs)} and {len(ys)} elements written)")


def _groups(a: Value, b: Value, s: Settings) -> Outcome:
    if len(a.items) != len(b.items):
        return Outcome(DIFFERENT, "shape", f"{len(a.items)} components, reference has "
                       f"{len(b.items)}", evidence={"answer": a.show(), "reference": b.show()})
    if (a.open, a.close) != (b.open, b.close):
        return Outcome(DIFFERENT, "brackets", f"brackets {a.open}{a.close} differ from "
                       f"{b.open}{b.close} (open/closed ends or tuple vs interval)",
                       evidence={"answer": a.show(), "reference": b.show()})
    return _combine([compare_values(x, y, s) for x, y in zip(a.items, b.items)], "ordered",
                    "components")


# ------------------------------------------------------------------ relations and sets
def _normal(lhs: Any, op: str, rhs: Any) -> tuple[str, Any]:
    """(kind, d): ``eq`` d = 0, ``ne`` d != 0, ``gt`` d > 0, ``ge`` d >= 0."""
    if op == "=":
        return "eq", lhs - rhs
    if op == "!=":
        return "ne", lhs - rhs
    if op == ">":
        return "gt", lhs - rhs
    if op == ">=":
        return "ge", lhs - rhs
    if op == "<":
        return "gt", rhs - lhs
    return "ge", rhs - lhs


def _linear(d: Any) -> bool:
    sp = _sp()
    syms = list(d.free_symbols)
    if not syms:
        return False
    try:
        p = sp.Poly(d, *syms)
    except Exception:
        return False
    return p.total_degree() == 1 and all(c.is_Rational for c in p.coeffs())


def _cancel_ratio(d1: Any, d2: Any) -> Any:
    return _sp().cancel(d1 / d2)


def _ratio(d1: Any, d2: Any, s: Settings) -> Any:
    """d1/d2 after cancel(), computed under the time budget (None when it was not)."""
    sp = _sp()
    if sp.count_ops(d1) + sp.count_ops(d2) > 200:
        return None
    res = run_bounded(_cancel_ratio, d1, d2, seconds=s.budget())
    return res.value if res.status == "ok" else None


def _rel_equal(a: Value, b: Value, s: Settings) -> Outcome:
    ev = {"answer": a.show(), "reference": b.show()}
    if len(a.items) == 2 and len(b.items) == 2:
        ka, da = _normal(a.items[0], a.ops[0], a.items[1])
        kb, db = _normal(b.items[0], b.ops[0], b.items[1])
        if ka == kb and ka in ("eq", "ne", "gt", "ge"):
            if da == 0 or db == 0:
                return Outcome(UNKNOWN, "relation", "degenerate relation", "weak_evidence", ev)
            r = _ratio(da, db, s)
            if r is not None and not r.free_symbols and r.is_number and r.is_finite and (
                    abs(_num(r, 30)) > 1e-25):  # a constant, and provably not a hidden zero
                if ka in ("eq", "ne") or r.is_positive:
                    return Outcome(EQUAL, "proportional", f"one relation is {safe_str(r)} "
                                   "times the other", evidence=ev)
            if _linear(da) and _linear(db):
                return Outcome(DIFFERENT, "linear", "linear relations that are not "
                               "(positively) proportional have different solution sets",
                               evidence=ev)
        elif {ka, kb} <= {"gt", "ge", "eq"} and _linear(da) and _linear(db) and (
                da.free_symbols == db.free_symbols):
            return Outcome(DIFFERENT, "linear", "different relation kinds (= < <=) on linear "
                           "expressions", evidence=ev)
    if {a.ops[0], b.ops[0]} & {"<", ">", "<=", ">="}:
        return _sets(a, b, s)
    return Outcome(UNKNOWN, "relation", "cannot decide whether these relations are "
                   "equivalent", "weak_evidence", ev)


def _as_set(v: Value) -> Any:
    """A sympy set of reals for an interval, union, univariate inequality or membership."""
    sp = _sp()
    if v.kind == "sset":
        return v.items[0]
    if v.kind == "in":
        return _as_set(v.items[1])
    if v.kind == "group" and len(v.items) == 2 and all(i.kind == "expr" for i in v.items):
        return interval(v.items[0].items[0], v.items[1].items[0], v.open == "(", v.close == ")")
    if v.kind == "set" and all(i.kind == "expr" for i in v.items):
        return sp.FiniteSet(*[i.items[0] for i in v.items])
    if v.kind == "rel" and all(op in ("<", ">", "<=", ">=") for op in v.ops):
        syms = set().union(*[x.free_symbols for x in v.items])
        if len(syms) != 1:
            raise ParseError("inequality with more than one variable")
        x = next(iter(syms))
        result = sp.Reals
        for lhs, op, rhs in zip(v.items, v.ops, v.items[1:]):
            _, d = _normal(lhs, op, rhs)
            p = sp.Poly(d, x) if d.is_polynomial(x) else None
            if p is None or p.degree() > 2 or not all(
                    c.is_number and c.is_real for c in p.coeffs()):
                raise ParseError("only polynomial inequalities of degree <= 2 are compared")
            rel = {"<": sp.Lt, ">": sp.Gt, "<=": sp.Le, ">=": sp.Ge}[op](lhs, rhs)
            xr = sp.Symbol(x.name, real=True)
            sol = sp.solve_univariate_inequality(rel.subs(x, xr), xr, relational=False)
            result = sp.Intersection(result, sol)
        return result
    raise ParseError(f"not a set of reals: {v.kind}")


def _sets(a: Value, b: Value, s: Settings) -> Outcome:
    sp = _sp()
    ev = {"answer": a.show(), "reference": b.show()}
    try:
        sa, sb = _as_set(a), _as_set(b)
    except ParseError as exc:
        return Outcome(UNKNOWN, "sets", str(exc), "weak_evidence", ev)
    except Exception as exc:
        return Outcome(UNKNOWN, "sets", f"cannot build the set: {exc}"[:200], "weak_evidence",
                       ev)
    ev = {"answer_set": safe_str(sa)[:300], "reference_set": safe_str(sb)[:300]}
    if sa == sb:
        return Outcome(EQUAL, "canonical_sets", "the same set", evidence=ev)

    def parts(x: Any) -> list[Any]:
        return list(x.args) if isinstance(x, sp.Union) else [x]

    pa, pb = parts(sa), parts(sb)
    if len(pa) != len(pb) or any(type(x) is not type(y) for x, y in zip(pa, pb)):
        return Outcome(DIFFERENT, "sets", "the sets have different pieces", evidence=ev)
    outs: list[Outcome] = []
    for x, y in zip(pa, pb):
        if isinstance(x, sp.Interval):
            if (x.left_open, x.right_open) != (y.left_open, y.right_open):
                return Outcome(DIFFERENT, "sets", "an interval end is open on one side and "
                               "closed on the other", evidence=ev)
            outs += [expr_equal(x.start, y.start, s), expr_equal(x.end, y.end, s)]
        elif isinstance(x, sp.FiniteSet):
            outs.append(_unordered(tuple(Value("expr", (e,)) for e in x.args),
                                   tuple(Value("expr", (e,)) for e in y.args), s))
        else:
            outs.append(Outcome(UNKNOWN, "sets", "unsupported set piece", "weak_evidence", ev))
    out = _combine(outs, "sets", "set endpoints")
    return Outcome(out.status, out.method, out.detail, out.reason, {**ev, **out.evidence})
