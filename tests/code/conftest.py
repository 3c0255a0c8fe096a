"""Shared by the code domain's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from synthvet.domains.code import CodeDomain


@pytest.fixture()
def domain() -> Iterator[CodeDomain]:
    """A code domain with one sandbox (no mutants, 5 s per check), closed afterwards;
    the test is skipped where no sandbox can start (CI turns such a skip into a
    failure)."""
    from synthvet.verifiers.sandbox import probe

    if not probe()["available"]:
        pytest.skip(f"sandbox unavailable: {probe()['detail']}")
    d = CodeDomain({"timeout": 5.0, "mutants": 0})
    yield d
    d.close()
