"""A pool of worker processes on this machine, with limits enforced from outside.

Why not ``multiprocessing.Pool`` or ``concurrent.futures``: neither can kill one hung
task and carry on. Here each worker has its own pipe and a two-slot shared array in
which it writes the sequence number of the record it is checking and when it started.
The parent reads that slot to find a check over its wall-clock limit, SIGKILLs that
worker's whole process group, records ``timeout`` for exactly that record, puts the
rest of the worker's batch back in the queue and starts a replacement. A worker that
dies (segfault, OOM kill) costs the record it was on a ``harness_error`` verdict and
nothing else.

Records go out in batches sized to about 50 ms of work, so cheap domains are not
dominated by pipe round trips while slow ones still spread over all workers.
"""

from __future__ import annotations

import collections
import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import signal
import sys
import time
from collections.abc import Mapping
from ctypes import c_double
from dataclasses import dataclass, field
from typing import Any

from synthvet.harness.work import DomainSpec, Task, Worksite
from synthvet.model import Verdict, needs_review

__all__ = ["LocalExecutor"]

_TARGET_BATCH_SECONDS = 0.05
_MAX_BATCH = 256
_FLUSH_SECONDS = 0.05


def _worker_main(conn: Any, slot: Any, specs: Mapping[str, DomainSpec],
                 sys_path: list[str]) -> None:
    # Own session: Ctrl-C at the terminal reaches only the parent, which stops the run
    # in order; and killing this group kills whatever the check started.
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.path[:] = sys_path
    site = Worksite(specs)
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        batch_id, batch = batch
        out: list[tuple[int, Verdict]] = []
        last = time.monotonic()
        for task in batch:
            slot[0] = float(task.seq)
            slot[1] = time.monotonic()
            verdict = site.run(task)
            slot[1] = 0.0
            out.append((task.seq, verdict))
            if site.must_recycle:
                break
            if time.monotonic() - last > _FLUSH_SECONDS:
                if not _send(conn, ("part", batch_id, out)):
                    return
                out, last = [], time.monotonic()
        if not _send(conn, ("recycle" if site.must_recycle else "done", batch_id, out)):
            return
        if site.must_recycle:
            return


def _send(conn: Any, message: Any) -> bool:
    """Send to the parent; False when it is gone (the worker then just exits)."""
    try:
        conn.send(message)
    except (BrokenPipeError, EOFError, OSError):
        return False
    return True


@dataclass
class _Worker:
    process: Any
    conn: Any
    slot: Any
    in_flight: dict[int, Task] = field(default_factory=dict)
    #: messages carry the batch they answer, so a late "done" from the previous batch is
    #: never taken for the end of the current one
    batch_id: int = 0


