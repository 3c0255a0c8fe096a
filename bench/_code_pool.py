"""Shared by the code benchmarks: records through the code domain on a pool of forked
workers, each building the domain once and taking records as it becomes free (as the
harness's workers do). synthvet's modules are imported before the clock starts."""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

_DOMAIN: Any = None


def _start_worker(options: dict[str, Any]) -> None:
    global _DOMAIN
    from synthvet.domains.code import CodeDomain

    _DOMAIN = CodeDomain(options)


def _check_one(data: dict[str, Any]) -> str:
    from synthvet.model import Limits
    from synthvet.testing import make_record

    v = _DOMAIN.check(make_record({"domain": "code", **data}), Limits(seconds=30))
    return f"{v.status.value}/{v.reason}"


def run_code_domain(records: list[dict[str, Any]], options: dict[str, Any],
                    workers: int = 2) -> tuple[float, dict[str, int]]:
    """Wall seconds (pool start, domain and sandbox start included) and verdict counts
    by ``status/reason``."""
    import synthvet.domains.code
    import synthvet.testing
    import synthvet.verifiers.sandbox.direct
    import synthvet.verifiers.sandbox.mutants
    import synthvet.verifiers.sandbox.probes  # noqa: F401 - imported, not used here

    ctx = mp.get_context("fork")
    t = time.perf_counter()
    with ctx.Pool(workers, initializer=_start_worker, initargs=(options,)) as pool:
        results = list(pool.imap_unordered(_check_one, records, chunksize=2))
    seconds = time.perf_counter() - t
    counts: dict[str, int] = {}
    for key in results:
        counts[key] = counts.get(key, 0) + 1
    return seconds, counts
