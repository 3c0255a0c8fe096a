"""The ``smt`` domain: a claim about an SMT-LIB 2 problem, checked rather than trusted.

Fields: ``smtlib`` (the script), ``claim`` (``sat``, ``unsat`` or ``unique``) and
``model`` (``{"x": 3, "b": true, "r": "1/3"}``; required for ``unique``).

* ``sat`` with a model: every declared constant must be assigned a value of its sort and
  every assertion must *evaluate* to true under it (z3 substitution and simplification to
  the literal ``true``; anything left undetermined goes to review). A false assertion
  refutes the record and is shown as evidence. With ``cross_check_models`` cvc5 must
  also accept the model.
* ``sat`` without a model: z3 looks for one, and it is checked the same way.
* ``unsat``: z3 must say unsat and, with ``second_solver``, cvc5 too; a model found
  instead refutes the claim (after it is checked by evaluation).
* ``unique``: the model checks, and the problem plus "differs from the model" is unsat
  for both solvers; a second model (checked by evaluation) refutes it.

Reasons: verified ``model_checks`` (the claimed model evaluates true), ``model_found``
(sat: a model was found and evaluates true), ``unsat_confirmed``, ``unique_confirmed``;
refuted ``model_false`` (evidence: the first false assertion), ``model_invalid`` (a value
of the wrong sort or out of range, a name the script does not declare),
``model_incomplete``, ``counter_model`` (an unsat claim, but a model evaluates true),
``not_unique`` (evidence: the second model), ``solver_unsat`` (a sat claim about an
unsatisfiable problem); needs_review ``parse_error``, ``missing_field``,
``unknown_claim``, ``unsupported`` (a model for an array or uninterpreted sort, or
uniqueness over functions), ``eval_undetermined`` (division by zero, uninterpreted
functions, quantifiers, ``exp``: no literal true or false), ``timeout``,
``solver_unknown``, ``solver_disagreement``, ``second_solver_error``, ``solver_bug``
(a solver's own model does not check), ``solver_crash``, ``checker_unavailable``.

Options (``[domains.smt]``): ``second_solver`` (bool, default true: confirm solver
answers with cvc5), ``require_second_solver`` (bool, default true: without cvc5 those
records go to review instead of trusting z3 alone), ``cross_check_models`` (bool,
default true), ``timeout`` (seconds per record, capped by the run's limits),
``isolation`` (``"process"``, the default: solvers run in a warm child process that is
SIGKILLed at the deadline; ``"inline"``: in the harness worker itself, which saves a
process switch per record but leaves only the harness's kill of the whole worker to stop
a z3 call that overruns its soft timeout).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from synthvet.domains.base import CheckerStatus, options_get, reject_unknown_options
from synthvet.model import Limits, Record, Verdict, needs_review, refuted, verified

__all__ = ["SmtDomain"]

_DOMAIN_VERSION = "1"
_OPTIONS = ("second_solver", "require_second_solver", "cross_check_models", "timeout",
            "isolation")
_ISOLATION = ("process", "inline")
_MAX_MODEL_ENTRIES = 50
_NO_CVC5 = ("the second solver (cvc5) is not installed and require_second_solver is on: "
            "pip install 'synthvet[cvc5]'")


def _version(second: bool) -> str:
    from synthvet.verifiers.smt import solver_versions

    v = solver_versions()
    parts = [_DOMAIN_VERSION, f"z3-{v['z3'] or 'missing'}"]
    if second:
        parts.append(f"cvc5-{v['cvc5'] or 'missing'}")
    return "+".join(parts)


def _small(value: Any, limit: int = 300) -> Any:
    """Evidence must stay small: long texts cut, big models trimmed."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if isinstance(value, dict):
        items = list(value.items())[:_MAX_MODEL_ENTRIES]
        out = {str(k)[:80]: _small(v, 120) for k, v in items}
        if len(value) > _MAX_MODEL_ENTRIES:
            out["…"] = f"{len(value) - _MAX_MODEL_ENTRIES} more"
        return out
    if isinstance(value, list):
        return [_small(v, 120) for v in value[:_MAX_MODEL_ENTRIES]]
    return value


