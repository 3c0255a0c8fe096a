"""The reports stream the run folder: memory does not grow with the number of records."""

from __future__ import annotations

import json
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from synthvet.harness.junit import write_junit
from synthvet.harness.report_html import write_html_report
from synthvet.harness.review import export_review

STATUS = ("verified", "refuted", "needs_review")


def big_run(root: Path, n: int) -> Path:
    run = root / f"run{n}"
    run.mkdir()
    with (run / "verdicts.jsonl").open("w") as fh, (run / "review.jsonl").open("w") as rv:
        for i in range(n):
            status = STATUS[i % 3]
            where = {"source": "data.jsonl", "line": i + 1}
            fh.write(json.dumps({
                "id": f"r{i}", "domain": ("math", "code")[i % 2], "status": status,
                "reason": f"{status}-{i % 5}", "detail": "d" * 80, "evidence": {"x": "e" * 200},
                "seconds": 0.001 * (i % 7), "tags": {"difficulty": ("easy", "hard")[i % 2],
                                                    "uid": str(i)},
                "content_key": f"{i:064x}", **where}) + "\n")
            if status == "needs_review":
                rv.write(json.dumps({"id": f"r{i}", "q": "x" * 200, "_synthvet": where}) + "\n")
    return run


def peak(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_is_bounded_by_the_caps_not_the_run(tmp_path: Path) -> None:
    small, large = big_run(tmp_path, 2_000), big_run(tmp_path, 20_000)
    for name, fn in [
        ("report.html", write_html_report),
        ("junit.xml", write_junit),
        ("review export", lambda r: export_review(r, "label-studio", r / "tasks.json")),
    ]:
        p_small = peak(lambda fn=fn: fn(small))
        p_large = peak(lambda fn=fn: fn(large))
        # ten times the records may not need anything like ten times the memory
        assert p_large < 2 * p_small + 2_000_000, (name, p_small, p_large)
    text = (large / "report.html").read_text()
    assert ">20000<" in text and "uid" in text  # the wide tag is named, not drawn
    root = ET.parse(large / "junit.xml").getroot()
    assert root.get("failures") == "2"  # both domains have refuted records
    assert len(json.loads((large / "tasks.json").read_text())) == 6_666  # every third record: i % 3 == 2
