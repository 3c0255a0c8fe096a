"""Plain helpers for the expert-loop tests (tests/experts/conftest.py puts this folder on
sys.path): real `synthvet` runs through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def write_jsonl(path: Path, rows: Iterable[Any]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def exact_rows(n: int = 12) -> list[dict[str, Any]]:
    """Exact-domain records: every third wrong; difficulty alternates; ids r0.."""
    return [{"id": f"r{i}", "domain": "exact", "answer": str(i),
             "reference": str(i + (1 if i % 3 == 0 else 0)),
             "tags": {"difficulty": "hard" if i % 2 else "easy", "source": "gen-a"}}
            for i in range(n)]


class Workspace:
    """A working folder with its own synthvet.toml and ledger; runs the real CLI."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ledger = root / ".synthvet" / "ledger.sqlite"

    def config(self, text: str) -> None:
        (self.root / "synthvet.toml").write_text(text, encoding="utf-8")

    def data(self, rows: Iterable[Any], name: str = "data.jsonl") -> Path:
        return write_jsonl(self.root / name, rows)

    def sv(self, *args: str, env: Mapping[str, str] | None = None,
           check: int | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("GITHUB_")}
        full_env.update(env or {})
        proc = subprocess.run(
            [sys.executable, "-c", "from synthvet.harness.cli import main; main()", *args],
            cwd=self.root, env=full_env, capture_output=True, text=True, timeout=300,
            check=False)
        if check is not None:
            assert proc.returncode == check, (
                f"synthvet {' '.join(args)} exited {proc.returncode}, wanted {check}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def run(self, *inputs: str, out: str = "run", expect: int | None = None,
            env: Mapping[str, str] | None = None) -> Path:
        proc = self.sv("run", *inputs, "--out", out, "-q", "--workers", "1", env=env)
        if expect is not None:
            assert proc.returncode == expect, proc.stderr
        else:
            assert proc.returncode in (0, 1), proc.stderr
        return self.root / out

