"""Cost of the expert-loop tools on a large run folder (issue 7).

    python bench/experts_bench.py [--records 200000] [--repeats 3]

Issue 7 names no external anchor, so the anchor is the floor any tool over a run folder
pays: json-parsing every line of ``verdicts.jsonl`` once. Measured in the same run:
  * that floor;
  * ``write_html_report`` (one streaming pass plus a pass over the sampled originals);
  * ``write_junit``; ``export_review`` in both formats; ``diff_runs`` of the folder with
    itself (run A held as small tuples, run B streamed);
  * ``Policy.apply`` over N verified verdicts with an audit rule and a tag rule, against
    the identity (no rules), per verdict;
  * peak memory (tracemalloc) of ``write_html_report`` at N and N/10 records.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import table, write_section

from synthvet.harness.diff import diff_runs
from synthvet.harness.junit import write_junit
from synthvet.harness.policy import Policy
from synthvet.harness.report_html import write_html_report
from synthvet.harness.review import export_review
from synthvet.model import verified
from synthvet.testing import make_record

STATUS = ("verified", "refuted", "needs_review")


def make_run(root: Path, n: int, seed: int = 0) -> Path:
    rnd = random.Random(seed)
    run = root / f"run{n}"
    run.mkdir()
    with (run / "verdicts.jsonl").open("w") as fh, (run / "review.jsonl").open("w") as rv, \
            (run / "rejected.jsonl").open("w") as rj:
        for i in range(n):
            status = rnd.choice(STATUS)
            domain = rnd.choice(["math", "code", "exact", "smt"])
            where = {"source": "data.jsonl", "line": i + 1}
            fh.write(json.dumps({
                "id": f"r{i}", "domain": domain, "status": status,
                "reason": f"{status[:3]}-{rnd.randrange(6)}", "detail": "a detail " * 6,
                "evidence": {"answer": "x" * 40, "reference": "y" * 40}, "verifier": "d@1",
                "seconds": rnd.random() / 10, "cached": False, "tags": {
                    "difficulty": rnd.choice(["easy", "medium", "hard"])},
                "content_key": f"{i:064x}", **where}) + "\n")
            if status != "verified":
                (rv if status == "needs_review" else rj).write(json.dumps(
                    {"id": f"r{i}", "domain": domain, "q": "z" * 80,
                     "_synthvet": {"id": f"r{i}", **where}}) + "\n")
    # as a real run writes it: the timings per domain come from report.json
    (run / "report.json").write_text(json.dumps({"timings": {"domain": {
        d: {"n": n // 4, "median": 0.05, "p95": 0.095, "total": n / 80}
        for d in ("math", "code", "exact", "smt")}}}))
    return run


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def floor(run: Path) -> None:
    with (run / "verdicts.jsonl").open() as fh:
        for line in fh:
            json.loads(line)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    n = args.records
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run = make_run(root, n)
        small = make_run(root, n // 10, seed=1)
        tasks = [
            ("json-parse verdicts.jsonl (floor)", lambda: floor(run)),
            ("write_html_report", lambda: write_html_report(run)),
            ("write_junit", lambda: write_junit(run)),
            ("export_review jsonl", lambda: export_review(run, "jsonl", root / "q.jsonl")),
            ("export_review label-studio",
             lambda: export_review(run, "label-studio", root / "q.json")),
            ("diff_runs (same folder twice)", lambda: diff_runs(run, run)),
        ]
        results = {}
        for name, fn in tasks:
            results[name] = statistics.median(timed(fn) for _ in range(args.repeats))
        base = results["json-parse verdicts.jsonl (floor)"]
        rows = [(name, f"{sec:.2f}", f"{n / sec:,.0f}", f"{sec / base:.2f}x")
                for name, sec in results.items()]

        records = [make_record({"id": f"p{i}", "domain": "math", "answer": str(i),
                                "reference": str(i), "tags": {"difficulty": ("easy", "hard")[
                                    i % 2]}}) for i in range(min(n, 100_000))]
        ok = verified("answer_matches", "ok")
        for r in records:  # content keys are cached per record; warm them like the runner
            _ = r.content_key
        none = Policy.from_config({})
        rules = Policy.from_config({"policy": {"seed": "b", "math": {"audit": 0.02},
                                               "tags": {"difficulty": {"hard": {"audit": 0.1}}}}})
        t_none = statistics.median(timed(lambda: [none.apply(r, ok) for r in records])
                                   for _ in range(args.repeats))
        t_rules = statistics.median(timed(lambda: [rules.apply(r, ok) for r in records])
                                    for _ in range(args.repeats))
        per = len(records)

        def peak(path: Path) -> int:
            tracemalloc.start()
            write_html_report(path)
            value = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return value

        mem_large, mem_small = peak(run), peak(small)

    md = [(f"Run folder of {n:,} synthetic verdicts (a third each verified / refuted / review, "
          f"4 domains, a difficulty tag); median of {args.repeats}. The anchor is the floor "
          "every tool over a run folder pays: json-parsing each verdict line once. Shared, noisy "
          "machine (other jobs were running): read the ratios, not the absolute times."), "",
          table(["step", "seconds", "records/s", "vs floor"], rows), "",
          (f"Policy per verified verdict ({per:,} records): no rules {1e6 * t_none / per:.2f} µs, "
          f"an audit rule per domain and per tag {1e6 * t_rules / per:.2f} µs "
          f"({t_rules / t_none:.1f}x the identity)."), "",
          (f"Peak traced memory of `write_html_report`: {mem_small / 1e6:.1f} MB at {n // 10:,} "
          f"records, {mem_large / 1e6:.1f} MB at {n:,} records."), "",
          f"Command: `python bench/experts_bench.py --records {n} --repeats {args.repeats}`"]
    text = "\n".join(md)
    print(text)
    write_section("experts", "## Experts in the loop: reports, review export, diff, policy\n\n"
                  + text)


if __name__ == "__main__":
    main()
