"""SMT engine: claims about SMT-LIB 2 problems, settled by evaluation and two solvers.

:func:`parse_script` reads a script in pure Python (no solver). :class:`SmtEngine` sends
the problem and the claim to a warm solver process (``_worker.py``: z3, and cvc5 as the
second solver) and waits with a wall-clock deadline; when the deadline passes the whole
process group is SIGKILLed and a fresh process is started on the next call. That is the
only safe way to stop z3, whose own timeout is soft and whose Python API cannot be
interrupted. Nothing here imports z3 or cvc5.

The outcome of :meth:`SmtEngine.check` is a plain dict: ``outcome`` (``passed``,
``failed`` or ``inconclusive``), ``reason``, ``detail`` and ``evidence``.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import json
import os
import selectors
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import Any

from synthvet.verifiers._process import RLimits, child_setup, kill_group
from synthvet.verifiers.smt._script import (
    Decl,
    Script,
    ScriptError,
    parse_script,
    quote_symbol,
    symbol_name,
)

__all__ = [
    "CLAIMS",
    "Decl",
    "Script",
    "ScriptError",
    "SmtEngine",
    "cvc5_available",
    "parse_script",
    "solver_versions",
    "symbol_name",
]

CLAIMS = ("sat", "unsat", "unique")
#: what the worker process gets of the budget: the rest is for starting it and replying
_WORKER_SHARE = 0.9


def _dist_version(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def solver_versions() -> dict[str, str | None]:
    """Installed z3 and cvc5 versions (from package metadata; nothing is imported)."""
    return {"z3": _dist_version("z3-solver"), "cvc5": _dist_version("cvc5")}


def cvc5_available() -> bool:
    return importlib.util.find_spec("cvc5") is not None


def _result(outcome: str, reason: str, detail: str, **evidence: Any) -> dict[str, Any]:
    return {"outcome": outcome, "reason": reason, "detail": detail, "evidence": evidence}


def _kill(proc: subprocess.Popen[bytes], owner: int) -> None:
    # After a fork the child inherits this finalizer; only the owner may kill.
    if os.getpid() == owner and proc.poll() is None:
        kill_group(proc.pid)
        proc.wait()


def _request(script: Script, claim: str, model: Any, timeout: float, second_solver: bool,
             cross_check: bool, budget: float | None) -> dict[str, Any]:
    """What the solver side needs to decide ``claim`` (or a result, for an unknown claim)."""
    if claim not in CLAIMS:
        return _result("inconclusive", "unknown_claim",
                       f"unknown claim {claim!r}; expected one of {', '.join(CLAIMS)}")
    consts = [d.name for d in script.decls if d.arity == 0]
    return {
        "op": "check",
        "script": script.body,
        "logic": script.logic,
        "constants": consts,
        "defined": list(script.defined_constants),
        "functions": [d.name for d in script.decls if d.arity > 0],
        "quoted": {n: quote_symbol(n) for n in consts + list(script.defined_constants)},
        "assertions": script.assertions,
        "claim": claim,
        "model": model,
        "budget": budget if budget is not None else max(0.05,
                                                         timeout * _WORKER_SHARE - 0.05),
        "second_solver": second_solver,
        "cross_check": cross_check,
    }


class InlineEngine:
    """The same checks in this process: no pipe and no process switch per record.

    Faster on a loaded machine, but nothing here can stop a z3 call that overruns its
    soft timeout: only the harness killing the whole worker can (``isolation = "inline"``
    in ``[domains.smt]``; the default is the killable :class:`SmtEngine`).
    """

    spawns = 0

    def __init__(self, memory_mb: int | None = None) -> None:
        self.memory_mb = memory_mb

    def close(self) -> None:
        """Nothing to stop."""

    def check(self, script: Script, claim: str, model: Any, *, timeout: float,
              second_solver: bool = True, cross_check: bool = True,
              budget: float | None = None) -> dict[str, Any]:
        """As :meth:`SmtEngine.check`, in this process."""
        from synthvet.verifiers.smt import _worker

        request = _request(script, claim, model, timeout, second_solver, cross_check, budget)
        if "outcome" in request:
            return request
        _worker.pin_seeds()
        try:
            return _worker.check_claim(json.loads(json.dumps(request, default=str)))
        except Exception as exc:  # noqa: BLE001 - a solver failure is a review, not a crash
            return _result("inconclusive", "solver_crash", f"{type(exc).__name__}: {exc}")


class SmtEngine:
    """A warm solver process with a hard deadline per request.

    Created lazily on the first :meth:`check` (so a harness worker forked from a parent
    that already had an engine starts its own), killed when the engine is collected or
    the interpreter exits, and replaced after a timeout or a crash.
    """

    def __init__(self, memory_mb: int | None = None) -> None:
        self.memory_mb = memory_mb
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner = 0
        self._finalizer: weakref.finalize | None = None  # type: ignore[type-arg]
        self._buffer = b""
        self.spawns = 0

    # -- process management -------------------------------------------------------

    def _alive(self) -> bool:
        return (self._proc is not None and self._owner == os.getpid()
                and self._proc.poll() is None)

    def _spawn(self) -> None:
        self.close()
        # the child must import this very synthvet, installed or not
        root = str(Path(__file__).resolve().parents[3])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (root, env.get("PYTHONPATH", "")) if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "synthvet.verifiers.smt._worker"], env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            # preexec_fn as in _process.run_limited; the harness worker is single-threaded
            start_new_session=True,
            preexec_fn=child_setup(RLimits(memory_mb=self.memory_mb), die_with_parent=True),
        )
        self._proc, self._owner, self._buffer = proc, os.getpid(), b""
        self._finalizer = weakref.finalize(self, _kill, proc, self._owner)
        self.spawns += 1

    def close(self) -> None:
        """Stop the solver process (if this process started it)."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._proc = None

    def _exchange(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send one request; the reply, or None when the deadline passed or it died."""
        assert self._proc is not None and self._proc.stdin is not None
        assert self._proc.stdout is not None
        deadline = time.monotonic() + timeout
        payload = memoryview((json.dumps(request, default=str) + "\n").encode("utf-8"))
        fd = self._proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            # write without blocking past the deadline (a big script fills the pipe)
            wfd = self._proc.stdin.fileno()
            os.set_blocking(wfd, False)
            sel.register(wfd, selectors.EVENT_WRITE)
            while payload:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(timeout=left):
                    return None
                try:
                    payload = payload[os.write(wfd, payload[: 1 << 16]):]
                except BlockingIOError:
                    continue
                except OSError:  # the process is gone
                    return None
            sel.unregister(wfd)
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(timeout=left):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return None
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            reply = json.loads(line)
        except ValueError:
            return None
        return reply if isinstance(reply, dict) else None

    # -- the check ----------------------------------------------------------------

    def check(self, script: Script, claim: str, model: Any, *, timeout: float,
              second_solver: bool = True, cross_check: bool = True,
              budget: float | None = None) -> dict[str, Any]:
        """Decide ``claim`` about ``script`` within ``timeout`` wall-clock seconds.

        ``budget`` is the solver process's own (soft) time budget, by default a little
        under ``timeout``; tests set it above ``timeout`` to exercise the hard kill.
        """
        request = _request(script, claim, model, timeout, second_solver, cross_check, budget)
        if "outcome" in request:
            return request
        started = time.monotonic()
        if not self._alive():
            try:
                self._spawn()
            except (OSError, subprocess.SubprocessError) as exc:
                return _result("inconclusive", "checker_unavailable",
                               f"cannot start the solver process: {exc}")
        reply = self._exchange(request, timeout)
        if reply is None:
            proc = self._proc
            timed_out = proc is not None and proc.poll() is None
            code = None if proc is None else proc.returncode
            self.close()
            if timed_out:
                return _result("inconclusive", "timeout",
                               f"no answer within {timeout:.1f}s; the solver was killed",
                               seconds=round(time.monotonic() - started, 3))
            return _result("inconclusive", "solver_crash",
                           f"the solver process died (exit code {code}); out of memory?",
                           exit_code=code)
        if reply.get("outcome") not in ("passed", "failed", "inconclusive"):
            return _result("inconclusive", "solver_crash", "malformed reply from the solver "
                           "process")
        reply.setdefault("evidence", {})
        return reply
