"""The grep gate: tricks that make a Lean file "compile" without proving anything.

The gate reads the candidate's code with comments and string literals blanked
(:func:`~synthvet.verifiers.lean._source.code_only`), so a comment that says "no sorry
here" does not trip it. It runs before Lean and does not replace Lean's own checks
(sorries, ``#print axioms``, the pinned statement); it catches what those checks cannot
see or what would let a candidate tamper with them (metaprograms that add declarations
without the kernel, ``#exit``, ``debug.skipKernelTC``, compiler overrides that
``native_decide`` would trust).

Each rule says what it finds and what follows: ``refuted`` for constructs that are a
fake wherever they appear (``sorry``, ``axiom``, ``native_decide``…), ``needs_review`` for
constructs with honest uses that synthvet cannot check (macros, ``unsafe``, a foreign
``import``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from synthvet.verifiers.lean._source import CHECK, PINNED, code_only

__all__ = ["GateRule", "GateHit", "RULES", "scan"]

Outcome = Literal["refuted", "needs_review"]

_W = r"(?<![\w.'!?])"  # not preceded by an identifier character
_E = r"(?![\w'!?])"  # not followed by one


@dataclass(frozen=True, slots=True)
class GateRule:
    id: str
    pattern: re.Pattern[str]
    outcome: Outcome
    reason: str
    detail: str
    #: match the raw text (string literals included: notation tokens are strings), but
    #: only where the match starts in code, not in a comment
    raw: bool = False
    #: match the raw text everywhere, comments and strings included
    anywhere: bool = False


@dataclass(frozen=True, slots=True)
class GateHit:
    rule: GateRule
    line: int
    text: str

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule.id, "line": self.line, "text": self.text[:120]}


def _rule(id: str, pattern: str, outcome: Outcome, reason: str, detail: str,
          raw: bool = False, anywhere: bool = False) -> GateRule:
    return GateRule(id, re.compile(pattern, re.MULTILINE), outcome, reason, detail, raw,
                    anywhere)


_HARNESS_TOKENS = r"(?:type_of%|_root_|#print|axioms|theorem|@)"

RULES: Final[tuple[GateRule, ...]] = (
    _rule("sorry", _W + r"sorry" + _E, "refuted", "sorry_used", "uses `sorry`"),
    _rule("admit", _W + r"admit" + _E, "refuted", "sorry_used", "uses `admit`"),
    _rule("sorryAx", r"sorryAx", "refuted", "sorry_used", "names `sorryAx`"),
    _rule("stop", r"^[ \t]*(?:[·.][ \t]*)?stop" + _E, "refuted", "sorry_used",
          "uses the `stop` tactic (closes the goal with `sorry`)"),
    _rule("axiom", _W + r"axiom" + _E, "refuted", "axiom_used", "declares an `axiom`"),
    _rule("native_decide", r"native_decide|(?<![\w'])(?:ofReduce|reduce)(?:Bool|Nat)" + _E,
          "refuted", "axiom_used",
          "uses `native_decide` (trusts the compiler: axiom Lean.ofReduceBool)"),
    _rule("decide_native", r"\+native" + _E + r"|" + _W + r"native\s*:=\s*true",
          "refuted", "axiom_used", "asks `decide` to trust the compiler (native)"),
    _rule("implemented_by", _W + r"implemented_by" + _E, "refuted", "forbidden_construct",
          "overrides compiled code with `implemented_by`"),
    _rule("extern", _W + r"extern" + _E, "refuted", "forbidden_construct",
          "overrides compiled code with `extern`"),
    _rule("skipKernelTC", r"skipKernelTC", "refuted", "forbidden_construct",
          "turns the kernel's type checking off (`debug.skipKernelTC`)"),
    _rule("exit", r"#exit" + _E, "refuted", "forbidden_construct",
          "stops checking early with `#exit`"),
    _rule("debug_option", r"set_option\s+debug\.", "needs_review", "forbidden_construct",
          "sets a `debug.` option"),
    _rule("unsafe", _W + r"unsafe\w*", "needs_review",
          "forbidden_construct", "uses `unsafe` code"),
    _rule("csimp", _W + r"csimp" + _E, "needs_review", "forbidden_construct",
          "registers a compiler rewrite `@[csimp]`"),
    _rule("metaprogram",
          _W + r"(?:macro_rules|macro|elab_rules|elab|syntax|declare_syntax_cat|run_cmd|"
          r"run_tac|run_elab|run_meta|by_elab|initialize|builtin_initialize|simproc|"
          r"dsimproc|addDecl|addAndCompile|replaceConst|modifyEnv|setEnv)" + _E,
          "needs_review", "metaprogram",
          "defines or runs a metaprogram (could add declarations without the kernel or "
          "rewrite the harness's commands)"),
    _rule("meta_attribute",
          r"(?:@\[|attribute\s*\[)[^\]]*(?<![\w'])(?:command_elab|term_elab|tactic|macro|"
          r"delab|app_unexpander|app_delab|command_parser|term_parser|tactic_parser|init|"
          r"env_extension|builtin_\w+)(?![\w'])", "needs_review", "metaprogram",
          "registers an elaborator, parser or initializer by attribute"),
    _rule("meta_api",
          r"(?<![\w'.])open\s+(?:[\w.]+\s+)*Lean(?![\w'.])|(?<![\w'.])Lean\.(?:Elab|Meta|"
          r"Parser|Environment|Compiler|Kernel|PrettyPrinter|Server|Widget|Syntax|Macro|Core|"
          r"Declaration|Expr|Name|Options|addDecl|MessageData|log\w*)|(?<![\w'.])(?:"
          r"CommandElabM?|TermElabM?|TacticM|MetaM|CoreM|MacroM|Environment|logInfo\w*)"
          + _E, "needs_review", "metaprogram",
          "uses Lean's metaprogramming API (elaborators, the environment, messages)"),
    _rule("eval", r"#(?:eval|print)" + _E, "needs_review",
          "metaprogram", "runs `#eval`/`#print` (code or output the harness cannot trust)"),
    _rule("notation_on_harness",
          _W + r"(?:notation|infixl|infixr|infix|prefix|postfix)" + _E + r"[^\n]*" +
          _HARNESS_TOKENS, "needs_review", "metaprogram",
          "declares notation over a token the harness's own commands use", raw=True),
    _rule("fake_axioms_output", r"depends on axioms|does not depend on any axioms",
          "needs_review", "forbidden_construct",
          "contains the text of `#print axioms` output (could pass for the harness's)",
          anywhere=True),
    _rule("reserved", r"__synthvet", "needs_review", "forbidden_construct",
          f"names a harness-reserved identifier ({PINNED}/{CHECK})"),
)


def scan(text: str, rules: Sequence[GateRule] = RULES) -> list[GateHit]:
    """Every rule hit in the code of ``text`` (comments and strings ignored), in order."""
    code = code_only(text)
    hits: list[GateHit] = []
    for rule in rules:
        for m in rule.pattern.finditer(text if rule.raw or rule.anywhere else code):
            if rule.raw and not rule.anywhere and code[m.start()].isspace():
                continue  # starts inside a comment or string
            line = code.count("\n", 0, m.start()) + 1
            start = code.rfind("\n", 0, m.start()) + 1
            end = code.find("\n", m.end())
            hits.append(GateHit(rule, line, text[start: end if end >= 0 else len(text)]
                                .strip()))
            break  # one hit per rule is enough evidence
    return hits
