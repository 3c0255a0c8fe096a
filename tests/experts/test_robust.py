"""Odd run folders (hand-edited, partial, from another version) never crash the tools:
each either works or raises a SynthvetError that the CLI prints in one sentence."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from synthvet.errors import SynthvetError
from synthvet.harness import github
from synthvet.harness._expert_io import summarize_run
from synthvet.harness.diff import diff_runs
from synthvet.harness.junit import write_junit
from synthvet.harness.report_html import write_html_report
from synthvet.harness.review import export_review

SCALAR = st.none() | st.booleans() | st.integers(-3, 10**12) | st.floats(allow_nan=True) \
    | st.text(max_size=6) | st.sampled_from(["verified", "refuted", "needs_review", "math"])
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8)
STATUS = st.sampled_from(["verified", "refuted", "needs_review"])
VERDICT = st.fixed_dictionaries({}, optional={
    "id": st.text(max_size=4) | VALUE,
    "domain": st.sampled_from(["math", "code", ""]) | VALUE,
    "status": STATUS | STATUS | VALUE,
    "reason": st.sampled_from(["high_stakes", "expert_accepted", "x"]) | VALUE,
    "detail": VALUE, "evidence": VALUE, "verifier": VALUE, "content_key": VALUE,
    "seconds": st.floats() | VALUE,
    "source": st.sampled_from(["data.jsonl", "<stdin>", "/abs/x.jsonl", ""]) | VALUE,
    "line": st.integers(-2, 10**9) | st.text(max_size=3) | VALUE,
    "tags": st.dictionaries(st.sampled_from(["difficulty", "k"]), VALUE, max_size=2) | VALUE,
})
REPORT = st.dictionaries(st.sampled_from(["gate", "policy", "timings", "inputs", "seconds",
                                          "started_at", "cached"]), VALUE, max_size=5)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(VERDICT, max_size=8), report=st.none() | REPORT)
def test_odd_run_folders_work_or_fail_cleanly(rows: list[dict[str, Any]],
                                              report: dict[str, Any] | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        run.mkdir()
        (run / "verdicts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        if report is not None:
            (run / "report.json").write_text(json.dumps(report))
        (run / "review.jsonl").write_text("".join(
            json.dumps({"x": 1, "_synthvet": r}) + "\n" for r in rows))
        for step in (
            lambda: write_html_report(run),
            lambda: write_junit(run),
            lambda: github.emit(run, env={"GITHUB_ACTIONS": "true",
                                          "GITHUB_STEP_SUMMARY": str(run / "s.md")},
                                stream=io.StringIO()),
            lambda: github.step_summary(summarize_run(run)),
            lambda: diff_runs(run, run),
            lambda: export_review(run, "jsonl", run / "q.jsonl"),
            lambda: export_review(run, "label-studio", run / "q.json"),
        ):
            try:
                step()
            except SynthvetError:
                pass
