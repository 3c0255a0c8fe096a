"""Coq proofs checked by the real ``coqc`` (and ``coqchk``), with every known fake caught.

``coqc`` exits 0 on ``Admitted`` and on ``Axiom``, and a candidate may prove a different
statement under the expected name (extra hypotheses, its own ``nat`` or notation). So a
successful compile proves nothing by itself. The check here has four layers, each of
which would catch the classic fakes on its own:

1. **Gate** (text, comments and strings blanked): commands that could subvert checking or
   the harness are refused before anything runs — ``Declare ML Module``, ``Load``,
   ``Redirect``, ``Extract``/``Extraction``, ``Drop``, ``Cd``, load-path changes,
   ``Register``/``Primitive``, printing options and option changes with ``Global``/
   ``Export`` locality (they leak into a file that ``Require``\\ s the candidate), kernel
   switches (``Unset Guard/Positivity/Universe Checking``, ``bypass_check``) and
   ``Admitted``/``admit``.
2. **Compile** the candidate as its own library ``<Prefix>.Cand`` (fresh ``coqc``, clean
   environment, wall-clock and memory limits, a random logical prefix that the record
   cannot name).
3. **Harness-owned file**: the record's ``imports`` and ``statement`` are elaborated
   *before* the candidate is loaded, as a field of a module type; then the candidate is
   ``Require``\\ d (never imported, so its notations stay inactive) and a module
   implementing that signature with ``Definition pinned := <Prefix>.Cand.<name>`` is
   checked by the kernel's module subtyping: the candidate's theorem must have the pinned
   type up to conversion. ``Print Assumptions`` of that constant (redirected into a
   harness-named file, so nothing the candidate prints can be mistaken for it) must list
   nothing outside the allow-list; it also reports definitions that rely on disabled
   guard, positivity or universe checking.
4. **coqchk** (optional, on by default) re-checks the compiled candidate library with
   the independent checker and lists, with full names, every axiom and every unsafe
   flag the library declares — also those the target does not use, which go to review.

One fresh ``coqc`` per step: a warm ``coqtop`` cannot unload a library or undo a global
option a candidate set, so state would leak between candidates.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthvet.model import Limits, Verdict, needs_review, refuted, verified
from synthvet.verifiers._process import ProcessResult, RLimits, run_limited

__all__ = [
    "CoqChecker",
    "CoqOptions",
    "blank_comments_and_strings",
    "candidate_text",
    "gate",
    "parse_assumptions",
    "parse_coqchk_summary",
    "parse_imports",
    "parse_statement",
    "split_sentences",
]

#: Evidence texts are cut to this many characters.
_EVIDENCE_CHARS = 1500

_IDENT = r"[^\W\d][\w']*"
_QUALID = rf"{_IDENT}(?:\.{_IDENT})*"
_THEOREM_KEYWORDS = ("Theorem", "Lemma", "Fact", "Remark", "Corollary", "Proposition",
                     "Property", "Example")


# --------------------------------------------------------------------------- lexing

def blank_comments_and_strings(text: str, *, strings: str = "blank") -> str:
    """``text`` with comments (nested, as Coq lexes them) blanked, and strings outside
    comments blanked (``strings="blank"``), reduced to their two quotes (``"quotes"``) or
    kept verbatim (``"keep"``).

    Every blanked character becomes a space (newlines are kept), so offsets and line
    numbers still match the original. Inside comments, strings are lexed too, as Coq
    does: ``(* "*)" *)`` is one comment. An unterminated comment or string blanks to the
    end (coqc will reject the file anyway).
    """
    if strings not in ("blank", "quotes", "keep"):
        raise ValueError(f"strings must be 'blank', 'quotes' or 'keep', got {strings!r}")
    out = list(text)
    i, n = 0, len(text)
    depth = 0
    while i < n:
        c = text[i]
        if text.startswith("(*", i):
            depth += 1
            out[i] = out[i + 1] = " "
            i += 2
            continue
        if depth and text.startswith("*)", i):
            depth -= 1
            out[i] = out[i + 1] = " "
            i += 2
            continue
        if c == '"':
            j = i + 1
            while j < n:
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            end = min(j, n - 1)
            if depth or strings != "keep":
                keep_quotes = strings == "quotes" and not depth
                for k in range(i, end + 1):
                    if out[k] != "\n" and not (keep_quotes and k in (i, end)):
                        out[k] = " "
            i = end + 1
            continue
        if depth and c != "\n":
            out[i] = " "
        i += 1
    return "".join(out)


_SENTENCE_END = re.compile(r"(?<!\.)\.(?=\s|$)")


def split_sentences(text: str, *, strings: str = "blank") -> list[str]:
    """Top-level sentences of ``text`` (comments and strings blanked), without the dot.

    A sentence ends at a ``.`` followed by white space or the end, as in Coq; ``...``
    (an ellipsis) and ``Nat.add`` do not end one. Bullets and braces are not split off;
    this is for the gate and for checking that a statement is a single sentence.
    """
    clean = blank_comments_and_strings(text, strings=strings)
    if strings == "keep":  # find the ends where strings are blanked, cut the kept text
        ends = blank_comments_and_strings(text)
    else:
        ends = clean
    parts = []
    start = 0
    for m in _SENTENCE_END.finditer(ends):
        parts.append(clean[start:m.start()])
        start = m.end()
    tail = clean[start:]
    if tail.strip():
        parts.append(tail)
    return [p.strip() for p in parts if p.strip()]


# --------------------------------------------------------------------------- gate

@dataclass(frozen=True, slots=True)
class GateFinding:
    """One forbidden construct in the candidate: its kind decides the verdict."""

    kind: str  # "sorry" | "kernel_bypass" | "unsafe_command"
    what: str
    line: int


_GATE_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (kind, what, re.compile(rx, re.MULTILINE))
    for kind, what, rx in (
        ("sorry", "Admitted", r"\bAdmitted\b"),
        ("sorry", "admit", r"\badmit\b"),
        ("sorry", "Admit Obligations", r"\bAdmit\s+Obligations\b"),
        ("kernel_bypass", "Unset Guard Checking", r"\bUnset\s+Guard\s+Checking\b"),
        ("kernel_bypass", "Unset Positivity Checking", r"\bUnset\s+Positivity\s+Checking\b"),
        ("kernel_bypass", "Unset Universe Checking", r"\bUnset\s+Universe\s+Checking\b"),
        ("kernel_bypass", "bypass_check attribute", r"\bbypass_check\b"),
        # coqchk's summary does not list it (Print Assumptions does)
        ("kernel_bypass", "Definitional UIP", r"\bDefinitional\s+UIP\b"),
        ("unsafe_command", "Declare ML Module", r"\bDeclare\s+ML\s+Module\b"),
        ("unsafe_command", "Load", r"\bLoad\b"),
        ("unsafe_command", "Redirect", r"\bRedirect\b"),
        ("unsafe_command", "Extraction", r"\bExtract(?:ion)?\b"),
        ("unsafe_command", "Separate/Recursive Extraction", r"\b(?:Separate|Recursive)\s+Extraction\b"),
        ("unsafe_command", "Drop", r"\bDrop\b"),
        ("unsafe_command", "Cd", r"\bCd\b"),
        ("unsafe_command", "load path change", r"\b(?:Add|Remove)\s+(?:Rec\s+)?(?:ML\s+)?(?:LoadPath|Path)\b"),
        ("unsafe_command", "Register", r"\bRegister\b"),
        ("unsafe_command", "Primitive", r"\bPrimitive\b"),
        ("unsafe_command", "printing option", r"\b(?:Set|Unset|Add|Remove|Test)\s+Printing\b"),
        ("unsafe_command", "global or exported option",
         r"\b(?:Global|Export)\s+(?:Set|Unset)\b|#\[[^\]]*\b(?:global|export)\b[^\]]*\]\s*(?:Set|Unset)\b"),
        ("unsafe_command", "Reset/Back", r"\b(?:Reset|Back|BackTo)\b"),
        ("unsafe_command", "Require of a file path", r"\bRequire\b[^.]*\""),
        ("unsafe_command", "From of a file path", r"\bFrom\s+\""),
        ("unsafe_command", "harness-reserved name", r"__[Ss]ynthvet"),
        ("unsafe_command", "Debug/Ltac profiling output", r"\bSet\s+(?:Debug|Ltac\s+Profiling)\b"),
    )
)


def gate(proof: str) -> list[GateFinding]:
    """Forbidden constructs in ``proof`` (comments blanked; string contents are blanked
    too except that a quote is still seen where a command takes a file name)."""
    clean = blank_comments_and_strings(proof, strings="quotes")
    found: list[GateFinding] = []
    for kind, what, rx in _GATE_RULES:
        m = rx.search(clean)
        if m:
            found.append(GateFinding(kind, what, clean.count("\n", 0, m.start()) + 1))
    return found


# --------------------------------------------------------------------------- statement

@dataclass(frozen=True, slots=True)
class Statement:
    """A theorem header split into keyword, name and the rest (binders, ``:``, type)."""

    keyword: str
    name: str
    rest: str

    @property
    def text(self) -> str:
        """The header as one sentence (comments dropped, strings kept)."""
        return f"{self.keyword} {self.name} {self.rest}."


class InputProblem(ValueError):
    """A record field that cannot be used as given (the verdict is ``needs_review``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


_HEADER = re.compile(
    rf"^\s*(?:#\[[^\]]*\]\s*)?(?:(?:Local|Global|Polymorphic|Monomorphic)\s+)*"
    rf"(?P<kw>{'|'.join(_THEOREM_KEYWORDS)})\s+(?P<name>{_IDENT})(?P<rest>.*)$",
    re.DOTALL,
)


def parse_statement(statement: str) -> Statement:
    """Split ``Theorem name binders : type.`` into its parts; raise :class:`InputProblem`.

    The statement must be exactly one sentence (no second command smuggled in after the
    first dot); comments are dropped. The binders and type are kept verbatim, because
    Coq, not this parser, elaborates them.
    """
    if not isinstance(statement, str) or not statement.strip():
        raise InputProblem("missing_field", "field 'statement' must be a non-empty string")
    if "\x00" in statement:
        raise InputProblem("parse_error", "statement contains a NUL character")
    # Strings are kept verbatim: they are part of what is pinned.
    clean = blank_comments_and_strings(statement, strings="keep")
    if len(split_sentences(statement)) != 1:
        raise InputProblem("parse_error", "statement must be exactly one Coq sentence "
                                          "(a theorem header ending with '.')")
    body = clean.strip()
    body = body.removesuffix(".")
    m = _HEADER.match(body)
    if not m:
        raise InputProblem(
            "parse_error",
            "statement must look like 'Theorem name binders : type.' (keywords: "
            + ", ".join(_THEOREM_KEYWORDS) + ")")
    name = m.group("name")
    if name.startswith(("__synthvet", "SV_")):
        raise InputProblem("parse_error", f"theorem name {name!r} is reserved")
    rest = m.group("rest").strip()
    if ":" not in rest or rest.startswith(":="):
        raise InputProblem("parse_error", "statement has no ': type' part")
    if ":=" in _outside_parens(rest):
        raise InputProblem("parse_error", "statement must be a header, not a definition "
                                          "with ':='")
    return Statement(m.group("kw"), name, rest)


def _outside_parens(text: str) -> str:
    """``text`` with everything inside (), {} and [] removed (for shallow checks)."""
    depth = 0
    out = []
    for ch in text:
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


_IMPORT_SENTENCE = re.compile(
    rf"^(?:From\s+{_QUALID}\s+)?Require(?:\s+(?:Import|Export))?(?:\s+{_QUALID})+$"
    rf"|^(?:Import|Export)(?:\s+{_QUALID})+$"
    rf"|^(?:Local\s+|Global\s+)?Open\s+Scope\s+{_IDENT}$"
)


def parse_imports(imports: Sequence[str]) -> list[str]:
    """Normalised import sentences (each ending with ``.``); raise :class:`InputProblem`
    for anything that is not ``Require``/``From … Require``/``Import``/``Open Scope``."""
    sentences: list[str] = []
    for line in imports:
        if "\x00" in line:
            raise InputProblem("parse_error", "imports contain a NUL character")
        for sentence in split_sentences(line, strings="quotes"):
            sentence = " ".join(sentence.split())
            if not _IMPORT_SENTENCE.match(sentence):
                raise InputProblem(
                    "parse_error",
                    f"imports may only hold Require/Import/Open Scope sentences, got "
                    f"{sentence[:80]!r}")
            sentences.append(sentence + ".")
    return sentences


def candidate_text(proof: str, imports: Sequence[str], statement: str | None = None
                   ) -> tuple[str, list[str]]:
    """The file compiled for the candidate, and the sentences put in front of it.

    The imports go first unless the proof already has them: a scope opened twice, or
    before the candidate's own ``Require``, could change how its text parses. A proof
    that is only a script (its first sentence is ``Proof``) gets the ``statement`` in
    front of it; the harness then compares what was proved with the pinned statement as
    for any other candidate, so this is a convenience, not a trust.
    """
    sentences = split_sentences(proof, strings="quotes")
    own = {" ".join(x.split()) + "." for x in sentences}
    prepended = [line for line in imports if line not in own]
    if statement is not None and sentences and re.match(r"Proof\b", sentences[0]):
        head = statement.strip()
        prepended.append(head if head.endswith(".") else head + ".")
    header = "".join(line + "\n" for line in prepended)
    return header + proof + "\n", prepended


# --------------------------------------------------------------------------- outputs

@dataclass(frozen=True, slots=True)
class Assumption:
    """One line of ``Print Assumptions``: a name and what is assumed about it."""

    name: str
    kind: str  # "axiom" | "guard" | "positivity" | "universes" | "other"
    text: str


_UNSAFE_SUFFIXES = (
    (" is assumed to be guarded.", "guard"),
    (" is assumed to be positive.", "positivity"),
    (" relies on an unsafe hierarchy.", "universes"),
    (" relies on definitional UIP.", "uip"),
)


def parse_assumptions(text: str) -> list[Assumption] | None:
    """Parse ``Print Assumptions`` output; ``None`` when it is not in the known shape.

    ``Closed under the global context`` gives ``[]``. Otherwise every line that starts
    at column 0 (after the section headers) is an entry; continuation lines of a long
    type are indented.
    """
    stripped = text.strip()
    if stripped == "Closed under the global context":
        return []
    if not stripped:
        return None
    out: list[Assumption] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0].isspace():
            if not out:
                return None
            continue  # continuation of the previous entry's type
        if line.rstrip() in ("Axioms:", "Section Variables:", "Opaque constants:",
                             "Transparent constants:"):
            continue
        for suffix, kind in _UNSAFE_SUFFIXES:
            if line.endswith(suffix):
                out.append(Assumption(line[: -len(suffix)].strip(), kind, line))
                break
        else:
            name, sep, _ = line.partition(" : ")
            if not sep or not re.fullmatch(_QUALID, name.strip()):
                return None
            out.append(Assumption(name.strip(), "axiom", line[:300]))
    return out


