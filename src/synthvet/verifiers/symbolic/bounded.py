"""Run one sympy computation with a wall-clock budget, in a forked child.

sympy's ``simplify`` and friends can run for minutes on a small input. The harness kills a
stuck worker from outside, but then the whole record is lost to ``timeout``; running the
risky call in a forked child lets the domain give up on just that call and answer
``needs_review``/``timeout`` itself, with the rest of its evidence. No ``signal.alarm``
(it only works in the main thread). The child inherits the worker's memory limit and
shares its already-imported sympy copy-on-write, so a fork costs milliseconds.

Only small, picklable results travel back (a bool, a short string).
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Bounded", "run_bounded"]

_MAX_RESULT = 1 << 20


@dataclass(frozen=True, slots=True)
class Bounded:
    """Outcome of :func:`run_bounded`: ``status`` is ``ok``, ``timeout`` or ``error``."""

    status: str
    value: Any = None
    detail: str = ""


def run_bounded(fn: Callable[..., Any], *args: Any, seconds: float) -> Bounded:
    """Call ``fn(*args)`` in a forked child; kill it after ``seconds``."""
    if seconds <= 0:
        return Bounded("timeout", detail="no time left")
    try:
        read_fd, write_fd = os.pipe()
    except OSError as exc:
        return Bounded("error", detail=f"cannot create a pipe: {exc}")
    try:
        pid = os.fork()
    except OSError as exc:  # e.g. a process limit: inconclusive, not a crash
        os.close(read_fd)
        os.close(write_fd)
        return Bounded("error", detail=f"cannot fork: {exc}")
    if pid == 0:  # child
        code = 0
        try:
            os.close(read_fd)
            try:
                payload = pickle.dumps(("ok", fn(*args)))
            except BaseException as exc:  # report, never propagate out of the child
                payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"[:300]))
            if len(payload) > _MAX_RESULT:
                payload = pickle.dumps(("error", "result too large"))
            view = memoryview(payload)
            while view:
                n = os.write(write_fd, view)
                view = view[n:]
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                timed_out = True
                break
            data = os.read(read_fd, 65536)
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(read_fd)
        if timed_out:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    if timed_out:
        return Bounded("timeout", detail=f"gave up after {seconds:.1f}s")
    try:
        status, value = pickle.loads(b"".join(chunks))
    except Exception:  # child died (e.g. memory limit) before answering
        return Bounded("error", detail="computation died without an answer")
    if status == "ok":
        return Bounded("ok", value)
    return Bounded("error", detail=str(value))
