"""End-to-end runs through the runner with real worker processes and a real SQLite ledger."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from harness_helpers import exact_rows, read_jsonl

from synthvet.harness.config import Config
from synthvet.harness.runner import RunOptions, run
from synthvet.model import Status


def _run(tmp_path: Path, inputs: list[Path], registry=None, config: Config | None = None,
         out: str = "out", workers: int = 2, **kw):
    return run(RunOptions([str(p) for p in inputs], str(tmp_path / out), config or Config(),
                          workers=workers, ledger=str(tmp_path / "ledger.sqlite"), **kw),
               registry=registry)


def test_every_line_accounted_for_in_order(tmp_path, write_jsonl):
    rows = exact_rows(300)
    lines = [json.dumps(r) for r in rows]
    lines.insert(10, "{not json")
    lines.insert(20, "[1, 2]")
    lines.insert(30, "")
    lines.insert(40, json.dumps({"domain": "exactt", "answer": "1", "reference": "1"}))
    lines.insert(50, json.dumps({"answer": "1", "reference": "1"}))
    src = write_jsonl(lines)
    result = _run(tmp_path, [src])
    out = tmp_path / "out"
    verdicts = read_jsonl(out / "verdicts.jsonl")
    assert len(verdicts) == 304  # every non-blank line, once
    assert [v["line"] for v in verdicts] == sorted(v["line"] for v in verdicts)
    split = sum(len(read_jsonl(out / f)) for f in
                ("accepted.jsonl", "rejected.jsonl", "review.jsonl"))
    assert split == 304
    by_line = {v["line"]: v for v in verdicts}
    assert by_line[11]["reason"] == "parse_error" and "line 11" in by_line[11]["detail"]
    assert by_line[21]["reason"] == "parse_error" and "not an object" in by_line[21]["detail"]
    assert by_line[41]["reason"] == "unknown_domain" and "'exact'" in by_line[41]["detail"]
    assert by_line[51]["reason"] == "missing_field"
    assert result.report["blank_lines"] == 1
    wrong = sum(1 for i in range(300) if i % 3 == 0)
    assert result.stats.status["refuted"] == wrong
    assert result.stats.status["verified"] == 300 - wrong


def test_accepted_lines_are_verbatim(tmp_path, write_jsonl):
    line = '{"domain":"exact",   "answer":"x", "reference":" x ", "extra": [1,2]}'
    src = write_jsonl([line])
    _run(tmp_path, [src])
    assert (tmp_path / "out" / "accepted.jsonl").read_text() == line + "\n"


def test_rejected_and_review_carry_their_reason(tmp_path, write_jsonl):
    src = write_jsonl([{"id": "a", "domain": "exact", "answer": "1", "reference": "2"},
                       "{oops"])
    _run(tmp_path, [src])
    rej = read_jsonl(tmp_path / "out" / "rejected.jsonl")
    assert rej[0]["answer"] == "1" and rej[0]["_synthvet"]["reason"] == "answer_mismatch"
    rev = read_jsonl(tmp_path / "out" / "review.jsonl")
    assert rev[0]["_raw"] == "{oops" and rev[0]["_synthvet"]["line"] == 2


def test_cached_rerun_takes_everything_from_the_ledger(tmp_path, write_jsonl):
    src = write_jsonl(exact_rows(200))
    first = _run(tmp_path, [src])
    second = _run(tmp_path, [src], out="out2")
    assert first.stats.cached == 0 and second.stats.cached == 200
    a = [(v["id"], v["status"], v["reason"]) for v in read_jsonl(tmp_path / "out/verdicts.jsonl")]
    b = [(v["id"], v["status"], v["reason"]) for v in read_jsonl(tmp_path / "out2/verdicts.jsonl")]
    assert a == b
    assert all(v["cached"] for v in read_jsonl(tmp_path / "out2/verdicts.jsonl"))


def test_changed_record_or_config_is_checked_again(tmp_path, write_jsonl):
    rows = exact_rows(20)
    src = write_jsonl(rows)
    _run(tmp_path, [src])
    rows[0]["answer"] = "changed"
    src = write_jsonl(rows)
    again = _run(tmp_path, [src], out="o2")
    assert again.stats.cached == 19
    limits = Config({"limits": {"seconds": 7}})
    third = _run(tmp_path, [src], out="o3", config=limits)
    assert third.stats.cached == 0


def test_renamed_id_keeps_cached_verdict(tmp_path, write_jsonl):
    _run(tmp_path, [write_jsonl([{"id": "a", "domain": "exact", "answer": "1",
                                  "reference": "1"}])])
    res = _run(tmp_path, [write_jsonl([{"id": "b", "domain": "exact", "answer": "1",
                                        "reference": "1"}])], out="o2")
    v = read_jsonl(tmp_path / "o2/verdicts.jsonl")[0]
    assert res.stats.cached == 1 and v["id"] == "b"
    # the new id is recorded although its verdict came from the ledger, so an expert's
    # decision imported by id finds it; the old id still maps to the same content
    from synthvet.harness.ledger import Ledger

    with Ledger(tmp_path / "ledger.sqlite") as led:
        assert led.keys_for_id("b") == [(v["content_key"], "exact")]
        assert led.keys_for_id("a") == [(v["content_key"], "exact")]


def test_field_mapping_and_default_domain(tmp_path, write_jsonl):
    src = write_jsonl([{"q": 1, "model_output": "42", "gold": "42"}])
    config = Config({"fields": {"answer": "model_output", "reference": "gold"},
                     "run": {"domain": "exact"}})
    res = _run(tmp_path, [src], config=config)
    assert res.stats.status == {"verified": 1}


def test_parquet_and_several_inputs(tmp_path, write_jsonl):
    rows = exact_rows(50)
    table = pa.Table.from_pylist([{k: v for k, v in r.items() if k != "tags"} for r in rows])
    pq.write_table(table, tmp_path / "a.parquet")
    src = write_jsonl(exact_rows(10), name="b.jsonl")
    res = _run(tmp_path, [tmp_path / "a.parquet", src])
    verdicts = read_jsonl(tmp_path / "out/verdicts.jsonl")
    assert len(verdicts) == 60 and res.stats.total == 60
    assert verdicts[0]["source"].endswith("a.parquet") and verdicts[0]["line"] == 1
    accepted = read_jsonl(tmp_path / "out/accepted.jsonl")
    assert accepted[0]["domain"] == "exact"


def test_hung_check_times_out_and_run_goes_on(tmp_path, write_jsonl, registry):
    rows = [{"id": f"s{i}", "domain": "sleepy", "answer": "1", "reference": "1",
             "sleep": 60 if i == 3 else 0} for i in range(12)]
    config = Config({"limits": {"sleepy": {"seconds": 1}}})
    res = _run(tmp_path, [write_jsonl(rows)], registry=registry, config=config)
    verdicts = {v["id"]: v for v in read_jsonl(tmp_path / "out/verdicts.jsonl")}
    assert verdicts["s3"]["status"] == "needs_review" and verdicts["s3"]["reason"] == "timeout"
    assert verdicts["s3"]["evidence"]["limit_hit"] == "wall_clock"
    assert all(verdicts[f"s{i}"]["status"] == "verified" for i in range(12) if i != 3)
    assert res.report["timings"]["workers_replaced"] >= 1
    assert res.report["counts"]["status"] == {"needs_review": 1, "verified": 11}
    assert res.report["counts"]["reason"]["timeout"] == 1


def test_crashing_worker_costs_one_verdict(tmp_path, write_jsonl, registry):
    rows = [{"id": f"c{i}", "domain": "crashy", "answer": "1", "reference": "1",
             "crash": i == 5} for i in range(40)]
    res = _run(tmp_path, [write_jsonl(rows)], registry=registry)
    verdicts = {v["id"]: v for v in read_jsonl(tmp_path / "out/verdicts.jsonl")}
    assert len(verdicts) == 40
    assert verdicts["c5"]["reason"] == "harness_error"
    assert "SIGKILL" in verdicts["c5"]["detail"]
    assert verdicts["c5"]["evidence"] == {"limit_hit": "memory_or_crash", "memory_mb": 4096}
    assert sum(v["status"] == "verified" for v in verdicts.values()) == 39
    # the dead worker's counts died with its lines: the requeued records count once
    assert res.report["total"] == 40
    assert res.report["counts"]["status"] == {"needs_review": 1, "verified": 39}


def test_memory_hog_is_stopped(tmp_path, write_jsonl, registry):
    rows = [{"id": "big", "domain": "hog", "mb": 3000}, {"id": "small", "domain": "hog", "mb": 1}]
    config = Config({"limits": {"hog": {"memory_mb": 512}}})
    _run(tmp_path, [write_jsonl(rows)], registry=registry, config=config)
    verdicts = {v["id"]: v for v in read_jsonl(tmp_path / "out/verdicts.jsonl")}
    assert verdicts["big"]["status"] == "needs_review"
    assert verdicts["big"]["reason"] == "harness_error"
    assert verdicts["small"]["status"] == "verified"


def test_raising_domain_is_a_verdict(tmp_path, write_jsonl, registry):
    _run(tmp_path, [write_jsonl([{"domain": "raisy"}])], registry=registry)
    v = read_jsonl(tmp_path / "out/verdicts.jsonl")[0]
    assert v["status"] == "needs_review" and v["reason"] == "harness_error"
    assert "bug in a plugin" in v["detail"] and "Traceback" in v["evidence"]["traceback"]


def test_transient_verdicts_are_not_cached(tmp_path, write_jsonl, registry):
    rows = [{"id": "t", "domain": "sleepy", "answer": "1", "reference": "1", "sleep": 30}]
    config = Config({"limits": {"sleepy": {"seconds": 0.5}}})
    src = write_jsonl(rows)
    _run(tmp_path, [src], registry=registry, config=config, workers=1)
    res = _run(tmp_path, [src], registry=registry, config=config, workers=1, out="o2")
    assert res.stats.cached == 0


@pytest.mark.parametrize("gate,passed", [
    ({"max_refuted": 0}, False),
    ({"max_refuted": 100}, True),
    ({"max_refuted": 0.5}, True),
    ({"min_verified": 0.9}, False),
    ({"exact": {"max_refuted": 0.1}}, False),
    ({"math": {"max_refuted": 0}}, True),  # no math records: nothing to break
], ids=["count0", "count100", "fraction", "min_verified", "per-domain", "absent-domain"])
def test_gate(tmp_path, write_jsonl, gate, passed):
    res = _run(tmp_path, [write_jsonl(exact_rows(30))], config=Config({"gate": gate}))
    assert res.passed is passed
    rules = res.report["gate"]["rules"]
    assert len(rules) == 1
    if not passed:
        assert rules[0]["records"], "a failing rule names records"


def test_report_json_counts(tmp_path, write_jsonl):
    res = _run(tmp_path, [write_jsonl(exact_rows(30))])
    report = json.loads((tmp_path / "out/report.json").read_text())
    assert report["total"] == 30
    assert report["counts"]["domain"]["exact"] == {"refuted": 10, "verified": 20}
    assert sum(report["counts"]["tags"]["difficulty"]["hard"].values()) == 15
    assert report["timings"]["domain"]["exact"]["n"] == 30
    assert report == res.report | {"config": report["config"]}


def test_no_ledger_mode_writes_none(tmp_path, write_jsonl):
    src = write_jsonl(exact_rows(5))
    run(RunOptions([str(src)], str(tmp_path / "o"), Config(), workers=1, use_ledger=False,
                   ledger=str(tmp_path / "l.sqlite")))
    assert not (tmp_path / "l.sqlite").exists()


def test_status_enum_roundtrip_in_files(tmp_path, write_jsonl):
    _run(tmp_path, [write_jsonl(exact_rows(3))])
    for v in read_jsonl(tmp_path / "out/verdicts.jsonl"):
        assert Status(v["status"])


def test_partial_results_then_late_done_do_not_requeue_the_next_batch(tmp_path, write_jsonl,
                                                                      registry):
    # Each check outlasts the worker's flush interval, so results arrive as "part" messages
    # and the batch's closing "done" can arrive after the next batch was sent (a real bug).
    rows = [{"id": f"p{i}", "domain": "sleepy", "answer": "1", "reference": "1",
             "sleep": 0.07, "n": i} for i in range(16)]
    _run(tmp_path, [write_jsonl(rows)], registry=registry, workers=1)
    verdicts = read_jsonl(tmp_path / "out/verdicts.jsonl")
    assert [v["reason"] for v in verdicts] == ["answer_matches"] * 16


def test_expert_decisions_settle_records_until_they_change(tmp_path, write_jsonl):
    from synthvet.harness.ledger import Ledger

    rows = [{"id": "a", "domain": "exact", "answer": "1", "reference": "2"},
            {"id": "b", "domain": "exact", "answer": "1", "reference": "1"},
            {"id": "c", "domain": "exact", "answer": "3", "reference": "4"}]
    src = write_jsonl(rows)
    _run(tmp_path, [src])
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        (ka, _), = ledger.keys_for_id("a")
        (kb, _), = ledger.keys_for_id("b")
        (kc, _), = ledger.keys_for_id("c")
        ledger.add_decision(ka, "exact", "a", "accept", "ana", "units differ", "2026-11-24", "t")
        ledger.add_decision(kb, "exact", "b", "reject", "bo", "bad label", "2026-11-24", "t")
        ledger.add_decision(kc, "exact", "c", "accept", "ana", "", "2026-11-24", "t")
        ledger.add_decision(kc, "exact", "c", "reject", "bo", "", "2026-11-25", "t")
    _run(tmp_path, [src], out="o2")
    v = {x["id"]: x for x in read_jsonl(tmp_path / "o2/verdicts.jsonl")}
    assert (v["a"]["status"], v["a"]["reason"]) == ("verified", "expert_accepted")
    assert v["a"]["evidence"]["reviewer"] == "ana"
    assert v["a"]["evidence"]["machine"]["status"] == "refuted"
    assert (v["b"]["status"], v["b"]["reason"]) == ("refuted", "expert_rejected")
    assert (v["c"]["status"], v["c"]["reason"]) == ("needs_review", "expert_conflict")
    rows[0]["answer"] = "1.0"  # the record changed: the machine decides again
    _run(tmp_path, [write_jsonl(rows)], out="o3")
    v = {x["id"]: x for x in read_jsonl(tmp_path / "o3/verdicts.jsonl")}
    assert v["a"]["reason"] == "answer_mismatch"


def test_workers_that_cannot_start_stop_the_run_with_a_harness_error(tmp_path, write_jsonl,
                                                                    monkeypatch):
    """Not an endless respawn loop: a few stillborn workers and the run fails (exit 3)."""
    from testplugins import dying_worker

    from synthvet.errors import HarnessError
    from synthvet.harness.executors.local import LocalExecutor

    monkeypatch.setattr(LocalExecutor, "target", staticmethod(dying_worker))
    with pytest.raises(HarnessError, match="keep dying before they settle any record"):
        _run(tmp_path, [write_jsonl(exact_rows(20))])
    assert not (tmp_path / "out" / "verdicts.jsonl").exists()



def test_only_the_batch_a_worker_was_on_counts_retries_when_no_culprit_is_known():
    """A worker holds two batches (one being settled, one waiting in its pipe). When it
    dies with no culprit, only the first batch counts a retry (three and a record is a
    harness_error); the waiting batch and, when a culprit is known, everyone else go
    back to the queue unblamed."""
    import collections

    from synthvet.harness.executors.local import LocalExecutor, _Worker

    def fresh() -> LocalExecutor:
        ex = LocalExecutor.__new__(LocalExecutor)  # the bookkeeping only: no processes
        ex._queue, ex._retries, ex._failures = collections.deque(), {}, []
        return ex

    items = {i: (i, "in.jsonl", i + 1, "{}", None, None) for i in range(8)}

    def worker() -> _Worker:
        return _Worker(None, None, None, in_flight=dict(items),
                       batches={1: [0, 1, 2, 3], 2: [4, 5, 6, 7]})

    ex = fresh()
    for _ in range(3):
        ex._queue.clear()
        ex._requeue(worker(), "the worker process was killed by SIGKILL", blame=True)
    assert sorted(f.item[0] for f in ex._failures) == [0, 1, 2, 3]
    assert all(f.reason == "harness_error" for f in ex._failures)
    assert [item[0] for item in ex._queue] == [4, 5, 6, 7]  # in order, at the front
    assert not any(ex._retries.get(i) for i in range(4, 8))

    ex = fresh()
    for _ in range(5):
        ex._requeue(worker(), "timeout", blame=False)
    assert not ex._failures and not ex._retries


_WHO_STARTS_WORKERS = """
import json, os, sys, threading
from multiprocessing import forkserver
from synthvet.domains.registry import load_registry
from synthvet.harness.config import Config
from synthvet.harness.runner import RunOptions, run

