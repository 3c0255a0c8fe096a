"""The ``code`` domain: run a Python solution against its tests in a real sandbox.

Fields (DESIGN.md): ``language`` (``python``; absent means python), ``solution`` (program
text), then any of

* ``tests``: Python code. With ``entry_point`` and a ``check(candidate)`` function it is
  the HumanEval form; with top-level ``test_*`` functions, ``Test*`` classes or
  ``unittest.TestCase`` classes the pytest/unittest form (no fixtures); otherwise a script
  of ``assert`` statements (run as ``__main__``) that uses the solution's names.
* ``io_tests``: ``[{"input": "...", "output": "...", "tolerance": 1e-6?}]``: the program
  reads stdin and its stdout must equal ``output`` (line endings and trailing white
  space ignored), or, with a tolerance, match token by token with numbers within it.
* ``reference_solution`` (with ``entry_point``): differential testing on inputs that
  hypothesis generates from the reference's type annotations.

How a verdict is reached, and why the solution cannot forge it: the solution runs in its
own process inside a bubblewrap sandbox (:mod:`synthvet.verifiers.sandbox`); the tests run
in another process that calls it through a proxy passing plain data only; the report
travels on a pipe the solution does not hold, tagged with a per-job nonce; values are
rebuilt from tagged JSON on the test side, so an object with a lying ``__eq__`` cannot
cross (instances of the solution's own classes stay in its process behind handles that
refuse comparison and truth value). Early exits, killed runners, broken protocol,
left-over processes: all ``needs_review`` (``tamper_suspected``), never verified. Tests
that are only literal asserts (``assert candidate([1, 2]) == 3``) are not run as code at
all: they are read as data (:mod:`synthvet.verifiers.sandbox.probes`) and compared on the
trusted side, with no test runner process (:mod:`synthvet.verifiers.sandbox.direct`).

Weak tests: the tests are also run against automatic mutants of the solution; if they
kill fewer than ``min_mutation_score`` of them the verdict is ``needs_review`` /
``weak_evidence``. Default: 4 mutants, at least 1 of them killed (score 0.25); the runner
stops at the first kill that meets the bar, so a strong test suite costs one extra run.
Under this default 161 of HumanEval's 164 canonical solutions are verified and 3 go to
review because HumanEval's own tests kill none of their mutants (HumanEval/35, 116, 124;
see tests/code/test_humaneval.py). Set ``mutants = 0`` to turn it off.

Options (``[domains.code]``): ``timeout`` (seconds per candidate run, 10), ``memory_mb``
(512), ``processes`` (16), ``open_files`` (64), ``file_size_mb`` (16), ``tmp_mb`` (64),
``max_output_kb`` (256), ``mutants`` (4), ``min_mutation_score`` (0.25),
``mutant_min_seconds`` (0.1), ``mutant_time_factor`` (10.0), ``differential_examples``
(60), ``min_differential_inputs`` (10), ``io_float_tolerance`` (exact unless set),
``recycle_every`` (500), ``max_code_chars`` (200000), ``literal_tests`` (true: literal
asserts checked on the trusted side; false runs every test as code in the sandbox).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from typing import Any

from synthvet.domains.base import CheckerStatus, options_get, reject_unknown_options
from synthvet.model import Limits, Record, Verdict, needs_review, refuted, verified

__all__ = ["CodeDomain"]

_DEFAULTS: dict[str, tuple[Any, type]] = {
    "timeout": (10.0, float),
    "memory_mb": (512, int),
    "processes": (16, int),
    "open_files": (64, int),
    "file_size_mb": (16, int),
    "tmp_mb": (64, int),
    "max_output_kb": (256, int),
    "mutants": (4, int),
    "min_mutation_score": (0.25, float),
    "mutant_min_seconds": (0.1, float),
    "mutant_time_factor": (10.0, float),
    "differential_examples": (60, int),
    "min_differential_inputs": (10, int),
    "io_float_tolerance": (-1.0, float),
    "recycle_every": (500, int),
    "max_code_chars": (200_000, int),
    "literal_tests": (True, bool),
}


def _tail(text: Any, n: int = 600) -> str:
    s = str(text or "")
    return s if len(s) <= n else "…" + s[-n:]


class _Invalid(Exception):
    """The record cannot be checked; carries the verdict to return."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.detail)
        self.verdict = verdict


