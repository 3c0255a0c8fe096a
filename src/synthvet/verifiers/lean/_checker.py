"""Lean 4 proof checking: the gate, then Lean (REPL or binary), then the decision.

The decision needs four things from Lean, each from a separate command so that no
output of the candidate can pass for the harness's:

1. the pinned statement (``theorem __synthvet_pinned <signature> := sorry``) elaborates
   in the base environment — before the candidate, so the candidate's notation cannot
   change what it means;
2. the candidate has no error, no ``sorry`` (the REPL's ``sorries`` and the
   ``declaration uses 'sorry'`` warning);
3. ``theorem __synthvet_check : type_of% @__synthvet_pinned := @_root_.<name>`` has no
   error: the named constant exists and has exactly the pinned type (up to definitional
   unfolding, which the kernel accepts as the same proposition);
4. ``#print axioms _root_.<name>`` lists only allowed axioms (by default ``propext``,
   ``Classical.choice``, ``Quot.sound``; never ``sorryAx``).

Anything else — no Lean here, a timeout, a reply outside the protocol, a statement
that does not elaborate — is ``needs_review``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from synthvet.domains.base import CheckerStatus, which_version
from synthvet.errors import UsageError
from synthvet.model import Limits, Verdict, needs_review, refuted, verified
from synthvet.verifiers._process import RLimits, run_limited
from synthvet.verifiers.lean._binary import LeanFile, build_file, parse_lean_output
from synthvet.verifiers.lean._gate import GateHit, scan
from synthvet.verifiers.lean._protocol import (
    CommandReply,
    ErrorReply,
    MalformedReply,
    Message,
    Reply,
    Sorry,
    is_sorry_warning,
)
from synthvet.verifiers.lean._repl import (
    HeaderFailed,
    ProcessTransport,
    ReplBroken,
    ReplPool,
    ReplTimeout,
    Transport,
)
from synthvet.verifiers.lean._source import (
    Header,
    Statement,
    axioms_command,
    check_command,
    names_equal,
    parse_header,
    parse_statement,
    split_candidate_imports,
)

__all__ = ["LeanChecker", "DEFAULT_AXIOMS", "parse_axioms", "LeanRun", "decide"]

DEFAULT_AXIOMS: Final[tuple[str, ...]] = ("propext", "Classical.choice", "Quot.sound")
#: Axioms no configuration may allow.
NEVER_ALLOWED: Final[frozenset[str]] = frozenset({"sorryAx", "Lean.ofReduceBool",
                                                  "Lean.ofReduceNat"})
ADAPTER_VERSION: Final = "lean-adapter-1"

_OPTIONS: Final[tuple[str, ...]] = (
    "mode", "repl", "lean", "lake", "project_dir", "allowed_axioms", "max_processes",
    "max_uses", "memory_mb", "json",
)

_RESOURCE = re.compile(r"maximum number of heartbeats|\(deterministic\) timeout|"
                       r"maximum recursion depth|out of memory|stack overflow", re.I)
_AXIOMS = re.compile(r"\A'(?P<name>.+)' (?:depends on axioms: \[(?P<list>.*)\]|"
                     r"(?P<none>does not depend on any axioms))\s*\Z", re.DOTALL)


def _cut(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_axioms(messages: Sequence[Message], name: str) -> list[str] | None:
    """The axioms ``#print axioms`` reported for ``name``; ``None`` unless exactly one
    info message answers for exactly that name."""
    found: list[list[str]] = []
    for m in messages:
        if m.severity != "info":
            continue
        hit = _AXIOMS.match(m.data.strip())
        if hit is None or not names_equal(hit.group("name"), name):
            continue
        if hit.group("none") is not None:
            found.append([])
        else:
            found.append([a for a in re.split(r"[,\s]+", hit.group("list")) if a])
    return found[0] if len(found) == 1 else None


@dataclass
class LeanRun:
    """What Lean said about each part; ``None`` for a part that was not reached."""

    checker: str
    header: list[Message] = field(default_factory=list)
    pinned: list[Message] | None = None
    candidate: list[Message] | None = None
    sorries: list[Sorry] = field(default_factory=list)
    check: list[Message] | None = None
    axioms: list[Message] | None = None
    other: list[Message] = field(default_factory=list)


def _messages_json(messages: Sequence[Message], limit: int = 8) -> list[str]:
    return [m.short() for m in messages[:limit]]


def decide(run: LeanRun, statement: Statement, allowed: frozenset[str],
           evidence: dict[str, Any]) -> Verdict:
    """The verdict from Lean's answers. Pure; the rules are listed in the module doc."""
    ev = dict(evidence, checker=run.checker)
    if run.pinned is None:
        return needs_review("checker_error", "Lean did not reach the pinned statement", ev)
    # Errors outside the candidate: the record's imports, the pinned statement, elsewhere.
    for messages, reason, what in (
            (run.header, "imports_failed", "the imports do not load here"),
            (run.pinned, "parse_error", "the statement does not elaborate with these imports"),
            (run.other, "checker_error", "Lean error outside the candidate")):
        outside = [m for m in messages if m.severity == "error"]
        if outside:
            ev["messages"] = _messages_json(outside)
            return needs_review(reason, f"{what}: {outside[0].data}", ev)
    if run.candidate is None:
        return needs_review("checker_error", "Lean did not reach the candidate", ev)
    errors = [m for m in run.candidate if m.severity == "error"]
    ev["messages"] = _messages_json([m for m in run.candidate if m.severity != "info"])
    if errors:
        ev["messages"] = _messages_json(errors)
        if any(_RESOURCE.search(m.data) for m in errors):
            return needs_review("timeout", f"Lean ran out of budget: {errors[0].data}", ev)
        return refuted("proof_error", f"Lean rejects the proof: {errors[0].data}", ev)
    if run.sorries or any(is_sorry_warning(m) for m in run.candidate):
        ev["sorries"] = [s.goal[:200] for s in run.sorries[:5]]
        return refuted("sorry_used", "the proof contains `sorry`", ev)
    if run.check is None:
        return needs_review("checker_error", "Lean did not reach the statement check", ev)
    check_errors = [m for m in run.check if m.severity == "error"]
    ev["statement_check"] = check_command(statement.name)
    if check_errors:
        ev["statement_messages"] = _messages_json(check_errors)
        first = check_errors[0].data
        if "universe" in first:
            return needs_review("statement_changed", "could not compare the proved statement "
                                f"with the pinned one (universes): {first}", ev)
        return refuted("statement_changed", f"`{statement.name}` is missing or does not have "
                       f"the pinned statement's type: {first}", ev)
    if any(is_sorry_warning(m) for m in run.check):
        return refuted("sorry_used", "the statement check depends on `sorry`", ev)
    if run.axioms is None:
        return needs_review("checker_error", "Lean did not reach `#print axioms`", ev)
    axioms = parse_axioms(run.axioms, statement.name)
    if axioms is None:
        ev["axioms_messages"] = _messages_json(run.axioms)
        return needs_review("checker_error", "no single `#print axioms` answer for "
                            f"`{statement.name}`", ev)
    ev["axioms"] = axioms
    if "sorryAx" in axioms:
        return refuted("sorry_used", f"`{statement.name}` depends on sorryAx", ev)
    bad = [a for a in axioms if a not in allowed]
    if bad:
        return refuted("axiom_used", f"`{statement.name}` depends on axioms outside the "
                       f"allow-list: {', '.join(bad)}", ev)
    ev["statement"] = "pinned statement elaborated before the candidate; the constant has its type"
    return verified("proof_checked", f"Lean checked `{statement.name}`: no errors, no sorry, "
                    f"pinned statement, axioms {axioms or 'none'}", ev)


