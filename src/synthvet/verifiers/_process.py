"""Run a child process under limits and kill its whole process group when time is up.

Every external checker (coqc, lean, the code sandbox) goes through :func:`run_limited`:
rlimits set in the child before exec, a wall-clock deadline enforced by the parent with
SIGKILL to the child's own session (so grandchildren die too), and output capped while
it is read so that a flood cannot exhaust the parent's memory. No ``signal.alarm``: this
works from any thread.
"""

from __future__ import annotations

import os
import resource
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["ProcessResult", "RLimits", "run_limited", "kill_group", "child_setup"]


@dataclass(frozen=True, slots=True)
class RLimits:
    """Kernel limits applied in the child before ``exec``; ``None`` leaves one alone."""

    cpu_seconds: int | None = None
    memory_mb: int | None = None
    file_size_mb: int | None = None
    processes: int | None = None
    open_files: int | None = None

    def apply(self) -> None:
        def lim(which: int, value: int | None) -> None:
            if value is not None:
                resource.setrlimit(which, (value, value))

        lim(resource.RLIMIT_CPU, self.cpu_seconds)
        if self.memory_mb is not None:
            lim(resource.RLIMIT_AS, self.memory_mb * 1024 * 1024)
        if self.file_size_mb is not None:
            lim(resource.RLIMIT_FSIZE, self.file_size_mb * 1024 * 1024)
        lim(resource.RLIMIT_NPROC, self.processes)
        lim(resource.RLIMIT_NOFILE, self.open_files)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@dataclass(frozen=True, slots=True)
class ProcessResult:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    truncated: bool = False

    @property
    def signal(self) -> int | None:
        """The signal that ended the child, if one did."""
        if self.returncode is not None and self.returncode < 0:
            return -self.returncode
        return None

    def tail(self, which: str = "stderr", chars: int = 800) -> str:
        text = self.stderr if which == "stderr" else self.stdout
        return text[-chars:]


def child_setup(rlimits: RLimits | None = None, *,
                die_with_parent: bool = False) -> Callable[[], None]:
    """A ``preexec_fn``: the rlimits, no core dumps, and — for long-lived children such as
    warm solvers and REPLs — SIGKILL from the kernel when the parent dies, so a worker
    killed for a hung check leaves nothing computing.

    Everything is looked up here, in the parent: between fork and exec the child must not
    import (another thread may have held the import lock at the fork).
    """
    limits = rlimits or RLimits()
    prctl = None
    if die_with_parent:
        try:
            import ctypes

            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):  # not Linux: the child's stdin EOF must do
            prctl = None

    def setup() -> None:
        limits.apply()
        if prctl is not None:
            prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL

    return setup


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid``; quiet if it is already gone."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_limited(
    argv: Sequence[str],
    *,
    timeout: float,
    stdin: str | bytes | None = None,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    rlimits: RLimits | None = None,
    max_output: int = 1 << 20,
) -> ProcessResult:
    """Run ``argv`` to completion or until ``timeout`` seconds, whichever is first.

    Raises ``OSError`` only when the program cannot be started at all (the caller turns
    that into ``checker_unavailable``).
    """
    limits = rlimits or RLimits()
    started = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        start_new_session=True,
        preexec_fn=child_setup(limits),
    )
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    out = {"stdout": bytearray(), "stderr": bytearray()}
    truncated = False
    timed_out = False
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    if data is not None and proc.stdin is not None:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE, "stdin")
    view = memoryview(data or b"")
    try:
        while sel.get_map():
            remaining = started + timeout - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in sel.select(timeout=min(remaining, 0.5)):
                if key.data == "stdin":
                    try:
                        n = os.write(key.fd, view[:65536])
                    except (BrokenPipeError, OSError):
                        n = len(view)
                    view = view[n:]
                    if not view:
                        sel.unregister(key.fileobj)
                        key.fileobj.close()  # type: ignore[union-attr]
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf = out[key.data]
                room = max_output - len(buf)
                if room < len(chunk):
                    truncated = True
                buf.extend(chunk[: max(room, 0)])
        if not timed_out:
            remaining = max(0.05, started + timeout - time.monotonic())
            try:
                proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        # Kill the whole session even on success: a daemon the child left behind dies too.
        kill_group(proc.pid)
        proc.wait()
        sel.close()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
    return ProcessResult(
        returncode=None if timed_out else proc.returncode,
        stdout=out["stdout"].decode("utf-8", "replace"),
        stderr=out["stderr"].decode("utf-8", "replace"),
        seconds=time.monotonic() - started,
        timed_out=timed_out,
        truncated=truncated,
    )