if __name__ == "__main__":
    if sys.argv[3] == "thread":  # as a library caller with a thread of its own
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    registry = load_registry()
    registry.add("where", "testplugins:WhereDomain", origin="tests")
    result = run(RunOptions([sys.argv[1]], sys.argv[2], Config(), workers=2,
                            ledger=sys.argv[4] if len(sys.argv) > 4 else None,
                            use_ledger=len(sys.argv) > 4), registry=registry)
    print(json.dumps({"me": os.getpid(), "total": result.report["total"],
                      "server": forkserver._forkserver._forkserver_pid}))
"""


@pytest.mark.parametrize("mode", ["alone", "ledger", "thread"])
def test_workers_are_forked_while_the_run_has_one_thread(tmp_path, write_jsonl, mode):
    """A run starts its workers before any thread of its own (the ledger writer), so they
    are forked from it: no fork server to boot. A process that already has another
    thread gets them from the fork server instead (a fork copies one thread only: a lock
    another thread held would never be released in the child)."""
    import subprocess
    import sys

    script = tmp_path / "who.py"
    script.write_text(_WHO_STARTS_WORKERS, encoding="utf-8")
    rows = [{"id": f"w{i}", "domain": "where", "answer": "1", "reference": "1",
             "sleep": 0.02} for i in range(8)]
    argv = [sys.executable, str(script), str(write_jsonl(rows)), str(tmp_path / "out"),
            "thread" if mode == "thread" else "-"]
    if mode == "ledger":
        argv.append(str(tmp_path / "ledger.sqlite"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True,
                         env=env)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    parents = {v["evidence"]["ppid"] for v in read_jsonl(tmp_path / "out/verdicts.jsonl")}
    assert got["total"] == 8
    if mode == "thread":
        assert got["server"] is not None and parents == {got["server"]}
    else:
        assert got["server"] is None and parents == {got["me"]}


def _where(tmp_path, write_jsonl, registry, config: Config) -> dict[int, list[set[int]]]:
    """The CPUs each worker (by pid) and a process it started could use, per record."""
    rows = [{"id": f"w{i}", "domain": "where", "answer": "1", "reference": "1",
             "sleep": 0.05} for i in range(8)]
    _run(tmp_path, [write_jsonl(rows)], registry=registry, config=config, use_ledger=False)
    seen: dict[int, list[set[int]]] = {}
    for v in read_jsonl(tmp_path / "out/verdicts.jsonl"):
        ev = v["evidence"]
        child: set[int] = set()
        for part in ev["child"].split(","):
            lo, _, hi = part.partition("-")
            child.update(range(int(lo), int(hi or lo) + 1))
        assert child == set(ev["cpus"]), "what a worker starts runs where the worker runs"
        seen.setdefault(ev["pid"], []).append(set(ev["cpus"]))
    return seen


def test_each_worker_and_what_it_starts_stay_on_one_cpu(tmp_path, write_jsonl, registry):
    """Pinned by default: a worker and its sandbox or solver take turns over pipes, and a
    wake-up across CPUs costs about ten times one on the same CPU here."""
    allowed = sorted(os.sched_getaffinity(0))
    seen = _where(tmp_path, write_jsonl, registry, Config())
    assert len(seen) == 2, "both workers settled records"
    cpus = [next(iter(sets[0])) for sets in seen.values()]
    for sets in seen.values():
        assert all(len(s) == 1 and s == sets[0] for s in sets)
    assert set(cpus) <= set(allowed)
    if len(allowed) >= 2:
        assert len(set(cpus)) == 2, "two workers, two CPUs: one each"


def test_pin_workers_false_leaves_workers_on_every_allowed_cpu(tmp_path, write_jsonl, registry):
    allowed = set(os.sched_getaffinity(0))
    seen = _where(tmp_path, write_jsonl, registry, Config({"run": {"pin_workers": False}}))
    assert all(s == allowed for sets in seen.values() for s in sets)


def test_pin_workers_must_be_a_boolean(tmp_path, write_jsonl):
    from synthvet.errors import UsageError

    with pytest.raises(UsageError, match=r"\[run\] pin_workers must be true or false"):
        _run(tmp_path, [write_jsonl(exact_rows(3))], config=Config({"run": {"pin_workers": "no"}}))
    assert not (tmp_path / "out").exists()
