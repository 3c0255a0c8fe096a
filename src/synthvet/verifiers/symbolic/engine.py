"""The symbolic engine's entry point: one claimed answer against a reference or a task.

Knows nothing of records: it takes texts (and the parsed ``check`` object) and returns an
:class:`~.compare.Outcome` whose status is ``equal``/``different``/``unknown`` plus the
evidence; :mod:`synthvet.domains.math` maps it to a verdict. Statuses of form checks are
folded in here: a value-equal answer in the wrong form is ``different`` with reason
``wrong_form``; a form that cannot be judged is ``unknown`` (``form_unjudged``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from fractions import Fraction
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
from synthvet.verifiers.symbolic.forms import FormSpec, check_form, rounded_values
from synthvet.verifiers.symbolic.parse import Node, ParseError, parse_answer
from synthvet.verifiers.symbolic.tasks import TaskError, check_task
from synthvet.verifiers.symbolic.translate import Value, safe_str, to_value

__all__ = ["ENGINE_VERSION", "parse_value", "verify_answer"]

#: Bump when any parsing or comparison rule changes a result.
ENGINE_VERSION = "2"

#: Symbols that mark a constant of integration in a reference (``... + C``).
_CONSTANTS = ("C", "K", "c")


def parse_value(text: Any, what: str) -> Value:
    """Parse an answer/reference given as text or a JSON number; ParseError otherwise."""
    if isinstance(text, bool) or text is None:
        raise ParseError(f"{what} must be text or a number, got {type(text).__name__}")
    if isinstance(text, int):
        text = str(text)
    elif isinstance(text, float):
        if not math.isfinite(text):
            raise ParseError(f"{what} is not a finite number")
        text = repr(text)
    if not isinstance(text, str):
        raise ParseError(f"{what} must be text or a number, got {type(text).__name__}")
    return _parse_cached(text)


@functools.lru_cache(maxsize=512)
def _parse_cached(text: str) -> Value:
    """Parsing is pure and Values are immutable, so a batch where many answers share one
    reference (several samples per problem) parses it once. Errors are not cached."""
    return to_value(parse_answer(text))


def _scalar_nodes(v: Value) -> list[Node | None] | None:
    """The written nodes of the scalar parts of an answer (for form checks)."""
    if v.kind == "expr":
        return [v.node]
    if v.kind == "rel" and v.ops == ("=",) and v.items[0].is_Symbol and v.node is not None:
        return [v.node.args[2]]
    if v.kind in ("list", "set") and v.node is not None and v.node.kind in ("list", "set"):
        out: list[Node | None] = []
        for item in v.items:
            sub = _scalar_nodes(item)
            if sub is None:
                return None
            out += sub
        return out
    return None


def _apply_forms(out: Outcome, forms: Sequence[FormSpec], answer: Value) -> Outcome:
    if out.status != EQUAL or not forms:
        return out
    nodes = _scalar_nodes(answer)
    ev = dict(out.evidence)
    ev["forms"] = [str(f) for f in forms]
    if nodes is None:
        return Outcome(UNKNOWN, out.method, "a form was required but this answer's shape "
                       "cannot be judged", "form_unjudged", ev)
    for spec in forms:
        for node in nodes:
            r = check_form(spec, node)
            if r.status == "wrong":
                return Outcome(DIFFERENT, "form", f"right value, wrong form ({spec}): "
                               f"{r.detail}", "wrong_form", {**ev, "form_failed": str(spec)})
            if r.status == "unknown":
                return Outcome(UNKNOWN, "form", f"form {spec} cannot be judged: {r.detail}",
                               "form_unjudged", ev)
    return Outcome(EQUAL, out.method + "+form", out.detail + f"; form {', '.join(map(str, forms))} "
                   "checked", evidence=ev)


def _constant_term(e: Any) -> Any | None:
    """The integration-constant symbol added at the top level of ``e`` (``F + C``)."""
    sp = _sp()
    if isinstance(e, sp.Add):
        for t in e.args:
            if t.is_Symbol and t.name in _CONSTANTS:
                return t
    return None


def _sp() -> Any:
    import sympy

    return sympy


def _up_to_constant(ans: Value, ref: Value, s: Settings) -> Outcome | None:
    """References of the form ``F + C``: the answer may differ from F by any constant."""
    if ref.kind != "expr" or ans.kind != "expr":
        return None
    sp = _sp()
    r = ref.items[0]
    c = _constant_term(r)
    if c is None:
        return None
    a = ans.items[0]
    base = r - c
    ca = _constant_term(a)
    a_base = a - ca if ca is not None else a
    vars_ = (base.free_symbols | a_base.free_symbols) - {c}
    if ca is not None:
        vars_ -= {ca}
    if len(vars_) != 1:
        return Outcome(UNKNOWN, "up_to_constant", "a '+ C' reference with "
                       f"{len(vars_)} variables", "weak_evidence",
                       {"answer": ans.show(), "reference": ref.show()})
    x = next(iter(vars_))
    ev0 = {"answer": ans.items[0], "reference": ref.items[0]}
    gap = a_base - base
    if x not in gap.free_symbols:
        return Outcome(EQUAL, "up_to_constant", f"the difference from the reference is "
                       f"free of {x} (a constant)", evidence={**ev0, "difference": gap})
    out = expr_equal(sp.diff(gap, x), sp.Integer(0), s)
    ev = {**out.evidence, **ev0, "compared": f"d/d{x} of (answer - reference) with 0"}
    return Outcome(out.status, "up_to_constant+" + out.method,
                   f"up to a constant: {out.detail}", out.reason, ev)


def _rounding_target(ans: Value, ref: Value, forms: Sequence[FormSpec]) -> Value | None:
    """For sig_figs/decimal_places: the reference rounded as the task asks."""
    specs = [f for f in forms if f.name in ("sig_figs", "decimal_places")]
    if not specs or ref.kind != "expr" or ans.kind != "expr":
        return None
    if len(specs) > 1:
        raise ParseError("both sig_figs and decimal_places given")
    vals = rounded_values(ref.items[0], specs[0])
    if vals is None:
        raise ParseError("cannot round the reference")
    sp = _sp()
    a = ans.items[0]
    if not a.is_Rational:
        return Value("expr", (sp.Rational(vals[0].numerator, vals[0].denominator),))
    for v in vals:
        if a == sp.Rational(v.numerator, v.denominator):
            return Value("expr", (a,))
    return Value("expr", (sp.Rational(vals[0].numerator, vals[0].denominator),))


_NO_SOLUTION = re.compile(r"(?:no\s+(?:real\s+)?solutions?|none)", re.IGNORECASE)


def _says_no_solution(answer: Any) -> bool:
    """"No solution", "no real solutions", "none" (optionally in $ or \\text{}) for solve."""
    if not isinstance(answer, str):
        return False
    t = answer.strip().strip("$").strip().rstrip(".")
    t = re.sub(r"^\\text\{(.*)\}$", r"\1", t).strip()
    return bool(_NO_SOLUTION.fullmatch(t))


def _jsonable(value: Any, memo: dict[int, str]) -> Any:
    """Evidence values as JSON: sympy objects printed once each, texts truncated."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if len(value) <= 300 else value[:299] + "…"
    if isinstance(value, dict):
        return {str(k): _jsonable(v, memo) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, memo) for v in value[:50]]
    if isinstance(value, Value):
        if value.kind == "expr":
            return _jsonable(value.items[0], memo)
        key = id(value)
        if key not in memo:
            memo[key] = value.show()
        return memo[key]
    key = id(value)
    if key not in memo:
        text = safe_str(value)
        memo[key] = text if len(text) <= 300 else text[:299] + "…"
    return memo[key]


