"""Discovery through entry points, and rejection of malformed plugins at load time."""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path

import pytest

from synthvet.domains import registry as reg_mod
from synthvet.domains.exact import ExactDomain
from synthvet.errors import DomainValidationError, UsageError
from synthvet.testing import ConformanceFailure, check_domain, make_record


class _Dist:
    def __init__(self, name: str) -> None:
        self.name = name


def _ep(name: str, value: str, dist: str) -> md.EntryPoint:
    ep = md.EntryPoint(name=name, value=value, group=reg_mod.ENTRY_POINT_GROUP)
    return ep._for(_Dist(dist))  # type: ignore[attr-defined]


@pytest.fixture
def fake_eps(monkeypatch):
    eps: list[md.EntryPoint] = [_ep("exact", "synthvet.domains.exact:ExactDomain", "synthvet")]
    monkeypatch.setattr(reg_mod, "_entry_points", lambda: eps)
    return eps


def test_plugin_is_discovered(fake_eps):
    fake_eps.append(_ep("sleepy", "testplugins:SleepyDomain", "synthvet-sleepy"))
    registry = reg_mod.load_registry()
    assert registry.names() == ["exact", "sleepy"]
    assert registry.get("sleepy").version == "1"
    assert registry.origins["sleepy"] == "synthvet-sleepy"


@pytest.mark.parametrize("target,message", [
    ("no_such_module:Thing", "cannot import 'no_such_module'"),
    ("testplugins:Missing", "has no 'Missing'"),
    ("testplugins:NoVersionDomain", "`version` must be a non-empty string"),
    ("testplugins:WrongNameDomain", "its `name` is 'something_else'"),
    ("testplugins:_Base", "missing attribute(s) name, check"),
], ids=["import", "attr", "version", "name", "shape"])
def test_malformed_plugin_rejected_with_its_name(fake_eps, target, message):
    name = "noversion" if "NoVersion" in target else "broken"
    fake_eps.append(_ep(name, target, "synthvet-broken"))
    registry = reg_mod.load_registry()
    with pytest.raises(DomainValidationError) as info:
        registry.get(name)
    assert info.value.plugin == name
    assert message in str(info.value) and repr(name) in str(info.value)


def test_duplicate_names_are_errors(fake_eps):
    fake_eps.append(_ep("exact", "testplugins:SleepyDomain", "synthvet-evil"))
    with pytest.raises(DomainValidationError, match="registered twice"):
        reg_mod.load_registry()


def test_autoload_can_be_disabled(fake_eps, monkeypatch):
    fake_eps.append(_ep("sleepy", "testplugins:SleepyDomain", "synthvet-sleepy"))
    monkeypatch.setenv("SYNTHVET_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert reg_mod.load_registry().names() == ["exact"]


def test_unknown_domain_suggests(fake_eps):
    with pytest.raises(UsageError, match="did you mean 'exact'"):
        reg_mod.load_registry().get("exakt")


def test_real_entry_points_include_builtins():
    names = reg_mod.load_registry().names()
    assert {"exact", "math", "code", "smt", "proof"} <= set(names)


# -- the exact domain and the conformance kit ---------------------------------------------

def test_exact_domain_conformance():
    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "exact"
    report = check_domain(ExactDomain, fixtures, perturb=lambda r: make_record(
        {**r.data, "answer": str(r.get("answer")) + "x"}))
    assert report.cases >= 5 and report.perturbed >= 2 and report.garbage > 40


@pytest.mark.parametrize("answer,reference,status", [
    ("B", "B", "verified"), ("  B\n", "B", "verified"), ("B", "b", "refuted"),
    ("B.", "B", "refuted"), ("1", 1, "verified"), ("1.0", "1", "refuted"),
    (True, "True", "needs_review"), (None, "x", "needs_review"), ("", "", "needs_review"),
    ("x", ["x"], "needs_review"),
], ids=lambda v: repr(v)[:12])
def test_exact_table(answer, reference, status):
    rec = make_record({"domain": "exact", "answer": answer, "reference": reference})
    from synthvet.model import Limits

    assert ExactDomain().check(rec, Limits()).status.value == status


def test_kit_catches_a_domain_that_verifies_garbage():
    class Gullible:
        name, version, fields = "gullible", "1", ("answer",)

        def __init__(self, options=None):
            pass

        def check(self, record, limits):
            from synthvet.model import verified

            return verified("answer_matches", "always")

    with pytest.raises(ConformanceFailure, match="was verified"):
        check_domain(Gullible)


def test_kit_catches_nondeterminism(tmp_path):
    import itertools

    counter = itertools.count()

    class Flaky:
        name, version, fields = "flaky", "1", ("answer",)

        def __init__(self, options=None):
            pass

        def check(self, record, limits):
            from synthvet.model import needs_review, refuted

            if record.get("answer") == "golden":
                return refuted("answer_mismatch") if next(counter) % 2 else needs_review("x")
            return needs_review("parse_error")

    (tmp_path / "g.jsonl").write_text(
        '{"domain": "flaky", "answer": "golden", "expect": {"status": "refuted"}}\n')
    with pytest.raises(ConformanceFailure, match="not deterministic"):
        check_domain(Flaky, tmp_path)