class CodeDomain:
    """Python solutions checked by tests in a bubblewrap sandbox (see module docs)."""

    name = "code"
    version = "1"
    fields = ("language", "solution", "tests", "entry_point", "io_tests",
              "reference_solution")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        from synthvet.errors import UsageError

        opts = reject_unknown_options("code", options or {}, sorted(_DEFAULTS))
        self.options: dict[str, Any] = {
            key: options_get(opts, key, default, kind) for key, (default, kind) in
            _DEFAULTS.items()}
        o = self.options
        for key in ("timeout", "memory_mb", "processes", "open_files", "file_size_mb",
                    "tmp_mb", "max_output_kb", "recycle_every", "max_code_chars"):
            if o[key] <= 0:
                raise UsageError(f"[domains.code] option {key!r} must be positive, "
                                 f"got {o[key]!r}")
        if o["mutants"] < 0 or o["differential_examples"] < 0:
            raise UsageError("[domains.code] options 'mutants' and 'differential_examples' "
                             "must be >= 0")
        if not 0.0 <= o["min_mutation_score"] <= 1.0:
            raise UsageError(f"[domains.code] option 'min_mutation_score' must be within "
                             f"[0, 1], got {o['min_mutation_score']!r}")
        if o["processes"] < 8:
            raise UsageError("[domains.code] option 'processes' must be at least 8 (the "
                             "test runner and candidate hosts need some)")
        self._sandbox: Any = None

    # ------------------------------------------------------------------ sandbox

    def _box(self) -> Any:
        from synthvet.verifiers.sandbox import Sandbox, SandboxConfig

        if self._sandbox is None:
            o = self.options
            self._sandbox = Sandbox(SandboxConfig(
                memory_mb=o["memory_mb"], processes=o["processes"],
                open_files=o["open_files"], file_size_mb=o["file_size_mb"],
                tmp_mb=o["tmp_mb"], max_output=o["max_output_kb"] * 1024,
                recycle_every=o["recycle_every"]))
        return self._sandbox

    def close(self) -> None:
        """Stop the warm sandbox (it is also stopped at exit and restarted on demand)."""
        if self._sandbox is not None:
            self._sandbox.close()

    def checkers(self) -> list[CheckerStatus]:
        """The sandbox, and one row per protection layer that is off here."""
        from synthvet.verifiers.sandbox import PROTECTIONS, probe

        info = probe()
        if not info["available"]:
            return [CheckerStatus("sandbox", False, str(info["detail"]))]
        on = [p for p in PROTECTIONS if info["protections"].get(p)]
        off = [p for p in PROTECTIONS if not info["protections"].get(p)]
        out = [CheckerStatus("sandbox", True,
                             f"bubblewrap, warm start {info['start_seconds'] * 1000:.0f} ms; "
                             f"on: {', '.join(on)}")]
        notes = {"cgroups": "not used: per-process RLIMIT_AS instead",
                 "distinct_host_uid": "needs root (a private mount namespace + setresuid); "
                                      "else the caller's uid"}
        out += [CheckerStatus(f"sandbox:{p}", False, notes.get(p, "off")) for p in off]
        return out

    # ------------------------------------------------------------------ check

    def check(self, record: Record, limits: Limits) -> Verdict:
        try:
            return self._check(record, limits)
        except _Invalid as exc:
            return exc.verdict

    def _text_field(self, record: Record, name: str, required: bool) -> str | None:
        raw = record.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                raise _Invalid(needs_review("missing_field", f"field {name!r} is missing",
                                            {"field": name}))
            return None
        if not isinstance(raw, str):
            raise _Invalid(needs_review("parse_error", f"field {name!r} must be text, got "
                                        f"{type(raw).__name__}", {"field": name}))
        if len(raw) > self.options["max_code_chars"]:
            raise _Invalid(needs_review("parse_error", f"field {name!r} is longer than "
                                        f"max_code_chars ({self.options['max_code_chars']})",
                                        {"field": name, "chars": len(raw)}))
        if "\x00" in raw:
            raise _Invalid(needs_review("parse_error", f"field {name!r} contains a NUL byte",
                                        {"field": name}))
        return raw

    def _parse(self, text: str, name: str) -> ast.Module:
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise _Invalid(needs_review("parse_error", f"{name} is not valid Python: "
                                        f"{type(exc).__name__}: {exc}",
                                        {"field": name, "error": str(exc)[:300]})) from None

    def _check(self, record: Record, limits: Limits) -> Verdict:
        lang = record.get("language")
        if lang is not None and (not isinstance(lang, str)
                                 or lang.strip().lower() not in ("python", "python3", "py")):
            return needs_review("unsupported", f"language {str(lang)[:40]!r} is not supported "
                                "(python only)", {"language": str(lang)[:40]})
        solution = self._text_field(record, "solution", True)
        assert solution is not None
        tests = self._text_field(record, "tests", False)
        reference = self._text_field(record, "reference_solution", False)
        entry = record.get("entry_point")
        if entry is not None and (not isinstance(entry, str) or not entry.isidentifier()):
            return needs_review("parse_error", "entry_point must be a Python identifier",
                                {"entry_point": repr(entry)[:80]})
        io_tests = self._io_tests(record.get("io_tests"))
        if tests is None and io_tests is None and reference is None:
            return needs_review("missing_field", "no tests, io_tests or reference_solution "
                                "to check the solution against", {})
        sol_tree = self._parse(solution, "solution")
        plan: list[tuple[str, Any]] = []
        if tests is not None:
            tree = self._parse(tests, "tests")
            form = self._form(tree, entry)
            probes = None
            if self.options["literal_tests"]:
                from synthvet.verifiers.sandbox.probes import extract

                probes = extract(tests, form, entry, {
                    n.name for n in sol_tree.body if isinstance(n, ast.FunctionDef)}, tree)
            plan.append(("tests", (tests, form,
                                   _names_tests_take_from_solution(sol_tree, tree, entry, tests),
                                   probes)))
        if io_tests is not None:
            plan.append(("io", io_tests))
        if reference is not None:
            self._parse(reference, "reference_solution")
            if entry is None:
                if not plan:
                    return needs_review("missing_field", "differential testing needs "
                                        "entry_point", {})
            else:
                plan.append(("diff", reference))

        box = self._box()
        budget = limits.inner_seconds()
        import time as _time

        t_end = _time.monotonic() + budget
        evidence: dict[str, Any] = {}
        passed: list[str] = []
        for kind, arg in plan:
            left = t_end - _time.monotonic()
            if left <= 0.05:
                return needs_review("timeout", "time budget used up before all test kinds "
                                    "ran", {**evidence, "limit": "time budget"})
            if kind == "tests":
                verdict = self._run_tests(box, solution, arg[0], arg[1], entry, left, evidence,
                                          arg[3])
                if verdict is None and arg[2]:
                    # The tests call helpers or read constants that the solution itself
                    # defines (HumanEval/32's `poly`): the verdict trusts those.
                    evidence["tests_use_solution_names"] = arg[2]
            elif kind == "io":
                verdict = self._run_io(box, solution, arg, left, evidence)
            else:
                verdict = self._run_diff(box, solution, arg, str(entry), left, evidence,
                                         alone=not passed)
            if verdict is not None:
                return verdict
            passed.append(kind)
        off = box.protections_off()
        evidence["protections_off"] = off
        what = {"tests": "tests", "io": "io tests", "diff": "differential testing"}
        return verified("tests_passed", "passed " + ", ".join(what[k] for k in passed) +
                        ((" (sandbox protections off: " + ", ".join(off) + ")")
                         if [p for p in off if p != "cgroups"] else ""), evidence)

    # ------------------------------------------------------------------ inputs

    def _io_tests(self, raw: Any) -> list[dict[str, Any]] | None:
        if raw is None or raw == []:
            return None
        if isinstance(raw, str):
            import json

            try:
                raw = json.loads(raw)
            except ValueError:
                raise _Invalid(needs_review("parse_error", "io_tests is not a JSON list",
                                            {"field": "io_tests"})) from None
        if not isinstance(raw, list) or not raw:
            raise _Invalid(needs_review("parse_error", "io_tests must be a list of "
                                        "{input, output} objects", {"field": "io_tests"}))
        out = []
        default_tol = self.options["io_float_tolerance"]
        for i, case in enumerate(raw):
            if not isinstance(case, Mapping) or not isinstance(case.get("input"), str) or \
                    not isinstance(case.get("output"), str):
                raise _Invalid(needs_review("parse_error", f"io_tests[{i}] needs string "
                                            "input and output", {"field": "io_tests",
                                                                 "index": i}))
            tol = case.get("tolerance", default_tol if default_tol >= 0 else None)
            if tol is not None and (isinstance(tol, bool) or not isinstance(tol, (int, float))
                                    or not math.isfinite(tol) or tol < 0):
                raise _Invalid(needs_review("parse_error", f"io_tests[{i}].tolerance must be "
                                            "a non-negative number", {"index": i}))
            out.append({"input": case["input"], "output": case["output"],
                        "tolerance": None if tol is None else float(tol)})
        return out

    @staticmethod
    def _form(tree: ast.Module, entry: str | None) -> str:
        top = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef,
                                                              ast.AsyncFunctionDef))}
        if entry is not None and "check" in top:
            return "check"
        if any(name.startswith("test") for name in top):
            return "pytest"
        for node in tree.body:  # test classes: pytest's Test* and unittest.TestCase
            if isinstance(node, ast.ClassDef) and (node.name.startswith("Test") or any(
                    ast.unparse(b).endswith("TestCase") for b in node.bases)):
                return "pytest"
        return "script"

    def _limits(self, seconds: float) -> dict[str, Any]:
        o = self.options
        return {"cpu": math.ceil(seconds) + 1, "memory_mb": o["memory_mb"],
                "fsize_mb": o["file_size_mb"], "nproc": o["processes"],
                "nofile": o["open_files"], "max_output": o["max_output_kb"] * 1024}

    def _job(self, kind: str, solution: str, seconds: float,
             extra: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        from synthvet.verifiers.sandbox.mutants import mutants

        muts = mutants(solution, self.options["mutants"]) if kind != "diff" else []
        cands = [{"code": solution, "seconds": seconds}]
        cands += [{"code": m.source, "seconds": seconds} for m in muts]
        needed = math.ceil(self.options["min_mutation_score"] * len(muts) - 1e-9)
        job = {"kind": kind, "limits": self._limits(seconds), "candidates": cands,
               "mutants_needed": needed,
               "mutant_time": (self.options["mutant_min_seconds"],
                               self.options["mutant_time_factor"]), **extra}
        return job, muts

    # ------------------------------------------------------------------ sandbox outcome

    def _sandbox_failure(self, box: Any, result: Any, evidence: dict[str, Any]) -> Verdict:
        ev = {**evidence, "sandbox": result.kind, "sandbox_detail": result.detail,
              "protections_off": box.protections_off()}
        if result.kind == "unavailable":
            return needs_review("checker_unavailable", result.detail, ev)
        if result.kind == "timeout":
            return needs_review("timeout", result.detail, {**ev, "limit": "wall clock"})
        return needs_review("tamper_suspected", f"the sandboxed run went wrong: "
                            f"{result.detail}", ev)

    def _common(self, box: Any, result: Any, evidence: dict[str, Any]) -> Verdict | None:
        if not result.ok:
            return self._sandbox_failure(box, result, evidence)
        if result.leftovers:
            return needs_review("tamper_suspected", f"{result.leftovers} process(es) were "
                                "still running after the tests (daemons)",
                                {**evidence, "leftover_processes": result.leftovers,
                                 "protections_off": box.protections_off()})
        outcomes = result.report.get("outcomes")
        if not isinstance(outcomes, list) or not outcomes or not isinstance(outcomes[0], dict):
            return needs_review("harness_error", "the test runner returned no outcome",
                                {**evidence, "report": str(result.report)[:300]})
        return None

    def _original_failure(self, first: Mapping[str, Any], evidence: dict[str, Any],
                          seconds: float) -> Verdict | None:
        status = first.get("status")
        ev = {**evidence, **{k: first[k] for k in (
            "exc_type", "message", "line", "source", "last_call", "passed_tests", "limit",
            "kind", "expected") if k in first}}
        ev["stdout_tail"] = _tail(first.get("stdout_tail"))
        ev["stderr_tail"] = _tail(first.get("stderr_tail"))
        if status == "pass":
            return None
        if status == "timeout":
            return needs_review("timeout", f"the solution did not finish within {seconds:.1f}s",
                                {**ev, "limit": f"{seconds:.1f}s wall clock"})
        if status == "tamper":
            kind = first.get("kind")
            if kind == "unsupported":
                return needs_review("unsupported", str(first.get("message", ""))[:200], ev)
            return needs_review("tamper_suspected", f"the solution process misbehaved: "
                                f"{first.get('message', '')}", ev)
        if status == "test_error":
            etype = str(first.get("exc_type", ""))
            if etype in ("ModuleNotFoundError", "ImportError"):
                return needs_review("checker_unavailable", f"the tests import a module the "
                                    f"sandbox lacks: {first.get('message', '')}", ev)
            return needs_review("parse_error", f"the tests cannot run: "
                                f"{etype} {first.get('message', '')}", ev)
        if status == "unsupported":
            return needs_review("unsupported", str(first.get("message", ""))[:200], ev)
        if status == "load_error":
            etype = str(first.get("exc_type"))
            if etype in ("ModuleNotFoundError", "ImportError"):
                return needs_review("checker_unavailable", f"the solution imports a module the "
                                    f"sandbox lacks: {first.get('message', '')}", ev)
            if etype in ("MemoryError", "RecursionError"):
                return needs_review("resource_limit", f"{etype} while loading the solution",
                                    {**ev, "limit": etype})
            if etype in ("SystemExit", "KeyboardInterrupt"):
                return needs_review("tamper_suspected", f"the solution raised {etype} while "
                                    "loading", ev)
            ev["traceback"] = _tail(first.get("traceback"), 800)
            return refuted("tests_failed", f"the solution raised {etype} when loaded: "
                           f"{first.get('message', '')}", ev)
        if status == "fail":
            if first.get("limit"):
                return needs_review("resource_limit", f"a resource limit hit: "
                                    f"{first.get('limit')}", ev)
            where = f" at tests line {first['line']}" if "line" in first else ""
            src = f" `{first['source']}`" if "source" in first else ""
            got = ""
            lc = first.get("last_call")
            if isinstance(lc, dict):
                got = f"; last call {lc.get('call')} -> " + str(lc.get("got", lc.get("raised")))
            return refuted("tests_failed", f"{first.get('exc_type')}{where}{src}{got}"[:280],
                           ev)
        return needs_review("harness_error", f"unexpected runner outcome {status!r}: "
                            f"{first.get('message', '')}", ev)

    def _mutation(self, outcomes: list[Any], muts: list[Any], evidence: dict[str, Any],
                  killed_fn: Any = None) -> Verdict | None:
        if not muts:
            evidence["mutation"] = {"mutants": 0, "note": "no mutants (option off or no "
                                    "mutation sites)"}
            return None
        # The runner stops as soon as enough mutants are killed (or too few can be), so
        # only the mutants it ran are judged; the score is then a lower bound.
        pairs = [(m, o) for m, o in zip(muts, outcomes[1:])
                 if not (isinstance(o, dict) and o.get("status") == "not_run")]
        rest = [o for _, o in pairs]
        killed = 0
        survivors = []
        for m, o in pairs:
            dead = killed_fn(o) if killed_fn else (not isinstance(o, dict)
                                                    or o.get("status") != "pass")
            if dead:
                killed += 1
            else:
                survivors.append(m.description)
        needed = math.ceil(self.options["min_mutation_score"] * len(muts) - 1e-9)
        evidence["mutation"] = {"mutants": len(muts), "ran": len(rest), "killed": killed,
                                "needed": needed, "survivors": survivors[:8],
                                "min_score": self.options["min_mutation_score"]}
        if killed < needed:
            return needs_review("weak_evidence", f"the tests kill only {killed} of {len(rest)} "
                                f"mutants run (of {len(muts)}; {needed} needed): they check "
                                "too little", evidence)
        return None

    # ------------------------------------------------------------------ test kinds

    def _run_tests(self, box: Any, solution: str, tests: str, form: str, entry: str | None,
                   budget: float, evidence: dict[str, Any],
                   probes: list[dict[str, Any]] | None = None) -> Verdict | None:
        seconds = min(self.options["timeout"], budget)
        # literal asserts are checked on this side, with no test runner in the sandbox
        job, muts = self._job("probes" if probes else "tests", solution, seconds,
                              {"form": form, "tests": tests, "entry_point": entry,
                               **({"probes": probes} if probes else {})})
        job["job_seconds"] = max(0.1, budget * 0.9 - 0.05)
        result = box.run(job, budget)
        evidence["form"] = form
        if probes:
            evidence["literal_tests"] = len(probes)
        bad = self._common(box, result, evidence)
        if bad is not None:
            return bad
        outcomes = result.report["outcomes"]
        first = outcomes[0]
        fail = self._original_failure(first, evidence, seconds)
        if fail is not None:
            fail.evidence["protections_off"] = box.protections_off()  # type: ignore[index]
            return fail
        calls = first.get("calls")
        evidence["calls"] = calls
        evidence["tests_run"] = first.get("tests_run")
        if first.get("shadowed_builtins"):
            evidence["shadowed_builtins_ignored"] = first["shadowed_builtins"]
        if not isinstance(calls, int) or calls <= 0:
            return needs_review("weak_evidence", "the tests never called the solution", evidence)
        return self._mutation(outcomes, muts, evidence)

    def _run_io(self, box: Any, solution: str, cases: list[dict[str, Any]], budget: float,
                evidence: dict[str, Any]) -> Verdict | None:
        seconds = min(self.options["timeout"], budget)
        job, muts = self._job("io", solution, seconds,
                              {"io_inputs": [c["input"] for c in cases]})
        job["job_seconds"] = max(0.1, budget * 0.9 - 0.05)
        result = box.run(job, budget)
        bad = self._common(box, result, evidence)
        if bad is not None:
            return bad
        outcomes = result.report["outcomes"]
        first = outcomes[0]
        evidence["io_tests"] = len(cases)
        if first.get("status") != "ran":
            fail = self._original_failure(first, evidence, seconds)
            return fail or needs_review("harness_error", "io run did not complete", evidence)
        runs = first.get("runs")
        if not isinstance(runs, list) or len(runs) != len(cases):
            return needs_review("harness_error", "io runner returned the wrong number of runs",
                                evidence)
        for i, (case, run) in enumerate(zip(cases, runs)):
            verdict = self._judge_run(i, case, run, evidence, seconds)
            if verdict is not None:
                return verdict

        def killed(o: Any) -> bool:
            if not isinstance(o, dict) or o.get("status") != "ran":
                return True
            rr = o.get("runs") or []
            if len(rr) != len(cases):
                return True
            return any(self._run_error(r) is not None or not _io_equal(
                c["output"], r.get("stdout", ""), c["tolerance"]) for c, r in zip(cases, rr))

        return self._mutation(outcomes, muts, evidence, killed)

    @staticmethod
    def _run_error(run: Any) -> str | None:
        if not isinstance(run, dict):
            return "malformed"
        if run.get("timeout"):
            return "timeout"
        if run.get("signal"):
            return f"signal {run['signal']}"
        if run.get("truncated"):
            return "output cap"
        if run.get("exit"):
            return f"exit {run['exit']}"
        return None

    def _judge_run(self, i: int, case: Mapping[str, Any], run: Any, evidence: dict[str, Any],
                   seconds: float) -> Verdict | None:
        import signal as _signal

        err = self._run_error(run)
        ev = {**evidence, "failing_test": i, "input": _tail(case["input"], 300),
              "expected": _tail(case["output"], 300),
              "got": _tail(run.get("stdout") if isinstance(run, dict) else "", 300),
              "stderr_tail": _tail(run.get("stderr_tail") if isinstance(run, dict) else "")}
        if err is None:
            if _io_equal(case["output"], run.get("stdout", ""), case["tolerance"]):
                return None
            return refuted("tests_failed", f"io test {i}: output differs from expected"
                           + (f" (tolerance {case['tolerance']})" if case["tolerance"] is not
                              None else ""), ev)
        if err == "timeout":
            return needs_review("timeout", f"io test {i}: no exit within {seconds:.1f}s",
                                {**ev, "limit": "wall clock"})
        if err.startswith("signal"):
            sig = int(run["signal"])
            names = {int(_signal.SIGXCPU): "CPU time", int(_signal.SIGXFSZ): "file size",
                     int(_signal.SIGKILL): "killed (memory or time)"}
            try:
                signame = _signal.Signals(sig).name
            except ValueError:
                signame = str(sig)
            return needs_review("resource_limit", f"io test {i}: ended by {signame}",
                                {**ev, "limit": names.get(sig, err)})
        if err == "output cap":
            return needs_review("resource_limit", f"io test {i}: output exceeded the cap",
                                {**ev, "limit": "output cap"})
        tail = str(run.get("stderr_tail") or "")
        if "MemoryError" in tail or "RecursionError" in tail:
            return needs_review("resource_limit", f"io test {i}: {err} after a resource "
                                "error", {**ev, "limit": "memory/recursion"})
        return refuted("tests_failed", f"io test {i}: the program failed ({err})", ev)

    def _run_diff(self, box: Any, solution: str, reference: str, entry: str, budget: float,
                  evidence: dict[str, Any], alone: bool) -> Verdict | None:
        from synthvet.verifiers.sandbox._child import WireError, decode, encode
        from synthvet.verifiers.sandbox.differential import Unannotated, generate_inputs

        n = self.options["differential_examples"]
        if n == 0:
            evidence["differential"] = "off"
            return needs_review("weak_evidence", "only differential testing was possible and "
                                "it is off", evidence) if alone else None
        try:
            inputs = generate_inputs(reference, entry, n)
        except Unannotated as exc:
            evidence["differential"] = f"not run: {exc}"
            if alone:
                return needs_review("unsupported", f"cannot generate inputs: {exc}", evidence)
            return None
        seconds = min(self.options["timeout"], budget)
        job = {"kind": "diff", "limits": self._limits(seconds), "entry_point": entry,
               "reference": reference, "diff_inputs": [encode(list(a)) for a in inputs],
               "candidates": [{"code": solution, "seconds": seconds}]}
        result = box.run(job, budget)
        bad = self._common(box, result, evidence)
        if bad is not None:
            return bad
        first = result.report["outcomes"][0]
        status = first.get("status")
        if status == "ref_error":
            evidence["differential"] = f"reference failed: {first.get('message', '')}"[:200]
            return needs_review("weak_evidence", "the reference solution itself failed",
                                evidence) if alone else None
        if status != "ran":
            return self._original_failure(first, evidence, seconds) or needs_review(
                "harness_error", "differential run did not complete", evidence)
        pairs = first.get("pairs")
        if not isinstance(pairs, list) or len(pairs) != len(inputs):
            return needs_review("harness_error", "differential runner lost inputs", evidence)
        valid = 0
        for args, pair in zip(inputs, pairs):
            try:
                ref_r, sol_r = pair
                if ref_r.get("ok") is not True:
                    continue  # outside the reference's domain
                valid += 1
                want = decode(ref_r.get("value"), 0, _no_handles)
                if sol_r.get("ok") is not True:
                    got: Any = f"raised {sol_r.get('exc_type')}: {sol_r.get('message', '')}"
                    same = False
                    if "unsupported" in sol_r:
                        return needs_review("unsupported", "the solution returned a non-plain "
                                            "value", {**evidence, "input": repr(args)[:300]})
                else:
                    got = decode(sol_r.get("value"), 0, _no_handles)
                    same = _same_value(want, got)
            except _ObjectValue:
                return needs_review("unsupported", "differential testing compares plain "
                                    "values; a function returned an object",
                                    {**evidence, "input": repr(args)[:300]})
            except (WireError, TypeError, ValueError, AttributeError):
                return needs_review("tamper_suspected", "malformed differential result",
                                    evidence)
            if not same:
                evidence["differential"] = {"input": repr(args)[:300],
                                            "expected": repr(want)[:300],
                                            "got": repr(got)[:300]}
                return needs_review("differential_mismatch", f"solution and reference differ "
                                    f"on generated input {repr(args)[:120]}", evidence)
        evidence["differential"] = {"inputs": len(inputs), "valid": valid, "agree": valid}
        if valid < self.options["min_differential_inputs"] and alone:
            return needs_review("weak_evidence", f"only {valid} generated inputs were valid "
                                    "for the reference", evidence)
        return None


def _names_tests_take_from_solution(sol: ast.Module, tst: ast.Module,
                                    entry: str | None, tests_text: str) -> list[str]:
    """Top-level names of the solution (besides the entry point) that the tests read."""
    defined = set()
    for node in sol.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
    # A name the tests' text does not contain cannot be read by them: most records stop here
    # (the solution defines only the entry point), without walking the tests' tree. Only
    # for ASCII text: identifiers are NFKC-normalised, so non-ASCII could spell the name.
    candidates = {name for name in defined - {entry, "check"}
                  if name in tests_text or not tests_text.isascii()}
    if not candidates:
        return []
    own: set[str] = set()
    used: set[str] = set()
    for n in ast.walk(tst):
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            own.add(n.name)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            used.add(n.id)
    return sorted((candidates & used) - own)[:20]


class _ObjectValue(Exception):
    """A result that is an object of the program's own class (a handle), not plain data."""


def _no_handles(hid: int) -> Any:
    raise _ObjectValue(hid)


def _same_value(a: Any, b: Any) -> bool:
    """Structural equality of plain values; floats within 1e-9 relative."""
    if type(a) is not type(b):
        if type(a) in (int, float) and type(b) in (int, float) and not isinstance(
                a, bool) and not isinstance(b, bool):
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        return False
    if type(a) is float:
        return a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(
            a, b, rel_tol=1e-9, abs_tol=1e-12)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def _normalise(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [ln.rstrip() for ln in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _io_equal(expected: str, got: Any, tolerance: float | None) -> bool:
    """Exact up to line endings and trailing white space; or numbers within tolerance."""
    if not isinstance(got, str):
        return False
    if tolerance is None:
        return _normalise(expected) == _normalise(got)
    want, have = expected.split(), got.split()
    if len(want) != len(have):
        return False
    for w, h in zip(want, have):
        if w == h:
            continue
        try:
            fw, fh = float(w), float(h)
        except ValueError:
            return False
        if not (math.isfinite(fw) and math.isfinite(fh)):
            return False
        if not math.isclose(fw, fh, rel_tol=tolerance, abs_tol=tolerance):
            return False
    return True

