"""The plain `lean` path: the file synthvet writes and the reading of Lean's output.

Lean's output here is written in the two formats Lean prints (``lean --json``: one
object per message; classic: ``FILE:LINE:COL: severity: text``, info bare) — derived,
as no Lean runs on this machine; real runs are in test_real_lean.py.
"""

from __future__ import annotations

import json

import pytest

from synthvet.model import Status
from synthvet.verifiers.lean._binary import build_file, parse_lean_output
from synthvet.verifiers.lean._checker import DEFAULT_AXIOMS, LeanChecker, decide
from synthvet.verifiers.lean._source import (
    PINNED,
    Header,
    Statement,
    axioms_command,
    check_command,
    parse_header,
    parse_statement,
)

HEADER = parse_header(["import Mathlib", "open Real"])
STATEMENT = parse_statement("theorem t (n : Nat) : n + 0 = n")
assert isinstance(HEADER, Header) and isinstance(STATEMENT, Statement)
CANDIDATE = "-- helper\ntheorem t (n : Nat) : n + 0 = n := by\n  simp"
FILE = build_file(HEADER, STATEMENT, CANDIDATE)
F = "/tmp/synthvet-lean-x/Candidate.lean"


def test_file_layout() -> None:
    lines = FILE.text.split("\n")
    assert lines[:2] == ["import Mathlib", "open Real"]
    assert lines[FILE.pinned[0] - 1].startswith(f"theorem {PINNED} (n : Nat)")
    assert "\n".join(lines[FILE.candidate[0] - 1: FILE.candidate[1]]) == CANDIDATE
    assert lines[FILE.check_line - 1] == check_command("t")
    assert lines[FILE.axioms_line - 1] == axioms_command("t")
    assert FILE.pinned[1] < FILE.candidate[0] <= FILE.candidate[1] < FILE.check_line


def json_line(line: int, severity: str, data: str) -> str:
    return json.dumps({"severity": severity, "pos": {"line": line, "column": 0},
                       "endPos": {"line": line, "column": 5}, "fileName": F,
                       "keepFullRange": False, "data": data, "caption": ""})


def verdict_for(output: str):  # type: ignore[no-untyped-def]
    messages, _ = parse_lean_output(output, F)
    run = LeanChecker._attribute(FILE, messages)
    return decide(run, STATEMENT, frozenset(DEFAULT_AXIOMS), {})


PINNED_SORRY_JSON = json_line(FILE.pinned[0], "warning", "declaration uses 'sorry'")
PINNED_SORRY_TEXT = f"{F}:{FILE.pinned[0]}:8: warning: declaration uses 'sorry'"

CASES = [
    ("json-clean", "\n".join([PINNED_SORRY_JSON, json_line(
        FILE.axioms_line, "information", "'t' depends on axioms: [propext]")]),
     "verified", "proof_checked"),
    ("json-candidate-sorry", "\n".join([PINNED_SORRY_JSON, json_line(
        FILE.candidate[0] + 1, "warning", "declaration uses 'sorry'"), json_line(
        FILE.axioms_line, "information", "'t' depends on axioms: [sorryAx]")]),
     "refuted", "sorry_used"),
    ("json-check-mismatch", "\n".join([PINNED_SORRY_JSON, json_line(
        FILE.check_line, "error", "type mismatch\n  @t\nhas type ...")]),
     "refuted", "statement_changed"),
    ("json-pinned-error", json_line(FILE.pinned[0], "error", "unknown identifier 'ℝ'"),
     "needs_review", "parse_error"),
    ("json-header-error", json_line(1, "error", "unknown module prefix 'Mathlib'"),
     "needs_review", "imports_failed"),
    ("json-error-past-the-end", "\n".join([PINNED_SORRY_JSON, json_line(
        FILE.axioms_line + 3, "error", "unexpected end of input"), json_line(
        FILE.axioms_line, "information", "'t' depends on axioms: [propext]")]),
     "needs_review", "checker_error"),
    ("json-no-axioms-answer", PINNED_SORRY_JSON, "needs_review", "checker_error"),
    ("json-axioms-outside", "\n".join([PINNED_SORRY_JSON, json_line(
        FILE.axioms_line, "information", "'t' depends on axioms: [propext, cheat]")]),
     "refuted", "axiom_used"),
    ("text-clean", f"{PINNED_SORRY_TEXT}\n't' depends on axioms: [propext, Quot.sound]\n",
     "verified", "proof_checked"),
    ("text-info-with-position",
     f"{PINNED_SORRY_TEXT}\n{F}:{FILE.axioms_line}:0: info: 't' does not depend on any "
     "axioms\n", "verified", "proof_checked"),
    ("text-error-multiline", f"{PINNED_SORRY_TEXT}\n{F}:{FILE.candidate[0] + 1}:40: error: "
     "unsolved goals\nn : Nat\n⊢ n + 0 = n\n't' depends on axioms: [propext]\n",
     "refuted", "proof_error"),
    ("text-two-axiom-answers", f"{PINNED_SORRY_TEXT}\n't' does not depend on any axioms\n\n"
     "'t' depends on axioms: [sorryAx]\n", "needs_review", "checker_error"),
    ("empty-output", "", "needs_review", "checker_error"),
]


@pytest.mark.parametrize("output,status,reason", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_output_decides(output: str, status: str, reason: str) -> None:
    verdict = verdict_for(output)
    assert (verdict.status.value, verdict.reason) == (status, reason), verdict.detail


def test_parse_never_raises_on_junk() -> None:
    for junk in ["{", "{}", '{"severity": "error"}', f"{F}:x:y: error: z", "\x00\n\n",
                 json.dumps({"severity": "error", "data": 3})]:
        messages, _ = parse_lean_output(junk, F)
        assert all(m.severity in ("error", "warning", "info") for m in messages)


def test_verified_needs_the_axioms_line_specifically() -> None:
    # an axioms-looking info message from the candidate's lines does not count
    output = "\n".join([PINNED_SORRY_JSON, json_line(
        FILE.candidate[0], "information", "'t' does not depend on any axioms")])
    assert verdict_for(output).status is Status.NEEDS_REVIEW
