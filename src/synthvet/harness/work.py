"""The unit of work every executor runs: one record through its domain.

A :class:`Worksite` lives in a worker process. It builds each domain on first use from
a :class:`DomainSpec` (an import target and options: plain data that pickles, so a Ray
task can ship the same thing) and turns anything that escapes a domain into a
``needs_review`` verdict instead of letting it reach the run.
"""

from __future__ import annotations

import resource
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from synthvet.domains.base import Domain
from synthvet.domains.registry import build_domain, _import_target
from synthvet.model import Limits, Record, Verdict, needs_review

__all__ = ["DomainSpec", "Task", "Worksite"]


@dataclass(frozen=True, slots=True)
class DomainSpec:
    name: str
    target: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Task:
    seq: int
    record: Record
    limits: Limits


class Worksite:
    """Domains built once per worker, and the guard around every check."""

    def __init__(self, specs: Mapping[str, DomainSpec]) -> None:
        self.specs = dict(specs)
        self.domains: dict[str, Domain] = {}
        #: set when the worker should be replaced after this batch (e.g. after MemoryError)
        self.must_recycle = False
        self._memory_mb: int | None = None

    def domain(self, name: str) -> Domain:
        if name not in self.domains:
            spec = self.specs[name]
            self.domains[name] = build_domain(name, _import_target(name, spec.target),
                                              spec.options)
        return self.domains[name]

    def _set_memory(self, memory_mb: int) -> None:
        # Soft limit only: lowered or raised per domain; the kernel enforces it.
        if memory_mb != self._memory_mb:
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            soft = memory_mb * 1024 * 1024
            if hard != resource.RLIM_INFINITY:
                soft = min(soft, hard)
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
            self._memory_mb = memory_mb

    def run(self, task: Task) -> Verdict:
        record, limits = task.record, task.limits
        started = time.perf_counter()
        verifier = record.domain
        try:
            self._set_memory(limits.memory_mb)
            domain = self.domain(record.domain)
            verifier = f"{domain.name}@{domain.version}"
            verdict = domain.check(record, limits)
            if not isinstance(verdict, Verdict):
                verdict = needs_review(
                    "harness_error",
                    f"domain {record.domain!r} returned {type(verdict).__name__}, not a Verdict")
        except MemoryError:
            self.must_recycle = True
            verdict = needs_review(
                "harness_error", f"the check exceeded the memory limit ({limits.memory_mb} MB)",
                {"limit_hit": "memory", "memory_mb": limits.memory_mb})
        except Exception as exc:  # a bug in a domain must cost one verdict, not the run
            verdict = needs_review(
                "harness_error", f"domain {record.domain!r} raised {type(exc).__name__}: {exc}",
                {"traceback": traceback.format_exc(limit=8)[-2000:]})
        return verdict.stamped(id=record.id, domain=record.domain, verifier=verifier,
                               seconds=time.perf_counter() - started, cached=False)
