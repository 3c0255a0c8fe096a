"""The decision logic on the REAL REPL's recorded replies (fixtures/lean/recorded).

Each case takes the reply the REPL gave to a command and puts it in the candidate's
place (or the statement check's, or ``#print axioms``'s) to show what synthvet decides.
"""

from __future__ import annotations

import pytest
from lean_replay import load_transcript

from synthvet.model import Status
from synthvet.verifiers.lean import CommandReply, Message, Pos, decide, parse_axioms, parse_reply
from synthvet.verifiers.lean._checker import DEFAULT_AXIOMS, LeanRun
from synthvet.verifiers.lean._source import parse_statement

STATEMENT = parse_statement("theorem t (n : Nat) : n + 0 = n")
assert not isinstance(STATEMENT, str)
ALLOWED = frozenset(DEFAULT_AXIOMS)
CLEAN_AXIOMS = [Message("info", "'t' does not depend on any axioms", Pos(1, 0), Pos(1, 13))]


def recorded_reply(name: str, n: int = 0) -> CommandReply:
    _, replies = load_transcript(name)
    reply = parse_reply(replies[n])
    assert isinstance(reply, CommandReply)
    return reply


def candidate_run(reply: CommandReply) -> LeanRun:
    return LeanRun("lean-repl", pinned=[], candidate=list(reply.messages),
                   sorries=list(reply.sorries), check=[], axioms=CLEAN_AXIOMS)


# (transcript, reply number, expected status, reason)
CANDIDATE_CASES = [
    ("term_sorry", 0, "refuted", "sorry_used"),
    ("tactic_sorry", 0, "refuted", "sorry_used"),
    ("readme", 0, "refuted", "sorry_used"),
    ("dup_sorries", 1, "refuted", "sorry_used"),
    ("calc", 0, "refuted", "sorry_used"),
    ("variables", 2, "refuted", "sorry_used"),
    ("have_by_sorry", 0, "refuted", "proof_error"),
    ("unfinished_tactic_block", 0, "refuted", "proof_error"),
    ("incomplete", 1, "refuted", "proof_error"),
    ("synthesize_placeholder", 0, "refuted", "proof_error"),
    ("app_type_mismatch", 0, "refuted", "proof_error"),
    ("invalid_line_break", 0, "refuted", "proof_error"),
    ("no_goal_sorry", 0, "refuted", "proof_error"),
    ("self_proof_check", 0, "refuted", "proof_error"),
    ("line_breaks", 0, "refuted", "proof_error"),
    ("line_breaks", 2, "verified", "proof_checked"),
    ("all_tactics", 0, "verified", "proof_checked"),
    ("Mathlib/test/H20231020", 1, "verified", "proof_checked"),
    ("dup_msg", 1, "verified", "proof_checked"),  # an info message is not a problem
    ("variables", 1, "verified", "proof_checked"),  # a linter warning is not a problem
]


@pytest.mark.parametrize("name,n,status,reason", CANDIDATE_CASES,
                         ids=[f"{c[0]}#{c[1]}" for c in CANDIDATE_CASES])
def test_candidate_reply(name: str, n: int, status: str, reason: str) -> None:
    verdict = decide(candidate_run(recorded_reply(name, n)), STATEMENT, ALLOWED, {})
    assert (verdict.status.value, verdict.reason) == (status, reason), verdict.detail


def test_sorry_warning_alone_is_enough() -> None:
    """Term-mode sorries may come without a `sorries` entry; the warning still counts."""
    reply = recorded_reply("term_sorry")
    run = LeanRun("lean", pinned=[], candidate=list(reply.messages), sorries=[], check=[],
                  axioms=CLEAN_AXIOMS)
    assert decide(run, STATEMENT, ALLOWED, {}).reason == "sorry_used"
    old = Message("warning", "declaration uses 'sorry'", Pos(1, 8), None)  # older Lean
    run.candidate = [old]
    assert decide(run, STATEMENT, ALLOWED, {}).reason == "sorry_used"