class SmtDomain:
    """Claims about SMT-LIB problems, settled by model evaluation and two solvers."""

    name = "smt"
    version = _version(True)
    fields = ("smtlib", "claim", "model")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        from synthvet.errors import UsageError
        from synthvet.verifiers.smt import cvc5_available

        options = reject_unknown_options("smt", options or {}, _OPTIONS)
        self.second_solver = options_get(options, "second_solver", True, bool)
        self.require_second = options_get(options, "require_second_solver", True, bool)
        self.cross_check = options_get(options, "cross_check_models", True, bool)
        timeout = options.get("timeout")
        if timeout is not None:
            timeout = options_get(options, "timeout", 0.0, float)
            if not timeout > 0:
                raise UsageError(f"option 'timeout' must be a positive number of seconds, "
                                 f"got {timeout!r}")
        self.timeout: float | None = timeout
        self.isolation = options_get(options, "isolation", "process", str)
        if self.isolation not in _ISOLATION:
            raise UsageError(f"option 'isolation' must be one of {', '.join(_ISOLATION)}, "
                             f"got {self.isolation!r}")
        self.cvc5 = cvc5_available()
        self.version = _version(self.second_solver)
        self._engine: Any = None

    def checkers(self) -> list[CheckerStatus]:
        from synthvet.verifiers.smt import solver_versions

        v = solver_versions()
        return [
            CheckerStatus("z3", v["z3"] is not None, f"z3-solver {v['z3'] or 'not installed'}"),
            CheckerStatus("cvc5", v["cvc5"] is not None and self.cvc5,
                          f"cvc5 {v['cvc5']} (second solver)" if v["cvc5"] else
                          "not installed: pip install 'synthvet[cvc5]'"),
        ]

    def _engine_for(self, limits: Limits) -> Any:
        from synthvet.verifiers.smt import InlineEngine, SmtEngine

        if self._engine is None or self._engine.memory_mb != limits.memory_mb:
            if self._engine is not None:
                self._engine.close()
            engine = SmtEngine if self.isolation == "process" else InlineEngine
            self._engine = engine(memory_mb=limits.memory_mb)
        return self._engine

    def check(self, record: Record, limits: Limits) -> Verdict:
        from synthvet.verifiers.smt import CLAIMS, ScriptError, parse_script

        text = record.get("smtlib")
        if text is None or (isinstance(text, str) and not text.strip()):
            return needs_review("missing_field", "field 'smtlib' is missing or empty",
                                {"field": "smtlib"})
        if not isinstance(text, str):
            return needs_review("parse_error", f"field 'smtlib' must be text, got "
                                f"{type(text).__name__}", {"field": "smtlib"})
        raw_claim = record.get("claim")
        if raw_claim is None or raw_claim == "":
            return needs_review("missing_field", "field 'claim' is missing",
                                {"field": "claim"})
        claim = raw_claim.strip().lower() if isinstance(raw_claim, str) else None
        if claim not in CLAIMS:
            return needs_review("unknown_claim", f"claim {str(raw_claim)[:40]!r} is not one "
                                f"of {', '.join(CLAIMS)}", {"claim": _small(repr(raw_claim))})
        model = record.get("model")
        if (isinstance(model, str) and not model.strip()) or model == {}:
            model = None  # an empty column is no model (a "sat" claim is then solved)
        if isinstance(model, str):
            try:
                model = json.loads(model)
            except ValueError:
                return needs_review("parse_error", "field 'model' is text but not a JSON "
                                    "object", {"field": "model"})
        if model is not None and not isinstance(model, dict):
            return needs_review("parse_error", "field 'model' must be an object of "
                                f"name: value, got {type(model).__name__}",
                                {"field": "model"})
        if claim == "unique" and not model:
            return needs_review("missing_field", "a 'unique' claim needs the 'model' it says "
                                "is the only one", {"field": "model"})
        try:
            script = parse_script(text)
        except ScriptError as exc:
            return needs_review("parse_error", f"cannot read the SMT-LIB script: {exc}",
                                {"line": exc.line})
        second = self.second_solver and self.cvc5
        missing_second = self.second_solver and not self.cvc5 and self.require_second
        if missing_second and claim != "sat":
            return needs_review("checker_unavailable", _NO_CVC5, {"claim": claim})
        timeout = limits.inner_seconds()
        if self.timeout is not None:
            timeout = min(timeout, self.timeout)
        result = self._engine_for(limits).check(script, claim, model, timeout=timeout,
                                                second_solver=second,
                                                cross_check=self.cross_check)
        if missing_second and result.get("reason") == "solver_unsat":
            # "sat" refuted by z3 alone: not enough when a second solver is required.
            return needs_review("checker_unavailable", _NO_CVC5, {"claim": claim, "z3": "unsat"})
        return self._verdict(result, script, claim)

    def _verdict(self, result: Mapping[str, Any], script: Any, claim: str) -> Verdict:
        evidence: dict[str, Any] = {"claim": claim}
        for key, value in dict(result.get("evidence") or {}).items():
            evidence[key] = _small(value)
        index = evidence.get("assertion_index")
        if isinstance(index, int) and 0 <= index < len(script.assertion_texts):
            evidence["assertion"] = _small(script.assertion_texts[index])
        reason = str(result.get("reason") or "harness_error")
        detail = str(result.get("detail") or "")
        outcome = result.get("outcome")
        if outcome == "passed":
            return verified(reason, detail, evidence)
        if outcome == "failed":
            return refuted(reason, detail, evidence)
        return needs_review(reason, detail, evidence)
