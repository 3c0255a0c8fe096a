"""Policy: review = "always" and the seeded audit sample; it never verifies anything."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthvet.errors import UsageError
from synthvet.harness.policy import Policy, audit_draw
from synthvet.model import Status, Verdict, needs_review, refuted, verified
from synthvet.testing import make_record


def rec(i: int | str = 0, domain: str = "math", **tags: Any) -> Any:
    return make_record({"id": f"r{i}", "domain": domain, "answer": str(i), "reference": str(i),
                        "tags": tags})


def machine_ok(domain: str = "math") -> Verdict:
    return verified("answer_matches", "equal", {"parsed": "2"}).stamped(
        id="r", domain=domain, verifier=f"{domain}@1", seconds=0.5)


@pytest.mark.parametrize(("config", "needle"), [
    ({"policy": 3}, "[policy] must be a table"),
    ({"policy": {"math": {"review": "sometimes"}}}, 'policy.math.review must be "always"'),
    ({"policy": {"math": {"review": True}}}, "policy.math.review"),
    ({"policy": {"math": {"audit": 2}}}, "did you mean a percentage"),
    ({"policy": {"math": {"audit": -0.1}}}, "policy.math.audit must be a fraction"),
    ({"policy": {"math": {"audit": "2%"}}}, "policy.math.audit must be a fraction"),
    ({"policy": {"math": {"audit": True}}}, "policy.math.audit"),
    ({"policy": {"math": {"audit": float("nan")}}}, "policy.math.audit"),
    ({"policy": {"math": {"reveiw": "always"}}}, "unknown key(s) ['reveiw']"),
    ({"policy": {"math": "always"}}, "[policy.math]"),
    ({"policy": {"seed": [1]}}, "policy.seed must be a string or an integer"),
    ({"policy": {"review": "yes"}}, 'policy.review must be "always"'),
    ({"policy": {"tags": {"difficulty": {"review": "always"}}}},
     "policy.tags.difficulty must hold one table per tag value"),
    ({"policy": {"tags": "hard"}}, "policy.tags must be a table of tables"),
    ({"policy": {"tags": {"difficulty": {"hard": {"audit": 5}}}}},
     "policy.tags.difficulty.hard.audit"),
], ids=lambda x: x if isinstance(x, str) else None)
def test_bad_config_is_a_usage_error_naming_the_value(config: dict[str, Any], needle: str) -> None:
    with pytest.raises(UsageError) as info:
        Policy.from_config(config)
    assert needle in str(info.value)


def test_unknown_domain_and_tag_spelling_are_named() -> None:
    with pytest.raises(UsageError, match=r"did you mean \[policy.math\]"):
        Policy.from_config({"policy": {"maths": {"audit": 0.1}}},
                           known_domains=["math", "code"])
    with pytest.raises(UsageError, match=r"\[policy.tags.<tag>.<value>\]"):
        Policy.from_config({"policy": {"tag": {"difficulty": {"hard": {"audit": 0.1}}}}})
    p = Policy.from_config({"policy": {"math": {"audit": 0.1}}}, known_domains=["math"])
    assert p.domains["math"].audit == 0.1


def test_empty_config_is_inactive_and_the_identity() -> None:
    for config in ({}, {"policy": {}}, {"policy": None}, None):
        p = Policy.from_config(config)
        assert not p.active
        v = machine_ok()
        assert p.apply(rec(), v) is v


def test_review_always_moves_verified_to_high_stakes_keeping_the_machine_verdict() -> None:
    p = Policy.from_config({"policy": {"proof": {"review": "always"}}})
    v = machine_ok("proof")
    out = p.apply(rec(domain="proof"), v)
    assert out.status is Status.NEEDS_REVIEW
    assert out.reason == "high_stakes"
    assert (out.id, out.domain, out.verifier, out.seconds) == ("r", "proof", "proof@1", 0.5)
    machine = out.evidence["machine"]
    assert machine["status"] == "verified" and machine["reason"] == "answer_matches"
    assert machine["evidence"] == {"parsed": "2"}
    assert out.evidence["policy"]["rules"][0]["scope"] == "domain:proof"
    # other domains are untouched
    assert p.apply(rec(domain="math"), machine_ok("math")).status is Status.VERIFIED
    d = p.describe()
    assert d["moved"]["high_stakes"] == {"proof": 1}
    assert d["machine_verified"] == {"math": 1, "proof": 1}
    assert d["rules"] == [{"scope": "domain:proof", "review": "always", "audit": 0.0}]


@pytest.mark.parametrize("verdict", [
    refuted("answer_mismatch", "no"), needs_review("timeout", "slow"),
    needs_review("parse_error", "?"), verified("expert_accepted", "by ann"),
], ids=["refuted", "timeout", "parse_error", "expert_accepted"])
def test_only_machine_verified_verdicts_move(verdict: Verdict) -> None:
    p = Policy.from_config({"policy": {"review": "always", "audit": 1.0}})
    assert p.apply(rec(), verdict) is verdict


def test_tag_rules_match_by_value_text() -> None:
    p = Policy.from_config({"policy": {"tags": {
        "difficulty": {"hard": {"review": "always"}},
        "level": {"3": {"review": "always"}},
        "synthetic": {"true": {"review": "always"}}}}})
    assert p.apply(rec(difficulty="hard"), machine_ok()).reason == "high_stakes"
    assert p.apply(rec(difficulty="easy"), machine_ok()).status is Status.VERIFIED
    assert p.apply(rec(level=3), machine_ok()).reason == "high_stakes"
    assert p.apply(rec(synthetic=True), machine_ok()).reason == "high_stakes"
    assert p.apply(rec(synthetic=False), machine_ok()).status is Status.VERIFIED
    assert p.apply(rec(), machine_ok()).status is Status.VERIFIED


def test_always_beats_audit_and_never_does_not_cancel_always() -> None:
    p = Policy.from_config({"policy": {"math": {"audit": 1.0, "review": "never"},
                                       "tags": {"difficulty": {"hard": {"review": "always"}}}}})
    assert p.apply(rec(difficulty="hard"), machine_ok()).reason == "high_stakes"
    assert p.apply(rec(difficulty="easy"), machine_ok()).reason == "audit_sample"


def _sampled(policy: Policy, n: int = 2000) -> set[str]:
    out = set()
    for i in range(n):
        r = rec(i)
        if policy.apply(r, machine_ok()).reason == "audit_sample":
            out.add(r.id)
    return out


def test_audit_sample_is_seeded_reproducible_and_about_the_right_size() -> None:
    cfg = {"policy": {"seed": "q4", "math": {"audit": 0.05}}}
    first, again = _sampled(Policy.from_config(cfg)), _sampled(Policy.from_config(cfg))
    assert first == again
    assert 60 <= len(first) <= 140  # 5% of 2000 = 100; binomial sd ~ 9.7
    other = _sampled(Policy.from_config({"policy": {"seed": "q1", "math": {"audit": 0.05}}}))
    assert other != first
    # a larger fraction keeps every record already in the sample
    bigger = _sampled(Policy.from_config({"policy": {"seed": "q4", "math": {"audit": 0.2}}}))
    assert first < bigger
    # the seed may be an integer
    assert _sampled(Policy.from_config({"policy": {"seed": 7, "math": {"audit": 0.05}}}))


def test_audit_depends_on_content_not_on_id_or_order() -> None:
    p = Policy.from_config({"policy": {"audit": 0.5}})
    a = make_record({"id": "one", "domain": "math", "answer": "7", "reference": "7"})
    b = make_record({"id": "renamed", "domain": "math", "answer": "7", "reference": "7"})
    assert p.apply(a, machine_ok()).reason == p.apply(b, machine_ok()).reason
    assert audit_draw("s", a.content_key) == audit_draw("s", b.content_key)
    evidence = None
    for i in range(50):
        out = p.apply(rec(i), machine_ok())
        if out.reason == "audit_sample":
            evidence = out.evidence
            break
    assert evidence is not None
    assert evidence["policy"]["fraction"] == 0.5 and evidence["policy"]["draw"] < 0.5
    assert evidence["machine"]["status"] == "verified"


STATUSES = st.sampled_from([Status.VERIFIED, Status.REFUTED, Status.NEEDS_REVIEW])
RULE = st.fixed_dictionaries({}, optional={
    "review": st.sampled_from(["always", "never"]),
    "audit": st.floats(min_value=0.0, max_value=1.0, allow_nan=False)})


@settings(max_examples=150, deadline=None)
@given(
    rules=st.dictionaries(st.sampled_from(["math", "code", "smt"]), RULE, max_size=3),
    tag_rules=st.dictionaries(st.sampled_from(["easy", "hard"]), RULE, max_size=2),
    seed=st.one_of(st.text(max_size=8), st.integers(0, 10**6)),
    items=st.lists(st.tuples(st.sampled_from(["math", "code", "smt", "exact"]), STATUSES,
                             st.sampled_from(["easy", "hard", "mid"]), st.integers(0, 10**6)),
                   max_size=30),
)
def test_policy_never_increases_the_verified_count(
        rules: dict[str, Any], tag_rules: dict[str, Any], seed: Any,
        items: list[tuple[str, Status, str, int]]) -> None:
    policy = Policy.from_config({"policy": {"seed": seed, **rules,
                                            "tags": {"difficulty": tag_rules}}})
    before = after = 0
    for domain, status, difficulty, n in items:
        v = Verdict(status, "answer_matches" if status is Status.VERIFIED else "x",
                    "d", {"n": n}, id=str(n), domain=domain)
        out = policy.apply(rec(n, domain=domain, difficulty=difficulty), v)
        before += v.status is Status.VERIFIED
        after += out.status is Status.VERIFIED
        if out.status is Status.VERIFIED:
            assert out is v  # a verified output is the machine's own verdict, untouched
        if v.status is not Status.VERIFIED:
            assert out is v
        else:
            assert out is v or (out.status is Status.NEEDS_REVIEW
                                and out.reason in ("high_stakes", "audit_sample")
                                and out.evidence["machine"]["status"] == "verified")
    assert after <= before
    assert policy.describe()["moved_total"] == before - after


def test_policy_through_a_real_run(ws: Any) -> None:
    from expert_helpers import exact_rows, read_jsonl

    ws.config('[policy]\nseed = "t"\n[policy.tags.difficulty.hard]\nreview = "always"\n')
    ws.data(exact_rows(12))
    run = ws.run("data.jsonl")
    verdicts = read_jsonl(run / "verdicts.jsonl")
    hard_ok = [v for v in verdicts if v["tags"]["difficulty"] == "hard"
               and v["reason"] == "high_stakes"]
    assert hard_ok and all(v["status"] == "needs_review" for v in hard_ok)
    assert all(v["evidence"]["machine"]["status"] == "verified" for v in hard_ok)
    # the machine's refutations of hard records stay refuted
    assert any(v["tags"]["difficulty"] == "hard" and v["status"] == "refuted" for v in verdicts)
    assert not any(v["tags"]["difficulty"] == "hard" and v["status"] == "verified"
                   for v in verdicts)
    import json
    report = json.loads((run / "report.json").read_text())
    assert report["policy"]["moved"]["high_stakes"] == {"exact": len(hard_ok)}
    # an audit sample is the same on every run, whether checked afresh or from the ledger
    ws.config('[policy]\nseed = "t"\n[policy.exact]\naudit = 0.5\n')
    first = ws.run("data.jsonl", out="audit1")
    again = ws.run("data.jsonl", out="audit2")
    sampled = [[v["id"] for v in read_jsonl(r / "verdicts.jsonl")
                if v["reason"] == "audit_sample"] for r in (first, again)]
    assert sampled[0] and sampled[0] == sampled[1]
    assert all(v["cached"] for v in read_jsonl(again / "verdicts.jsonl"))
    # a bad policy table is exit 2 with one sentence, no traceback
    ws.config('[policy.exact]\naudit = 5\n')
    proc = ws.sv("run", "data.jsonl", "--out", "bad", "-q")
    assert proc.returncode == 2
    assert "policy.exact.audit" in proc.stderr and "Traceback" not in proc.stderr


TOML_VALUE = st.recursive(
    st.booleans() | st.integers(-5, 5) | st.floats(-2, 2, allow_nan=False)
    | st.sampled_from(["always", "never", "hard", "x"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(
        st.sampled_from(["review", "audit", "seed", "tags", "math", "difficulty", "hard", "tag"]),
        inner, max_size=3), max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(table=TOML_VALUE)
def test_any_policy_table_builds_or_is_a_usage_error(table: Any) -> None:
    try:
        policy = Policy.from_config({"policy": table})
    except UsageError:
        return
    out = policy.apply(rec(1, difficulty="hard"), machine_ok())
    assert out.status in (Status.VERIFIED, Status.NEEDS_REVIEW)
    policy.describe()
