"""The ``math`` domain: a claimed answer checked soundly against a reference or the task.

Fields read (canonical names):

``answer``
    the claimed final answer (text, LaTeX or sympy syntax, or a JSON number); when absent,
``response``
    the full response text, from which the final answer is extracted (the one
    ``\\boxed{}`` — several different boxes are ambiguous — or "final answer is ...").
``reference``
    a trusted answer to compare with (``F + C`` compares up to a constant); and/or
``check``
    a task checkable without a reference (see :mod:`synthvet.verifiers.symbolic.tasks`):
    ``solve``, ``antiderivative``, ``derivative``, ``evaluate``, ``identity``.
``form``
    required written form(s), see :mod:`synthvet.verifiers.symbolic.forms`:
    ``lowest_terms``, ``integer``, ``factored``, ``prime_factorization``,
    ``simplest_radical``, ``sig_figs:N``, ``decimal_places:N``.
``tolerance``
    a relative tolerance the task allows (e.g. ``1e-6``); without it, and without the
    config's ``tolerance``, exact values are compared exactly.
``sig_figs`` / ``decimal_places``
    integers: the answer must be the reference rounded so, written with exactly that
    many digits (the same as the forms ``sig_figs:N`` / ``decimal_places:N``).

Config (``[domains.math]``): ``tolerance`` (relative, float, default none),
``simplify_seconds`` (budget of one symbolic proof, default 5), ``probe_points``
(default 6), ``probe_digits`` (default 50), ``seed`` (probe points, default 20261124).

Reasons: ``answer_matches`` (verified), ``answer_mismatch`` and ``wrong_form``
(refuted); ``needs_review`` with ``missing_field``, ``parse_error`` (nothing parseable, or
text/units/ambiguous notation), ``ambiguous_answer`` (several different final answers in
the response), ``no_answer`` (none found), ``rounded_answer`` (a decimal that matches only
after rounding, with no tolerance stated), ``form_unjudged``, ``weak_evidence`` (numeric
agreement without a symbolic proof, or the reverse; completeness of a solution set not
established), ``timeout`` (the symbolic proof ran out of its budget), ``checker_error``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from synthvet.domains.base import CheckerStatus, options_get, reject_unknown_options
from synthvet.model import Limits, Record, Verdict, needs_review, refuted, verified

__all__ = ["MathDomain"]

_OPTIONS = ("tolerance", "simplify_seconds", "probe_points", "probe_digits", "seed")


def _sympy_version() -> str:
    try:
        from importlib.metadata import version

        return version("sympy")
    except Exception:
        return "?"


def _same_value_boxes(ex: Any) -> Any:
    """Several boxes written differently (``\\frac12`` and ``\\frac{1}{2}``) that parse to
    the identical value are one answer; anything else stays ambiguous."""
    from synthvet.verifiers.symbolic.engine import parse_value
    from synthvet.verifiers.symbolic.extract import Extraction
    from synthvet.verifiers.symbolic.parse import ParseError

    if not 2 <= len(ex.candidates) < 50 or "boxed" not in ex.detail:
        return ex
    try:
        values = [parse_value(c, "answer") for c in ex.candidates]
    except ParseError:
        return ex
    first = values[0]
    if all((v.kind, v.items, v.ops, v.open, v.close) ==
           (first.kind, first.items, first.ops, first.open, first.close) for v in values):
        return Extraction(ex.candidates[-1], "boxed_same_value")
    return ex


class MathDomain:
    """Answers checked with a strict parser, exact arithmetic, sympy proofs and mpmath probes."""

    name = "math"
    version = f"2+sympy{_sympy_version()}"  # 2: solve with no domain must hold over R and C
    fields = ("answer", "response", "reference", "check", "form", "tolerance", "sig_figs",
              "decimal_places")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        from synthvet.errors import UsageError

        opts = reject_unknown_options("math", options or {}, _OPTIONS)
        tol = opts.get("tolerance")
        self.tolerance: Fraction | None = None
        if tol is not None:
            tol = options_get(opts, "tolerance", 0.0, float)
            if not (0 < tol < 1):
                raise UsageError(f"option 'tolerance' must be a relative tolerance in (0, 1), "
                                 f"got {tol!r}")
            self.tolerance = Fraction(repr(tol))
        self.simplify_seconds = options_get(opts, "simplify_seconds", 5.0, float)
        self.probe_points = options_get(opts, "probe_points", 6, int)
        self.probe_digits = options_get(opts, "probe_digits", 50, int)
        self.seed = options_get(opts, "seed", 20261124, int)
        if self.simplify_seconds <= 0:
            raise UsageError("option 'simplify_seconds' must be > 0")
        if not 3 <= self.probe_points <= 100:
            raise UsageError(f"option 'probe_points' must be 3..100, got {self.probe_points}")
        if not 20 <= self.probe_digits <= 1000:
            raise UsageError(f"option 'probe_digits' must be 20..1000, got {self.probe_digits}")

    def checkers(self) -> list[CheckerStatus]:
        out = []
        for mod in ("sympy", "mpmath"):
            try:
                from importlib.metadata import version

                out.append(CheckerStatus(mod, True, version(mod)))
            except Exception as exc:
                out.append(CheckerStatus(mod, False, str(exc)))
        return out

    def check(self, record: Record, limits: Limits) -> Verdict:
        try:
            return self._check(record, limits)
        except RecursionError:
            return needs_review("parse_error", "input nested too deeply")
        except MemoryError:
            return needs_review("checker_error", "ran out of memory")
        except Exception as exc:  # a bug here must never become a verdict other than review
            return needs_review("checker_error", f"{type(exc).__name__}: {exc}"[:300],
                                {"exception": type(exc).__name__})

    # ------------------------------------------------------------------
    def _check(self, record: Record, limits: Limits) -> Verdict:
        from synthvet.verifiers.symbolic.compare import DIFFERENT, EQUAL, Settings
        from synthvet.verifiers.symbolic.engine import verify_answer
        from synthvet.verifiers.symbolic.extract import extract_answer
        from synthvet.verifiers.symbolic.forms import FormSpec, parse_form

        start = time.monotonic()
        answer = record.get("answer")
        extra: dict[str, Any] = {}
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            response = record.get("response")
            if response is None or (isinstance(response, str) and not response.strip()):
                return needs_review("missing_field", "neither 'answer' nor 'response' given",
                                    {"field": "answer"})
            if not isinstance(response, str):
                return needs_review("parse_error", "'response' must be text",
                                    {"field": "response"})
            ex = extract_answer(response)
            if ex.answer is None and ex.problem == "ambiguous":
                ex = _same_value_boxes(ex)
            if ex.answer is None:
                code = "ambiguous_answer" if ex.problem == "ambiguous" else "no_answer"
                return needs_review(code, ex.detail, {"candidates": list(ex.candidates)})
            answer = ex.answer
            extra = {"extracted": answer[:300], "extraction": ex.method}
        reference, task = record.get("reference"), record.get("check")
        if reference is None and task is None:
            return needs_review("missing_field", "neither 'reference' nor 'check' given",
                                {"field": "reference"})
        if task is not None and not isinstance(task, Mapping):
            return needs_review("parse_error", "'check' must be an object with a 'kind'",
                                {"field": "check"})
        try:
            forms = parse_form(record.get("form"))
            for name in ("sig_figs", "decimal_places"):
                n = record.get(name)
                if n is not None:
                    if isinstance(n, bool) or not isinstance(n, int) or n < (
                            1 if name == "sig_figs" else 0):
                        raise ValueError(f"{name} must be a non-negative integer, got {n!r:.40}")
                    forms.append(FormSpec(name, n))
            tolerance = self._tolerance(record.get("tolerance"))
        except ValueError as exc:
            return needs_review("parse_error", str(exc), {"field": "form/tolerance"})
        budget = limits.inner_seconds()
        settings = Settings(
            probe_points=self.probe_points, probe_digits=self.probe_digits, seed=self.seed,
            simplify_seconds=min(self.simplify_seconds, budget),
            deadline=start + budget,
        )
        out = verify_answer(answer, reference=reference,
                            task=dict(task) if task is not None else None, forms=forms,
                            tolerance=tolerance, settings=settings)
        shown_answer = answer if isinstance(answer, str) else repr(answer)
        evidence = {**extra, "answer_text": shown_answer[:300], "method": out.method,
                    **out.evidence}
        if out.status == EQUAL:
            return verified("answer_matches", out.detail, evidence)
        if out.status == DIFFERENT:
            return refuted(out.reason or "answer_mismatch", out.detail, evidence)
        return needs_review(out.reason or "weak_evidence", out.detail, evidence)

    def _tolerance(self, raw: Any) -> Fraction | None:
        if raw is None:
            return self.tolerance
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not (
                math.isfinite(raw) and 0 < raw < 1):
            raise ValueError(f"tolerance must be a relative tolerance in (0, 1), got {raw!r:.40}")
        return Fraction(repr(float(raw)))