def parse_coqchk_summary(text: str) -> dict[str, list[str]] | None:
    """The ``CONTEXT SUMMARY`` of ``coqchk -o``: section title -> full names listed."""
    if "CONTEXT SUMMARY" not in text:
        return None
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.split("CONTEXT SUMMARY", 1)[1].splitlines():
        s = line.strip()
        if s.startswith("* "):
            title = s[2:].split(":", 1)[0].strip()
            current = title
            sections[current] = []
            rest = s[2:].split(":", 1)[1].strip() if ":" in s else ""
            if rest and rest != "<none>":
                sections[current].append(rest)
        elif s and s != "<none>" and current is not None and not s.startswith("="):
            sections[current].append(s)
    return sections


#: Fields of sealed modules of the standard library that ``coqchk -norec`` lists as
#: axioms because it does not re-check the library that implements them; they have
#: implementations (``Under_rel : UNDER_REL`` in ssrunder, loaded by ``Setoid``).
_BENIGN_SEALED: tuple[str, ...] = ("Coq.ssr.ssrunder.Under_rel.",)


# --------------------------------------------------------------------------- options

@dataclass(frozen=True, slots=True)
class CoqOptions:
    """Settings read from the ``coq`` subtable (or the ``coq_*`` keys) of
    ``[domains.proof]``."""

    allowed_axioms: tuple[str, ...] = ()
    coqchk: bool = True
    coqc: str = "coqc"
    coqchk_path: str = "coqchk"

    KEYS = ("allowed_axioms", "coqchk", "coqc", "coqchk_path")

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> CoqOptions:
        from synthvet.errors import UsageError

        options = dict(options or {})
        unknown = sorted(set(options) - set(cls.KEYS))
        if unknown:
            import difflib

            close = difflib.get_close_matches(str(unknown[0]), cls.KEYS, n=1)
            hint = f"; did you mean 'coq_{close[0]}'?" if close else ""
            raise UsageError(f"unknown Coq option(s) {unknown}{hint} (known: "
                             f"{', '.join(cls.KEYS)}; in [domains.proof] as coq_<name> or in "
                             "[domains.proof.coq])")
        axioms = options.get("allowed_axioms", [])
        if not isinstance(axioms, (list, tuple)) or not all(
                isinstance(a, str) and re.fullmatch(_QUALID, a) for a in axioms):
            raise UsageError(
                f"option 'coq_allowed_axioms' must be a list of fully qualified names such "
                f"as 'Coq.Logic.Classical_Prop.classic', got {axioms!r}")
        for a in axioms:
            if not a.startswith("Coq."):
                raise UsageError(f"coq_allowed_axioms: {a!r} must be a fully qualified name "
                                 "from the standard library (starting 'Coq.')")
        flags: dict[str, Any] = {}
        for key, kind in (("coqchk", bool), ("coqc", str), ("coqchk_path", str)):
            if key in options:
                value = options[key]
                if not isinstance(value, kind):
                    raise UsageError(f"option 'coq_{key}' must be {kind.__name__}, got "
                                     f"{value!r} ({type(value).__name__})")
                flags[key] = value
        return cls(allowed_axioms=tuple(axioms), **flags)


