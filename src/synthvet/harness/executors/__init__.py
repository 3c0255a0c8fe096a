"""Executors settle records (:mod:`synthvet.harness.settle`) and hand back their lines.

The contract is small so that a distributed executor can run the same unit of work (a
:class:`~synthvet.harness.settle.Plan` once, then items: plain data):
``submit(item)``, ``poll(timeout) -> (lines, tallies, failures)``, ``pending``,
``close()``; every submitted item yields exactly one line or one failure, even when
the check hangs or crashes.
"""

from __future__ import annotations

import multiprocessing as mp
from typing import TYPE_CHECKING, Any

from synthvet.errors import UsageError

if TYPE_CHECKING:
    from synthvet.harness.settle import Plan

__all__ = ["EXECUTORS", "FORKSERVER_PRELOAD", "make_executor", "start_forkserver"]

EXECUTORS = ("local", "ray")

#: what the local executor's fork server imports once for all its workers
FORKSERVER_PRELOAD = ["synthvet.harness.settle"]


def start_forkserver() -> None:
    """Start the local executor's fork server now, without waiting for it.

    Its boot (a fresh interpreter that imports the harness, about 0.1 s here) then runs
    while this process reads its config and opens its inputs, instead of after: the
    first verdict of a small run in CI comes that much sooner. Cheap to call twice.
    """
    from multiprocessing import forkserver

    mp.get_context("forkserver").set_forkserver_preload(FORKSERVER_PRELOAD)
    forkserver.ensure_running()


def make_executor(kind: str, plan: Plan, workers: int | None) -> Any:
    if kind == "local":
        from synthvet.harness.executors.local import LocalExecutor

        return LocalExecutor(plan, workers)
    if kind == "ray":
        raise UsageError("the ray executor is not part of this release yet; "
                         "use --executor local")
    raise UsageError(f"unknown executor {kind!r}; choose one of: {', '.join(EXECUTORS)}")