def verify_answer(answer: Any, *, reference: Any = None, task: Any = None,
                  forms: Sequence[FormSpec] = (), tolerance: Fraction | None = None,
                  settings: Settings) -> Outcome:
    """Check one claimed answer. Raises nothing for bad input: it becomes ``unknown``.

    The outcome's evidence is JSON-ready (sympy objects printed)."""
    out = _verify(answer, reference=reference, task=task, forms=forms, tolerance=tolerance,
                  settings=settings)
    ev = dict(out.evidence)
    for side in ("answer", "reference"):  # drop values that repeat the parsed forms
        parsed, value = ev.get(f"{side}_parsed"), ev.get(f"{side}_value")
        if isinstance(parsed, Value) and parsed.kind == "expr" and value is parsed.items[0]:
            del ev[f"{side}_value"]
    return Outcome(out.status, out.method, out.detail, out.reason, _jsonable(ev, {}))


def _verify(answer: Any, *, reference: Any, task: Any, forms: Sequence[FormSpec],
            tolerance: Fraction | None, settings: Settings) -> Outcome:
    s = settings if tolerance is None else Settings(
        rel_tol=tolerance, probe_points=settings.probe_points,
        probe_digits=settings.probe_digits, seed=settings.seed,
        simplify_seconds=settings.simplify_seconds, deadline=settings.deadline)
    kind = task.get("kind") if isinstance(task, dict) else None
    try:
        if kind == "identity":
            ans = Value("expr", (0,))  # the claim is true/false, read by the task
        elif kind == "solve" and _says_no_solution(answer):
            ans = Value("sset", (_sp().S.EmptySet,))
        else:
            ans = parse_value(answer, "answer")
    except ParseError as exc:
        return Outcome(UNKNOWN, "parse", f"answer not parsed: {exc}", "parse_error",
                       {"answer": safe_str(answer)[:200]})
    except RecursionError:
        return Outcome(UNKNOWN, "parse", "answer nested too deeply", "parse_error")
    results: list[Outcome] = []
    if reference is not None and kind == "identity":
        from synthvet.verifiers.symbolic.tasks import truth_value

        mine, theirs = truth_value(answer), truth_value(reference)
        if mine is None or theirs is None:
            return Outcome(UNKNOWN, "identity", "answer and reference of an identity must be "
                           "true or false", "parse_error")
        results.append(Outcome(EQUAL if mine == theirs else DIFFERENT, "reference",
                               f"answer {mine}, reference {theirs}"))
    elif reference is not None:
        try:
            ref = parse_value(reference, "reference")
        except ParseError as exc:
            return Outcome(UNKNOWN, "parse", f"reference not parsed: {exc}", "parse_error",
                           {"reference": safe_str(reference)[:200]})
        try:
            target = _rounding_target(ans, ref, forms)
        except ParseError as exc:
            return Outcome(UNKNOWN, "rounding", str(exc), "form_unjudged")
        out = _up_to_constant(ans, ref, s) if target is None else None
        if out is None:
            out = compare_values(ans, target or ref, s)
            if target is not None:
                out = Outcome(out.status, "rounded_reference+" + out.method,
                              f"against the reference rounded as required: {out.detail}",
                              out.reason, {**out.evidence, "rounded_reference": target})
        out = Outcome(out.status, out.method, out.detail, out.reason,
                      {"answer_parsed": ans, "reference_parsed": ref,
                       **out.evidence})
        results.append(_apply_forms(out, forms, ans))
    if task is not None:
        try:
            out = check_task(task, ans, answer, s)
        except TaskError as exc:
            return Outcome(UNKNOWN, "task", f"bad check object: {exc}", "parse_error")
        except ParseError as exc:
            return Outcome(UNKNOWN, "task", f"task not parsed: {exc}", "parse_error")
        if task.get("kind") != "identity":
            out = Outcome(out.status, out.method, out.detail, out.reason,
                          {"answer_parsed": ans, **out.evidence})
        results.append(_apply_forms(out, forms, ans) if task.get("kind") != "identity"
                       else out)
    if not results:
        return Outcome(UNKNOWN, "none", "neither a reference nor a check", "missing_field")
    if {o.status for o in results} >= {EQUAL, DIFFERENT}:
        return Outcome(UNKNOWN, "+".join(o.method for o in results), "the reference and the "
                       "check disagree about this answer: " + "; ".join(o.detail for o in results),
                       "weak_evidence", {k: v for o in results for k, v in o.evidence.items()})
    for o in results:
        if o.status == DIFFERENT:
            return o
    for o in results:
        if o.status == UNKNOWN:
            return o
    return results[0] if len(results) == 1 else Outcome(
        EQUAL, "+".join(o.method for o in results), "; ".join(o.detail for o in results),
        evidence={k: v for o in results for k, v in o.evidence.items()})
