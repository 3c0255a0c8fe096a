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

__all__ = ["CountKey", "Stats", "count_key", "tag_key"]

_SAMPLE = 10_000
_IDS = 50
_TAG_VALUES = 100


def _tag_value(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _by_value() -> defaultdict[str, Counter[str]]:
    return defaultdict(Counter)


def _by_tag() -> defaultdict[str, defaultdict[str, Counter[str]]]:
    return defaultdict(_by_value)


#: what is counted of one verdict: status, reason, domain, cached, its tags as
#: (name, value, type of value), and the machine's status under an expert's verdict
CountKey = tuple[str, str, str, bool, tuple[tuple[str, Any, type], ...], "str | None"]


def count_key(verdict: Verdict, tags: Mapping[str, Any]) -> CountKey:
    """One verdict's countable facts, hashable, so workers count in a ``Counter`` and
    the main process adds up distinct keys rather than records."""
    machine = None
    if verdict.reason in ("expert_accepted", "expert_rejected"):
        m = verdict.evidence.get("machine")
        if isinstance(m, Mapping) and isinstance(m.get("status"), str):
            machine = m["status"]
    return (verdict.status.value, verdict.reason, verdict.domain, bool(verdict.cached),
            tag_key(tags), machine)


def tag_key(tags: Mapping[str, Any]) -> tuple[tuple[str, Any, type], ...]:
    """Tags as hashable (name, value, type) triples; a list or table value becomes its
    text, with type ``list``."""
    if not tags:
        return ()
    return tuple((str(k), v, type(v)) if isinstance(v, _SCALARS) else (str(k), str(v), list)
                 for k, v in tags.items())


_SCALARS = (str, int, float, bool, type(None))


class Stats:
    """Counts for report.json; picklable; filled in bulk from workers' counts."""

    def __init__(self) -> None:
        self.total = 0
        self.cached = 0
        self.status: Counter[str] = Counter()
        self.reason: Counter[str] = Counter()
        self.domain: dict[str, Counter[str]] = defaultdict(Counter)
        self.domain_reason: dict[str, Counter[str]] = defaultdict(Counter)
        self.tags: defaultdict[str, defaultdict[str, Counter[str]]] = defaultdict(_by_value)
        self.domain_tag: defaultdict[str, defaultdict[str, defaultdict[str, Counter[str]]]] = \
            defaultdict(_by_tag)
        #: (domain, status) -> the first ids in input order, as (seq, id)
        self._ids: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        self._times: dict[str, list[float]] = defaultdict(list)
        self._time_n: Counter[str] = Counter()
        self._time_total: dict[str, float] = defaultdict(float)
        self._rng = random.Random(0)

    def add(self, verdict: Verdict, tags: Mapping[str, Any], seq: int = 0) -> None:
        """Count one verdict (the run counts in bulk: :meth:`add_counts`)."""
        d = verdict.domain or "(none)"
        self.add_counts({count_key(verdict, tags): 1})
        self.add_ids({(d, verdict.status.value): [(seq, verdict.id)]})
        if not verdict.cached:
            self._time(d, verdict.seconds)

    def add_counts(self, counts: Mapping[CountKey, int]) -> None:
        """Add verdicts counted by :func:`count_key`."""
        for (s, reason, d, cached, tags, _), n in counts.items():
            d = d or "(none)"
            self.total += n
            if cached:
                self.cached += n
            self.status[s] += n
            self.reason[reason] += n
            self.domain[d][s] += n
            self.domain_reason[d][reason] += n
            for tag, raw, _type in tags:
                values = self.tags[tag]
                value = _tag_value(raw)
                if value not in values and len(values) >= _TAG_VALUES:
                    value = "(other)"
                values[value][s] += n
                self.domain_tag[d][tag][value][s] += n

    def add_ids(self, ids: Mapping[tuple[str, str], list[tuple[int, str]]]) -> None:
        """(domain, status) -> (seq, id) pairs; the first 50 in input order are kept."""
        for key, found in ids.items():
            mine = self._ids[key]
            mine.extend(found)
            mine.sort()
            del mine[_IDS:]

    def add_times(self, times: Mapping[str, list[float]]) -> None:
        """Check times (seconds) of records that were checked, not served from the ledger."""
        for d, values in times.items():
            for seconds in values:
                self._time(d, seconds)

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

    @property
    def ids(self) -> dict[tuple[str, str], list[str]]:
        """(domain, status) -> up to 50 ids, the first in input order."""
        return {k: [rid for _, rid in v] for k, v in self._ids.items()}

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
