"""Executors run :class:`~synthvet.harness.work.Task` units and hand back verdicts.

The contract is small so that a distributed executor can run the same unit of work:
``submit(task)``, ``poll(timeout) -> [(seq, verdict)]``, ``pending``, ``close()``; every
submitted task yields exactly one verdict, even when the check hangs or crashes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthvet.errors import UsageError
from synthvet.harness.work import DomainSpec

__all__ = ["make_executor", "EXECUTORS"]

EXECUTORS = ("local", "ray")


def make_executor(kind: str, specs: Mapping[str, DomainSpec], workers: int | None) -> Any:
    if kind == "local":
        from synthvet.harness.executors.local import LocalExecutor

        return LocalExecutor(specs, workers)
    if kind == "ray":
        raise UsageError("the ray executor is not part of this release yet; "
                         "use --executor local")
    raise UsageError(f"unknown executor {kind!r}; choose one of: {', '.join(EXECUTORS)}")
