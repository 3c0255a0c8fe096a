"""Every golden fixture of every domain through the real pipeline: the command line, worker
processes under limits, the ledger. Unit tests call `check` directly; this catches what
only the harness can break (batching, pickling, limits inherited by checkers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = sorted([*ROOT.glob("fixtures/*/golden.jsonl"), ROOT / "fixtures/proof/coq.jsonl",
                 ROOT / "fixtures/lean/records.jsonl", *ROOT.glob("fixtures/demo/*.jsonl")])


def _run(tmp: Path, inputs: list[Path], out: str, *extra: str) -> list[dict]:
    p = subprocess.run([sys.executable, "-m", "synthvet", "run", *map(str, inputs), "--out",
                        out, "-q", *extra], cwd=tmp, capture_output=True, text=True,
                       timeout=1200, env={**os.environ, "GITHUB_ACTIONS": ""})
    assert p.returncode == 0, p.stderr
    return [json.loads(x) for x in (tmp / out / "verdicts.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_every_golden_expectation_holds_through_the_pipeline(tmp_path):
    verdicts = _run(tmp_path, GOLDEN, "all", "--workers", "2")
    expected = {}
    for path in GOLDEN:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row.get("expect"), dict) and "status" in row["expect"]:
                expected[(str(path), n)] = row["expect"]
    assert len(expected) > 250
    seen = 0
    wrong = []
    for v in verdicts:
        exp = expected.get((v["source"], v["line"]))
        if exp is None:
            continue
        seen += 1
        if v["status"] != exp["status"] or exp.get("reason") not in (None, v["reason"]):
            wrong.append(f"{Path(v['source']).name}:{v['line']} {v['id']}: expected "
                         f"{exp['status']}/{exp.get('reason')}, got {v['status']}/{v['reason']}"
                         f" ({v['detail'][:120]})")
    assert not wrong, "\n".join(wrong)
    assert seen == len(expected)
    assert not any(v["reason"] == "harness_error" for v in verdicts)


@pytest.mark.slow
def test_demo_verdicts_do_not_depend_on_worker_count_or_cache(tmp_path):
    demo = sorted(ROOT.glob("fixtures/demo/*.jsonl"))
    one = _run(tmp_path, demo, "one", "--workers", "1", "--no-ledger")
    two = _run(tmp_path, demo, "two", "--workers", "2")
    cached = _run(tmp_path, demo, "cached", "--workers", "2")
    key = [(v["id"], v["status"], v["reason"]) for v in one]
    assert key == [(v["id"], v["status"], v["reason"]) for v in two]
    assert key == [(v["id"], v["status"], v["reason"]) for v in cached]
    settled = [v for v in cached if v["reason"] not in
               ("timeout", "harness_error", "checker_unavailable", "checker_error",
                "parse_error", "missing_field", "unknown_domain")]
    assert settled and all(v["cached"] for v in settled if v["domain"])
