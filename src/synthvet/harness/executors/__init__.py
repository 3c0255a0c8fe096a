"""Executors settle records (:mod:`synthvet.harness.settle`) and hand back their lines.

The contract is small so that a distributed executor can run the same unit of work (a
:class:`~synthvet.harness.settle.Plan` once, then items: plain data):
``submit(item)``, ``poll(timeout) -> (lines, tallies, failures)``, ``pending``,
``close()``; every submitted item yields exactly one line or one failure, even when
the check hangs or crashes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from synthvet.errors import UsageError

if TYPE_CHECKING:
    from synthvet.harness.settle import Plan

__all__ = ["EXECUTORS", "FORKSERVER_PRELOAD", "allowed_cpus", "make_executor", "pin_to"]

EXECUTORS = ("local", "ray")

#: what the local executor's fork server (used once this process has threads) imports
#: once for all the workers it starts
FORKSERVER_PRELOAD = ["synthvet.harness.settle"]


def allowed_cpus() -> list[int]:
    """The CPUs this process may run on, in order; empty where the system cannot say."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return []


def pin_to(cpu: int | None) -> None:
    """Keep this process, and every process it starts from now on, on one CPU, under
    the batch scheduling policy.

    A worker and what it starts (the code domain's sandbox, the smt domain's solver
    process) take turns over pipes: each message wakes the other side. Across CPUs a
    wake-up is an interrupt to another CPU; in the virtual machines measured here a pipe
    round trip then costs 45-60 us of CPU, against 2.5-5 us on one CPU
    (``bench/pipe_roundtrip.py``). Under
    ``SCHED_BATCH`` a woken process does not preempt the one that woke it, so a
    candidate answering a batch of calls runs to the end of it before the worker reads
    the answers, all at once: half the context switches. Pinned, the code domain takes
    about a seventh less CPU a record (``docs/BENCHMARKS.md``)."""
    if cpu is None:
        return
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError, ValueError):
        return  # an unpinned worker is slower, not wrong
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass


def make_executor(kind: str, plan: Plan, workers: int | None, pin: bool = True) -> Any:
    if kind == "local":
        from synthvet.harness.executors.local import LocalExecutor

        return LocalExecutor(plan, workers, pin=pin)
    if kind == "ray":
        raise UsageError("the ray executor is not part of this release yet; "
                         "use --executor local")
    raise UsageError(f"unknown executor {kind!r}; choose one of: {', '.join(EXECUTORS)}")
