"""Tasks that can be checked without a reference answer (the math record's ``check``).

``{"kind": "solve", "equation": "x**2-5*x+6=0", "variable": "x", "domain": "real"}``
    The claim is the full solution set (a list, set, ``x = 2, x = 3``, ``\\pm``,
    ``\\emptyset``). Each claimed value is substituted and must make both sides equal
    (and keep every denominator nonzero); none may be missing: for polynomial and
    rational equations the number of distinct roots is counted exactly (Sturm sequences
    for real roots, the degree of the square-free part for complex ones). For other
    equations completeness cannot be established, so a claim whose values all check
    is ``unknown`` (unless sympy finds a root the claim lacks: then it is refuted).
    ``domain`` is ``real`` or ``complex``; when it is not stated, the answer must be right
    over both, and an equation whose real and complex solution sets differ goes to review.
``{"kind": "antiderivative", "integrand": "...", "variable": "x"}``
    The derivative of the claim equals the integrand; any constant (``+ C``) is fine.
``{"kind": "derivative", "function": "...", "variable": "x"}``
    The claim equals the derivative.
``{"kind": "evaluate", "expression": "..."}``
    The claim equals the (exactly evaluated) expression.
``{"kind": "identity", "lhs": "...", "rhs": "..."}``
    The claim is ``true`` or ``false``; the identity's truth is decided by the same
    comparison as everything else (proof + probe for true, a point for false).

Task texts use the same strict parser as answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthvet.verifiers.symbolic.compare import (
    DIFFERENT,
    EQUAL,
    UNKNOWN,
    Outcome,
    Settings,
    compare_values,
    expr_equal,
)
from synthvet.verifiers.symbolic.parse import ParseError, parse_answer
from synthvet.verifiers.symbolic.translate import Value, safe_str, to_value

__all__ = ["KINDS", "TaskError", "check_task", "parse_task_expr"]

KINDS = ("solve", "antiderivative", "derivative", "evaluate", "identity")
_MAX_DEGREE = 60


class TaskError(ValueError):
    """The ``check`` object itself is malformed (a bad record, not a wrong answer)."""


def _sp() -> Any:
    import sympy

    return sympy


def _field(task: Mapping[str, Any], name: str) -> str:
    v = task.get(name)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = repr(v)
    if not isinstance(v, str) or not v.strip():
        raise TaskError(f"check.{name} must be a non-empty string")
    return v


def parse_task_expr(text: str) -> Any:
    """A task's expression (not an equation) as a sympy expression."""
    node = parse_answer(text)
    v = to_value(node)
    if v.kind != "expr":
        raise ParseError(f"expected an expression, got a {v.kind}")
    return v.items[0]


def _variable(task: Mapping[str, Any], *exprs: Any) -> Any:
    sp = _sp()
    name = task.get("variable")
    if name is None:
        syms = set().union(*[e.free_symbols for e in exprs])
        if len(syms) != 1:
            raise TaskError("check.variable is required when the task has "
                            f"{len(syms)} free symbols")
        return next(iter(syms))
    if not isinstance(name, str) or not name.isidentifier():
        raise TaskError(f"check.variable must be a name, got {name!r:.40}")
    return sp.Symbol(name)


def check_task(task: Any, answer: Value, answer_raw: Any, s: Settings) -> Outcome:
    """Check the claimed ``answer`` against the task; raise TaskError for a bad task."""
    if not isinstance(task, Mapping):
        raise TaskError("check must be an object with a 'kind'")
    kind = task.get("kind")
    if kind not in KINDS:
        raise TaskError(f"check.kind must be one of {', '.join(KINDS)}, got {kind!r:.40}")
    if kind == "identity":
        return _identity(task, answer_raw, s)
    if kind == "solve":
        return _solve(task, answer, s)
    sp = _sp()
    if kind == "evaluate":
        target = parse_task_expr(_field(task, "expression"))
        return _expect_expr(answer, target, s, "the value of the expression")
    if kind == "derivative":
        f = parse_task_expr(_field(task, "function"))
        x = _variable(task, f)
        return _expect_expr(answer, sp.diff(f, x), s, "the derivative")
    # antiderivative
    f = parse_task_expr(_field(task, "integrand"))
    x = _variable(task, f)
    if answer.kind != "expr":
        return Outcome(DIFFERENT, "shape", "an antiderivative must be an expression",
                       evidence={"answer": answer.show()})
    claim = answer.items[0]
    out = expr_equal(sp.diff(claim, x), f, s)
    ev = {**out.evidence, "claim": claim, "integrand": f,
          "derivative_of_claim": sp.diff(claim, x)}
    return Outcome(out.status, "differentiate+" + out.method,
                   f"derivative of the claim vs the integrand: {out.detail}", out.reason, ev)


def _expect_expr(answer: Value, target: Any, s: Settings, what: str) -> Outcome:
    out = compare_values(answer, Value("expr", (target,)), s)
    return Outcome(out.status, out.method, f"claim vs {what}: {out.detail}", out.reason,
                   {**out.evidence, "expected": target})


