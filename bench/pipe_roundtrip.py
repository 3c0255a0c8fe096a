"""What a pipe round trip between two processes costs here, across CPUs and on one CPU:
the reason the executor pins each worker (and what it starts) to one CPU.

    python bench/pipe_roundtrip.py [--trips 20000]

Two processes pass one byte back and forth; each trip wakes each side once. CPU is the
user + system time of both. Prints a table; writes nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import table


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def round_trips(n: int, cpus: tuple[int, int] | None) -> tuple[float, float]:
    """(wall, CPU) microseconds per round trip; ``cpus`` pins the two sides."""
    a, b = os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:
        if cpus:
            os.sched_setaffinity(0, {cpus[1]})
        for _ in range(n):
            os.read(a[0], 1)
            os.write(b[1], b"x")
        os._exit(0)
    allowed = os.sched_getaffinity(0)
    if cpus:
        os.sched_setaffinity(0, {cpus[0]})
    t, c, kids = time.perf_counter(), _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    for _ in range(n):
        os.write(a[1], b"x")
        os.read(b[0], 1)
    os.waitpid(pid, 0)
    wall = time.perf_counter() - t
    cpu = _cpu(resource.RUSAGE_SELF) - c + _cpu(resource.RUSAGE_CHILDREN) - kids
    os.sched_setaffinity(0, allowed)
    for fd in (*a, *b):
        os.close(fd)
    return wall / n * 1e6, cpu / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trips", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("needs two CPUs")
    cases = {"two CPUs (each side on its own)": (cpus[0], cpus[1]),
             "one CPU (both sides)": (cpus[0], cpus[0])}
    rows = []
    for name, pin in cases.items():
        runs = [round_trips(args.trips, pin) for _ in range(args.repeats)]
        rows.append([name, f"{statistics.median(w for w, _ in runs):.1f}",
                     f"{statistics.median(c for _, c in runs):.1f}"])
    print(table(["sides", "wall us / round trip", "CPU us / round trip"], rows))


if __name__ == "__main__":
    main()
