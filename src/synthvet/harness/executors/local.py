"""A pool of worker processes on this machine, with limits enforced from outside.

Why not ``multiprocessing.Pool`` or ``concurrent.futures``: neither can kill one hung
task and carry on. Here each worker has its own pipe and a three-slot shared array in
which it writes the sequence number of the record it is checking, when it started and
its time limit. The parent reads that slot to find a check over its wall-clock limit,
SIGKILLs that worker's whole process group, reports ``timeout`` for exactly that
record, puts the rest of the worker's batch back in the queue and starts a replacement.
A worker that dies (segfault, OOM kill) costs the record it was on a ``harness_error``
and nothing else.

Workers are forked from this process while it has a single thread (a fork costs a few
milliseconds), and come from a fork server (a fresh interpreter, started the first time
it is needed, about 0.1 s) once it has more: a fork copies only the calling thread, and
a lock another thread held at that moment stays locked in the child for ever. The run
starts its workers before its ledger writer thread, so a run's first workers are forked.

Workers settle whole records (decode, ledger, check, policy, serialise: see
:mod:`synthvet.harness.settle`) and send back finished lines with the counts that go
with them. Records go out in batches sized to about 50 ms of work, so cheap domains are
not dominated by pipe round trips while slow ones still spread over all workers.
"""

from __future__ import annotations

import collections
import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import signal
import sys
import time
from ctypes import c_double
from dataclasses import dataclass, field
from typing import Any

from synthvet.errors import HarnessError
from synthvet.harness.executors import FORKSERVER_PRELOAD, allowed_cpus, pin_to
from synthvet.harness.settle import Item, Out, Plan, Tally

__all__ = ["LocalExecutor"]

_TARGET_BATCH_SECONDS = 0.05
_MAX_BATCH = 256
_FLUSH_SECONDS = 0.05
_BATCHES_PER_WORKER = 2


def _worker_main(conn: Any, slot: Any, plan: Plan, sys_path: list[str],
                 cpu: int | None = None) -> None:
    # Own session: Ctrl-C at the terminal reaches only the parent, which stops the run
    # in order; and killing this group kills whatever the check started.
    os.setsid()
    pin_to(cpu)  # before anything is started: it all inherits the CPU
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.path[:] = sys_path
    from synthvet.harness.settle import Settler

    settler = Settler(plan, slot=slot)
    if not _send(conn, ("ready", 0, [], None)):
        return
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        batch_id, items = batch
        out: list[Out] = []
        last = time.monotonic()
        for result in settler.settle_batch(items):
            out.append(result)
            if settler.must_recycle:
                break
            if time.monotonic() - last > _FLUSH_SECONDS:
                if not _send(conn, ("part", batch_id, out, settler.take_tally())):
                    return
                out, last = [], time.monotonic()
        kind = "recycle" if settler.must_recycle else "done"
        if not _send(conn, (kind, batch_id, out, settler.take_tally())):
            return
        if settler.must_recycle:
            return


