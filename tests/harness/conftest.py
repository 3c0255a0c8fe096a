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
    "where": "testplugins:WhereDomain",
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
