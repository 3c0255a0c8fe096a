"""Plain helpers shared by the harness tests (importable: tests/conftest.py puts this
folder on sys.path, which the worker processes inherit too)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def exact_rows(n: int, wrong_every: int = 3) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "domain": "exact", "answer": str(i),
             "reference": str(i + (1 if i % wrong_every == 0 else 0)),
             "tags": {"difficulty": "hard" if i % 2 else "easy"}} for i in range(n)]