class LocalExecutor:
    """Submit tasks, poll for verdicts; every submitted task yields exactly one verdict."""

    def __init__(self, specs: Mapping[str, DomainSpec], workers: int | None = None,
                 grace_seconds: float = 2.0) -> None:
        self.specs = dict(specs)
        self.size = max(1, workers or os.cpu_count() or 1)
        self.grace = grace_seconds
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["synthvet.harness.work"])
        self._queue: collections.deque[Task] = collections.deque()
        self._workers: list[_Worker] = []
        self._ready: list[tuple[int, Verdict]] = []
        self._retries: dict[int, int] = {}
        self._avg_seconds = 0.001
        self.replaced = 0
        for _ in range(self.size):
            self._workers.append(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        slot = self._ctx.RawArray(c_double, 2)
        proc = self._ctx.Process(target=_worker_main, args=(child, slot, self.specs,
                                                             list(sys.path)), daemon=True)
        proc.start()
        child.close()
        return _Worker(proc, parent, slot)

    # -- public ---------------------------------------------------------------------------
    def submit(self, task: Task) -> None:
        self._queue.append(task)

    @property
    def pending(self) -> int:
        return len(self._queue) + sum(len(w.in_flight) for w in self._workers) + len(
            self._ready)

    def poll(self, timeout: float = 0.1) -> list[tuple[int, Verdict]]:
        """Dispatch queued work and return the verdicts that are ready (maybe none)."""
        self._dispatch()
        busy = [w for w in self._workers if w.in_flight]
        if busy and not self._ready:
            ready = mpc.wait([w.conn for w in busy], timeout=min(timeout, 0.25))
            for conn in ready:
                worker = next(w for w in busy if w.conn is conn)
                self._receive(worker)
        self._enforce_deadlines()
        self._dispatch()
        out, self._ready = self._ready, []
        return out

    def close(self) -> None:
        for w in self._workers:
            try:
                if not w.in_flight:
                    w.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 2.0
        for w in self._workers:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                self._kill(w)
            w.conn.close()
        self._workers.clear()

    # -- internals ------------------------------------------------------------------------
    def _batch_size(self) -> int:
        by_time = int(_TARGET_BATCH_SECONDS / max(self._avg_seconds, 1e-6))
        spread = max(1, len(self._queue) // (2 * self.size))
        return max(1, min(_MAX_BATCH, by_time, spread))

    def _dispatch(self) -> None:
        for w in self._workers:
            if w.in_flight or not self._queue:
                continue
            n = self._batch_size()
            batch = [self._queue.popleft() for _ in range(min(n, len(self._queue)))]
            w.in_flight = {t.seq: t for t in batch}
            w.batch_id += 1
            try:
                w.conn.send((w.batch_id, batch))
            except OSError:
                self._replace(w, culprit=None, why="could not send work to the worker")

    def _receive(self, w: _Worker) -> None:
        try:
            kind, batch_id, results = w.conn.recv()
        except (EOFError, OSError):
            self._replace(w, culprit=self._current(w), why=self._death_cause(w))
            return
        for seq, verdict in results:
            if w.in_flight.pop(seq, None) is not None:
                self._ready.append((seq, verdict))
                self._avg_seconds = 0.9 * self._avg_seconds + 0.1 * verdict.seconds
        if kind == "recycle":
            self._replace(w, culprit=None, why="recycled")
        elif kind == "done" and batch_id == w.batch_id and w.in_flight:
            # The worker finished its batch yet some tasks are unanswered: requeue them.
            self._requeue(w, "the worker ended its batch without answering every record")

    def _current(self, w: _Worker) -> int | None:
        seq, started = int(w.slot[0]), float(w.slot[1])
        return seq if started > 0 and seq in w.in_flight else None

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for w in list(self._workers):
            if not w.in_flight:
                continue
            seq, started = int(w.slot[0]), float(w.slot[1])
            if started > 0 and seq in w.in_flight:
                limit = w.in_flight[seq].limits.seconds
                if now - started > limit + self.grace:
                    self._replace(w, culprit=seq, why="timeout", elapsed=now - started)
                    continue
            if not w.process.is_alive():
                # drain anything it sent before dying
                while w.conn.poll(0):
                    try:
                        kind, _, results = w.conn.recv()
                    except (EOFError, OSError):
                        break
                    for s, v in results:
                        if w.in_flight.pop(s, None) is not None:
                            self._ready.append((s, v))
                if w.in_flight:
                    self._replace(w, culprit=self._current(w), why=self._death_cause(w))

    def _death_cause(self, w: _Worker) -> str:
        w.process.join(timeout=0.5)
        code = w.process.exitcode
        if code is None:
            return "the worker stopped answering"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ \
                else str(-code)
            return f"the worker process was killed by {name}"
        return f"the worker process exited with code {code}"

    def _kill(self, w: _Worker) -> None:
        try:
            os.killpg(w.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        w.process.join(timeout=2.0)

    def _requeue(self, w: _Worker, why: str = "") -> None:
        for seq, task in w.in_flight.items():
            self._retries[seq] = self._retries.get(seq, 0) + 1
            if self._retries[seq] > 2:
                self._ready.append((seq, _stamp(task, needs_review(
                    "harness_error", f"workers kept failing around this record ({why})",
                    {"retries": self._retries[seq], "last_failure": why}))))
            else:
                self._queue.appendleft(task)
        w.in_flight = {}

    def _replace(self, w: _Worker, culprit: int | None, why: str,
                 elapsed: float | None = None) -> None:
        self._kill(w)
        if culprit is not None and culprit in w.in_flight:
            task = w.in_flight.pop(culprit)
            if why == "timeout":
                verdict = needs_review(
                    "timeout",
                    f"no answer within the {task.limits.seconds:g} s limit; the worker was "
                    "killed and replaced",
                    {"limit_hit": "wall_clock", "limit_seconds": task.limits.seconds,
                     "elapsed_seconds": round(elapsed or 0.0, 3)})
            else:
                verdict = needs_review(
                    "harness_error", f"{why} while checking this record; worker replaced",
                    {"limit_hit": "memory_or_crash", "memory_mb": task.limits.memory_mb})
            self._ready.append((culprit, _stamp(task, verdict, seconds=elapsed or 0.0)))
        self._requeue(w, why)
        w.conn.close()
        idx = self._workers.index(w)
        self._workers[idx] = self._spawn()
        if why != "recycled":
            self.replaced += 1


def _stamp(task: Task, verdict: Verdict, seconds: float = 0.0) -> Verdict:
    return verdict.stamped(id=task.record.id, domain=task.record.domain,
                           verifier=task.record.domain, seconds=seconds, cached=False)
