"""Where the code domain's CPU goes, per process, on HumanEval's 164 canonical solutions
with one worker pinned to one CPU (``mutants = 0``): the trusted side, the zygote, and the candidate hosts
the zygote forked and reaped (with J, where a suite runs as code).

    python bench/code_cpu.py

Read from the kernel's own counters: this process's rusage, and the zygote's
``/proc/<pid>/stat`` (its own time, and its reaped children's). Sandbox start included.
Then the same for the sandboxed floor (``_code_pool.floor_server``) on the same records.
Prints a table; writes nothing (``code_bench.py`` puts the same table in
``docs/BENCHMARKS.md``).
"""

from __future__ import annotations

import glob
import os
import resource
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _code_pool import canonical_records, floor_server, problems
from _report import table

from synthvet.domains.code import CodeDomain
from synthvet.harness.executors import allowed_cpus, pin_to
from synthvet.model import Limits
from synthvet.testing import make_record

TICK = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    out = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        with open(path) as f:
            for child in f.read().split():
                out += [int(child), *_descendants(int(child))]
    return out


def _times(pid: int) -> tuple[float, float]:
    """(own, reaped children's) CPU seconds of ``pid``."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) / TICK for x in fields[11:15])
    return utime + stime, cutime + cstime


def _sandbox_times() -> tuple[float, float]:
    """The sandbox's first Python process (the zygote, or the floor's fork server; the
    next job's host, forked ahead, is its child): (own, reaped children's) CPU seconds."""
    pythons = [p for p in _descendants(os.getpid())
               if Path(f"/proc/{p}/comm").read_text().startswith("python")]
    if not pythons:
        raise SystemExit("no sandboxed Python process found")
    return _times(pythons[0])


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _once(probs: list[dict[str, Any]]) -> list[float]:
    """CPU seconds: trusted side, zygote, hosts; then the same for the sandboxed floor."""
    before = _cpu()
    domain = CodeDomain({"mutants": 0})
    for r in canonical_records(probs):
        domain.check(make_record({"domain": "code", **r}), Limits(seconds=30))
    trusted = _cpu() - before
    own, reaped = _sandbox_times()
    domain.close()  # its zygote gone: the next sandboxed Python is the floor's server
    floor: list[tuple[float, float]] = []

    def numbers() -> Iterator[int]:
        yield from range(len(probs))
        floor.append(_sandbox_times())  # every record answered, the server still alive

    before = _cpu()
    floor_server((probs, True), numbers())
    return [trusted, own, reaped, _cpu() - before, *floor[0]]


def per_process(rounds: int = 3) -> list[list[str]]:
    """Table rows: CPU seconds and ms per record of each kind of process, one worker
    pinned to one CPU (as the executor's workers are), medians of ``rounds``: synthvet's
    code domain, then the sandboxed floor on the same records (the kernel counts in
    10 ms ticks, and this machine is shared)."""
    probs = problems()
    n = len(probs)
    allowed = allowed_cpus()
    pin_to(allowed[0] if allowed else None)
    try:
        t, z, h, ft, fz, fh = (statistics.median(x) for x in zip(
            *(_once(probs) for _ in range(rounds))))
    finally:
        if allowed:
            os.sched_setaffinity(0, allowed)
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    return [[name, f"{sec:.3f}", f"{sec / n * 1000:.2f}", f"{fsec:.3f}",
             f"{fsec / n * 1000:.2f}"] for name, sec, fsec in (
        ("trusted side (the worker)", t, ft),
        ("zygote (floor: its fork server)", z, fz),
        ("candidate hosts and runners (floor: its children)", h, fh),
        ("all", t + z + h, ft + fz + fh))]


HEADER = ["process (one worker)", "CPU s", "ms / record", "sandboxed floor CPU s",
          "floor ms / record"]

if __name__ == "__main__":
    print(table(HEADER, per_process()))
