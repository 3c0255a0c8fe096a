"""LeanChecker end to end through ``RecordedRepl``, the REPLAY DOUBLE of the REPL process.

The exchanges (fixtures/lean/exchanges.json) are derived from the real REPL's recorded
replies (see fixtures/lean/README.md); the requests are byte for byte what the checker
sends, so a change in what the checker asks Lean shows up here as a miss.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from lean_replay import ReplayFactory, load_scenarios, scenario_exchanges

from synthvet.model import Limits, Status
from synthvet.verifiers.lean import LeanChecker
from synthvet.verifiers.lean._source import PINNED

SCENARIOS = {s["id"]: s for s in load_scenarios()}
LIMITS = Limits(seconds=5.0)
SINGLE = [k for k in SCENARIOS if not k.startswith("isolation")]


def run(scenario: dict[str, Any], checker: LeanChecker | None = None,
        factory: ReplayFactory | None = None):  # type: ignore[no-untyped-def]
    factory = factory or ReplayFactory(scenario_exchanges(scenario))
    checker = checker or LeanChecker({}, transport=factory)
    verdict = checker.check(scenario["statement"], scenario["proof"], scenario["imports"],
                            LIMITS)
    return verdict, factory


@pytest.mark.parametrize("sid", SINGLE, ids=SINGLE)
def test_scenario(sid: str) -> None:
    s = SCENARIOS[sid]
    verdict, factory = run(s)
    assert (verdict.status.value, verdict.reason) == (s["expect"]["status"],
                                                      s["expect"]["reason"]), verdict.detail
    assert factory.misses == [], "the checker asked something the recording does not hold"
    assert factory.env_violations == [] and factory.framing_errors == []


def test_every_scenario_is_answered_by_the_recording() -> None:
    assert len(SCENARIOS) >= 15
    verified = [k for k, s in SCENARIOS.items() if s["expect"]["status"] == "verified"]
    assert len(verified) < len(SCENARIOS) / 2  # mostly fakes and failures


def test_verified_evidence_names_axioms_and_statement_check() -> None:
    verdict, _ = run(SCENARIOS["honest_classical"])
    assert verdict.status is Status.VERIFIED
    assert verdict.evidence["axioms"] == ["propext", "Classical.choice", "Quot.sound"]
    assert "type_of% @" + PINNED in verdict.evidence["statement_check"]
    assert verdict.evidence["checker"] == "lean-repl"


def test_the_candidate_runs_after_the_pinned_statement_in_a_fresh_chain() -> None:
    s = SCENARIOS["notation_redefines_plus"]
    verdict, factory = run(s)
    assert verdict.reason == "statement_changed"
    log = factory.made[0].log
    assert log[0] == {"cmd": ""}  # header: no env, the only place `import` is accepted
    assert log[1]["cmd"].startswith(f"theorem {PINNED} : 2 + 3 = 6") and log[1]["env"] == 0
    assert log[2]["cmd"] == s["proof"] and log[2]["env"] == 1


def test_candidates_cannot_see_each_other() -> None:
    """Two candidates in ONE warm process: the second starts again from the base env, so
    the helper the first one declared is unknown to it (the REPL's reply says so)."""
    first, second = SCENARIOS["isolation_first"], SCENARIOS["isolation_second"]
    factory = ReplayFactory(scenario_exchanges(first, second))
    checker = LeanChecker({}, transport=factory)
    v1, _ = run(first, checker, factory)
    v2, _ = run(second, checker, factory)
    assert v1.status is Status.VERIFIED
    assert (v2.status, v2.reason) == (Status.REFUTED, "proof_error")
    assert len(factory.made) == 1, "one warm process served both"
    log = factory.made[0].log
    pinned_envs = [r["env"] for r in log if r["cmd"].startswith(f"theorem {PINNED}")]
    assert pinned_envs == [0, 0], "each candidate's chain starts at the base env"
    assert factory.misses == [] and factory.env_violations == []


def test_a_timeout_kills_the_process_and_the_next_check_starts_a_new_one() -> None:
    hang, honest = SCENARIOS["hangs"], SCENARIOS["honest_rfl"]
    factory = ReplayFactory(scenario_exchanges(hang))
    checker = LeanChecker({}, transport=factory)
    v1, _ = run(hang, checker, factory)
    assert (v1.status, v1.reason) == (Status.NEEDS_REVIEW, "timeout")
    assert factory.made[0].closed
    factory.exchanges = scenario_exchanges(honest)
    v2, _ = run(honest, checker, factory)
    assert v2.status is Status.VERIFIED and len(factory.made) == 2


def test_malformed_reply_drops_the_process() -> None:
    verdict, factory = run(SCENARIOS["malformed_reply"])
    assert verdict.status is Status.NEEDS_REVIEW and factory.made[0].closed


def test_imports_failure_is_remembered_without_restarting() -> None:
    s = SCENARIOS["imports_fail"]
    factory = ReplayFactory(scenario_exchanges(s))
    checker = LeanChecker({}, transport=factory)
    for _ in range(3):
        verdict, _ = run(s, checker, factory)
        assert (verdict.status, verdict.reason) == (Status.NEEDS_REVIEW, "imports_failed")
        assert "Mathlib" in verdict.detail
    assert len(factory.made) == 1


def test_header_still_loading_keeps_the_process() -> None:
    s = SCENARIOS["honest_rfl"]
    exchanges = scenario_exchanges(s)
    factory = ReplayFactory([(exchanges[0][0], None)] + exchanges[1:])
    checker = LeanChecker({}, transport=factory)
    verdict, _ = run(s, checker, factory)
    assert (verdict.status, verdict.reason) == (Status.NEEDS_REVIEW, "timeout")
    assert "loading" in verdict.detail and not factory.made[0].closed


def test_max_uses_restarts_the_process() -> None:
    s = SCENARIOS["honest_rfl"]
    factory = ReplayFactory(scenario_exchanges(s))
    checker = LeanChecker({"max_uses": 1}, transport=factory)
    for _ in range(2):
        verdict, _ = run(s, checker, factory)
        assert verdict.status is Status.VERIFIED
    assert len(factory.made) == 2 and factory.made[0].closed


def test_pool_keeps_at_most_max_processes_by_header() -> None:
    a, b = SCENARIOS["honest_rfl"], SCENARIOS["imports_fail"]
    factory = ReplayFactory(scenario_exchanges(a, b))
    checker = LeanChecker({"max_processes": 1}, transport=factory)
    run(a, checker, factory)
    run(b, checker, factory)
    assert len(factory.made) == 2 and factory.made[0].closed
    assert checker._pool is not None and len(checker._pool) == 1


def test_after_fork_the_child_builds_its_own_pool() -> None:
    s = SCENARIOS["honest_rfl"]
    factory = ReplayFactory(scenario_exchanges(s))
    checker = LeanChecker({}, transport=factory)
    run(s, checker, factory)
    pool = checker._pool
    assert pool is not None
    pool.pid = os.getpid() + 1  # as if this were the child of the process that made it
    verdict, _ = run(s, checker, factory)
    assert verdict.status is Status.VERIFIED
    assert checker._pool is not pool and not factory.made[0].closed  # parent's left alone
