"""Conformance kit on the golden fixtures, the demo file, and option validation."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from synthvet.domains.code import CodeDomain
from synthvet.errors import UsageError
from synthvet.model import Limits, Record, Status
from synthvet.testing import check_domain, golden_cases

ROOT = Path(__file__).resolve().parent.parent.parent


def perturb(record: Record) -> Record | None:
    """A wrong copy of a right solution: every top-level function and every method returns
    None, and a stdin program prints one extra line."""
    sol = record.get("solution")
    try:
        tree = ast.parse(sol)
    except SyntaxError:
        return None
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    extra = "".join(f"\n\ndef {n}(*args, **kwargs):\n    return None\n" for n in names)
    for cls in (n.name for n in tree.body if isinstance(n, ast.ClassDef)):
        # every method of every class now returns None
        extra += (f"\n\nclass {cls}({cls}):\n    def __getattribute__(self, name):\n"
                  f"        value = object.__getattribute__(self, name)\n"
                  f"        return (lambda *a, **k: None) if callable(value) else value\n")
    if not extra:
        return None
    if record.get("io_tests"):
        extra += "\nprint('perturbed')\n"
    return dataclasses.replace(record, data={**record.data, "solution": sol + extra})


@pytest.fixture(scope="module")
def domain() -> CodeDomain:
    d = CodeDomain({"timeout": 5.0})
    yield d
    d.close()


def test_conformance_golden(domain: CodeDomain) -> None:
    report = check_domain(domain, ROOT / "fixtures" / "code", perturb=perturb,
                          limits=Limits(seconds=20))
    assert report.cases >= 25
    assert report.perturbed >= 8


def test_demo_file_expectations(domain: CodeDomain) -> None:
    cases = golden_cases(ROOT / "fixtures" / "demo" / "code.jsonl", "code")
    assert 10 <= len(cases) <= 20
    for case in cases:
        v = domain.check(case.record, Limits(seconds=20))
        assert v.status is case.expect_status, (case.where, v)
        assert case.expect_reason is None or v.reason == case.expect_reason, (case.where, v)


@pytest.mark.parametrize("options", [
    {"nope": 1}, {"timeout": "fast"}, {"timeout": -1.0}, {"mutants": -1},
    {"min_mutation_score": 1.5}, {"processes": 2}, {"memory_mb": True},
], ids=lambda o: str(o))
def test_bad_options_are_usage_errors(options: dict) -> None:
    with pytest.raises(UsageError):
        CodeDomain(options)


def test_checkers_report_protections(domain: CodeDomain) -> None:
    from synthvet.verifiers.sandbox import PROTECTIONS

    rows = {c.name: c for c in domain.checkers()}
    assert "sandbox" in rows
    if rows["sandbox"].available:
        for p in PROTECTIONS:  # each layer is either listed as on or has a row of its own
            assert p in rows["sandbox"].detail or f"sandbox:{p}" in rows
        assert "network_namespace" in rows["sandbox"].detail
        assert not rows["sandbox:cgroups"].available  # honest: not used


def test_verdict_names_protections_off(domain: CodeDomain) -> None:
    from synthvet.testing import make_record

    rec = make_record({"domain": "code", "solution": "def f(x):\n    return x * 2\n",
                       "tests": "def check(c):\n    assert c(2) == 4\n    assert c(0) == 0\n",
                       "entry_point": "f"})
    v = domain.check(rec, Limits(seconds=20))
    assert v.status is Status.VERIFIED
    assert "cgroups" in v.evidence["protections_off"]


def test_timeout_is_review_with_limit(domain: CodeDomain) -> None:
    from synthvet.testing import make_record

    d = CodeDomain({"timeout": 1.0})
    try:
        rec = make_record({"domain": "code", "solution": "def f(x):\n    while x:\n        pass\n",
                           "tests": "def check(c):\n    assert c(1) == 1\n", "entry_point": "f"})
        v = d.check(rec, Limits(seconds=20))
        assert (v.status, v.reason) == (Status.NEEDS_REVIEW, "timeout")
        assert v.evidence["limit"]
        # the run goes on with the same domain object
        ok = make_record({"domain": "code", "solution": "def f(x):\n    return x\n",
                          "tests": "def check(c):\n    assert c(1) == 1\n    assert c(0) == 0\n",
                          "entry_point": "f"})
        assert d.check(ok, Limits(seconds=20)).status is Status.VERIFIED
    finally:
        d.close()


def test_survives_fork_of_the_worker(domain: CodeDomain) -> None:
    """The harness forks workers; a domain built before the fork starts its own sandbox."""
    import json
    import os

    from synthvet.testing import make_record

    rec = make_record({"domain": "code", "solution": "def f(x):\n    return x + 1\n",
                       "tests": "def check(c):\n    assert c(1) == 2\n    assert c(0) == 1\n",
                       "entry_point": "f"})
    assert domain.check(rec, Limits(seconds=20)).status is Status.VERIFIED
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            v = domain.check(rec, Limits(seconds=20))
            os.write(w, json.dumps(v.status.value).encode())
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    assert json.loads(os.read(r, 100)) == "verified"
    assert domain.check(rec, Limits(seconds=20)).status is Status.VERIFIED


def test_budget_cut_mutants_are_not_kills() -> None:
    """A mutant stopped by the record's time budget (not by its own limit) proves nothing:
    with only an equivalent mutant run, the tests are weak, not strong."""
    from synthvet.testing import make_record

    d = CodeDomain({})
    try:
        rec = make_record({"domain": "code", "entry_point": "f",
                           "solution": "import time\ndef f(x):\n    time.sleep(0.5)\n    y = 0\n"
                                       "    if y < 1:\n        y = 2\n    return x\n",
                           "tests": "def check(c):\n    assert c(2) == 2\n"})
        v = d.check(rec, Limits(seconds=2.0))
        assert (v.status, v.reason) == (Status.NEEDS_REVIEW, "weak_evidence"), v
        assert v.evidence["mutation"]["killed"] == 0
    finally:
        d.close()
