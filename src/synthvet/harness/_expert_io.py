"""Reading a finished run folder, for the expert-facing tools (review, reports, CI, diff).

Everything here reads what ``synthvet run`` wrote (see the run-folder format in the
harness docs) and fails with :class:`~synthvet.errors.InputError` naming the file when
a folder is not a run folder, instead of a traceback.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthvet.errors import InputError
from synthvet.harness.stats import tag_key
from synthvet.model import dump_json

__all__ = [
    "STATUSES", "RunSummary", "iter_originals", "iter_verdicts", "read_jsonl", "read_report",
    "run_folder", "short_json", "sub", "summarize_run", "tag_items", "where_key",
]

STATUSES = ("verified", "refuted", "needs_review")


def read_jsonl(path: Path, *, what: str = "file") -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each JSON object line; blank lines are skipped.

    Raises:
        InputError: the file cannot be read, or a line is not a JSON object.
    """
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from exc
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path}:{number}: not valid JSON ({exc.msg}); each line of the {what} "
                    f"must be one JSON object"
                ) from exc
            if not isinstance(obj, dict):
                raise InputError(
                    f"{path}:{number}: expected a JSON object, got {type(obj).__name__}"
                )
            yield number, obj


def run_folder(run_dir: Path | str) -> Path:
    """The folder, checked to be a run folder.

    Raises:
        InputError: it is missing or has no ``verdicts.jsonl``.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise InputError(
            f"run folder {str(path)!r} does not exist or is not a folder; pass the --out "
            f"folder of a `synthvet run`"
        )
    if not (path / "verdicts.jsonl").is_file():
        raise InputError(
            f"{str(path)!r} is not a synthvet run folder: it has no verdicts.jsonl"
        )
    return path


def read_report(path: Path) -> dict[str, Any]:
    """``report.json`` of a run folder, or ``{}`` when the run wrote none."""
    report_path = path / "report.json"
    if not report_path.is_file():
        return {}
    try:
        loaded = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {str(report_path)!r}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise InputError(f"{str(report_path)!r} does not hold a JSON object")
    return loaded


def iter_verdicts(path: Path) -> Iterator[dict[str, Any]]:
    """The verdict lines of a run folder, streamed."""
    for _, obj in read_jsonl(path / "verdicts.jsonl", what="verdicts file"):
        yield obj


def where_key(obj: Mapping[str, Any]) -> tuple[str, int]:
    """(source, line): what joins a verdict line to its original record."""
    raw = obj.get("line")
    line = raw if isinstance(raw, int) and not isinstance(raw, bool) else 0
    source = obj.get("source")
    return (source if isinstance(source, str) else ""), line


def iter_originals(path: Path, status: str) -> Iterator[tuple[tuple[str, int], dict[str, Any]]]:
    """``((source, line), record)`` from ``review.jsonl`` / ``rejected.jsonl``, in order,
    with the ``_synthvet`` note removed."""
    name = {"needs_review": "review.jsonl", "refuted": "rejected.jsonl"}[status]
    file = path / name
    if not file.is_file():
        return
    for _, obj in read_jsonl(file, what=name):
        meta = obj.get("_synthvet")
        if isinstance(meta, dict):
            yield where_key(meta), {k: v for k, v in obj.items() if k != "_synthvet"}


def tag_items(v: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A verdict's scalar tags as text pairs (``true``/``false`` for Booleans)."""
    tags = v.get("tags")
    if not isinstance(tags, Mapping):
        return []
    return [(str(k), (str(val).lower() if isinstance(val, bool) else str(val)))
            for k, val in tags.items() if not isinstance(val, (Mapping, list))]


