"""One smt domain (and so one warm solver process) per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from synthvet.domains.smt import SmtDomain


@pytest.fixture(scope="module")
def domain() -> Iterator[SmtDomain]:
    d = SmtDomain()
    yield d
    if d._engine is not None:
        d._engine.close()
