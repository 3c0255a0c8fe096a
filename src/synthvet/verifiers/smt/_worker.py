"""The solver process: z3 and cvc5 behind a pipe, one JSON request per line.

Runs as ``python -m synthvet.verifiers.smt._worker``. The parent
(:class:`synthvet.verifiers.smt.SmtEngine`) sends a request, waits with a deadline and
SIGKILLs this whole process group when the deadline passes: z3's own timeout is soft and
its Python API cannot be interrupted safely, so a hard stop must come from outside.

Every request gets a fresh z3 context and a fresh cvc5 solver with pinned seeds, so an
answer never depends on what the process solved before (z3's search order depends on
internal term ids, which a shared context would carry over from earlier problems).

The checks here know nothing of records; they answer "does this claim about this script
hold" with an outcome (``passed``/``failed``/``inconclusive``), a reason code, a one-line
detail and small JSON evidence.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import sys
import threading
import time
from fractions import Fraction
from typing import Any

Result = dict[str, Any]
_MAX_TEXT = 300


def _short(text: str, limit: int = _MAX_TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _res(outcome: str, reason: str, detail: str, **evidence: Any) -> Result:
    return {"outcome": outcome, "reason": reason, "detail": _short(detail, 400),
            "evidence": evidence}


def passed(reason: str, detail: str, **ev: Any) -> Result:
    return _res("passed", reason, detail, **ev)


def failed(reason: str, detail: str, **ev: Any) -> Result:
    return _res("failed", reason, detail, **ev)


def inconclusive(reason: str, detail: str, **ev: Any) -> Result:
    return _res("inconclusive", reason, detail, **ev)


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def ms(self, share: float = 1.0) -> int:
        return max(1, int(self.left() * share * 1000))


# ---- values ------------------------------------------------------------------------


class BadValue(ValueError):
    pass


def _parse_number(raw: Any) -> Fraction:
    """A JSON number or a string "p/q", "-p/q", "1.5", "3" as an exact fraction."""
    if isinstance(raw, bool):
        raise BadValue("a Boolean is not a number")
    if isinstance(raw, int):
        return Fraction(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise BadValue(f"{raw!r} is not a finite number")
        return Fraction(repr(raw))  # 0.1 means 1/10, the decimal the JSON text wrote
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) > 2000:
            raise BadValue("number text too long")
        try:
            if text.startswith("("):
                return _smt_number(text)
            return Fraction("".join(text.split()))  # "1 / 3" as "1/3"
        except (ValueError, ZeroDivisionError) as exc:
            raise BadValue(f"{raw!r} is not a number, p/q or SMT-LIB numeral") from exc
    raise BadValue(f"{type(raw).__name__} is not a number")


def _smt_number(text: str) -> Fraction:
    """A numeral as solvers print it: ``(- 5)``, ``(/ 1 3)``, ``(- (/ 1.0 3.0))``."""
    tokens = re.findall(r"\(|\)|[^\s()]+", text)
    pos = 0

    def expr() -> Fraction:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError(text)
        tok = tokens[pos]
        pos += 1
        if tok != "(":
            if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", tok):
                raise ValueError(text)
            return Fraction(tok)
        op = tokens[pos] if pos < len(tokens) else ""
        pos += 1
        args = []
        while pos < len(tokens) and tokens[pos] != ")":
            args.append(expr())
        pos += 1
        if op == "-" and len(args) == 1:
            return -args[0]
        if op == "/" and len(args) == 2:
            return args[0] / args[1]
        raise ValueError(text)

    value = expr()
    if pos != len(tokens):
        raise ValueError(text)
    return value


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip() in ("true", "false"):
        return raw.strip() == "true"
    raise BadValue(f"{raw!r} is not a Boolean")


def _parse_bv(raw: Any, width: int) -> int:
    if isinstance(raw, str) and raw.strip().startswith(("#b", "#x")):
        text = raw.strip()
        digits, base, bits = text[2:], (2 if text[1] == "b" else 16), (
            1 if text[1] == "b" else 4)
        if not digits or len(digits) * bits != width:
            raise BadValue(f"{raw!r} does not have {width} bits")
        try:
            return int(digits, base)
        except ValueError as exc:
            raise BadValue(f"{raw!r} is not a bit-vector literal") from exc
    m = re.fullmatch(r"\(\s*_\s+bv([0-9]+)\s+([0-9]+)\s*\)", raw.strip()) if isinstance(
        raw, str) else None
    if m:
        if int(m.group(2)) != width:
            raise BadValue(f"{raw!r} does not have {width} bits")
        raw = int(m.group(1))
    value = _parse_number(raw)
    if value.denominator != 1:
        raise BadValue(f"{raw!r} is not a whole number")
    v = int(value)
    if not 0 <= v < (1 << width):
        raise BadValue(f"{v} is out of range for (_ BitVec {width}): 0..2^{width}-1")
    return v


def _sort_kind(z3: Any, sort: Any) -> str | None:
    k = sort.kind()
    if k == z3.Z3_INT_SORT:
        return "Int"
    if k == z3.Z3_REAL_SORT:
        return "Real"
    if k == z3.Z3_BOOL_SORT:
        return "Bool"
    if k == z3.Z3_BV_SORT:
        return "BitVec"
    return None


def _z3_value(z3: Any, const: Any, raw: Any, ctx: Any) -> tuple[Any, Any]:
    """(z3 value, JSON-normal value) for ``raw`` at the sort of ``const``."""
    sort = const.sort()
    kind = _sort_kind(z3, sort)
    if kind == "Bool":
        b = _parse_bool(raw)
        return z3.BoolVal(b, ctx), b
    if kind == "Int":
        q = _parse_number(raw)
        if q.denominator != 1:
            raise BadValue(f"{raw!r} is not an integer")
        return z3.IntVal(str(int(q)), ctx), int(q)
    if kind == "Real":
        q = _parse_number(raw)
        return z3.RealVal(f"{q.numerator}/{q.denominator}", ctx), _json_rational(q)
    if kind == "BitVec":
        v = _parse_bv(raw, sort.size())
        return z3.BitVecVal(v, sort.size(), ctx), v
    raise BadValue(f"sort {sort} cannot be given as a model value")


def _json_rational(q: Fraction) -> Any:
    return int(q) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _smt_literal(kind: str, value: Any, width: int = 0) -> str:
    """A JSON-normal value as SMT-LIB text (for the second solver)."""
    if kind == "Bool":
        return "true" if value else "false"
    if kind == "BitVec":
        return f"(_ bv{value} {width})"
    if kind == "Int":
        return str(value) if value >= 0 else f"(- {-value})"
    q = Fraction(value)
    body = f"(/ {abs(q.numerator)}.0 {q.denominator}.0)"
    return body if q >= 0 else f"(- {body})"


def _from_z3_value(z3: Any, v: Any) -> tuple[bool, Any]:
    """(exact, JSON value) of a z3 model value; exact is False for irrationals etc."""
    if z3.is_true(v):
        return True, True
    if z3.is_false(v):
        return True, False
    if z3.is_bv_value(v):
        return True, v.as_long()
    if z3.is_int_value(v):
        return True, v.as_long()
    if z3.is_rational_value(v):
        return True, _json_rational(Fraction(v.numerator_as_long(), v.denominator_as_long()))
    return False, _short(str(v), 120)


# ---- the problem -------------------------------------------------------------------


class Problem:
    """The script parsed by z3 in a fresh context: assertions and declared constants."""

    def __init__(self, z3: Any, req: dict[str, Any], ctx: Any = None) -> None:
        self.z3 = z3
        self.ctx = ctx if ctx is not None else z3.Context()
        self.body: str = req["script"]
        self.logic: str | None = req.get("logic")
        self.const_names: list[str] = list(req["constants"])
        self.defined_names: list[str] = list(req["defined"])
        self.has_functions: bool = bool(req["functions"])
        self.quoted: dict[str, str] = dict(req["quoted"])
        helpers = "".join(f"\n(assert (= {self.quoted[n]} {self.quoted[n]}))"
                          for n in self.const_names + self.defined_names)
        vec = z3.parse_smt2_string(self.body + helpers, ctx=self.ctx)
        items = [vec[i] for i in range(len(vec))]
        n_help = len(self.const_names) + len(self.defined_names)
        n_assert = int(req["assertions"])
        if len(items) != n_assert + n_help:
            raise ValueError(f"z3 read {len(items)} assertions, expected {n_assert + n_help}")
        self.assertions = items[:n_assert]
        helper_terms = [t.arg(0) for t in items[n_assert:]]
        self.consts = dict(zip(self.const_names, helper_terms[: len(self.const_names)]))
        self.defined = dict(zip(self.defined_names, helper_terms[len(self.const_names):]))
        self.kinds = {n: _sort_kind(z3, c.sort()) for n, c in self.consts.items()}
        #: every declared symbol is a constant of a sort a model can hold
        self.scalar = not self.has_functions and all(self.kinds.values())

    def width(self, name: str) -> int:
        c = self.consts[name]
        return int(c.sort().size()) if self.kinds[name] == "BitVec" else 0

    # -- evaluation -----------------------------------------------------------------

    def read_model(self, model: Any) -> tuple[dict[str, Any], dict[str, Any], Result | None]:
        """Typed z3 values for a claimed model, or a failed/inconclusive result."""
        z3 = self.z3
        if not isinstance(model, dict):
            return {}, {}, failed("model_invalid",
                                  f"the model must be an object of name: value, got "
                                  f"{type(model).__name__}")
        values: dict[str, Any] = {}
        normal: dict[str, Any] = {}
        for key, raw in model.items():
            name = str(key)
            if len(name) >= 2 and name[0] == "|" and name[-1] == "|":
                name = name[1:-1]
            if name in self.consts:
                const = self.consts[name]
            elif name in self.defined:
                const = self.defined[name]
            else:
                known = ", ".join(sorted(self.consts)[:20])
                return {}, {}, failed("model_invalid",
                                      f"the model names {name!r}, which the script does not "
                                      f"declare (declared: {known or 'none'})",
                                      name=_short(name, 80))
            if name in self.consts and self.kinds[name] is None:
                return {}, {}, inconclusive(
                    "unsupported", f"{name!r} has sort {const.sort()}, which a model value "
                    "cannot express; check by hand", name=_short(name, 80))
            try:
                values[name], normal[name] = _z3_value(z3, const, raw, self.ctx)
            except BadValue as exc:
                return {}, {}, failed("model_invalid",
                                      f"bad value for {name!r} of sort {const.sort()}: {exc}",
                                      name=_short(name, 80), value=_short(repr(raw), 80))
        return values, normal, None

    def evaluate(self, values: dict[str, Any]) -> Result:
        """Evaluate every assertion under ``values`` by substitution and simplification.

        ``passed`` only when every assertion simplifies to the literal ``true``; the first
        assertion that simplifies to ``false`` fails it; anything else (an uninterpreted
        function, division by zero, a quantifier left over) is inconclusive.
        """
        z3 = self.z3
        pairs = [(self.consts[n], v) for n, v in values.items() if n in self.consts]
        extra = [(n, self.defined[n] == v) for n, v in values.items() if n in self.defined]
        undetermined: list[int] = []
        checks = [(i, a) for i, a in enumerate(self.assertions)] + [
            (-1 - k, t) for k, (_, t) in enumerate(extra)]
        if len(checks) > 8:
            # One call for the conjunction first (a literal true is all it takes); one
            # assertion at a time only to find which is false or left open.
            whole = z3.And([a for _, a in checks])
            if z3.is_true(z3.simplify(z3.substitute(whole, *pairs) if pairs else whole)):
                checks = []
        for i, a in checks:
            r = z3.simplify(z3.substitute(a, *pairs) if pairs else a)
            if z3.is_true(r):
                continue
            if z3.is_false(r):
                if i < 0:
                    name = extra[-1 - i][0]
                    return failed("model_false",
                                  f"{name!r} is defined by the script and the model gives it "
                                  "a different value", defined=_short(name, 80))
                return failed("model_false", f"assertion {i + 1} is false under the model",
                              assertion_index=i)
            undetermined.append(i)
        # Constants a model value can hold must all be assigned; others (arrays,
        # uninterpreted sorts) cannot be, and only matter if an assertion is left open.
        missing = [n for n in self.const_names if n not in values and self.kinds[n]]
        if missing:
            return failed("model_incomplete",
                          f"the model does not assign {len(missing)} declared constant(s): "
                          f"{', '.join(missing[:10])}", missing=missing[:20])
        if undetermined:
            first = undetermined[0]
            return inconclusive(
                "eval_undetermined",
                f"assertion {first + 1} does not evaluate to true or false under the model "
                "(uninterpreted function or sort, array, division by zero, quantifier or "
                "non-linear real function)", assertion_index=first,
                undetermined=len(undetermined))
        return passed("model_checks", f"all {len(self.assertions)} assertions evaluate to "
                      "true under the model", assertions=len(self.assertions))

    def evaluate_found(self, model: Any) -> tuple[Result, dict[str, Any], bool]:
        """Check a model the solver found: the result, the model as JSON, and whether
        that JSON is exact (plain values only, so a second solver can be given it)."""
        z3 = self.z3
        normal: dict[str, Any] = {}
        exact = True
        for name, c in self.consts.items():
            v = model.eval(c, model_completion=True)
            ok, j = _from_z3_value(z3, v) if self.kinds[name] else (False, _short(str(v), 120))
            exact = exact and ok
            normal[name] = j
        if self.scalar and exact:
            values = {n: _z3_value(z3, self.consts[n], j, self.ctx)[0]
                      for n, j in normal.items()}
            res = self.evaluate(values)
            if res["outcome"] != "inconclusive":
                return res, normal, True
        # Not expressible as plain values (functions, arrays, irrationals, division by
        # zero): evaluate under z3's complete model; only a literal true counts.
        for i, a in enumerate(self.assertions):
            r = model.eval(a, model_completion=False)
            if z3.is_true(r):
                continue
            if z3.is_false(r):
                return failed("model_false", f"assertion {i + 1} is false under the "
                              "solver's model", assertion_index=i), normal, False
            return inconclusive("eval_undetermined", f"assertion {i + 1} does not evaluate "
                                "under the solver's model", assertion_index=i), normal, False
        return passed("model_checks", f"all {len(self.assertions)} assertions evaluate to "
                      "true under the solver's model (z3 model evaluation)",
                      assertions=len(self.assertions), evaluator="z3-model-eval"), normal, False

    # -- solving --------------------------------------------------------------------

    def z3_check(self, ms: int, extra: list[Any] | None = None) -> tuple[str, Any, str]:
        z3 = self.z3
        s = z3.Solver(ctx=self.ctx)
        s.set("timeout", ms)
        s.set("random_seed", 0)
        s.add(*self.assertions)
        if extra:
            s.add(*extra)
        r = s.check()
        if r == z3.sat:
            return "sat", s.model(), ""
        if r == z3.unsat:
            return "unsat", None, ""
        return "unknown", None, s.reason_unknown()

    def literal(self, name: str, value: Any) -> str:
        return _smt_literal(self.kinds[name] or "", value, self.width(name))


def cvc5_check(body: str, logic: str | None, ms: int) -> tuple[str, str]:
    """("sat"|"unsat"|"unknown"|"error", why) from a fresh cvc5 solver."""
    import cvc5

    tm = cvc5.TermManager()
    slv = cvc5.Solver(tm)
    slv.setOption("seed", "0")
    slv.setOption("sat-random-seed", "0")
    slv.setOption("tlimit-per", str(ms))
    sm = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(slv, sm)
    text = f"(set-logic {logic or 'ALL'})\n{body}\n"
    try:
        parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, text, "script")
        while True:
            cmd = parser.nextCommand()
            if cmd.isNull():
                break
            out = cmd.invoke(slv, sm)
            if out and "(error" in out:
                return "error", _short(out, 200)
        r = slv.checkSat()
    except Exception as exc:  # noqa: BLE001 - any failure of the second solver is "no answer"
        return "error", _short(f"{type(exc).__name__}: {exc}", 200)
    if r.isSat():
        return "sat", ""
    if r.isUnsat():
        return "unsat", ""
    return "unknown", _short(str(r.getUnknownExplanation()), 120)


# ---- claims ------------------------------------------------------------------------


def _second(req: dict[str, Any], p: Problem, extra_text: str, dl: _Deadline,
            expect: str) -> Result | None:
    """Ask cvc5 when configured; None when it agrees with ``expect`` or is not asked."""
    if not req.get("second_solver"):
        return None
    if dl.left() <= 0.05:
        return inconclusive("timeout", "no time left for the second solver (cvc5)")
    answer, why = cvc5_check(p.body + extra_text, p.logic, dl.ms())
    if answer == expect:
        return None
    if answer == "unknown":
        reason = "timeout" if "TIME" in why.upper() or "RESOURCE" in why.upper() else \
            "solver_unknown"
        return inconclusive(reason, f"z3 says {expect} but cvc5 answered unknown ({why})",
                            z3=expect, cvc5=answer)
    if answer == "error":
        return inconclusive("second_solver_error",
                            f"z3 says {expect} but cvc5 could not read or solve the "
                            f"problem: {why}", z3=expect, cvc5=why)
    return inconclusive("solver_disagreement", f"z3 says {expect}, cvc5 says {answer}",
                        z3=expect, cvc5=answer)


def _solvers(req: dict[str, Any]) -> list[str]:
    return ["z3", "cvc5"] if req.get("second_solver") else ["z3"]


def _by(req: dict[str, Any]) -> str:
    return "z3 and cvc5 agree" if req.get("second_solver") else "z3 alone"


def _z3_unknown(why: str) -> Result:
    reason = "timeout" if any(w in why for w in ("timeout", "canceled", "resource")) \
        else "solver_unknown"
    return inconclusive(reason, f"z3 gave up: {why or 'unknown'}", z3="unknown",
                        why=_short(why, 120))


def _cross_check(req: dict[str, Any], p: Problem, normal: dict[str, Any], dl: _Deadline,
                 res: Result) -> Result:
    """cvc5 on the problem with every constant fixed to a model z3 evaluated to true.

    Defence in depth against an evaluation bug that z3's solver shares: a cvc5 "unsat"
    (it finds these values wrong) is a disagreement and goes to review. When cvc5 cannot
    tell (unknown, an error, no time left), the evaluation stands on its own and the
    evidence says so.
    """
    if not req.get("cross_check") or not req.get("second_solver") or not p.scalar:
        return res
    if dl.left() <= 0.05:
        res["evidence"]["cross_check"] = "cvc5: no time left"
        return res
    fixes = "".join(f"\n(assert (= {p.quoted[n]} {p.literal(n, v)}))"
                    for n, v in normal.items() if n in p.consts)
    answer, why = cvc5_check(p.body + fixes, p.logic, dl.ms())
    if answer == "unsat":
        return inconclusive("solver_disagreement", "z3 evaluates every assertion to true "
                            "under the model, but cvc5 finds the problem unsat with these "
                            "values", model=normal, z3="true", cvc5="unsat")
    res["evidence"]["cross_check"] = "cvc5 confirms" if answer == "sat" else \
        _short(f"cvc5 could not tell ({answer} {why})", 160)
    return res


def check_claim(req: dict[str, Any], ctx: Any = None) -> Result:
    """Decide one request; ``ctx`` is a fresh, unused z3 context (made here if None)."""
    import z3

    dl = _Deadline(float(req["budget"]))
    claim = req["claim"]
    try:
        p = Problem(z3, req, ctx)
    except (z3.Z3Exception, ValueError) as exc:
        raw = getattr(exc, "value", None)
        msg = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(exc)
        return inconclusive("parse_error", f"z3 cannot read the script: {_short(msg, 200)}")
    model = req.get("model")
    # z3's share of the budget: the rest is for cvc5, which confirms unsat answers (and
    # found models); a sat claim without a model mostly needs z3.
    share = 0.9 if not req.get("second_solver") else 0.8 if (
        claim == "sat" and model is None) else 0.5

    if model is not None and claim == "unsat":
        # A model given with an unsat claim: if it checks, the claim is shown wrong;
        # otherwise it says nothing and the claim is decided by the solvers.
        values, normal, bad = p.read_model(model)
        if bad is None and p.evaluate(values)["outcome"] == "passed":
            return failed("counter_model", "the model given with the record satisfies "
                          "every assertion, so the problem is not unsat", model=normal)
        model = None

    if model is not None:
        values, normal, bad = p.read_model(model)
        if bad is not None:
            return bad
        res = p.evaluate(values)
        res["evidence"]["model"] = normal
        if res["outcome"] != "passed":
            return res
        if claim == "sat":
            return _cross_check(req, p, normal, dl, res)
        if claim == "unique":
            if not p.scalar:
                return inconclusive("unsupported", "uniqueness is only checked over "
                                    "constants of sort Int, Real, Bool or bit-vector, "
                                    "without uninterpreted functions")
            res = _cross_check(req, p, normal, dl, res)
            if res["outcome"] != "passed":
                return res
            differs = z3.Or([p.consts[n] != values[n] for n in p.const_names] or
                            [z3.BoolVal(False, p.ctx)])
            ans, other, why = p.z3_check(dl.ms(share), [differs])
            if ans == "unknown":
                return _z3_unknown(why)
            if ans == "sat":
                res2, alt, _ = p.evaluate_found(other)
                if res2["outcome"] == "passed" and any(
                        alt.get(n) != normal.get(n) for n in p.const_names):
                    return failed("not_unique", "another model satisfies every assertion",
                                  model=normal, other_model=alt)
                return inconclusive("eval_undetermined", "z3 reports a second model but it "
                                    "does not check by evaluation", other_model=alt)
            text = "\n(assert (or " + " ".join(
                f"(not (= {p.quoted[n]} {p.literal(n, normal[n])}))"
                for n in p.const_names) + " false))"
            unique = passed("unique_confirmed", "the model checks and no other model "
                            f"exists ({_by(req)})", model=normal, solvers=_solvers(req))
            if "cross_check" in res["evidence"]:
                unique["evidence"]["cross_check"] = res["evidence"]["cross_check"]
            return _second(req, p, text, dl, "unsat") or unique

    if claim in ("sat", "unique"):
        # sat without a model (unique without one is rejected before we get here)
        ans, found, why = p.z3_check(dl.ms(share))
        if ans == "unknown":
            return _z3_unknown(why)
        if ans == "unsat":
            return _second(req, p, "", dl, "unsat") or failed(
                "solver_unsat", f"the problem is unsatisfiable ({_by(req)})",
                solvers=_solvers(req))
        res, normal, exact = p.evaluate_found(found)
        res["evidence"]["model"] = normal
        if res["outcome"] == "passed":
            res["reason"] = "model_found"
            res["detail"] = "z3 found a model; " + res["detail"]
            return _cross_check(req, p, normal, dl, res) if exact else res
        if res["outcome"] == "failed":  # z3's own model is wrong: a solver bug
            return inconclusive("solver_bug", "z3 reported sat but its model does not "
                                "check: " + res["detail"], **res["evidence"])
        return res

    if claim == "unsat":
        ans, found, why = p.z3_check(dl.ms(share))
        if ans == "unknown":
            return _z3_unknown(why)
        if ans == "sat":
            res, normal, _ = p.evaluate_found(found)
            if res["outcome"] == "passed":
                return failed("counter_model", "the problem is satisfiable: a model checks "
                              "by evaluation", model=normal)
            return inconclusive("eval_undetermined", "z3 says sat but its model does not "
                                "check by evaluation: " + res["detail"], model=normal)
        return _second(req, p, "", dl, "unsat") or passed(
            "unsat_confirmed", f"unsatisfiable ({_by(req)})", solvers=_solvers(req))
    return inconclusive("unsupported", f"unknown claim {claim!r}")


def pin_seeds() -> None:
    """z3's global seeds (each solver also gets ``random_seed`` 0; cvc5's are per solver)."""
    import z3

    z3.set_param("smt.random_seed", 0)
    z3.set_param("sat.random_seed", 0)


def _serve() -> None:
    # Libraries may write to fd 1; keep the protocol on a private copy of it.
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    import z3

    pin_seeds()
    # Creating a z3 context costs about as much as solving a small problem; a helper
    # thread makes the next ones while this one works (ctypes drops the GIL meanwhile).
    # Measured alternative (cvc5 corpus, one record after another): making it in this
    # thread after each reply, once the used one is freed, takes about 12% less CPU but
    # 20% more wall time when a core is free, and the same under `synthvet run`.
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)

    def make() -> None:
        while True:
            ready.put(z3.Context())

    threading.Thread(target=make, name="z3-contexts", daemon=True).start()
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            if req.get("op") == "ping":
                res: Result = {"outcome": "pong"}
            else:
                res = check_claim(req, ready.get())
        except Exception as exc:  # noqa: BLE001 - reported to the parent: a review
            res = inconclusive("solver_crash", f"{type(exc).__name__}: {exc}")
        proto.write(json.dumps(res, default=str) + "\n")


if __name__ == "__main__":
    _serve()