@dataclass
class RunSummary:
    """Everything the reports need from a run, gathered in one streaming pass over
    ``verdicts.jsonl``: counts, timings and capped samples. Memory stays bounded by the
    caps and the number of distinct domains, reasons and tag values, not by the run."""

    path: Path
    report: dict[str, Any]
    sample_cap: int = 25
    first_cap: int = 50
    max_tag_values: int = 12
    total: int = 0
    status: Counter[str] = field(default_factory=Counter)
    domain_status: dict[str, Counter[str]] = field(default_factory=dict)
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    domain_reason: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: tag -> (domain, value) -> status counts; tags with too many values are dropped
    tags: dict[str, dict[tuple[str, str], Counter[str]]] = field(default_factory=dict)
    tag_values: dict[str, set[str]] = field(default_factory=dict)
    wide_tags: set[str] = field(default_factory=set)
    #: check time per domain: the sum always; every value only when ``report.json`` has
    #: no timings to take medians from (so memory stays flat on real runs)
    seconds_total: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, array[float]] = field(default_factory=dict)
    keep_seconds: bool = True
    #: status -> reason -> first ``sample_cap`` verdicts
    samples: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    #: status -> first ``first_cap`` verdicts; (domain, status) -> the same per domain
    firsts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    domain_firsts: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    originals: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    #: (machine status, expert reason) for expert-settled verdicts that carry the machine's
    #: own verdict in ``evidence.machine``: how often experts overturn the machine
    overturned: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, v: dict[str, Any], original: Any = None) -> None:
        """Count one verdict as read from ``verdicts.jsonl``; ``original`` (its record)
        is kept when the verdict is kept as a sample."""
        machine = sub(sub(v, "evidence"), "machine").get("status")
        tags = v.get("tags")
        domain = v.get("domain")
        key = (str(v.get("status")), str(v.get("reason")), str(domain) if domain else "",
               bool(v.get("cached")), tag_key(tags) if isinstance(tags, Mapping) else (),
               machine if isinstance(machine, str) else None)
        self.add_counts({key: 1})
        sec = v.get("seconds")
        if isinstance(sec, (int, float)) and not isinstance(sec, bool):
            d = key[2] or "?"
            self.seconds_total[d] = self.seconds_total.get(d, 0.0) + float(sec)
            if self.keep_seconds:
                self.seconds.setdefault(d, array("d")).append(float(sec))
        self.keep(v, original)

    def add_counts(self, counts: Mapping[Any, int]) -> None:
        """Add verdicts counted by :func:`synthvet.harness.stats.count_key`."""
        for (status, reason, domain, _cached, tags, machine), n in counts.items():
            domain = domain or "?"
            self.total += n
            self.status[status] += n
            self.domain_status.setdefault(domain, Counter())[status] += n
            self.reasons[(status, reason)] += n
            self.domain_reason[(domain, reason)] += n
            for tag, raw, kind in tags:
                if kind is list or tag in self.wide_tags:
                    continue
                value = str(raw).lower() if kind is bool else str(raw)
                values = self.tag_values.setdefault(tag, set())
                values.add(value)
                if len(values) > self.max_tag_values:
                    self.wide_tags.add(tag)
                    self.tags.pop(tag, None)
                    self.tag_values.pop(tag, None)
                    continue
                self.tags.setdefault(tag, {}).setdefault((domain, value), Counter())[status] += n
            if machine is not None and reason in ("expert_accepted", "expert_rejected"):
                self.overturned[(machine, reason)] += n

    def add_seconds(self, seconds_total: Mapping[str, float]) -> None:
        for d, sec in seconds_total.items():
            d = d or "?"
            self.seconds_total[d] = self.seconds_total.get(d, 0.0) + sec

    def keep(self, v: dict[str, Any], original: Any = None) -> None:
        """Keep ``v`` (a refuted or in-review verdict) among the samples while there is room."""
        status = str(v.get("status"))
        if status not in ("refuted", "needs_review"):
            return
        domain = str(v.get("domain") or "?")
        reason = str(v.get("reason"))
        kept = False
        bucket = self.samples.setdefault(status, {}).setdefault(reason, [])
        if len(bucket) < self.sample_cap:
            bucket.append(v)
            kept = True
        first = self.firsts.setdefault(status, [])
        if len(first) < self.first_cap:
            first.append(v)
        per = self.domain_firsts.setdefault((domain, status), [])
        if len(per) < self.first_cap:
            per.append(v)
        if kept and isinstance(original, Mapping):
            self.originals[where_key(v)] = dict(original)

    def merge_kept(self, other: RunSummary) -> None:
        """Add the samples another summary kept (a worker's, for some records).

        The samples kept are the first in input order (smallest ``_n``) whatever order
        the parts arrive in, so the result equals one pass over the whole file.
        """

        def first(mine: list[dict[str, Any]], theirs: list[dict[str, Any]],
                  cap: int) -> list[dict[str, Any]]:
            return sorted(mine + theirs, key=lambda v: v.get("_n", 0))[:cap]

        for status, reasons in other.samples.items():
            for reason, vs in reasons.items():
                mine = self.samples.setdefault(status, {}).setdefault(reason, [])
                mine[:] = first(mine, vs, self.sample_cap)
        for status, vs in other.firsts.items():
            self.firsts[status] = first(self.firsts.get(status, []), vs, self.first_cap)
        for key, vs in other.domain_firsts.items():
            self.domain_firsts[key] = first(self.domain_firsts.get(key, []), vs,
                                            self.first_cap)
        kept = {where_key(v) for vs in self.samples.values() for g in vs.values() for v in g}
        self.originals = {k: r for k, r in {**self.originals, **other.originals}.items()
                          if k in kept}

    def normalise(self) -> None:
        """Make kept verdicts look as they do in ``verdicts.jsonl`` (a JSON round trip),
        for a summary gathered during the run rather than read from the file."""
        cache: dict[int, dict[str, Any]] = {}

        def plain(v: dict[str, Any]) -> dict[str, Any]:
            if id(v) not in cache:
                n = v.get("_n", 0)
                cache[id(v)] = {**json.loads(dump_json({k: x for k, x in v.items()
                                                        if k != "_n"})), "_n": n}
            return cache[id(v)]

        for reasons in self.samples.values():
            for group in reasons.values():
                group[:] = [plain(v) for v in group]
        for status, vs in self.firsts.items():
            self.firsts[status] = [plain(v) for v in vs]
        for key, vs in self.domain_firsts.items():
            self.domain_firsts[key] = [plain(v) for v in vs]
        shown = {where_key(v) for status in ("refuted", "needs_review")
                 for v in self.sample(status)}
        self.originals = {k: json.loads(dump_json(r)) for k, r in self.originals.items()
                          if k in shown}

    def domains(self) -> list[str]:
        return sorted(self.domain_status)

    def sample(self, status: str) -> list[dict[str, Any]]:
        """Up to ``sample_cap`` verdicts of ``status``, round-robin over their reasons
        (so one frequent reason does not hide the others), in input order."""
        groups = [list(reversed(g)) for g in self.samples.get(status, {}).values()]
        chosen: list[dict[str, Any]] = []
        while len(chosen) < self.sample_cap and any(groups):
            for g in groups:
                if g and len(chosen) < self.sample_cap:
                    chosen.append(g.pop())
        return sorted(chosen, key=lambda v: v.get("_n", 0))

    def original(self, v: Mapping[str, Any]) -> dict[str, Any] | None:
        return self.originals.get(where_key(v))