def truth_value(raw: Any) -> bool | None:
    """``true``/``false`` (also yes/no, a JSON bool, ``\\text{true}``) or None."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        t = raw.strip().strip("$").strip().lower()
        t = t.removeprefix("\\text{").removesuffix("}").strip()
        if t in ("true", "yes", "t"):
            return True
        if t in ("false", "no", "f"):
            return False
    return None


def _identity(task: Mapping[str, Any], answer_raw: Any, s: Settings) -> Outcome:
    claim = truth_value(answer_raw)
    if claim is None:
        return Outcome(UNKNOWN, "identity", "the answer to an identity must be true or false",
                       "parse_error", {"answer": safe_str(answer_raw)[:100]})
    lhs = parse_task_expr(_field(task, "lhs"))
    rhs = parse_task_expr(_field(task, "rhs"))
    out = expr_equal(lhs, rhs, s)
    if out.status == UNKNOWN:
        return Outcome(UNKNOWN, out.method, f"cannot decide the identity: {out.detail}",
                       out.reason, out.evidence)
    truth = out.status == EQUAL
    ev = {**out.evidence, "identity_holds": truth, "claimed": claim}
    if truth == claim:
        return Outcome(EQUAL, out.method, f"the identity is {str(truth).lower()} "
                       f"({out.detail})", evidence=ev)
    return Outcome(DIFFERENT, out.method, f"the identity is {str(truth).lower()}, the answer "
                   f"says {str(claim).lower()} ({out.detail})", evidence=ev)


def _claimed_values(answer: Value, x: Any) -> list[Value] | None:
    sp = _sp()
    if answer.kind == "sset" and answer.items[0] == sp.S.EmptySet:
        return []
    if answer.kind == "in" and answer.items[0] == x:
        return _claimed_values(answer.items[1], x)
    if answer.kind in ("list", "set"):
        out: list[Value] = []
        for it in answer.items:
            sub = _claimed_values(it, x)
            if sub is None:
                return None
            out.extend(sub)
        return out
    if answer.kind == "rel" and answer.ops == ("=",) and answer.items[0] == x and (
            x not in answer.items[1].free_symbols):
        node = answer.node.args[2] if answer.node is not None else None
        return [Value("expr", (answer.items[1],), node=node)]
    if answer.kind == "expr":
        return [answer]
    return None


def _equation(text: str) -> tuple[Any, Any]:
    """(lhs - rhs) of an equation text, or the expression itself meaning ``= 0``."""
    node = parse_answer(text)
    v = to_value(node)
    if v.kind == "rel":
        if v.ops != ("=",):
            raise TaskError("check.equation must be one equation")
        return v.items[0] - v.items[1], node
    if v.kind == "expr":
        return v.items[0], node
    raise TaskError("check.equation must be an equation or an expression")


def _solve(task: Mapping[str, Any], answer: Value, s: Settings) -> Outcome:
    """With no ``domain`` stated, the answer must be right over the reals AND over the
    complexes: where the two solution sets differ (x**2 + 1 = 0), the task is ambiguous
    and a person decides, instead of a default quietly choosing which answer is right."""
    if "domain" in task:
        dom = task["domain"]
        if dom not in ("real", "complex"):
            raise TaskError("check.domain must be 'real' or 'complex'")
        return _solve_in(task, answer, s, dom)
    real = _solve_in(task, answer, s, "real")
    if real.status == UNKNOWN:
        return real
    cplx = _solve_in(task, answer, s, "complex")
    if cplx.status == real.status:
        return real
    if cplx.status == UNKNOWN:
        return cplx
    return Outcome(UNKNOWN, "solve", "the real and the complex solution sets differ and the "
                   "task does not say which it asks for (set check.domain)",
                   "ambiguous_task", {**real.evidence, "over_reals": real.detail,
                                      "over_complexes": cplx.detail})


def _solve_in(task: Mapping[str, Any], answer: Value, s: Settings, dom: str) -> Outcome:
    sp = _sp()
    d, _ = _equation(_field(task, "equation"))
    x = _variable(task, d)
    if x not in d.free_symbols:
        raise TaskError(f"check.variable {str(x)!r} does not occur in the equation")
    claimed = _claimed_values(answer, x)
    if claimed is None:
        return Outcome(UNKNOWN, "solve", "the answer is not a list of values for "
                       f"{x}", "parse_error", {"answer": answer.show()})
    if any(c.items[0].free_symbols for c in claimed):
        return Outcome(UNKNOWN, "solve", "claimed roots contain symbols", "weak_evidence",
                       {"answer": answer.show()})
    num, den = sp.fraction(sp.together(d))
    ev: dict[str, Any] = {"equation": safe_str(d)[:200] + " = 0", "variable": str(x),
                          "domain": dom, "claimed": [c.show() for c in claimed]}
    # 1. every claimed value is a root, in the domain, with nonzero denominators
    for c in claimed:
        v = c.items[0]
        if dom == "real" and v.is_real is not True:
            # counting real roots below is only sound if every claimed value is real
            im = abs(sp.im(sp.N(v, 30))) if v.is_real is None else None
            if v.is_real is False or (im is not None and im > sp.Float("1e-20")):
                return Outcome(DIFFERENT, "substitute", f"{c.show()} is not real",
                               evidence={**ev, "not_real": c.show()})
            return Outcome(UNKNOWN, "substitute", f"cannot prove {c.show()} is real",
                           "weak_evidence", ev)
        if den.has(x):
            dz = expr_equal(den.subs(x, v), sp.Integer(0), s)
            if dz.status == EQUAL:
                return Outcome(DIFFERENT, "substitute", f"{c.show()} makes a denominator 0",
                               evidence={**ev, "bad_root": c.show()})
            if dz.status == UNKNOWN:
                return Outcome(UNKNOWN, dz.method, f"cannot check the denominator at "
                               f"{c.show()}", dz.reason, ev)
        res = expr_equal(num.subs(x, v), sp.Integer(0), s)
        if res.status == DIFFERENT:
            return Outcome(DIFFERENT, "substitute", f"{c.show()} is not a root",
                           evidence={**ev, "not_a_root": c.show(),
                                     "residual": res.evidence.get("answer_numeric",
                                                                  res.evidence.get(
                                                                      "answer_value"))})
        if res.status == UNKNOWN:
            return Outcome(UNKNOWN, res.method, f"cannot confirm {c.show()} is a root: "
                           f"{res.detail}", res.reason, ev)
    # 2. distinct claimed values
    distinct: list[Any] = []
    for c in claimed:
        v = c.items[0]
        dup = False
        for w in distinct:
            o = expr_equal(v, w, s)
            if o.status == UNKNOWN:
                return Outcome(UNKNOWN, o.method, "cannot tell whether two claimed roots are "
                               "the same", o.reason, ev)
            if o.status == EQUAL:
                dup = True
                break
        if not dup:
            distinct.append(v)
    # 3. none missing
    count = _root_count(num, den, x, dom)
    if count is not None:
        ev["root_count"] = count
        if count == len(distinct):
            return Outcome(EQUAL, "substitute+count", f"all {count} roots given and each "
                           "checked by substitution", evidence=ev)
        if count > len(distinct):
            return Outcome(DIFFERENT, "count", f"{count} distinct roots exist, the answer "
                           f"gives {len(distinct)}", evidence={**ev, **_some_roots(d, x, dom)})
        return Outcome(UNKNOWN, "count", "more claimed roots than exist (inconsistent)",
                       "weak_evidence", ev)
    missing = _missing_from_solveset(d, x, dom, distinct, s)
    if missing is not None:
        return Outcome(DIFFERENT, "solveset", f"root {missing} is missing",
                       evidence={**ev, "missing_root": missing})
    return Outcome(UNKNOWN, "substitute", "every claimed value is a root, but completeness "
                   "cannot be established for this equation", "weak_evidence", ev)


def _root_count(num: Any, den: Any, x: Any, dom: str) -> int | None:
    """Distinct roots of num/den in the domain, exactly; None when not a polynomial case."""
    sp = _sp()
    try:
        if not (num.is_polynomial(x) and den.is_polynomial(x)):
            return None
        if (num.free_symbols | den.free_symbols) - {x}:
            return None
        p, q = sp.Poly(num, x), sp.Poly(den, x)
        if p.degree() > _MAX_DEGREE or p.is_zero:
            return None
        if not all(c.is_Rational for c in p.coeffs() + q.coeffs()):
            return None
        sqf = p.sqf_part()
        g = sp.gcd(sqf, q)
        if g.degree() > 0:
            sqf = sp.div(sqf, g)[0]
        if dom == "complex":
            return int(sqf.degree())
        return int(sqf.count_roots())
    except Exception:
        return None


def _some_roots(d: Any, x: Any, dom: str) -> dict[str, Any]:
    sp = _sp()
    try:
        sol = sp.solveset(d, x, sp.S.Reals if dom == "real" else sp.S.Complexes)
        if isinstance(sol, sp.FiniteSet):
            return {"roots": [safe_str(r)[:80] for r in list(sol)[:20]]}
    except Exception:
        pass
    return {}


def _solveset_child(d: Any, x: Any, dom: str) -> list[Any] | None:
    sp = _sp()
    sol = sp.solveset(d, x, sp.S.Reals if dom == "real" else sp.S.Complexes)
    return list(sol) if isinstance(sol, sp.FiniteSet) else None


def _missing_from_solveset(d: Any, x: Any, dom: str, distinct: list[Any],
                           s: Settings) -> str | None:
    """A root sympy finds, that checks by substitution, and that the claim lacks."""
    from synthvet.verifiers.symbolic.bounded import run_bounded

    res = run_bounded(_solveset_child, d, x, dom, seconds=s.budget())
    if res.status != "ok" or not res.value:
        return None
    for r in res.value[:20]:
        if r.free_symbols:
            continue
        if expr_equal(d.subs(x, r), _sp().Integer(0), s).status != EQUAL:
            continue
        if all(expr_equal(r, v, s).status == DIFFERENT for v in distinct):
            return safe_str(r)[:100]
    return None
