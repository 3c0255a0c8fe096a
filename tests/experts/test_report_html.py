"""report.html in a real headless Chromium: it renders, the charts are there, no console
errors; and it is self-contained (no network, no script)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from _chromium import CHROMIUM, load_page
from expert_helpers import Workspace, exact_rows, read_jsonl

from synthvet.harness.report_html import SAMPLE_CAP, write_html_report

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists(),
                                reason="chromium is not installed (apt-get install chromium)")

PROBE = """(() => ({
  charts: Array.from(document.querySelectorAll('svg.chart')).map(s => ({
      name: s.dataset.chart, rects: s.querySelectorAll('rect').length,
      width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height})),
  sections: Array.from(document.querySelectorAll('section h2')).map(h => h.textContent),
  segments: Array.from(document.querySelectorAll('rect.seg')).map(r =>
      r.getAttribute('class').split(' ')[1]),
  scripts: document.scripts.length,
  bodyHeight: document.body.scrollHeight,
  title: document.title,
  refutedRows: document.querySelectorAll('#refuted table tr').length - 1,
  reviewRows: document.querySelectorAll('#review table tr').length - 1,
}))()"""


def demo_run(ws: Workspace) -> Path:
    root = Path(__file__).resolve().parents[2]
    ws.config('[policy]\nseed = "t"\n[policy.smt]\nreview = "always"\n'
              '[policy.tags.difficulty.hard]\naudit = 0.5\n[gate]\nmax_refuted = 0\n')
    rows: list = exact_rows(40)
    rows.append("{broken")
    ws.data(rows)
    inputs = [str(p) for p in sorted((root / "fixtures" / "demo").glob("*.jsonl"))]
    return ws.run("data.jsonl", *inputs, out="run", expect=1)


def test_report_renders_in_chromium_with_charts_and_no_errors(ws: Workspace,
                                                              tmp_path: Path) -> None:
    run = demo_run(ws)
    page = run / "report.html"
    text = page.read_text(encoding="utf-8")
    # self-contained: nothing fetched, nothing executed
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "url(" not in text

    result = load_page(page, PROBE)
    assert result.errors == []
    info = result.probe
    names = {c["name"] for c in info["charts"]}
    assert {"outcome-by-domain", "wall-difficulty", "wall-difficulty-heatmap", "reasons",
            "time-by-domain"} <= names
    for chart in info["charts"]:
        assert chart["rects"] > 0 and chart["width"] > 200 and chart["height"] > 20, chart
    assert set(info["segments"]) == {"verified", "refuted", "needs_review"}
    assert info["scripts"] == 0
    assert any("Where the wall is" in s for s in info["sections"])
    assert any("What the policy did" in s for s in info["sections"])
    verdicts = read_jsonl(run / "verdicts.jsonl")
    n_refuted = sum(v["status"] == "refuted" for v in verdicts)
    assert info["refutedRows"] == min(n_refuted, SAMPLE_CAP)
    assert info["reviewRows"] == min(sum(v["status"] == "needs_review" for v in verdicts),
                                     SAMPLE_CAP)
    # the page is long enough to hold all of that, and the screenshot is a real image
    assert info["bodyHeight"] > 2000
    assert result.screenshot[:8] == b"\x89PNG\r\n\x1a\n" and len(result.screenshot) > 50_000
    (tmp_path / "report.png").write_bytes(result.screenshot)

    # what the policy did and the gate are on the page, in words
    assert "high_stakes" in text and "max_refuted" in text and "failed" in text
    # `synthvet report` rebuilds it byte for byte from the folder
    page.unlink()
    (run / "junit.xml").unlink()
    proc = ws.sv("report", str(run), check=0)
    assert proc.stdout.strip().endswith("report.html")
    assert page.read_text(encoding="utf-8") == text
    assert (run / "junit.xml").exists()


def test_the_browser_check_can_fail(tmp_path: Path) -> None:
    """Negative control: the same check reports console errors, exceptions and failed
    loads, so an empty error list above means something."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><p>x</p><script>console.error('boom'); nope();</script>"
                   "<img src='missing.png'></body></html>")
    errors = load_page(bad).errors
    assert any("boom" in e for e in errors)
    assert any("nope" in e for e in errors)
    assert any("missing.png" in e for e in errors)


def test_report_of_a_hand_made_minimal_folder(tmp_path: Path) -> None:
    """Only verdicts.jsonl (no report.json, no tags, odd values): still a page, no errors."""
    run = tmp_path / "run"
    run.mkdir()
    rows = [{"id": "a<b>&", "domain": "math", "status": "refuted", "reason": "answer_mismatch",
             "detail": "<script>alert(1)</script>", "evidence": {"x": "</pre>"},
             "seconds": 0.1, "source": "in.jsonl", "line": 1, "tags": {"k": [1]}},
            {"id": "b", "domain": "math", "status": "needs_review", "reason": "timeout",
             "detail": "", "evidence": {}, "seconds": None, "source": "in.jsonl", "line": 2}]
    (run / "verdicts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    page = write_html_report(run)
    text = page.read_text()
    assert "<script>alert" not in text and "&lt;script&gt;" in text
    result = load_page(page, "document.querySelectorAll('svg.chart').length")
    assert result.errors == [] and result.probe >= 2


def test_policy_section_measures_how_often_experts_overturn_verified(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    machine = {"status": "verified", "reason": "answer_matches"}
    rows = [{"id": "a", "domain": "math", "status": "verified", "reason": "expert_accepted",
             "evidence": {"reviewer": "ann", "machine": machine}},
            {"id": "b", "domain": "math", "status": "refuted", "reason": "expert_rejected",
             "evidence": {"reviewer": "ann", "machine": machine}},
            {"id": "c", "domain": "math", "status": "refuted", "reason": "expert_rejected",
             "evidence": {"reviewer": "ann", "machine": {"status": "refuted"}}},
            {"id": "d", "domain": "math", "status": "needs_review", "reason": "audit_sample",
             "evidence": {"machine": machine}}]
    (run / "verdicts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = write_html_report(run).read_text()
    assert "Of 2 machine-verified record(s) an expert judged, <b>1</b> (50%)" in text
    assert "audit_sample" in text and "expert_rejected" in text