def test_pinned_statement_errors_go_to_review() -> None:
    reply = recorded_reply("dup_msg", 2)  # "Unknown identifier `g`"
    run = LeanRun("lean-repl", pinned=list(reply.messages))
    verdict = decide(run, STATEMENT, ALLOWED, {})
    assert (verdict.status, verdict.reason) == (Status.NEEDS_REVIEW, "parse_error")


def test_check_errors_refute_the_statement() -> None:
    reply = recorded_reply("dup_msg", 2)
    run = LeanRun("lean-repl", pinned=[], candidate=[], check=list(reply.messages),
                  axioms=CLEAN_AXIOMS)
    verdict = decide(run, STATEMENT, ALLOWED, {})
    assert (verdict.status, verdict.reason) == (Status.REFUTED, "statement_changed")
    universe = [Message("error", "stuck at solving universe constraint", None, None)]
    run.check = universe
    verdict = decide(run, STATEMENT, ALLOWED, {})
    assert (verdict.status, verdict.reason) == (Status.NEEDS_REVIEW, "statement_changed")


@pytest.mark.parametrize("missing", ["pinned", "candidate", "check", "axioms"])
def test_a_step_not_reached_is_never_verified(missing: str) -> None:
    run = LeanRun("lean", pinned=[], candidate=[], check=[], axioms=CLEAN_AXIOMS)
    setattr(run, missing, None)
    verdict = decide(run, STATEMENT, ALLOWED, {})
    assert verdict.status is Status.NEEDS_REVIEW


AXIOM_CASES = [
    ("'t' does not depend on any axioms", [], "verified", "proof_checked"),
    ("'t' depends on axioms: [propext]", ["propext"], "verified", "proof_checked"),
    ("'t' depends on axioms: [propext,\n Classical.choice,\n Quot.sound]",
     ["propext", "Classical.choice", "Quot.sound"], "verified", "proof_checked"),
    ("'t' depends on axioms: [sorryAx]", ["sorryAx"], "refuted", "sorry_used"),
    ("'t' depends on axioms: [propext, Lean.ofReduceBool]", ["propext", "Lean.ofReduceBool"],
     "refuted", "axiom_used"),
    ("'t' depends on axioms: [cheat]", ["cheat"], "refuted", "axiom_used"),
    ("'u' does not depend on any axioms", None, "needs_review", "checker_error"),
    ("t does not depend on any axioms", None, "needs_review", "checker_error"),
    ("something else", None, "needs_review", "checker_error"),
]


@pytest.mark.parametrize("data,axioms,status,reason", AXIOM_CASES,
                         ids=["none", "propext", "classical-wrapped", "sorryAx",
                              "ofReduceBool", "user-axiom", "other-name", "unquoted",
                              "garbage"])
def test_axioms(data: str, axioms: list[str] | None, status: str, reason: str) -> None:
    msgs = [Message("info", data, Pos(1, 0), Pos(1, 13))]
    assert parse_axioms(msgs, "t") == axioms
    run = LeanRun("lean-repl", pinned=[], candidate=[], check=[], axioms=msgs)
    verdict = decide(run, STATEMENT, ALLOWED, {})
    assert (verdict.status.value, verdict.reason) == (status, reason)


def test_two_axiom_answers_are_not_trusted() -> None:
    msgs = [Message("info", "'t' does not depend on any axioms", None, None),
            Message("info", "'t' depends on axioms: [sorryAx]", None, None)]
    assert parse_axioms(msgs, "t") is None


def test_names_with_primes_and_guillemets() -> None:
    msgs = [Message("info", "'Foo.bar'_x' depends on axioms: [propext]", None, None)]
    assert parse_axioms(msgs, "Foo.bar'_x") == ["propext"]
    msgs = [Message("info", "'«my thm»' does not depend on any axioms", None, None)]
    assert parse_axioms(msgs, "«my thm»") == []


def test_heartbeat_errors_are_a_timeout_not_a_refutation() -> None:
    msg = Message("error", "(deterministic) timeout at `whnf`, maximum number of heartbeats "
                  "(200000) has been reached", Pos(1, 0), None)
    run = LeanRun("lean", pinned=[], candidate=[msg], check=[], axioms=CLEAN_AXIOMS)
    assert decide(run, STATEMENT, ALLOWED, {}).reason == "timeout"
