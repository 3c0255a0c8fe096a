"""Running counts for report.json and the summary table, in memory that does not grow
with the dataset: counters keyed by status, reason, domain and tag, a bounded sample of
check times per domain, and at most 50 ids per (domain, status) for the gate."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from synthvet.model import Verdict

__all__ = ["Stats"]

_SAMPLE = 10_000
_IDS = 50
_TAG_VALUES = 100


def _tag_value(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


class Stats:
    def __init__(self) -> None:
        self.total = 0
        self.cached = 0
        self.status: Counter[str] = Counter()
        self.reason: Counter[str] = Counter()
        self.domain: dict[str, Counter[str]] = defaultdict(Counter)
        self.domain_reason: dict[str, Counter[str]] = defaultdict(Counter)
        self.tags: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        self.domain_tag: dict[str, dict[str, dict[str, Counter[str]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(Counter)))
        self.ids: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._times: dict[str, list[float]] = defaultdict(list)
        self._time_n: Counter[str] = Counter()
        self._time_total: dict[str, float] = defaultdict(float)
        self._rng = random.Random(0)

    def add(self, verdict: Verdict, tags: Mapping[str, Any]) -> None:
        s, d = verdict.status.value, verdict.domain or "(none)"
        self.total += 1
        self.cached += verdict.cached
        self.status[s] += 1
        self.reason[verdict.reason] += 1
        self.domain[d][s] += 1
        self.domain_reason[d][verdict.reason] += 1
        for tag, raw in tags.items():
            values = self.tags[tag]
            value = _tag_value(raw)
            if value not in values and len(values) >= _TAG_VALUES:
                value = "(other)"
            values[value][s] += 1
            self.domain_tag[d][tag][value][s] += 1
        bucket = self.ids[(d, s)]
        if len(bucket) < _IDS:
            bucket.append(verdict.id)
        if not verdict.cached:
            self._time(d, verdict.seconds)

    def _time(self, domain: str, seconds: float) -> None:
        n = self._time_n[domain] = self._time_n[domain] + 1
        self._time_total[domain] += seconds
        sample = self._times[domain]
        if len(sample) < _SAMPLE:
            sample.append(seconds)
        else:  # reservoir sampling keeps a uniform sample in bounded memory
            j = self._rng.randrange(n)
            if j < _SAMPLE:
                sample[j] = seconds

    def timings(self) -> dict[str, dict[str, float]]:
        out = {}
        for d, sample in self._times.items():
            ordered = sorted(sample)
            out[d] = {"n": self._time_n[d], "median": round(statistics.median(ordered), 6),
                      "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 6),
                      "total": round(self._time_total[d], 6)}
        return out

    def counts(self) -> dict[str, Any]:
        def plain(obj: Any) -> Any:
            if isinstance(obj, Mapping):
                return {k: plain(v) for k, v in sorted(obj.items())}
            return obj

        return {"status": plain(self.status), "reason": plain(self.reason),
                "domain": plain(self.domain), "domain_reason": plain(self.domain_reason),
                "tags": plain(self.tags), "domain_tag": plain(self.domain_tag)}
