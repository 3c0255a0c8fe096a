"""With no Lean on the machine (as here): review, never verified, never an exception."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthvet.errors import UsageError
from synthvet.model import Limits, Status
from synthvet.verifiers.lean import LeanChecker

STMT = "theorem t (n : Nat) : n + 0 = n"
PROOF = "theorem t (n : Nat) : n + 0 = n := rfl"


@pytest.fixture
def no_lean_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("lean") is None
    return empty


def test_no_lean_on_path_means_checker_unavailable(no_lean_path: Path) -> None:
    verdict = LeanChecker({}).check(STMT, PROOF, [], Limits())
    assert (verdict.status, verdict.reason) == (Status.NEEDS_REVIEW, "checker_unavailable")


@pytest.mark.parametrize("options", [
    {"mode": "lean", "lean": "/nonexistent/bin/lean"},
    {"mode": "repl", "repl": "/nonexistent/repl"},
    {"mode": "repl"},
    {"repl": ["/nonexistent/repl", "--flag"], "lean": "/nonexistent/lean"},
    {"project_dir": "/nonexistent/project", "lake": "/nonexistent/lake"},
], ids=["lean-path", "repl-path", "repl-unconfigured", "both-missing", "lake-missing"])
def test_configured_but_missing_checkers(options: dict[str, Any], no_lean_path: Path) -> None:
    checker = LeanChecker(options)
    assert checker.backend() is None
    verdict = checker.check(STMT, PROOF, ["import Mathlib"], Limits())
    assert (verdict.status, verdict.reason) == (Status.NEEDS_REVIEW, "checker_unavailable")


def test_checkers_report(no_lean_path: Path) -> None:
    statuses = {c.name: c for c in LeanChecker({"repl": "repl"}).checkers()}
    assert set(statuses) == {"lean", "repl", "lake"}
    assert not any(c.available for c in statuses.values())
    assert "not found" in statuses["lean"].detail


@pytest.mark.parametrize("options,word", [
    ({"mode": "fast"}, "mode"),
    ({"repl": 3}, "repl"),
    ({"repl": ""}, "repl"),
    ({"allowed_axioms": ["propext", "sorryAx"]}, "sorryAx"),
    ({"allowed_axioms": ["Lean.ofReduceBool"]}, "ofReduceBool"),
    ({"allowed_axioms": "propext"}, "allowed_axioms"),
    ({"max_processes": 0}, "max_processes"),
    ({"max_uses": True}, "max_uses"),
    ({"memory_mb": 1}, "memory_mb"),
    ({"json": "yes"}, "json"),
    ({"timeout": 3}, "timeout"),
], ids=["mode", "repl-int", "repl-empty", "sorryAx", "ofReduceBool", "axioms-text",
        "processes", "uses-bool", "memory", "json", "unknown"])
def test_bad_options_are_usage_errors(options: dict[str, Any], word: str) -> None:
    with pytest.raises(UsageError, match=word):
        LeanChecker(options)


class Exploding:
    def send(self, text: str, deadline: float) -> None:
        raise RuntimeError("boom")

    def receive(self, deadline: float) -> str | None:
        raise RuntimeError("boom")

    def close(self) -> None:
        pass


def test_a_crashing_transport_is_a_review_not_an_exception() -> None:
    checker = LeanChecker({}, transport=lambda header: Exploding)
    verdict = checker.check(STMT, PROOF, [], Limits())
    assert verdict.status is Status.NEEDS_REVIEW and verdict.reason == "checker_error"


ANY = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300) | \
    st.lists(st.text(max_size=30), max_size=3) | st.dictionaries(st.text(max_size=5),
                                                                 st.integers(), max_size=2)


@settings(max_examples=200, deadline=None)
@given(ANY, ANY, ANY)
def test_garbage_is_never_verified_and_never_raises(statement: Any, proof: Any,
                                                    imports: Any) -> None:
    verdict = LeanChecker({}).check(statement, proof, imports, Limits(seconds=2))
    assert verdict.status is not Status.VERIFIED


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_proof_text_is_never_verified_without_lean(proof: str) -> None:
    verdict = LeanChecker({"lean": "/nonexistent/lean", "mode": "lean"}).check(
        STMT, proof, [], Limits(seconds=2))
    assert verdict.status is not Status.VERIFIED


def test_engine_version_says_there_is_no_lean(no_lean_path: Path) -> None:
    assert LeanChecker({}).engine_version() == "lean-adapter-1+no-lean"
