"""CI integration: junit.xml, GitHub annotations and step summary, `synthvet diff`."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from expert_helpers import Workspace, exact_rows, read_jsonl, write_jsonl

from synthvet.harness import github
from synthvet.harness._expert_io import summarize_run
from synthvet.harness.diff import diff_runs
from synthvet.harness.junit import write_junit

GATE = "[gate]\nmax_refuted = 0\nmin_verified = 0.5\n[gate.exact]\nmax_review = 0\n"


def gated_run(ws: Workspace, n: int = 9, out: str = "run") -> Path:
    ws.config(GATE)
    rows: list[Any] = exact_rows(n)
    rows.append({"id": "empty", "domain": "exact", "answer": "", "reference": "1"})
    ws.data(rows)
    return ws.run("data.jsonl", out=out, expect=1)


def test_junit_has_a_case_per_domain_and_per_gate_rule(ws: Workspace) -> None:
    run = gated_run(ws)
    root = ET.parse(run / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"synthvet.domains", "synthvet.gate"}
    domain_cases = {c.get("name"): c for c in suites["synthvet.domains"].iter("testcase")}
    assert set(domain_cases) == {"exact"}
    failure = domain_cases["exact"].find("failure")
    assert failure is not None
    # r0, r3, r6 are wrong: the failure names them with file:line
    assert "3 refuted record(s): r0, r3, r6" in failure.get("message", "")
    assert "r3 (data.jsonl:4) answer_mismatch" in (failure.text or "")
    assert "empty" in (domain_cases["exact"].findtext("system-out") or "")

    report = json.loads((run / "report.json").read_text())
    rules = report["gate"]["rules"]
    gate_cases = list(suites["synthvet.gate"].iter("testcase"))
    assert len(gate_cases) == len(rules) == 3
    by_name = {c.get("name"): c for c in gate_cases}
    refuted_case = next(c for n, c in by_name.items() if "max_refuted" in n)
    assert refuted_case.find("failure") is not None
    assert "r0" in refuted_case.find("failure").get("message", "")  # type: ignore[union-attr]
    verified_case = next(c for n, c in by_name.items() if "min_verified" in n)
    assert verified_case.find("failure") is None  # 6 of 10 verified >= 0.5
    review_case = next(c for n, c in by_name.items() if "max_review" in n)
    assert review_case.find("failure") is not None
    assert "empty" in review_case.find("failure").get("message", "")  # type: ignore[union-attr]
    assert suites["synthvet.gate"].get("failures") == "2"
    assert root.get("tests") == "4" and root.get("failures") == "3"


def test_junit_passes_when_all_is_well(ws: Workspace) -> None:
    ws.config("[gate]\nmax_refuted = 0\n")
    ws.data([{"id": f"ok{i}", "domain": "exact", "answer": "a", "reference": "a"}
             for i in range(3)])
    run = ws.run("data.jsonl", expect=0)
    root = ET.parse(run / "junit.xml").getroot()
    assert root.get("failures") == "0" and root.get("tests") == "2"
    (run / "junit.xml").unlink()
    assert write_junit(run) == run / "junit.xml"
    assert ET.parse(run / "junit.xml").getroot().get("failures") == "0"


def test_github_annotations_and_step_summary_in_a_real_run(ws: Workspace) -> None:
    summary = ws.root / "summary.md"
    summary.write_text("# earlier step\n")
    ws.config(GATE)
    rows: list[Any] = exact_rows(9)
    rows.append({"id": "empty", "domain": "exact", "answer": "", "reference": "1"})
    ws.data(rows)
    proc = ws.sv("run", "data.jsonl", "--out", "run", "-q", "--workers", "1", env={
        "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(ws.root)})
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("::")]
    errors = [ln for ln in lines if ln.startswith("::error ")]
    warnings = [ln for ln in lines if ln.startswith("::warning ")]
    assert len(errors) == 3 and len(warnings) == 1
    assert errors[1].startswith("::error file=data.jsonl,line=4,title=synthvet exact%3A refuted "
                                "(answer_mismatch)::record r3: ")
    assert warnings[0].startswith("::warning file=data.jsonl,line=10,")
    text = summary.read_text()
    assert text.startswith("# earlier step\n### synthvet: gate failed")
    assert "| exact | 6 | 3 | 1 | 10 |" in text
    assert "`max_refuted`" in text and "**fail**" in text
    assert "| `r3` | `" in text

    # outside GitHub Actions: nothing at all
    proc = ws.sv("run", "data.jsonl", "--out", "run2", "-q", "--workers", "1")
    assert "::" not in proc.stdout


def test_annotations_escape_and_cap(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    rows = [{"id": f"x{i}", "domain": "math", "status": "refuted", "reason": "r",
             "detail": "100% wrong,\nreally: yes", "source": "/ws/data, v2.jsonl", "line": i + 1}
            for i in range(60)]
    write_jsonl(run / "verdicts.jsonl", rows)
    lines = github.annotation_lines(summarize_run(run), workspace="/ws", cap=5)
    assert len(lines) == 6
    assert lines[0] == ("::error file=data%2C v2.jsonl,line=1,title=synthvet math%3A refuted "
                        "(r)::record x0: 100%25 wrong,%0Areally: yes")
    assert lines[-1].startswith("::notice title=synthvet::55 more")
    out = io.StringIO()
    summary = tmp_path / "s.md"
    assert github.emit(run, env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)},
                       stream=out)
    assert out.getvalue().count("::error") == 50
    assert "60 refuted record(s)" in summary.read_text()
    assert not github.emit(run, env={}, stream=out)


def test_diff_finds_newly_refuted_verified_and_review(ws: Workspace) -> None:
    rows = exact_rows(6)
    ws.data(rows, "a.jsonl")
    run_a = ws.run("a.jsonl", out="a")
    changed = [dict(r) for r in rows]
    changed[0]["answer"] = "1"  # r0 was wrong, now right
    changed[1]["answer"] = "9"  # r1 was right, now wrong
    changed[2]["answer"] = ""  # r2 was right, now needs review
    del changed[5]  # r5 leaves
    changed.append({"id": "new", "domain": "exact", "answer": "no", "reference": "yes"})
    ws.data(changed, "b.jsonl")
    run_b = ws.run("b.jsonl", out="b")

    d = diff_runs(run_a, run_b)
    assert [c.id for c in d.newly_verified] == ["r0"]
    assert [c.id for c in d.newly_refuted] == ["r1", "new"]
    assert [c.id for c in d.newly_review] == ["r2"]
    assert [c.id for c in d.removed] == ["r5"]
    assert d.unchanged == 2
    r1 = d.newly_refuted[0]
    assert r1.before == "verified" and r1.content_changed and r1.where == "b.jsonl:2"
    assert d.newly_refuted[1].before is None

    proc = ws.sv("diff", str(run_a), str(run_b), "--format", "markdown", check=0)
    assert "#### newly refuted (2)" in proc.stdout
    assert "| `new` | exact | (new) | refuted |" in proc.stdout
    assert "verified (content changed)" in proc.stdout
    proc = ws.sv("diff", str(run_a), str(run_b), check=0)
    assert "newly refuted (2)" in proc.stdout and "r1" in proc.stdout
    proc = ws.sv("diff", str(run_a), str(run_b), "--exit-code")
    assert proc.returncode == 1
    proc = ws.sv("diff", str(run_a), str(run_a), "--exit-code", "--format", "markdown")
    assert proc.returncode == 0 and "No record changed status (6 unchanged)" in proc.stdout
    assert [v["id"] for v in read_jsonl(run_b / "verdicts.jsonl")][-1] == "new"


def test_diff_pairs_duplicate_ids_in_order(tmp_path: Path) -> None:
    def folder(name: str, statuses: list[str]) -> Path:
        run = tmp_path / name
        run.mkdir()
        write_jsonl(run / "verdicts.jsonl", [
            {"id": "dup", "domain": "d", "status": s, "reason": "x", "source": "f", "line": i}
            for i, s in enumerate(statuses, 1)])
        return run

    d = diff_runs(folder("a", ["verified", "refuted"]), folder("b", ["verified", "verified"]))
    assert [(c.id, c.before, c.where) for c in d.newly_verified] == [("dup", "refuted", "f:2")]
    assert d.unchanged == 1
