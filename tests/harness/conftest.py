from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from synthvet.domains.registry import DomainRegistry, load_registry

TEST_PLUGINS = {
    "sleepy": "testplugins:SleepyDomain",
    "crashy": "testplugins:CrashDomain",
    "hog": "testplugins:HogDomain",
    "raisy": "testplugins:RaiseDomain",
}


@pytest.fixture
def registry() -> DomainRegistry:
    """The installed domains plus the misbehaving test domains."""
    reg = load_registry()
    for name, target in TEST_PLUGINS.items():
        reg.add(name, target, origin="tests")
    return reg


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    def write(rows: Iterable[Any], name: str = "in.jsonl") -> Path:
        path = tmp_path / name
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
        return path

    return write


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def exact_rows(n: int, wrong_every: int = 3) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "domain": "exact", "answer": str(i),
             "reference": str(i + (1 if i % wrong_every == 0 else 0)),
             "tags": {"difficulty": "hard" if i % 2 else "easy"}} for i in range(n)]