def _gate_verdict(hits: Sequence[GateHit], foreign: Sequence[str],
                  ev: dict[str, Any]) -> Verdict | None:
    if hits:
        ev = dict(ev, gate=[h.to_json() for h in hits])
    for h in hits:
        if h.rule.outcome == "refuted":
            return refuted(h.rule.reason, f"line {h.line}: {h.rule.detail}: {h.text[:80]}", ev)
    if foreign:
        return needs_review("import_mismatch", f"the proof imports {foreign[0]!r}, which the "
                            "record's imports do not list", dict(ev, imports=list(foreign)))
    for h in hits:
        return needs_review(h.rule.reason, f"line {h.line}: {h.rule.detail}: {h.text[:80]}", ev)
    return None


class LeanChecker:
    """Check a Lean 4 proof of a pinned statement; the proof domain's Lean engine.

    Args:
        options: the ``lean`` table of ``[domains.proof]``: ``mode`` (``auto`` |
            ``repl`` | ``lean``), ``repl`` (the REPL command, a string or list; e.g.
            ``"/opt/repl/.lake/build/bin/repl"``), ``lean`` (default ``"lean"``),
            ``lake`` (default ``"lake"``), ``project_dir`` (a Lake project, e.g. one with
            Mathlib: commands then run as ``lake env ...`` there), ``allowed_axioms``
            (default propext, Classical.choice, Quot.sound), ``max_processes`` (warm REPLs,
            default 2), ``max_uses`` (candidates per REPL before a restart, default 200),
            ``memory_mb`` (address-space limit per Lean process; default the record's
            limit), ``json`` (read ``lean --json`` output, default true).
        transport: for tests only — a factory ``header -> (() -> Transport)`` replacing
            the REPL process (the replay double ``RecordedRepl`` in ``tests/lean``).
    """

    version = ADAPTER_VERSION

    def __init__(self, options: Mapping[str, Any] | None = None, *,
                 transport: Callable[[str], Callable[[], Transport]] | None = None) -> None:
        opts = dict(options or {})
        unknown = sorted(set(opts) - set(_OPTIONS))
        if unknown:
            raise UsageError(f"unknown Lean option(s) {unknown!r} in [domains.proof.lean]; "
                             f"known: {', '.join(_OPTIONS)}")
        self.mode = self._str(opts, "mode", "auto")
        if self.mode not in ("auto", "repl", "lean"):
            raise UsageError(f"option 'mode' must be 'auto', 'repl' or 'lean', got "
                             f"{self.mode!r}")
        repl = opts.get("repl")
        if repl is None:
            self.repl_argv: list[str] | None = None
        elif isinstance(repl, str) and repl.strip():
            self.repl_argv = shlex.split(repl)
        elif isinstance(repl, list) and repl and all(isinstance(a, str) for a in repl):
            self.repl_argv = list(repl)
        else:
            raise UsageError(f"option 'repl' must be a command (text or list of text), got "
                             f"{repl!r} ({type(repl).__name__})")
        self.lean = self._str(opts, "lean", "lean")
        self.lake = self._str(opts, "lake", "lake")
        self.project_dir: str | None = opts.get("project_dir")
        if self.project_dir is not None and not isinstance(self.project_dir, str):
            raise UsageError(f"option 'project_dir' must be a path, got {self.project_dir!r}")
        axioms = opts.get("allowed_axioms", list(DEFAULT_AXIOMS))
        if not isinstance(axioms, list) or not all(isinstance(a, str) for a in axioms):
            raise UsageError(f"option 'allowed_axioms' must be a list of names, got {axioms!r}")
        never = sorted(NEVER_ALLOWED & set(axioms))
        if never:
            raise UsageError(f"option 'allowed_axioms' may not allow {never!r}: a proof that "
                             "needs them proves nothing")
        self.allowed = frozenset(axioms)
        self.max_processes = self._int(opts, "max_processes", 2)
        self.max_uses = self._int(opts, "max_uses", 200)
        mem = opts.get("memory_mb")
        if mem is not None and (not isinstance(mem, int) or isinstance(mem, bool) or mem < 64):
            raise UsageError(f"option 'memory_mb' must be an integer >= 64, got {mem!r}")
        self.memory_mb: int | None = mem
        json_opt = opts.get("json", True)
        if not isinstance(json_opt, bool):
            raise UsageError(f"option 'json' must be true or false, got {json_opt!r}")
        self.json = json_opt
        self._transport = transport
        self._pool: ReplPool | None = None
        self._engine_version: str | None = None

    @staticmethod
    def _str(opts: Mapping[str, Any], key: str, default: str) -> str:
        value = opts.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"option {key!r} must be non-empty text, got {value!r} "
                             f"({type(value).__name__})")
        return value

    @staticmethod
    def _int(opts: Mapping[str, Any], key: str, default: int) -> int:
        value = opts.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UsageError(f"option {key!r} must be a positive integer, got {value!r}")
        return value

    def engine_version(self) -> str:
        """``lean-adapter-N+<lean --version>`` (or ``+no-lean``), for the domain's version:
        a Lean upgrade may change results, so it must change the ledger key."""
        if self._engine_version is None:
            status = which_version(self.lean) if self._which(self.lean) else None
            lean = status.detail.split(": ", 1)[-1] if status and status.available else "no-lean"
            self._engine_version = f"{ADAPTER_VERSION}+{lean}"
        return self._engine_version

    # -- availability ---------------------------------------------------------------

    def _which(self, program: str) -> str | None:
        if os.sep in program:
            return program if os.access(program, os.X_OK) and os.path.isfile(program) else None
        return shutil.which(program)

    def _wrap(self, argv: list[str]) -> list[str]:
        if self.project_dir is not None:
            return [self._which(self.lake) or self.lake, "env", *argv]
        return argv

    def backend(self) -> str | None:
        """``"repl"``, ``"lean"`` or ``None`` (nothing usable here)."""
        if self._transport is not None:
            return "repl"
        if self.project_dir is not None and self._which(self.lake) is None:
            return None
        repl_ok = self.repl_argv is not None and self._which(self.repl_argv[0]) is not None
        lean_ok = self._which(self.lean) is not None
        if self.mode == "repl":
            return "repl" if repl_ok else None
        if self.mode == "lean":
            return "lean" if lean_ok else None
        return "repl" if repl_ok else "lean" if lean_ok else None

    def checkers(self) -> list[CheckerStatus]:
        out = [which_version(self.lean) if self._which(self.lean) else
               CheckerStatus("lean", False, f"{self.lean!r} not found (Lean is not installed "
                             "here; Lean records go to review)")]
        if self.repl_argv is None:
            out.append(CheckerStatus("repl", False, "no REPL configured "
                                     "([domains.proof.lean] repl = ...)"))
        else:
            found = self._which(self.repl_argv[0])
            out.append(CheckerStatus("repl", found is not None,
                                     f"{' '.join(self.repl_argv)}" + ("" if found else
                                                                      ": not found")))
        lake = self._which(self.lake)
        out.append(CheckerStatus("lake", lake is not None, lake or f"{self.lake!r} not found"))
        return out

    # -- the check ------------------------------------------------------------------

    def check(self, statement: str, proof: str, imports: list[str] | None,
              limits: Limits) -> Verdict:
        """Check ``proof`` proves ``statement`` (under its name) with ``imports``.

        Never raises; never ``verified`` unless Lean positively established it.
        """
        try:
            return self._check(statement, proof, imports, limits)
        except Exception as exc:  # the contract: a verdict, whatever happens
            return needs_review("checker_error", f"Lean adapter failed: "
                                f"{type(exc).__name__}: {exc}", {"checker": "lean"})

    def _check(self, statement_text: Any, proof: Any, imports: Any, limits: Limits) -> Verdict:
        statement = parse_statement(statement_text)
        if isinstance(statement, str):
            return needs_review("parse_error", statement)
        header = parse_header(imports)
        if isinstance(header, str):
            return needs_review("parse_error", header)
        if not isinstance(proof, str) or not proof.strip():
            return needs_review("parse_error", "proof is missing or not text")
        ev: dict[str, Any] = {"name": statement.name}
        stmt_hits = scan(statement.signature)
        if stmt_hits:
            return needs_review("parse_error", f"the statement itself uses "
                                f"{stmt_hits[0].rule.id!r}", dict(ev, gate=[
                                    h.to_json() for h in stmt_hits]))
        body, foreign = split_candidate_imports(proof, header)
        gate = _gate_verdict(scan(body), foreign, ev)
        if gate is not None:
            return gate
        backend = self.backend()
        if backend is None:
            return needs_review("checker_unavailable", "no Lean here (neither a REPL nor a "
                                "`lean` binary is available)", dict(ev, checker="lean"))
        deadline = time.monotonic() + limits.inner_seconds()
        if backend == "repl":
            return self._check_repl(statement, header, body, limits, deadline, ev)
        return self._check_binary(statement, header, body, limits, deadline, ev)

    # -- REPL -----------------------------------------------------------------------

    def _pool_for(self, limits: Limits) -> ReplPool:
        pool = self._pool
        if pool is not None and pool.pid != os.getpid():
            pool.close_all()  # forked: forget the parent's processes, never kill them
            pool = None
        if pool is None:
            memory = self.memory_mb or limits.memory_mb
            factory = self._transport or self._process_factory(memory)
            pool = ReplPool(factory, max_sessions=self.max_processes, max_uses=self.max_uses)
            weakref.finalize(self, pool.close_all)
            self._pool = pool
        return pool

    def _process_factory(self, memory_mb: int) -> Callable[[str], Callable[[], Transport]]:
        assert self.repl_argv is not None
        argv = self._wrap(list(self.repl_argv))
        cwd = self.project_dir

        def for_header(header: str) -> Callable[[], Transport]:
            return lambda: ProcessTransport(argv, cwd=cwd,
                                            rlimits=RLimits(memory_mb=memory_mb))
        return for_header

    def _check_repl(self, statement: Statement, header: Header, body: str, limits: Limits,
                    deadline: float, ev: dict[str, Any]) -> Verdict:
        run = LeanRun("lean-repl")
        session = self._pool_for(limits).session(header.text)
        try:
            base = session.ready(deadline)
            session.uses += 1
            steps: list[tuple[str, str]] = [
                ("pinned", statement.pinned_command),
                ("candidate", body),
                ("check", check_command(statement.name)),
                ("axioms", axioms_command(statement.name)),
            ]
            env = base
            for part, cmd in steps:
                reply = session.command(cmd, env, deadline)
                problem = self._reply_problem(reply)
                if problem is not None:
                    return needs_review("checker_error", f"REPL answered the {part} command "
                                        f"outside the protocol: {problem}",
                                        dict(ev, checker=run.checker))
                assert isinstance(reply, CommandReply) and reply.env is not None
                setattr(run, part, list(reply.messages))
                if part == "candidate":
                    run.sorries = list(reply.sorries)
                env = reply.env
                if reply.errors or (part == "candidate" and (
                        reply.sorries or reply.sorry_warnings)):
                    break  # decided; the later commands would only add noise
        except ReplTimeout as exc:
            what = ("the REPL is still loading the imports" if exc.loading else
                    "Lean did not answer")
            return needs_review("timeout", f"{what} within {limits.inner_seconds():.1f}s",
                                dict(ev, checker=run.checker))
        except HeaderFailed as exc:
            reply = exc.reply
            msgs = (_messages_json(reply.errors) if isinstance(reply, CommandReply) else
                    [getattr(reply, "message", getattr(reply, "problem", ""))])
            return needs_review("imports_failed", f"the imports do not load here: "
                                f"{msgs[0] if msgs else 'no environment'}",
                                dict(ev, checker=run.checker, imports=list(header.lines),
                                     messages=msgs))
        except ReplBroken as exc:
            return needs_review("checker_error", f"the REPL failed: {exc.problem}",
                                dict(ev, checker=run.checker, stderr=_cut(exc.text)))
        return decide(run, statement, self.allowed, ev)

    @staticmethod
    def _reply_problem(reply: Reply) -> str | None:
        if isinstance(reply, MalformedReply):
            return reply.problem
        if isinstance(reply, ErrorReply):
            return reply.message
        if reply.env is None:
            return "a command reply without env"
        return None

    # -- lean binary ------------------------------------------------------------------

    def _check_binary(self, statement: Statement, header: Header, body: str, limits: Limits,
                      deadline: float, ev: dict[str, Any]) -> Verdict:
        lean_file = build_file(header, statement, body)
        ev = dict(ev, checker="lean")
        with tempfile.TemporaryDirectory(prefix="synthvet-lean-") as tmp:
            path = os.path.join(tmp, "Candidate.lean")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(lean_file.text)
            argv = [self._which(self.lean) or self.lean]
            if self.json:
                argv.append("--json")
            argv.append(path)
            try:
                result = run_limited(
                    self._wrap(argv), timeout=max(0.1, deadline - time.monotonic()),
                    cwd=self.project_dir or tmp,
                    rlimits=RLimits(memory_mb=self.memory_mb or limits.memory_mb),
                    max_output=4 << 20)
            except OSError as exc:
                return needs_review("checker_unavailable", f"cannot run lean: {exc}", ev)
        if result.timed_out:
            return needs_review("timeout", f"lean did not finish within "
                                f"{limits.inner_seconds():.1f}s", ev)
        if result.truncated:
            return needs_review("checker_error", "lean's output was too long to read", ev)
        messages, _ = parse_lean_output(result.stdout + "\n" + result.stderr, path)
        if result.signal is not None:
            return needs_review("checker_error", f"lean was killed by signal {result.signal} "
                                "(memory limit?)", dict(ev, stderr=result.tail()))
        if result.returncode != 0 and not any(m.severity == "error" for m in messages):
            return needs_review("checker_error", f"lean exited with {result.returncode} "
                                "without an error message", dict(ev, stderr=result.tail()))
        return decide(self._attribute(lean_file, messages), statement, self.allowed,
                      dict(ev, returncode=result.returncode))

    @staticmethod
    def _attribute(lean_file: LeanFile, messages: Sequence[Message]) -> LeanRun:
        run = LeanRun("lean", pinned=[], candidate=[], check=[], axioms=[])
        for m in messages:
            part = lean_file.part(m.pos.line if m.pos else None)
            if part == "unknown" and m.pos is None and m.severity == "info":
                part = "axioms"  # classic output prints info messages without a position
            target = {"header": run.header, "pinned": run.pinned, "candidate": run.candidate,
                      "check": run.check, "axioms": run.axioms}.get(part, run.other)
            assert target is not None
            target.append(m)
        return run
