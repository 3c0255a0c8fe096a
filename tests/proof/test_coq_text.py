"""The Coq checker's text handling (no coqc needed): lexing, the gate, statement and
import parsing, and reading coqc/coqchk output."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synthvet.verifiers.coq import (
    InputProblem,
    blank_comments_and_strings,
    candidate_text,
    gate,
    parse_assumptions,
    parse_coqchk_summary,
    parse_imports,
    parse_statement,
    split_sentences,
)


@given(st.text(alphabet='(*)" .\nabAdmitted', max_size=200))
def test_blanking_keeps_length_and_lines(text: str) -> None:
    for mode in ("blank", "quotes", "keep"):
        out = blank_comments_and_strings(text, strings=mode)
        assert len(out) == len(text)
        assert [i for i, c in enumerate(out) if c == "\n"] == \
               [i for i, c in enumerate(text) if c == "\n"]


@pytest.mark.parametrize("text", [
    "a (* b *) c", "a (* (* b *) c *) d", 'a (* "*)" *) b', 'a "s (* t" b', 'a "x""y" b',
])
def test_blanking_follows_coq_lexing(text: str) -> None:
    """Only the first and last characters survive: all between is one comment/string."""
    assert blank_comments_and_strings(text) == text[0] + " " * (len(text) - 2) + text[-1]


def test_string_inside_comment_can_swallow_the_close() -> None:
    """As in Coq: an unterminated string inside a comment runs to the end of the text."""
    assert blank_comments_and_strings('a (* "x *) Admitted.').strip() == "a"


def test_keep_strings_keeps_only_the_quotes() -> None:
    assert blank_comments_and_strings('Load "f".', strings="quotes") == 'Load " ".'
    assert blank_comments_and_strings('"a  b" (* "c" *)', strings="keep") == '"a  b"' + " " * 10


@pytest.mark.parametrize("text,count", [
    ("Theorem t : True. Proof. exact I. Qed.", 4),
    ("Theorem t : Nat.add 1 1 = 2.", 1),
    ("Proof. auto... Qed.", 2),
    ("Theorem t : True. (* x. y. *)", 1),
    ("", 0),
])
def test_split_sentences(text: str, count: int) -> None:
    assert len(split_sentences(text)) == count


@pytest.mark.parametrize("proof,what", [
    ("Theorem t : True. Admitted.", "Admitted"),
    ("Proof. admit. Qed.", "admit"),
    ("Unset Guard Checking.", "Unset Guard Checking"),
    ("Unset  Positivity\nChecking.", "Unset Positivity Checking"),
    ("Unset Universe Checking.", "Unset Universe Checking"),
    ("#[local] Set Definitional (* x *) UIP.", "Definitional UIP"),
    ("#[bypass_check(guard)] Fixpoint f (n : nat) : nat := f n.", "bypass_check attribute"),
    ('Declare ML Module "x".', "Declare ML Module"),
    ('Load "x".', "Load"),
    ('Redirect "f" Check 1.', "Redirect"),
    ("Extraction nat.", "Extraction"),
    ("Extract Inductive nat => int [ \"0\" \"succ\" ].", "Extraction"),
    ("Drop.", "Drop"),
    ('Cd "/tmp".', "Cd"),
    ('Add LoadPath "/x" as X.', "load path change"),
    ('Add ML Path "/x".', "load path change"),
    ("Register I as core.True.I.", "Register"),
    ("Primitive int := #int63_type.", "Primitive"),
    ("Set Printing All.", "printing option"),
    ("Global Set Implicit Arguments.", "global or exported option"),
    ("#[export] Set Implicit Arguments.", "global or exported option"),
    ("Reset Initial.", "Reset/Back"),
    ('From "/tmp" Require Import X.', "From of a file path"),
    ("Definition __synthvet_pinned := 1.", "harness-reserved name"),
], ids=lambda v: v if len(v) < 30 else None)
def test_gate_finds(proof: str, what: str) -> None:
    assert what in [f.what for f in gate(proof)]


@pytest.mark.parametrize("proof", [
    "(* Admitted, admit, Axiom, Load, Drop *) Theorem t : True. Proof. exact I. Qed.",
    'Definition s := "Admitted Load Drop".',
    "Theorem admit_free : True. Proof. exact I. Qed.",
    "Lemma x_admitted_y : True. Proof. exact I. Defined.",
    "Require Import List.\nImport ListNotations.\nSet Implicit Arguments.",
    "Local Open Scope Z_scope.",
])
def test_gate_passes_honest_text(proof: str) -> None:
    assert gate(proof) == []


@pytest.mark.parametrize("statement,name,rest", [
    ("Theorem t : True.", "t", ": True"),
    ("Lemma plus_0 (n : nat) : n + 0 = n.", "plus_0", "(n : nat) : n + 0 = n"),
    ("  Theorem t' {A : Type} (l : list A) :\n  l = l.  ", "t'",
     "{A : Type} (l : list A) :\n  l = l"),
    ("Theorem t : True", "t", ": True"),
    ("Example e : 1 = 1.", "e", ": 1 = 1"),
    ("Theorem t (* comment. *) : True.", "t", ": True"),
    ('Theorem s : String.length "a  b. c" = 5.', "s", ': String.length "a  b. c" = 5'),
])
def test_parse_statement(statement: str, name: str, rest: str) -> None:
    s = parse_statement(statement)
    assert (s.name, s.rest) == (name, rest)


@pytest.mark.parametrize("statement", [
    "", "   ", "Definition x := 3.", "Theorem t : True. Axiom a : False.",
    "Theorem t : True. Proof.", "Theorem t.", "Theorem __synthvet_x : True.",
    "Theorem t := I.", "Theorem t : True := I.", "Axiom t : False.", "Theorem : True.",
    "Theorem t : True.\x00",
])
def test_parse_statement_rejects(statement: str) -> None:
    with pytest.raises(InputProblem):
        parse_statement(statement)


@given(st.text(max_size=80))
def test_parse_statement_never_crashes(text: str) -> None:
    try:
        s = parse_statement(text)
    except InputProblem:
        return
    assert s.name and ":" in s.rest
    # whatever was accepted is one sentence: nothing can follow the header
    assert len(split_sentences(f"{s.keyword} {s.name} {s.rest}.")) == 1


@pytest.mark.parametrize("lines,expected", [
    (["Require Import List."], ["Require Import List."]),
    (["Require Import List. Require Import Arith."],
     ["Require Import List.", "Require Import Arith."]),
    (["From Coq Require Import ZArith Lia."], ["From Coq Require Import ZArith Lia."]),
    (["Import ListNotations.", "Open Scope Z_scope."],
     ["Import ListNotations.", "Open Scope Z_scope."]),
    (["Require  Coq.Lists.List"], ["Require Coq.Lists.List."]),
])
def test_parse_imports(lines: list[str], expected: list[str]) -> None:
    assert parse_imports(lines) == expected


@pytest.mark.parametrize("lines", [
    ["Unset Guard Checking."], ["Require Import List. Axiom x : False."],
    ['Load "x".'], ['From "/tmp" Require X.'], ["Theorem t : True."],
    ["Declare ML Module \"x\"."],
])
def test_parse_imports_rejects(lines: list[str]) -> None:
    with pytest.raises(InputProblem):
        parse_imports(lines)


def test_parse_assumptions_shapes() -> None:
    assert parse_assumptions("Closed under the global context\n") == []
    text = ("Axioms:\nCand.cheat : False\nClassical_Prop.classic : forall P : Prop,\n"
            "                         P \\/ ~ P\nCand.loop is assumed to be guarded.\n"
            "Cand.bad is assumed to be positive.\nCand.U relies on an unsafe hierarchy.\n"
            "Cand.seq relies on definitional UIP.\n")
    got = parse_assumptions(text)
    assert got is not None
    assert [(a.name, a.kind) for a in got] == [
        ("Cand.cheat", "axiom"), ("Classical_Prop.classic", "axiom"),
        ("Cand.loop", "guard"), ("Cand.bad", "positivity"), ("Cand.U", "universes"),
        ("Cand.seq", "uip")]


@pytest.mark.parametrize("text", ["", "garbage", "  indented first\n", "Axioms:\nno colon\n"])
def test_parse_assumptions_unknown_shape(text: str) -> None:
    assert parse_assumptions(text) is None


def test_parse_coqchk_summary() -> None:
    text = ("noise\nCONTEXT SUMMARY\n===============\n\n* Theory: Set is predicative\n  \n"
            "* Axioms:\n    SV.Cand.cheat\n    Coq.Logic.Classical_Prop.classic\n  \n"
            "* Constants/Inductives relying on type-in-type: <none>\n  \n"
            "* Constants/Inductives relying on unsafe (co)fixpoints:\n    SV.Cand.loop\n")
    got = parse_coqchk_summary(text)
    assert got == {
        "Theory": ["Set is predicative"],
        "Axioms": ["SV.Cand.cheat", "Coq.Logic.Classical_Prop.classic"],
        "Constants/Inductives relying on type-in-type": [],
        "Constants/Inductives relying on unsafe (co)fixpoints": ["SV.Cand.loop"],
    }
    assert parse_coqchk_summary("no summary") is None


@pytest.mark.parametrize("proof,imports,prepended", [
    ("Theorem t : True. exact I. Qed.", ["Require Import List."], ["Require Import List."]),
    ("Require Import List.\nTheorem t : True. exact I. Qed.", ["Require Import List."], []),
    ("Require   Import\nList. Open Scope Z_scope.", ["Require Import List.",
                                                    "Open Scope Z_scope."], []),
    ("(* Require Import List. *) Theorem t : True. exact I. Qed.", ["Require Import List."],
     ["Require Import List."]),
    ("Require Import ZArith.", ["Require Import ZArith.", "Open Scope Z_scope."],
     ["Open Scope Z_scope."]),
    ("(* script only *) Proof. exact I. Qed.", [], ["Theorem t : True."]),
    ("Proofs_are_fun. Theorem t : True. exact I. Qed.", [], []),
], ids=["missing", "present", "present-other-spacing", "only-in-comment", "partly",
        "script-only", "not-a-script"])
def test_candidate_text(proof: str, imports: list[str], prepended: list[str]) -> None:
    text, got = candidate_text(proof, imports, "Theorem t : True")
    assert got == prepended
    assert text == "".join(p + "\n" for p in prepended) + proof + "\n"
