"""Executors settle records (:mod:`synthvet.harness.settle`) and hand back their lines.

The contract is small so that a distributed executor can run the same unit of work (a
:class:`~synthvet.harness.settle.Plan` once, then items: plain data):
``submit(item)``, ``poll(timeout) -> (lines, tallies, failures)``, ``pending``,
``close()``; every submitted item yields exactly one line or one failure, even when
the check hangs or crashes.
"""

from __future__ import annotations

from typing import Any

from synthvet.errors import UsageError
from synthvet.harness.settle import Plan

__all__ = ["make_executor", "EXECUTORS"]

EXECUTORS = ("local", "ray")


def make_executor(kind: str, plan: Plan, workers: int | None) -> Any:
    if kind == "local":
        from synthvet.harness.executors.local import LocalExecutor

        return LocalExecutor(plan, workers)
    if kind == "ray":
        raise UsageError("the ray executor is not part of this release yet; "
                         "use --executor local")
    raise UsageError(f"unknown executor {kind!r}; choose one of: {', '.join(EXECUTORS)}")