# --------------------------------------------------------------------------- checker

@dataclass
class _Run:
    """What one check collected, for the evidence."""

    steps: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)


def _cut(text: str, limit: int = _EVIDENCE_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit // 2] + "\n…\n" + text[-limit // 2:]


class CoqChecker:
    """Check one Coq proof of a pinned statement. Same shape as the Lean checker.

    Args:
        options: the ``coq`` settings (see :class:`CoqOptions`); unknown keys raise
            :class:`synthvet.errors.UsageError`.
        use_gate: the text gate (layer 1). Only tests turn it off, to show that the kernel
            layers catch the fakes on their own.
    """

    name = "coq"

    def __init__(self, options: Mapping[str, Any] | None = None, *,
                 use_gate: bool = True) -> None:
        self.options = CoqOptions.from_mapping(options)
        self.use_gate = use_gate
        self._coqc = shutil.which(self.options.coqc)
        self._coqchk_bin = shutil.which(self.options.coqchk_path)
        self._allowed_libs = self._libraries_of(self.options.allowed_axioms)

    # ------------------------------------------------------------------ public
    def checkers(self) -> list[Any]:
        from synthvet.domains.base import CheckerStatus, which_version

        out = [which_version(self.options.coqc)]
        if self.options.coqchk:
            out.append(which_version(self.options.coqchk_path))
        else:
            out.append(CheckerStatus("coqchk", False, "disabled by coq_coqchk = false"))
        return out

    def engine_version(self) -> str:
        """``coqc``'s version line, or ``unavailable``; part of the domain's version."""
        from synthvet.domains.base import which_version

        status = which_version(self.options.coqc)
        if not status.available:
            return "unavailable"
        m = re.search(r"version\s+(\S+)", status.detail)
        return m.group(1) if m else "unknown"

    def check(self, statement: str, proof: str, imports: list[str], limits: Limits) -> Verdict:
        """Verdict on ``proof`` proving ``statement`` (after ``imports``) under its name."""
        try:
            stmt = parse_statement(statement)
            import_lines = parse_imports(imports)
        except InputProblem as exc:
            return needs_review(exc.reason, exc.detail)
        if not isinstance(proof, str) or not proof.strip():
            return needs_review("missing_field", "field 'proof' must be a non-empty string")
        if "\x00" in proof:
            return needs_review("parse_error", "proof contains a NUL character")

        if self.use_gate:
            findings = gate(proof)
            if findings:
                return self._gate_verdict(findings)
        if self._coqc is None:
            return needs_review("checker_unavailable",
                                f"{self.options.coqc!r} not found on PATH (install Coq, e.g. "
                                "apt-get install coq)")
        deadline = time.monotonic() + limits.inner_seconds()
        tmp = tempfile.mkdtemp(prefix="synthvet-coq-")
        try:
            return self._check_in(Path(tmp), stmt, import_lines, proof, limits, deadline)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # ------------------------------------------------------------------ steps
    def _check_in(self, tmp: Path, stmt: Statement, imports: list[str], proof: str,
                  limits: Limits, deadline: float) -> Verdict:
        run = _Run()
        prefix = "SV_" + secrets.token_hex(6)
        ev = run.evidence
        ev["statement_name"] = stmt.name
        cand = tmp / "Cand.v"
        text, prepended = candidate_text(proof, imports, stmt.text)
        if prepended:
            ev["prepended"] = prepended
        cand.write_text(text, encoding="utf-8")

        # native_compute would write and dynlink OCaml code; fall back to vm_compute
        # (coqchk then re-checks those conversions without the VM).
        res = self._run([self._coqc or "coqc", "-q", "-w", "-deprecated-native-compiler-option",
                         "-native-compiler", "no", "-Q", str(tmp), prefix, str(cand)],
                        tmp, limits, deadline, run, "compile")
        if isinstance(res, Verdict):
            return res
        ev["coqc_messages"] = _cut(self._scrub(res.stdout + res.stderr, prefix, tmp))
        if res.returncode != 0:
            return self._failure(res, "the candidate does not compile", ev, "proof_error")

        # Layers 3 and 4 only read Cand.vo, so they run side by side. With coqchk, its
        # list of every axiom in the loaded environment (full names) usually shows that
        # the target cannot depend on any, and the costly Print Assumptions (it loads the
        # opaque proofs of every library lemma used) is skipped.
        chk: dict[str, Any] = {}
        thread = None
        if self.options.coqchk:
            thread = threading.Thread(
                target=lambda: chk.update(result=self._coqchk(tmp, prefix, limits, deadline,
                                                              run)), daemon=True)
            thread.start()
        try:
            target = self._statement(tmp, stmt, imports, prefix, limits, deadline, run,
                                     with_assumptions=not self.options.coqchk)
        finally:
            if thread is not None:
                thread.join()
        if isinstance(target, Verdict):
            return target
        ev["statement_comparison"] = (
            f"{stmt.name} has the pinned statement (module subtyping, checked by the kernel)")
        own: dict[str, list[str]] = {}
        if self.options.coqchk:
            result = chk.get("result")
            if result is None:
                return needs_review("harness_error", "coqchk step did not finish", ev)
            if isinstance(result, Verdict):
                return result
            own, environment, coqchk_out = result
            ev["coqchk"] = coqchk_out
            pending = [a for a in environment if a not in self.options.allowed_axioms
                       and not a.startswith(_BENIGN_SEALED)]
            # coqchk's summary omits definitional UIP; only the gate (which refuses
            # "Definitional UIP") makes skipping Print Assumptions complete.
            if own or pending or not self.use_gate:
                target = self._statement(tmp, stmt, imports, prefix, limits, deadline, run,
                                         with_assumptions=True)
                if isinstance(target, Verdict):
                    return target
            else:
                ev["axioms"] = []
                allowed = [a for a in environment if a in self.options.allowed_axioms]
                sealed = len(environment) - len(allowed)
                ev["print_assumptions"] = (
                    "skipped: coqchk lists no axiom in the loaded environment outside the "
                    "allow-list" + (f"; allowed ones loaded: {', '.join(allowed)}" if allowed
                                    else "")
                    + (f"; {sealed} sealed standard-library field(s) ignored" if sealed
                       else ""))
        if target is not None:
            verdict = self._judge(target, stmt, proof, prefix, tmp, ev)
            if verdict is not None:
                return verdict
        if own:
            ev["coqchk_declared"] = own
            return needs_review(
                "axiom_used",
                "the candidate library declares assumptions or unsafe definitions "
                "(not used by the target): "
                + "; ".join(f"{t}: {', '.join(n[:3])}" for t, n in own.items()), ev)
        ev["steps_seconds"] = {k: round(v, 4) for k, v in run.steps.items()}
        used = ev.get("axioms") or []
        return verified(
            "proof_checked",
            f"coqc accepts {stmt.name} with exactly the pinned statement"
            + (f"; allowed axioms used: {', '.join(used)}" if used else "; no axioms")
            + ("; re-checked by coqchk" if self.options.coqchk else ""),
            ev)

    def _statement(self, tmp: Path, stmt: Statement, imports: list[str], prefix: str,
                   limits: Limits, deadline: float, run: _Run, *, with_assumptions: bool
                   ) -> Verdict | list[Assumption] | None:
        """Layer 3: the harness file; the target's assumptions when asked for them."""
        for stale in tmp.glob("*.out"):  # only the harness may write what is read back
            stale.unlink()
        harness, lines = self._harness(stmt, imports, prefix, with_assumptions)
        (tmp / "Harness.v").write_text(harness, encoding="utf-8")
        step = "assumptions" if with_assumptions and self.options.coqchk else "harness"
        res = self._run([self._coqc or "coqc", "-q", "-Q", str(tmp), prefix,
                         str(tmp / "Harness.v")], tmp, limits, deadline, run, step)
        if isinstance(res, Verdict):
            return res
        if res.returncode != 0:
            return self._harness_failure(res, lines, stmt, prefix, tmp, run.evidence)
        if not with_assumptions:
            return None
        ev = run.evidence
        target_text = (tmp / "target.out").read_text(encoding="utf-8", errors="replace") \
            if (tmp / "target.out").exists() else ""
        target = parse_assumptions(target_text)
        ev["print_assumptions"] = _cut(self._scrub(target_text, prefix, tmp), 800)
        if target is None:
            return needs_review("weak_evidence", "could not read Print Assumptions output",
                                ev)
        allowed_printed = self._allowed_printed(tmp)
        if allowed_printed is None:
            return needs_review("harness_error", "could not read the allow-list probes", ev)
        return [Assumption(a.name, "allowed" if a.kind == "axiom" and a.name in
                           allowed_printed else a.kind, a.text) for a in target]

    def _judge(self, target: list[Assumption], stmt: Statement, proof: str, prefix: str,
               tmp: Path, ev: dict[str, Any]) -> Verdict | None:
        """Refute a target that relies on disabled checks or on unallowed assumptions."""
        ev["axioms"] = [self._scrub(a.name, prefix, tmp) for a in target]
        unsafe = [a for a in target if a.kind not in ("axiom", "allowed")]
        if unsafe:
            ev["unsafe"] = [self._scrub(a.text, prefix, tmp) for a in unsafe]
            return refuted("axiom_used",
                           f"{stmt.name} relies on disabled kernel checks: "
                           + "; ".join(self._scrub(a.text, prefix, tmp) for a in unsafe[:3]),
                           ev)
        bad = [a for a in target if a.kind == "axiom"]
        if bad:
            names = [self._scrub(a.name, prefix, tmp) for a in bad]
            reason = "sorry_used" if re.search(r"\bAdmitted\b|\badmit\b",
                                               blank_comments_and_strings(proof)) \
                else "axiom_used"
            return refuted(reason, f"{stmt.name} depends on assumptions outside the "
                                   f"allow-list: {', '.join(names[:5])}", ev)
        return None

    def _harness(self, stmt: Statement, imports: list[str], prefix: str,
                 with_assumptions: bool = True) -> tuple[str, dict[str, int]]:
        """The harness-owned file and the line number where each part starts."""
        parts: list[tuple[str, str]] = []
        parts += [("imports", line) for line in imports]
        parts += [
            ("statement", "Module Type __SynthvetSpec."),
            ("statement", f"  {stmt.keyword} __synthvet_pinned {stmt.rest}."),
            ("statement", "  Admitted."),
            ("statement", "End __SynthvetSpec."),
        ]
        parts += [("allow_libs", f"Require {lib}.") for lib in self._allowed_libs]
        parts += [
            ("require", f"Require {prefix}.Cand."),
            ("lookup", "Module __SynthvetImpl <: __SynthvetSpec."),
            # "@": no implicit arguments inserted; the constant itself is compared
            ("lookup", f"  Definition __synthvet_pinned := @{prefix}.Cand.{stmt.name}."),
            ("compare", "End __SynthvetImpl."),
        ]
        # Belt and braces: the gate refuses printing options, but reset the ones that
        # change how names are shown before reading anything.
        if not with_assumptions:
            parts = [p for p in parts if p[0] != "allow_libs"]
        parts += [] if not with_assumptions else [("print", s) for s in (
            "Unset Printing All.", "Set Printing Notations.", "Unset Printing Implicit.",
            "Unset Printing Coercions.", "Unset Printing Universes.",
            "Set Printing Width 1000.", "Set Printing Depth 1000000.")]
        if with_assumptions:
            parts.append(("print", ('Redirect "target" Print Assumptions '
                                    "__SynthvetImpl.__synthvet_pinned.")))
            for i, axiom in enumerate(self.options.allowed_axioms):
                parts.append(("print", f'Redirect "allow{i}" Print Assumptions {axiom}.'))
        lines: dict[str, int] = {}
        text_lines: list[str] = []
        for part, line in parts:
            lines.setdefault(part, len(text_lines) + 1)
            text_lines.extend(line.split("\n"))
        return "\n".join(text_lines) + "\n", lines

    def _allowed_printed(self, tmp: Path) -> set[str] | None:
        """The allowed axioms as ``Print Assumptions`` shows them in the same context:
        comparing printed names from one context is comparing the objects themselves."""
        names: set[str] = set()
        for i in range(len(self.options.allowed_axioms)):
            path = tmp / f"allow{i}.out"
            if not path.exists():
                return None
            parsed = parse_assumptions(path.read_text(encoding="utf-8", errors="replace"))
            if parsed is None:
                return None
            names.update(a.name for a in parsed if a.kind == "axiom")
        return names

    def _coqchk(self, tmp: Path, prefix: str, limits: Limits, deadline: float, run: _Run
                ) -> Verdict | tuple[dict[str, list[str]], list[str], str]:
        """Layer 4: coqchk re-checks Cand.vo (its dependencies, the installed standard
        library, are trusted). Returns what the candidate declares (by coqchk section),
        every other axiom in the loaded environment (full names) and the summary text."""
        if self._coqchk_bin is None:
            return needs_review("checker_unavailable",
                                f"{self.options.coqchk_path!r} not found on PATH (or set "
                                "coq_coqchk = false)", {})
        res = self._run([self._coqchk_bin, "-silent", "-o", "-Q", str(tmp), prefix,
                         "-norec", f"{prefix}.Cand"], tmp, limits, deadline, _Run(run.steps),
                        "coqchk")
        if isinstance(res, Verdict):
            return res
        out = self._scrub(res.stdout + res.stderr, prefix, tmp)
        if res.returncode != 0:
            return self._failure(res, "coqc accepted the library but coqchk rejected it",
                                 {"coqchk": _cut(out)}, "checker_disagreement", review=True)
        summary = parse_coqchk_summary(res.stdout + "\n" + res.stderr)
        if summary is None:
            return needs_review("weak_evidence", "could not read coqchk's context summary",
                                {"coqchk": _cut(out)})
        if "Axioms" not in summary:
            return needs_review("weak_evidence", "coqchk's context summary lists no Axioms "
                                "section", {"coqchk": _cut(out)})
        summary.pop("Theory", None)
        own = {title: [n.replace(prefix + ".", "", 1) for n in names
                       if n.startswith(prefix + ".")]
               for title, names in summary.items()}
        own = {t: n for t, n in own.items() if n}
        environment = sorted(n for names in summary.values() for n in names
                             if not n.startswith(prefix + "."))
        text = out.split("CONTEXT SUMMARY", 1)[-1]
        return own, environment, _cut("CONTEXT SUMMARY" + text, 1200)

    # ------------------------------------------------------------------ helpers
    def _run(self, argv: list[str], tmp: Path, limits: Limits, deadline: float, run: _Run,
             step: str) -> ProcessResult | Verdict:
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            return needs_review("timeout", f"no time left for step {step!r}",
                                {"step": step, **run.evidence})
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp),
               "LANG": "C.UTF-8", "TMPDIR": str(tmp)}
        rl = RLimits(cpu_seconds=int(remaining) + 2, memory_mb=limits.memory_mb,
                     file_size_mb=256, open_files=256)
        try:
            res = run_limited(argv, timeout=remaining, cwd=str(tmp), env=env, rlimits=rl,
                              max_output=1 << 20)
        except OSError as exc:
            return needs_review("checker_unavailable", f"cannot run {argv[0]}: {exc}",
                                {"step": step})
        run.steps[step] = res.seconds
        if res.timed_out or res.signal in (9, 24):  # SIGKILL, SIGXCPU
            return needs_review("timeout", f"{step}: no answer within the time limit "
                                           f"({remaining:.1f} s)",
                                {"step": step, **run.evidence})
        return res

    def _failure(self, res: ProcessResult, what: str, ev: dict[str, Any],
                 reason: str, *, review: bool = False) -> Verdict:
        text = res.stdout + res.stderr
        if re.search(r"out of memory|stack overflow", text, re.IGNORECASE) or res.signal is not None:
            return needs_review("resource_limit", f"{what}: the checker ran out of memory or "
                                                  "stack", ev)
        if "Cannot find a physical path bound to logical path" in text or \
                "Unable to locate library" in text:
            return needs_review("checker_unavailable",
                                f"{what}: it needs a library that is not installed here", ev)
        first = _first_error(ev.get("coqc_messages", text))
        return (needs_review if review else refuted)(reason, f"{what}: {first}", ev)

    def _harness_failure(self, res: ProcessResult, lines: dict[str, int], stmt: Statement,
                         prefix: str, tmp: Path, ev: dict[str, Any]) -> Verdict:
        text = self._scrub(res.stdout + res.stderr, prefix, tmp)
        ev["harness_messages"] = _cut(text)
        m = re.search(r'File "[^"]*Harness\.v", line (\d+)', res.stdout + res.stderr)
        line = int(m.group(1)) if m else -1
        part = max((p for p in lines.items() if p[1] <= line), key=lambda p: p[1],
                   default=("?", 0))[0]
        first = _first_error(text)
        if re.search(r"out of memory|stack overflow", text, re.IGNORECASE):
            return needs_review("resource_limit", "the statement check ran out of memory", ev)
        if part in ("imports", "statement"):
            if "Cannot find a physical path" in text or "Unable to locate library" in text:
                return needs_review("checker_unavailable",
                                    f"the imports need a library not installed here: {first}",
                                    ev)
            return needs_review("parse_error",
                                f"the pinned statement does not elaborate: {first}", ev)
        if part in ("lookup", "compare") and "Universe inconsistency" in text:
            ev["statement_comparison"] = first
            return needs_review("statement_changed",
                                f"could not compare {stmt.name} with the pinned statement "
                                f"(universes): {first}", ev)
        if part == "lookup":
            if "not found" in text:
                return refuted("statement_changed",
                               f"the candidate defines no {stmt.name!r} at top level (never "
                               "stated, aborted, or nested in a module)", ev)
            return refuted("statement_changed", f"{stmt.name}: {first}", ev)
        if part == "compare":
            ev["statement_comparison"] = first
            return refuted("statement_changed",
                           f"{stmt.name} does not have the pinned statement: {first}", ev)
        return needs_review("harness_error", f"the harness file failed at {part}: {first}",
                            ev)

    @staticmethod
    def _scrub(text: str, prefix: str, tmp: Path) -> str:
        """Evidence without the random prefix and temporary paths (stable across runs)."""
        return text.replace(str(tmp) + "/", "").replace(str(tmp), ".") \
            .replace(prefix + ".", "").replace(prefix, "SV")

    @staticmethod
    def _gate_verdict(findings: list[GateFinding]) -> Verdict:
        ev = {"gate": [{"kind": f.kind, "what": f.what, "line": f.line} for f in findings]}
        kinds = {f.kind for f in findings}
        listed = ", ".join(f"{f.what} (line {f.line})" for f in findings[:4])
        if "sorry" in kinds:
            return refuted("sorry_used", f"the proof is admitted: {listed}", ev)
        if "kernel_bypass" in kinds:
            return refuted("axiom_used", f"the proof disables kernel checks: {listed}", ev)
        return needs_review("unsafe_command",
                            f"the proof uses commands synthvet does not run: {listed}", ev)

    @staticmethod
    def _libraries_of(axioms: Sequence[str]) -> list[str]:
        """The library (.vo) holding each allowed axiom: its longest existing prefix."""
        from synthvet.errors import UsageError

        if not axioms:
            return []
        coqlib = _coqlib()
        libs: list[str] = []
        for axiom in axioms:
            parts = axiom.split(".")
            for k in range(len(parts) - 1, 1, -1):
                if coqlib is not None and (coqlib / "theories" / Path(*parts[1:k])
                                           ).with_suffix(".vo").exists():
                    lib = ".".join(parts[:k])
                    if lib not in libs:
                        libs.append(lib)
                    break
            else:
                if coqlib is not None:
                    raise UsageError(f"coq_allowed_axioms: no standard library file holds "
                                     f"{axiom!r} (looked under {coqlib}/theories)")
        return libs


def _coqlib() -> Path | None:
    for candidate in ("/usr/lib/ocaml/coq", "/usr/local/lib/coq", "/usr/lib/coq"):
        if Path(candidate, "theories", "Init", "Prelude.vo").exists():
            return Path(candidate)
    coqc = shutil.which("coqc")
    if coqc is None:
        return None
    import subprocess

    try:
        out = subprocess.run([coqc, "-where"], capture_output=True, text=True, timeout=10,
                             check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


def _first_error(text: str) -> str:
    """The first ``Error:`` message of coqc's output, on one line."""
    m = re.search(r"Error:(.*?)(?:\n(?=File \")|\Z)", text, re.DOTALL)
    msg = " ".join((m.group(1) if m else text).split())
    return msg[:300] if msg else "no message"
