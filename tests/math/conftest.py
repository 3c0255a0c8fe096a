"""Shared helpers for the math domain tests."""

from __future__ import annotations

from typing import Any

import pytest

from synthvet.domains.math import MathDomain
from synthvet.model import Limits, Verdict
from synthvet.testing import make_record


@pytest.fixture(scope="session")
def domain() -> MathDomain:
    return MathDomain()


@pytest.fixture(scope="session")
def check(domain: MathDomain) -> Any:
    def run(seconds: float = 20.0, **fields: Any) -> Verdict:
        return domain.check(make_record({"domain": "math", **fields}), Limits(seconds))

    return run
