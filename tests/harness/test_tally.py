"""Counting in parts: workers count the records they settle and the run adds the parts
up in whatever order they arrive. The sum must equal one pass over the verdicts in input
order (what ``synthvet report`` computes from the finished folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from synthvet.harness._expert_io import RunSummary, summarize_run
from synthvet.harness.stats import Stats, count_key
from synthvet.model import Status, Verdict

STATUSES = [s.value for s in Status]
tag_values = st.one_of(st.sampled_from(["easy", "hard", "x"]), st.booleans(),
                       st.integers(-2, 2), st.none(), st.lists(st.integers(0, 2), max_size=2))
verdict_rows = st.fixed_dictionaries({
    "status": st.sampled_from(STATUSES),
    "reason": st.sampled_from(["r1", "r2", "expert_accepted", "timeout"]),
    "domain": st.sampled_from(["", "math", "code"]),
    "cached": st.booleans(),
    "seconds": st.floats(0, 5),
    "tags": st.dictionaries(st.sampled_from(["difficulty", "source", "many"]), tag_values,
                            max_size=3),
    "machine": st.sampled_from([None, "verified", "refuted"]),
})


def _verdict(i: int, row: dict[str, Any]) -> Verdict:
    evidence = {"machine": {"status": row["machine"]}} if row["machine"] else {}
    return Verdict(Status(row["status"]), row["reason"], "d", evidence, id=f"r{i}",
                   domain=row["domain"], seconds=row["seconds"], cached=row["cached"])


def _as_file_row(i: int, v: Verdict, tags: dict[str, Any]) -> dict[str, Any]:
    row = {**v.to_dict(), "source": "in.jsonl", "line": i + 1, "tags": tags, "_n": i}
    return json.loads(json.dumps(row)) | {"_n": i}


@settings(max_examples=60, deadline=None)
@given(st.lists(verdict_rows, max_size=60), st.randoms(), st.integers(1, 6))
def test_parts_merged_in_any_order_equal_one_pass(rows, rnd, cap):
    verdicts = [(_verdict(i, r), r["tags"]) for i, r in enumerate(rows)]

    one_stats = Stats()
    one_summary = RunSummary(Path("."), {}, sample_cap=cap, first_cap=cap, max_tag_values=3)
    for i, (v, tags) in enumerate(verdicts):
        one_stats.add(v, tags, seq=i)
        one_summary.add(_as_file_row(i, v, tags))

    # split into contiguous parts (as batches are), count each, merge in shuffled order
    cuts = sorted(rnd.sample(range(1, len(verdicts)), min(3, max(0, len(verdicts) - 1)))) \
        if len(verdicts) > 1 else []
    bounds = list(zip([0, *cuts], [*cuts, len(verdicts)]))
    rnd.shuffle(bounds)
    stats = Stats()
    summary = RunSummary(Path("."), {}, sample_cap=cap, first_cap=cap, max_tag_values=3,
                         keep_seconds=False)
    for lo, hi in bounds:
        part = RunSummary(Path("."), {}, sample_cap=cap, first_cap=cap, keep_seconds=False)
        counts: dict[Any, int] = {}
        for i in range(lo, hi):
            v, tags = verdicts[i]
            key = count_key(v, tags)
            counts[key] = counts.get(key, 0) + 1
            stats.add_ids({(v.domain or "(none)", v.status.value): [(i, v.id)]})
            part.keep(_as_file_row(i, v, tags))
        stats.add_counts(counts)
        summary.add_counts(counts)
        summary.merge_kept(part)

    assert stats.counts() == one_stats.counts()
    assert (stats.total, stats.cached) == (one_stats.total, one_stats.cached)
    assert stats.ids == one_stats.ids
    for name in ("total", "status", "domain_status", "reasons", "domain_reason", "tags",
                 "wide_tags", "overturned", "samples", "firsts", "domain_firsts"):
        assert getattr(summary, name) == getattr(one_summary, name), name


def test_report_inputs_gathered_during_a_run_equal_a_pass_over_its_folder(tmp_path):
    """The run hands report.html / junit.xml a summary it gathered from two workers; it
    must say exactly what reading the finished folder says."""
    from synthvet.harness.config import Config
    from synthvet.harness.runner import RunOptions, run

    src = tmp_path / "in.jsonl"
    lines = []
    for i in range(900):
        if i % 97 == 5:
            lines.append("{broken")
            continue
        lines.append(json.dumps({
            "id": f"e{i}", "domain": "exact" if i % 50 else "nosuch",
            "answer": "A" if i % 3 else "B", "reference": "A",
            "tags": {"difficulty": ["easy", "hard"][i % 2], "n": i % 20, "flag": i % 4 == 0}}))
    src.write_text("\n".join(lines) + "\n")
    result = run(RunOptions([str(src)], str(tmp_path / "run"), Config(), workers=2,
                            use_ledger=False))
    gathered = result.summary
    assert gathered is not None
    again = summarize_run(tmp_path / "run", originals=True)
    for name in ("total", "status", "domain_status", "reasons", "domain_reason", "tags",
                 "wide_tags", "samples", "firsts", "domain_firsts", "originals"):
        assert getattr(gathered, name) == getattr(again, name), name
    assert gathered.status["refuted"] > 100 and gathered.status["needs_review"] > 10
