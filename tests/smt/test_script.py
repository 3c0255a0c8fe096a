"""The SMT-LIB script reader: what it keeps, what it refuses, and that it never crashes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthvet.verifiers.smt import ScriptError, parse_script, symbol_name
from synthvet.verifiers.smt._script import quote_symbol


def test_keeps_problem_commands_and_drops_options() -> None:
    s = parse_script(
        "; comment (not a command\n(set-logic QF_LIA)\n(set-option :produce-models true)\n"
        "(set-info :status sat)\n(declare-const x Int)\n(declare-fun f (Int) Int)\n"
        "(define-fun k () Int 3)\n(assert (> x k))\n(check-sat)\n(get-model)\n(exit)\n"
        "(assert false)\n")
    assert s.logic == "QF_LIA"
    assert [(d.name, d.arity, d.sort) for d in s.decls] == [("x", 0, "Int"), ("f", 1, "Int")]
    assert s.defined_constants == ("k",)
    assert s.assertion_texts == ("(assert (> x k))",)  # nothing after (exit)
    assert "set-option" not in s.body and "check-sat" not in s.body
    assert s.ignored == ("set-option", "set-info", "get-model")


def test_quoted_symbols_and_strings() -> None:
    s = parse_script('(declare-const |a b| Int)\n(declare-const |c| Bool)\n'
                     '(assert (= |a b| 1)) ; ")" in a comment\n(assert (distinct "x)""y" "z"))')
    assert [d.name for d in s.decls] == ["a b", "c"]
    assert s.assertions == 2
    assert symbol_name("|a b|") == "a b" and symbol_name("x") == "x"
    assert quote_symbol("a b") == "|a b|" and quote_symbol("x.1") == "x.1"


def test_reset_assertions_and_reset() -> None:
    s = parse_script("(declare-const x Int)(assert (= 0 1))(reset-assertions)"
                     "(declare-const y Int)(assert (> y 0))(check-sat)")
    assert [d.name for d in s.decls] == ["y"] and s.assertions == 1
    s = parse_script("(set-option :global-declarations true)(declare-const x Int)"
                     "(assert (= 0 1))(reset-assertions)(assert (> x 0))")
    assert [d.name for d in s.decls] == ["x"] and s.assertion_texts == ("(assert (> x 0))",)
    s = parse_script("(set-logic QF_LIA)(declare-const x Int)(reset)(set-logic QF_BV)")
    assert s.logic == "QF_BV" and s.decls == ()


@pytest.mark.parametrize("text, fragment", [
    ("(assert (> x 0)", "unbalanced '('"),
    ("(assert true))", "unbalanced ')'"),
    ("x (assert true)", "outside of a command"),
    ('(echo "abc)', "unterminated string"),
    ("(declare-const |x Int)", "unterminated |quoted"),
    ("(push 1)", "not supported"),
    ("(check-sat-assuming (p))", "not supported"),
    ("(check-sat)(check-sat)", "more than one"),
    ("(check-sat)(assert true)", "after (check-sat)"),
    ("(declare-const x Int)(declare-const x Bool)", "declared twice"),
    ("(declare-const x)", "declare-const takes"),
    ("(declare-fun f Int)", "declare-fun takes"),
    ("(assert)", "assert takes exactly one"),
    ("(frobnicate 1)", "unknown or unsupported command"),
    ("((assert true))", "must start with its name"),
    ("(assert true)(set-logic QF_LIA)", "set-logic must come first"),
    ("(assert true)\x00", "NUL"),
], ids=lambda v: v if len(v) < 30 else v[:30])
def test_rejects_with_reason(text: str, fragment: str) -> None:
    with pytest.raises(ScriptError) as info:
        parse_script(text)
    assert fragment in str(info.value)


def test_error_names_the_line() -> None:
    with pytest.raises(ScriptError) as info:
        parse_script("(declare-const x Int)\n\n(check-sat)\n(check-sat)\n")
    assert info.value.line == 4


def test_non_text_and_huge_input() -> None:
    with pytest.raises(ScriptError):
        parse_script(123)  # type: ignore[arg-type]
    with pytest.raises(ScriptError):
        parse_script("(assert true)" * 200_000)
    with pytest.raises(ScriptError):
        parse_script("(" * 6000 + ")" * 6000)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="()|\";\n xa-#0", max_size=80))
def test_garbage_raises_only_script_error(text: str) -> None:
    try:
        parse_script(text)
    except ScriptError:
        pass


_names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(_names, min_size=1, max_size=8, unique=True), st.integers(0, 5))
def test_generated_scripts_keep_every_declaration(names: list[str], n_assert: int) -> None:
    text = "".join(f"(declare-const {n} Int)\n" for n in names)
    text += "".join(f"(assert (> {names[i % len(names)]} {i}))\n" for i in range(n_assert))
    s = parse_script(text + "(check-sat)\n")
    assert [d.name for d in s.decls] == names
    assert s.assertions == n_assert
    assert parse_script(s.body).body == s.body  # the kept part reads back unchanged