def _threads() -> int:
    """This process's threads, as the kernel counts them (a library's own threads too)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 2  # cannot tell: take the fork server


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
    in_flight: dict[int, Item] = field(default_factory=dict)
    #: batches sent and not yet done, by id (messages carry the batch they answer, so the
    #: end of one batch is never taken for the end of the next)
    batches: dict[int, list[int]] = field(default_factory=dict)
    batch_id: int = 0
    #: when the last batch went out or the last answer came in (to size batches)
    mark: float = 0.0
    #: whether it ever answered (a worker that dies before that cannot start at all)
    answered: bool = False


@dataclass(frozen=True, slots=True)
class Failure:
    """A record whose check the executor had to stop: its worker hung or died on it."""

    item: Item
    reason: str  # "timeout" or "harness_error"
    detail: str
    evidence: dict[str, Any]
    seconds: float


class LocalExecutor:
    """Submit items, poll for settled lines; every item yields exactly one answer: an
    output line from a worker, or a :class:`Failure` the caller turns into a verdict."""

    #: what each worker process runs (tests replace it to simulate workers that cannot start)
    target = staticmethod(_worker_main)

    def __init__(self, plan: Plan, workers: int | None = None,
                 grace_seconds: float = 2.0, pin: bool = True) -> None:
        self.plan = plan
        self.size = max(1, workers or os.cpu_count() or 1)
        #: worker ``i`` runs on ``cpus[i % len(cpus)]`` (see :func:`pin_to`); none: unpinned
        self.cpus = allowed_cpus() if pin else []
        self.grace = grace_seconds
        self._forkserver = mp.get_context("forkserver")
        self._forkserver.set_forkserver_preload(FORKSERVER_PRELOAD)
        self._queue: collections.deque[Item] = collections.deque()
        self._workers: list[_Worker] = []
        self._ready: list[Out] = []
        self._tallies: list[Tally] = []
        self._failures: list[Failure] = []
        self._retries: dict[int, int] = {}
        self._avg_seconds = 0.0005
        self._stillborn = 0
        self.replaced = 0
        for i in range(self.size):
            self._workers.append(self._spawn(i))

    def _spawn(self, index: int) -> _Worker:
        ctx = mp.get_context("fork") if _threads() == 1 else self._forkserver
        parent, child = ctx.Pipe(duplex=True)
        slot = ctx.RawArray(c_double, 3)
        cpu = self.cpus[index % len(self.cpus)] if self.cpus else None
        proc = ctx.Process(target=self.target, args=(child, slot, self.plan, list(sys.path),
                                                     cpu), daemon=True)
        proc.start()
        child.close()
        return _Worker(proc, parent, slot)

    # -- public ---------------------------------------------------------------------------
    def submit(self, item: Item) -> None:
        self._queue.append(item)

    @property
    def pending(self) -> int:
        return (len(self._queue) + sum(len(w.in_flight) for w in self._workers)
                + len(self._ready) + len(self._failures))

    def poll(self, timeout: float = 0.1) -> tuple[list[Out], list[Tally], list[Failure]]:
        """Dispatch queued work; return what is ready (maybe nothing): settled lines, the
        counts that came with them, and records the executor had to give up on."""
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
        tallies, self._tallies = self._tallies, []
        failures, self._failures = self._failures, []
        return out, tallies, failures

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
        # Two batches per worker: the second waits in its pipe, so a worker never idles
        # while this process is busy writing.
        for w in list(self._workers):
            while len(w.batches) < _BATCHES_PER_WORKER and self._queue:
                n = self._batch_size()
                batch = [self._queue.popleft() for _ in range(min(n, len(self._queue)))]
                if not w.in_flight:
                    w.mark = time.monotonic()
                for item in batch:
                    w.in_flight[item[0]] = item
                w.batch_id += 1
                w.batches[w.batch_id] = [item[0] for item in batch]
                try:
                    w.conn.send((w.batch_id, batch))
                except OSError:
                    self._replace(w, culprit=None, why="could not send work to the worker")
                    break

    def _take(self, w: _Worker, message: Any) -> str:
        kind, batch_id, results, tally = message
        w.answered = True
        if kind == "ready":
            return kind
        if results:
            now = time.monotonic()
            per_record = (now - w.mark) / len(results)
            self._avg_seconds = 0.8 * self._avg_seconds + 0.2 * per_record
            w.mark = now
            for result in results:
                if w.in_flight.pop(result[0], None) is not None:
                    self._ready.append(result)
        self._tallies.append(tally)
        if kind == "done":
            # The worker ended this batch: anything of it still unanswered goes back.
            unanswered = [s for s in w.batches.pop(batch_id, []) if s in w.in_flight]
            if unanswered:
                self._requeue(w, "the worker ended its batch without answering every record",
                              only=unanswered)
        return kind

    def _receive(self, w: _Worker) -> None:
        """Take every message the worker has sent so far."""
        while True:
            try:
                message = w.conn.recv()
            except (EOFError, OSError):
                self._replace(w, culprit=self._current(w), why=self._death_cause(w))
                return
            if self._take(w, message) == "recycle":
                self._replace(w, culprit=None, why="recycled")
                return
            if not w.conn.poll(0):
                return

    def _current(self, w: _Worker) -> int | None:
        seq, started = int(w.slot[0]), float(w.slot[1])
        return seq if started > 0 and seq in w.in_flight else None

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for w in list(self._workers):
            if not w.in_flight:
                continue
            seq, started, limit = int(w.slot[0]), float(w.slot[1]), float(w.slot[2])
            if started > 0 and seq in w.in_flight and now - started > limit + self.grace:
                self._replace(w, culprit=seq, why="timeout", elapsed=now - started,
                              limit=limit)
                continue
            if not w.process.is_alive():
                # take anything it sent before dying
                while w.conn.poll(0):
                    try:
                        self._take(w, w.conn.recv())
                    except (EOFError, OSError):
                        break
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

    def _requeue(self, w: _Worker, why: str = "", only: list[int] | None = None,
                 blame: bool = True) -> None:
        """Put a worker's unanswered records (all, or ``only`` these) back in the queue.

        With ``blame`` (nobody else was found at fault), the records of the batch the
        worker was on count a retry, and one that keeps coming back gets a
        ``harness_error`` instead; records still waiting in its pipe never count one.
        """
        seqs = list(w.in_flight) if only is None else only
        current = set(w.batches[min(w.batches)]) if w.batches and only is None else set(seqs)
        for seq in reversed(seqs):
            item = w.in_flight.pop(seq)
            if not blame or seq not in current:
                self._queue.appendleft(item)
                continue
            self._retries[seq] = self._retries.get(seq, 0) + 1
            if self._retries[seq] > 2:
                self._failures.append(Failure(
                    item, "harness_error", f"workers kept failing around this record ({why})",
                    {"retries": self._retries[seq], "last_failure": why}, 0.0))
            else:
                self._queue.appendleft(item)
        if only is None:
            w.batches.clear()

    def _replace(self, w: _Worker, culprit: int | None, why: str,
                 elapsed: float | None = None, limit: float | None = None) -> None:
        self._kill(w)
        if why != "recycled" and not w.answered:
            # died before it was ready to settle anything: workers cannot start here
            self._stillborn += 1
            if self._stillborn > 2 * self.size + 2:
                raise HarnessError(
                    f"worker processes keep dying before they settle any record ({why}); "
                    "see the error they printed above")
        else:
            self._stillborn = 0
        if culprit is not None and culprit in w.in_flight:
            item = w.in_flight.pop(culprit)
            if why == "timeout":
                failure = Failure(
                    item, "timeout",
                    f"no answer within the {limit:g} s limit; the worker was killed and "
                    "replaced",
                    {"limit_hit": "wall_clock", "limit_seconds": limit,
                     "elapsed_seconds": round(elapsed or 0.0, 3)}, elapsed or 0.0)
            else:
                failure = Failure(
                    item, "harness_error", f"{why} while checking this record; worker replaced",
                    {"limit_hit": "memory_or_crash"}, 0.0)
            self._failures.append(failure)
        self._requeue(w, why, blame=culprit is None and why != "recycled")
        w.conn.close()
        idx = self._workers.index(w)
        self._workers[idx] = self._spawn(idx)
        if why != "recycled":
            self.replaced += 1
