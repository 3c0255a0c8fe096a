"""With a real Lean 4 (`lean` on PATH): honest proofs verified, each fake not verified.

Lean cannot be installed on the machines synthvet is developed on, so here these tests
SKIP with that reason; they run wherever `lean` is on PATH (core Lean only: no Mathlib
needed). Set ``SYNTHVET_LEAN_REPL`` to a REPL command (e.g. ``lake env repl`` run from a
REPL checkout, or the built binary) to run the same cases through the warm REPL too.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest

from synthvet.model import Limits, Status
from synthvet.verifiers.lean import LeanChecker
from synthvet.verifiers.lean._source import parse_header, parse_statement

pytestmark = [
    pytest.mark.lean,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("lean") is None,
                       reason="no `lean` on PATH (Lean cannot be installed on this machine)"),
]

LIMITS = Limits(seconds=120)

HONEST = [
    ("rfl", "theorem t (n : Nat) : n + 0 = n", "theorem t (n : Nat) : n + 0 = n := rfl"),
    ("simp", "theorem t (a b : Nat) : a + b = b + a",
     "theorem t (a b : Nat) : a + b = b + a := by omega"),
    ("classical", "theorem t (p : Prop) : p ∨ ¬p",
     "theorem t (p : Prop) : p ∨ ¬p := Classical.em p"),
    ("helper", "theorem t (n : Nat) : 0 + n = n",
     "theorem helper (n : Nat) : 0 + n = n := by induction n <;> simp\n\n"
     "theorem t (n : Nat) : 0 + n = n := helper n"),
    ("decide", "theorem t : 2 + 2 = 4", "theorem t : 2 + 2 = 4 := by decide"),
    ("open-in", "theorem t (n : Nat) : n + 0 = n",
     "open Nat in\ntheorem t (n : Nat) : n + 0 = n := Nat.add_zero n"),
]

FAKES = [
    ("sorry", "theorem t (n : Nat) : n + 0 = n", "theorem t (n : Nat) : n + 0 = n := sorry"),
    ("admitted-helper", "theorem t : 1 = 2",
     "theorem h : 1 = 2 := by sorry\ntheorem t : 1 = 2 := h"),
    ("axiom", "theorem t : 1 = 2", "axiom cheat : 1 = 2\ntheorem t : 1 = 2 := cheat"),
    ("native_decide", "theorem t : 2 + 2 = 4", "theorem t : 2 + 2 = 4 := by native_decide"),
    ("weaker", "theorem t (n : Nat) : n + 1 = 1 + n",
     "theorem t (n : Nat) (h : n = 0) : n + 1 = 1 + n := by subst h; rfl"),
    ("other-statement", "theorem t (n : Nat) : n * 0 = 1",
     "theorem t (n : Nat) : n * 0 = 0 := Nat.mul_zero n"),
    ("wrong-name", "theorem t : True", "theorem t' : True := trivial"),
    ("notation", "theorem t : 2 + 3 = 6",
     "local infixl:65 \" + \" => Nat.mul\ntheorem t : 2 + 3 = 6 := rfl"),
    ("namespace", "theorem t : True", "namespace X\ntheorem t : True := trivial\nend X"),
    ("exit", "theorem t : 1 = 2", "#exit\ntheorem t : 1 = 2 := rfl"),
    ("skipKernelTC", "theorem t : 1 = 2",
     "set_option debug.skipKernelTC true in\ntheorem t : 1 = 2 := by decide"),
    ("unterminated-comment", "theorem t : True",
     "theorem t' : 1 = 2 := by\n  exact?\n/-"),
    ("error", "theorem t : 1 = 2", "theorem t : 1 = 2 := rfl"),
    ("variable-hypothesis", "theorem t (n : Nat) : n = 0",
     "variable (h : ∀ n : Nat, n = 0)\ninclude h\ntheorem t (n : Nat) : n = 0 := h n"),
]


def checkers() -> list[tuple[str, LeanChecker]]:
    out = [("lean", LeanChecker({"mode": "lean"}))]
    repl = os.environ.get("SYNTHVET_LEAN_REPL")
    if repl:
        out.append(("repl", LeanChecker({"mode": "repl", "repl": repl})))
    return out


@pytest.mark.parametrize("statement,proof", [c[1:] for c in HONEST], ids=[c[0] for c in HONEST])
def test_honest_proofs_verify(statement: str, proof: str) -> None:
    for label, checker in checkers():
        verdict = checker.check(statement, proof, [], LIMITS)
        assert verdict.status is Status.VERIFIED, (label, verdict)


@pytest.mark.parametrize("statement,proof", [c[1:] for c in FAKES], ids=[c[0] for c in FAKES])
def test_fakes_are_not_verified(statement: str, proof: str) -> None:
    for label, checker in checkers():
        verdict = checker.check(statement, proof, [], LIMITS)
        assert verdict.status is not Status.VERIFIED, (label, verdict)


@pytest.mark.parametrize("statement,proof,reason", [
    ("theorem t (n : Nat) : n + 0 = n", "theorem t (n : Nat) : n + 0 = n := sorry",
     "sorry_used"),
    ("theorem t : 1 = 2", "axiom cheat : 1 = 2\ntheorem t : 1 = 2 := cheat", "axiom_used"),
    ("theorem t : 2 + 2 = 4", "theorem t : 2 + 2 = 4 := by native_decide", "axiom_used"),
], ids=["sorry", "axiom", "native_decide"])
def test_lean_itself_catches_what_the_gate_catches(statement: str, proof: str,
                                                   reason: str) -> None:
    """Bypass the grep gate: Lean's own answers (sorries, #print axioms) must suffice."""
    st = parse_statement(statement)
    header = parse_header([])
    assert not isinstance(st, str) and not isinstance(header, str)
    checker = LeanChecker({"mode": "lean"})
    verdict = checker._check_binary(st, header, proof, LIMITS,
                                    time.monotonic() + LIMITS.inner_seconds(), {})
    assert (verdict.status, verdict.reason) == (Status.REFUTED, reason), verdict
