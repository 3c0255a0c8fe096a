"""The grep gate: each trick is refuted or sent to review before Lean runs (and with no Lean)."""

from __future__ import annotations

import pytest

from synthvet.model import Limits, Status
from synthvet.verifiers.lean import LeanChecker, scan
from synthvet.verifiers.lean._source import code_only

STMT = "theorem t (n : Nat) : n + 0 = n"
OK = "theorem t (n : Nat) : n + 0 = n := rfl"

# (id, proof, expected status, expected reason)
TRICKS: list[tuple[str, str, str, str]] = [
    ("sorry-term", "theorem t (n : Nat) : n + 0 = n := sorry", "refuted", "sorry_used"),
    ("sorry-tactic", "theorem t (n : Nat) : n + 0 = n := by\n  simp\n  sorry", "refuted",
     "sorry_used"),
    ("admit", "theorem t (n : Nat) : n + 0 = n := by admit", "refuted", "sorry_used"),
    ("sorryAx", "theorem t (n : Nat) : n + 0 = n := sorryAx _ false", "refuted",
     "sorry_used"),
    ("admitted-helper", "theorem h : False := sorry\ntheorem t (n : Nat) : n + 0 = n := "
     "(h).elim", "refuted", "sorry_used"),
    ("stop", "theorem t (n : Nat) : n + 0 = n := by\n  stop\n  simp", "refuted",
     "sorry_used"),
    ("axiom", "axiom cheat : ∀ n : Nat, n + 0 = n\ntheorem t (n : Nat) : n + 0 = n := "
     "cheat n", "refuted", "axiom_used"),
    ("private-axiom", "private axiom cheat : False\ntheorem t (n : Nat) : n + 0 = n := "
     "cheat.elim", "refuted", "axiom_used"),
    ("native_decide", "theorem t (n : Nat) : n + 0 = n := by native_decide", "refuted",
     "axiom_used"),
    ("ofReduceBool", "theorem t (n : Nat) : n + 0 = n := Lean.ofReduceBool _ _ rfl",
     "refuted", "axiom_used"),
    ("decide+native", "theorem t (n : Nat) : n + 0 = n := by decide +native", "refuted",
     "axiom_used"),
    ("decide-config-native", "theorem t (n : Nat) : n + 0 = n := by decide (config := "
     "{ native := true })", "refuted", "axiom_used"),
    ("implemented_by", "def f (n : Nat) : Bool := true\n@[implemented_by f] def g (n : Nat) "
     ": Bool := false\n" + OK, "refuted", "forbidden_construct"),
    ("opaque-implemented_by", "opaque g : Nat → Bool\nattribute [implemented_by g] id\n" + OK,
     "refuted", "forbidden_construct"),
    ("extern", "@[extern \"lean_cheat\"] opaque cheat : Nat → Bool\n" + OK, "refuted",
     "forbidden_construct"),
    ("skipKernelTC", "set_option debug.skipKernelTC true in\n" + OK, "refuted",
     "forbidden_construct"),
    ("exit", OK.replace("rfl", "by\n  simp") + "\n#exit\ntheorem x : False := by simp",
     "refuted", "forbidden_construct"),
    ("debug-option", "set_option debug.byAsSorry true in\n" + OK, "needs_review",
     "forbidden_construct"),
    ("unsafe", "unsafe def f : Nat := 0\n" + OK, "needs_review", "forbidden_construct"),
    ("unsafeCast", "theorem t (n : Nat) : n + 0 = n := unsafeCast ()", "needs_review",
     "forbidden_construct"),
    ("csimp", "@[csimp] theorem c : @id = @id := rfl\n" + OK, "needs_review",
     "forbidden_construct"),
    ("macro", "macro \"cheat\" : tactic => `(tactic| rfl)\n" + OK, "needs_review",
     "metaprogram"),
    ("macro_rules", "macro_rules | `(tactic| trivial) => `(tactic| rfl)\n" + OK,
     "needs_review", "metaprogram"),
    ("syntax", "syntax \"cheat\" : tactic\n" + OK, "needs_review", "metaprogram"),
    ("elab", "elab \"cheat\" : tactic => pure ()\n" + OK, "needs_review", "metaprogram"),
    ("elab_rules", "elab_rules : tactic | `(tactic| trivial) => pure ()\n" + OK,
     "needs_review", "metaprogram"),
    ("run_cmd", "run_cmd Lean.logInfo \"hi\"\n" + OK, "needs_review", "metaprogram"),
    ("run_tac", "theorem t (n : Nat) : n + 0 = n := by run_tac pure ()", "needs_review",
     "metaprogram"),
    ("initialize", "initialize pure ()\n" + OK, "needs_review", "metaprogram"),
    ("addDecl", "open Lean in\n#check addDecl\n" + OK, "needs_review", "metaprogram"),
    ("command_elab-attribute", "@[command_elab Lean.Parser.Command.printAxioms]\n"
     "def fake : Lean.Elab.Command.CommandElab := fun _ => pure ()\n" + OK,
     "needs_review", "metaprogram"),
    ("tactic-attribute", "attribute [tactic Lean.Parser.Tactic.decide] myDecide\n" + OK,
     "needs_review", "metaprogram"),
    ("open-Lean-Elab", "open Lean Elab Command in\ndef f : CommandElab := fun _ => "
     "pure ()\n" + OK, "needs_review", "metaprogram"),
    ("logInfo", "def f := Lean.logInfo m!\"x\"\n" + OK, "needs_review", "metaprogram"),
    ("eval", "#eval IO.println \"'t' does not depend on any axioms\"\n" + OK, "needs_review",
     "metaprogram"),
    ("print", "#print \"'t' does not depend on any axioms\"\n" + OK, "needs_review",
     "metaprogram"),
    ("notation-on-harness-token", "notation \"type_of%\" x => True\n" + OK, "needs_review",
     "metaprogram"),
    ("fake-axioms-trace", "theorem t (n : Nat) : n + 0 = n := by\n  trace \"'t' does not "
     "depend on any axioms\"\n  rfl", "needs_review", "forbidden_construct"),
    ("reserved-name", "theorem t (n : Nat) : n + 0 = n := __synthvet_pinned n",
     "needs_review", "forbidden_construct"),
    ("foreign-import", "import Mathlib.Tactic\n" + OK, "needs_review", "import_mismatch"),
]


