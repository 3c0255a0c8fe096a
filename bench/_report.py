"""Shared by the benchmark scripts: the machine line and writing one section of
docs/BENCHMARKS.md between ``<!-- bench:NAME -->`` markers, so each script
rewrites only its own results."""

from __future__ import annotations

import fcntl
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
HEADER = """# Benchmarks

Measured by the scripts in `bench/`; each section is rewritten by the script named in it.
Machines here are noisy (2 cores, shared): quote medians and ratios measured in the same run,
not absolute times from different runs.
"""


def compiled(src: Path = ROOT / "src") -> None:
    """Byte-compile a source tree as an installed package has it. Where
    PYTHONDONTWRITEBYTECODE is set (as on these machines), a module edited since its last
    ``.pyc`` would otherwise be compiled again by every fresh process that imports it
    (the executor's fork server, the sandbox's zygote), inside the clocks."""
    import compileall

    compileall.compile_dir(str(src), quiet=2)


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def median_of(fn: Callable[[], float], repeats: int) -> tuple[float, list[float]]:
    """Call ``fn`` (which returns seconds) ``repeats`` times; the median and all samples."""
    samples = [fn() for _ in range(repeats)]
    return statistics.median(samples), samples


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the ``name`` section of docs/BENCHMARKS.md."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n\n_Machine: {machine()}; " \
            f"recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}._\n{end}"
    with open(DOC.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
        if start in text and end in text:
            before, rest = text.split(start, 1)
            _, after = rest.split(end, 1)
            text = before + block + after
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        DOC.write_text(text, encoding="utf-8")


def publish(name: str, markdown: str, write: bool) -> None:
    """Print a script's section (and the machine line); write it to BENCHMARKS.md too."""
    print(markdown)
    print(machine(), file=sys.stderr)
    if write:
        write_section(name, markdown)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(machine(), file=sys.stderr)
