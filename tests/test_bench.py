"""What the benchmarks claim about their own method, checked: ``bench/code_bench.py``
imports a tool's modules before its clock starts, so its list of the modules
``synthvet run`` imports must be the whole list."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_PROBE = """
import importlib, json, sys
sys.path.insert(0, {bench!r})
from code_bench import RUN_MODULES
for name in RUN_MODULES:
    importlib.import_module(name)
before = set(sys.modules)
from synthvet.harness.cli import main
sys.argv = ["synthvet", "run", {records!r}, "--out", {out!r}, "--workers", "1",
            "--no-ledger", "--quiet"]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in set(sys.modules) - before if m.startswith("synthvet"))))
"""


def test_code_bench_imports_every_module_a_run_imports(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps({
        "id": "add", "domain": "code", "entry_point": "add",
        "solution": "def add(a, b):\n    return a + b\n",
        "tests": "def check(candidate):\n    assert candidate(2, 3) == 5\n"}) + "\n")
    code = _PROBE.format(bench=str(ROOT / "bench"), records=str(records),
                         out=str(tmp_path / "run"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, check=True)
    assert (tmp_path / "run" / "report.json").exists(), out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