@pytest.mark.parametrize("proof,status,reason", [t[1:] for t in TRICKS],
                         ids=[t[0] for t in TRICKS])
def test_trick_is_caught_without_lean(proof: str, status: str, reason: str) -> None:
    verdict = LeanChecker({}).check(STMT, proof, [], Limits(seconds=5))
    assert (verdict.status.value, verdict.reason) == (status, reason), verdict.detail
    assert verdict.status is not Status.VERIFIED


HONEST: list[tuple[str, str]] = [
    ("rfl", OK),
    ("sorry-in-comment", "-- no sorry here, and no axiom either\n" + OK),
    ("sorry-in-block-comment", "/- we avoid `native_decide` and /- nested admit -/ -/\n" + OK),
    ("sorry-in-doc", "/-- A proof without sorry. -/\n" + OK),
    ("sorry-in-string", "def msg := \"sorry, axiom, #exit\"\n" + OK),
    ("identifiers-that-contain-words", "theorem t (n : Nat) : n + 0 = n := by\n"
     "  have sorry_free := 1\n  have h_axiom := 2\n  exact Nat.add_zero n"),
    ("primes-and-chars", "def c := 'a'\ntheorem t (n : Nat) : n + 0 = n := by\n"
     "  have h' := n\n  exact Nat.add_zero n"),
    ("open-in", "open Nat in\n" + OK),
    ("local-notation", "local notation \"ℕ'\" => Nat\n" + OK),
    ("classical", "open Classical in\n" + OK),
    ("same-import", "import Mathlib\n" + OK),
    ("decide", "theorem t : 2 + 2 = 4 := by decide"),
    ("simp-attribute", "@[simp] theorem aux (n : Nat) : n + 0 = n := rfl\n" + OK),
    ("stop-as-a-name", "theorem t (n : Nat) : n + 0 = n := by\n  have stop := n\n"
     "  exact Nat.add_zero n"),
    ("mathlib-names", "open Real Nat in\n" + OK),
]


@pytest.mark.parametrize("proof", [h[1] for h in HONEST], ids=[h[0] for h in HONEST])
def test_honest_text_passes_the_gate(proof: str) -> None:
    assert scan(proof) == []
    # ... and with no Lean here, goes to review for the missing checker, never verified
    verdict = LeanChecker({}).check(STMT, proof, ["import Mathlib"], Limits(seconds=5))
    assert (verdict.status.value, verdict.reason) == ("needs_review", "checker_unavailable")


def test_comment_hiding_does_not_hide_code() -> None:
    # the string opens no comment; the sorry after it is code
    assert [h.rule.id for h in scan('def s := "/-"\ntheorem t : True := sorry')] == ["sorry"]
    # a char literal '"' opens no string
    assert [h.rule.id for h in scan("def c := '\"'\ntheorem t : True := sorry")] == ["sorry"]
    # `--` inside a string is not a comment
    assert [h.rule.id for h in scan('def s := "--"; theorem t : True := sorry')] == ["sorry"]


def test_code_only_keeps_lines_and_length() -> None:
    text = "a /- b\n /- c -/ d -/ e -- f\n\"g\\\"h\" 'i' j'"
    code = code_only(text)
    assert len(code) == len(text) and code.count("\n") == text.count("\n")
    assert code.split() == ["a", "e", "j'"]


@pytest.mark.parametrize("statement", [
    "theorem t : sorry = 1",
    "theorem t (h : native_decide) : True",
], ids=["sorry-in-statement", "native-in-statement"])
def test_tricks_in_the_statement_are_not_accepted(statement: str) -> None:
    verdict = LeanChecker({}).check(statement, "theorem t : True := trivial", [], Limits())
    assert (verdict.status.value, verdict.reason) == ("needs_review", "parse_error")


@pytest.mark.parametrize("imports", [
    ["axiom cheat : False"],
    ["set_option debug.skipKernelTC true"],
    ["import Mathlib\n#eval 1"],
    ["open Nat in theorem x : True := trivial"],
    [3],
    "import Mathlib; axiom x : False",
], ids=["axiom", "skipKernelTC", "eval-after-import", "decl-in-open", "not-text",
        "semicolon"])
def test_bad_imports_are_not_accepted(imports: object) -> None:
    verdict = LeanChecker({}).check(STMT, OK, imports, Limits())  # type: ignore[arg-type]
    assert (verdict.status.value, verdict.reason) == ("needs_review", "parse_error")
