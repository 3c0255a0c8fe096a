"""Where the code domain's CPU goes, per process, on HumanEval's 164 canonical solutions
with one worker (``mutants = 0``): the trusted side, the zygote, and the candidate hosts
the zygote forked and reaped (with J, where a suite runs as code).

    python bench/code_cpu.py

Read from the kernel's own counters: this process's rusage, and the zygote's
``/proc/<pid>/stat`` (its own time, and its reaped children's). Sandbox start included.
Prints a table; writes nothing (``code_bench.py`` puts the same table in
``docs/BENCHMARKS.md``).
"""

from __future__ import annotations

import glob
import os
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _code_pool import canonical_records, problems
from _report import table

from synthvet.domains.code import CodeDomain
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


def per_process() -> list[list[str]]:
    """Table rows: CPU seconds and ms per record of each kind of process, one worker."""
    probs = problems()
    records = [make_record({"domain": "code", **r}) for r in canonical_records(probs)]
    before = resource.getrusage(resource.RUSAGE_SELF)
    domain = CodeDomain({"mutants": 0})
    for record in records:
        domain.check(record, Limits(seconds=30))
    after = resource.getrusage(resource.RUSAGE_SELF)
    trusted = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # the zygote is the first Python under bubblewrap (the next job's host, forked
    # ahead, is its child)
    pythons = [p for p in _descendants(os.getpid())
               if Path(f"/proc/{p}/comm").read_text().startswith("python")]
    if not pythons:
        raise SystemExit("no sandbox zygote found")
    own, reaped = _times(pythons[0])
    n = len(records)
    rows = [[name, f"{sec:.3f}", f"{sec / n * 1000:.2f}"] for name, sec in (
        ("trusted side (the worker)", trusted), ("zygote", own),
        ("hosts and runners (reaped by the zygote)", reaped),
        ("all", trusted + own + reaped))]
    return rows


HEADER = ["process (one worker)", "CPU s", "ms / record"]

if __name__ == "__main__":
    print(table(HEADER, per_process()))
