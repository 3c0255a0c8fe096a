"""stdin-to-stdout programs (``io_tests``): synthvet's code domain against the usual
judge loop, a fresh interpreter per test (``python -c program < input``, as the
APPS/CodeContests-style harnesses run them), two workers each, in the same run.

    python bench/code_io_bench.py [--problems 120] [--repeats 3]

The problems are generated (five kinds of small program, three tests each, every
program correct), so the comparison is of the runners, not of the programs. synthvet
runs with ``mutants = 0`` (each test once, as the loop does); its workers are forked
processes that build the domain once and take records from a queue as they become free
(``_code_pool.py``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _code_pool import run_code_domain
from _report import publish, table

LOAD_AT_START = __import__("os").getloadavg()[0]

PROGRAMS = {
    "sum": ("import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))\n",
            lambda r: " ".join(str(r.randint(-99, 99)) for _ in range(r.randint(1, 8))),
            lambda s: f"{sum(int(x) for x in s.split())}\n"),
    "sort": ("xs = sorted(int(x) for x in input().split())\nprint(*xs)\n",
             lambda r: " ".join(str(r.randint(0, 50)) for _ in range(r.randint(1, 8))),
             lambda s: " ".join(str(x) for x in sorted(int(x) for x in s.split())) + "\n"),
    "words": (("import collections\nc = collections.Counter(input().split())\n"
               "for w in sorted(c):\n    print(w, c[w])\n"),
              lambda r: " ".join(r.choice(["ab", "cd", "ef"]) for _ in range(r.randint(1, 6))),
              lambda s: "".join(f"{w} {s.split().count(w)}\n" for w in sorted(set(s.split())))),
    "reverse": ("print(input()[::-1])\n",
                lambda r: "".join(r.choice("xyz") for _ in range(r.randint(1, 9))),
                lambda s: s[::-1] + "\n"),
    "fib": ("n = int(input())\na, b = 0, 1\nfor _ in range(n):\n    a, b = b, a + b\nprint(a)\n",
            lambda r: str(r.randint(0, 60)),
            lambda s: f"{_fib(int(s))}\n"),
}


def _fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def problems(n: int) -> list[dict[str, Any]]:
    r = random.Random(7)
    kinds = sorted(PROGRAMS)
    out = []
    for i in range(n):
        program, make, answer = PROGRAMS[kinds[i % len(kinds)]]
        tests = []
        for _ in range(3):
            stdin = make(r)
            tests.append({"input": stdin + "\n", "output": answer(stdin)})
        out.append({"id": f"io{i}", "solution": program, "io_tests": tests})
    return out


# ----------------------------------------------------------------------------- synthvet

# ----------------------------------------------------------------------------- the loop


def _judge(p: dict[str, Any]) -> bool:
    for case in p["io_tests"]:
        try:
            out = subprocess.run([sys.executable, "-c", p["solution"]], input=case["input"],
                                 capture_output=True, text=True, timeout=10,
                                 check=False).stdout
        except subprocess.TimeoutExpired:
            return False
        if [ln.rstrip() for ln in out.rstrip().splitlines()] != \
                [ln.rstrip() for ln in case["output"].rstrip().splitlines()]:
            return False
    return True


def run_loop(probs: list[dict[str, Any]], workers: int = 2) -> tuple[float, int]:
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        passed = sum(pool.map(_judge, probs))
    return time.perf_counter() - t, passed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    probs = problems(args.problems)
    loop, sv = [], []
    passed, counts = 0, {}
    for r in range(args.repeats):
        s, passed = run_loop(probs)
        loop.append(s)
        s, counts = run_code_domain(probs, {"mutants": 0})
        sv.append(s)
        print(f"round {r + 1}: subprocess loop {loop[-1]:.2f}s, synthvet {sv[-1]:.2f}s",
              file=sys.stderr)
    m_loop, m_sv = statistics.median(loop), statistics.median(sv)
    n = len(probs)
    rows = [
        ["a fresh interpreter per test (`python -c program < input`), 2 threads",
         f"{m_loop:.2f}", f"{m_loop / n * 1000:.1f}", "1.0x", f"{passed} of {n} passed"],
        ["synthvet code domain, `mutants = 0`, 2 workers", f"{m_sv:.2f}",
         f"{m_sv / n * 1000:.1f}", f"{m_loop / m_sv:.1f}x",
         ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))],
    ]
    md = f"""## code, io tests: synthvet vs a fresh interpreter per test

Command: `python bench/code_io_bench.py --problems {n} --repeats {args.repeats}`.
{n} generated stdin-to-stdout problems (five kinds of small program, three tests each,
all correct), medians of {args.repeats} interleaved rounds, wall time including process
and sandbox start.

{table(["runner", "seconds (median)", "ms / problem", "speed-up", "outcome"], rows)}

The loop is what most stdin/stdout harnesses do: start an interpreter for every test,
with no isolation beyond the process. synthvet runs each program in its bubblewrap
sandbox, one pre-forked host per program that forks a child per test, and compares the
output on the trusted side (io tests take the direct path: no test runner process).
Samples: loop {', '.join(f'{x:.2f}' for x in loop)}; synthvet
{', '.join(f'{x:.2f}' for x in sv)} s. Load average (1 min) at the start:
{LOAD_AT_START:.1f} on 2 cores.
"""
    publish("code-io", md, not args.no_write)


if __name__ == "__main__":
    main()