def summarize_run(run_dir: Path | str, *, sample_cap: int = 25, first_cap: int = 50,
                  originals: bool = False) -> RunSummary:
    """One streaming pass over the run folder (see :class:`RunSummary`); with
    ``originals``, a second pass picks the original records of the sampled verdicts.

    Raises:
        InputError: the folder or one of its files is missing or unreadable.
    """
    path = run_folder(run_dir)
    report = read_report(path)
    summary = RunSummary(path=path, report=report, sample_cap=sample_cap, first_cap=first_cap,
                         keep_seconds=not sub(sub(report, "timings"), "domain"))
    for n, v in enumerate(iter_verdicts(path)):
        v["_n"] = n
        summary.add(v)
    if originals:
        for status in ("refuted", "needs_review"):
            wanted = {where_key(v) for v in summary.sample(status)}
            if not wanted:
                continue
            for key, record in iter_originals(path, status):
                if key in wanted:
                    summary.originals[key] = record
    return summary


def sub(mapping: Any, key: str) -> dict[str, Any]:
    """``mapping[key]`` when that is an object, else an empty dict (files may be partial)."""
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    return dict(value) if isinstance(value, Mapping) else {}


def short_json(value: Any, limit: int = 4000) -> str:
    """Indented JSON for people, cut at ``limit`` characters with a marker."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=repr)
    if len(text) > limit:
        text = text[: limit - 1] + "\n… (truncated)"
    return text
