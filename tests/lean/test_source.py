"""Statement headers, import headers and candidate import lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthvet.verifiers.lean._source import (
    PINNED,
    Header,
    Statement,
    code_only,
    parse_header,
    parse_statement,
    split_candidate_imports,
)


@pytest.mark.parametrize("text,name,signature", [
    ("theorem t (n : Nat) : n + 0 = n", "t", " (n : Nat) : n + 0 = n"),
    ("theorem t (n : Nat) : n + 0 = n := by sorry", "t", " (n : Nat) : n + 0 = n"),
    ("theorem t (n : Nat) : n + 0 = n :=\n  by simp", "t", " (n : Nat) : n + 0 = n"),
    ("lemma foo.bar' {a : ℕ} [h : Fact (1 < a)] :\n  a ≠ 0", "foo.bar'",
     " {a : ℕ} [h : Fact (1 < a)] :\n  a ≠ 0"),
    ("@[simp] theorem mathd_algebra_10 : abs ((120 : ℝ) / 100 * 30 - 130 / 100 * 20) = 10",
     "mathd_algebra_10", " : abs ((120 : ℝ) / 100 * 30 - 130 / 100 * 20) = 10"),
    ("/-- doc -/ theorem t : True", "t", " : True"),
    ("theorem t (f : ℕ → ℕ) (h : ∀ x, f x = (let y := x; y)) : f 1 = 1", "t",
     " (f : ℕ → ℕ) (h : ∀ x, f x = (let y := x; y)) : f 1 = 1"),
    ("theorem _root_.t : True", "t", " : True"),
    ("theorem t : True -- trailing comment", "t", " : True -- trailing comment"),
], ids=["plain", "with-sorry", "with-proof-next-line", "lemma-binders", "attribute",
        "doc-comment", "assign-in-brackets", "root",
        "trailing-comment"])
def test_parse_statement(text: str, name: str, signature: str) -> None:
    st_ = parse_statement(text)
    assert isinstance(st_, Statement)
    assert (st_.name, st_.signature) == (name, signature)
    assert st_.pinned_command == f"theorem {PINNED}{signature}\n  := sorry"


@pytest.mark.parametrize("text", [
    None, "", "   ", 3, "example : True", "def f : Nat", "theorem : True", "theorem t",
    "theorem t (n : Nat)", "-- theorem t : True",
], ids=["none", "empty", "blank", "int", "example", "def", "no-name", "no-type",
        "binders-only", "commented"])
def test_unusable_statements(text: object) -> None:
    assert isinstance(parse_statement(text), str)


def test_header_orders_imports_first_and_dedupes() -> None:
    header = parse_header(["open Real", "import Mathlib\nimport Aesop", "import Mathlib",
                           "set_option maxHeartbeats 400000", "-- a comment"])
    assert isinstance(header, Header)
    assert header.lines == ("import Mathlib", "import Aesop", "open Real",
                            "set_option maxHeartbeats 400000")


def test_candidate_imports_are_blanked_when_listed() -> None:
    header = parse_header(["import Mathlib"])
    assert isinstance(header, Header)
    body, foreign = split_candidate_imports(
        "import Mathlib\n-- import Evil\nimport   Mathlib.Tactic\ntheorem t : True := trivial",
        header)
    assert body == "\n-- import Evil\n\ntheorem t : True := trivial"
    assert foreign == ["import Mathlib.Tactic"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab -/\"'\\\n{}x")), max_size=120))
def test_code_only_never_raises_and_keeps_shape(text: str) -> None:
    code = code_only(text)
    assert len(code) == len(text)
    assert [i for i, c in enumerate(code) if c == "\n"] == [
        i for i, c in enumerate(text) if c == "\n"]
    assert all(c == t or c == " " for c, t in zip(code, text))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_parse_statement_never_raises(text: str) -> None:
    assert parse_statement(text) is not None
    assert parse_header([text]) is not None
