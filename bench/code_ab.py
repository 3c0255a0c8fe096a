"""Two versions of synthvet's code domain on HumanEval's 164 canonical solutions, taking
turns in the same run: the way to tell whether a change to the sandbox made it faster.

    python bench/code_ab.py OLD_SRC NEW_SRC [--rounds 4] [--options '{"mutants": 0}']

``OLD_SRC`` and ``NEW_SRC`` are the ``src`` folders of two checkouts (for example
``git worktree add /tmp/old HEAD~1`` and ``/tmp/old/src``). Each round runs each version
in a fresh interpreter with that folder first on its path, three times (two workers, as
``code_bench.py`` runs synthvet); the versions alternate, so the machine's load falls on
both alike. Prints the medians and their ratio; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _report import compiled

_ONE = """
import json, sys
sys.path.insert(0, {bench!r})
from _code_pool import problems
from code_bench import run_synthvet
if __name__ == "__main__":
    import synthvet
    assert synthvet.__file__.startswith({src!r}), synthvet.__file__
    probs = problems()
    run_synthvet(probs[:4], {options!r})  # caches and page cache warm
    print(json.dumps([run_synthvet(probs, {options!r})[0] for _ in range(3)]))
"""


def _times(src: Path, options: dict[str, object]) -> list[float]:
    code = _ONE.format(bench=str(HERE), src=str(src), options=options)
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd="/", check=True,
                         capture_output=True, text=True, timeout=900)
    return [float(x) for x in json.loads(out.stdout.strip().splitlines()[-1])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--options", default='{"mutants": 0}', help="the code domain's options")
    args = ap.parse_args()
    options = json.loads(args.options)
    srcs = {"old": args.old.resolve(), "new": args.new.resolve()}
    for name, src in srcs.items():
        if not (src / "synthvet" / "__init__.py").is_file():
            ap.error(f"{name}: {src} is not a src folder holding synthvet")
    for src in srcs.values():
        compiled(src)
    seconds: dict[str, list[float]] = {"old": [], "new": []}
    for r in range(args.rounds):
        for name, src in srcs.items():
            seconds[name] += _times(src, options)
        print(f"round {r + 1}: old {statistics.median(seconds['old']):.3f}s, "
              f"new {statistics.median(seconds['new']):.3f}s", file=sys.stderr)
    old, new = (statistics.median(seconds[k]) for k in ("old", "new"))
    print(f"old {old:.3f}s  new {new:.3f}s  (medians of {len(seconds['old'])} runs each)  "
          f"new/old {new / old:.3f}")


if __name__ == "__main__":
    main()
