"""Settling a record: from its input line to the lines the run folder gets.

This is the per-record half of a run, and it runs in the workers: decode the line, map
its fields, find its domain, ask the ledger (an expert's decision first, then a cached
verdict), else check it, apply policy, and serialise the verdict and the split-file
line. The main process only writes those lines in input order and commits ledger rows,
so with cheap domains it is not the bottleneck. What a worker counted on the way (the
:class:`Tally`) travels back with the lines it belongs to, so a worker that dies loses
its counts together with its lines and the requeued records are counted once.

Everything that crosses to a worker is plain data (:class:`Plan`, item tuples), so a
distributed executor can ship the same unit of work.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthvet import __version__
from synthvet.domains.registry import _unknown_message
from synthvet.harness._expert_io import RunSummary
from synthvet.harness.ledger import TRANSIENT_REASONS, Decision, Ledger, verdict_key
from synthvet.harness.policy import Policy
from synthvet.harness.records import map_fields, to_record
from synthvet.harness.stats import CountKey, count_key
from synthvet.harness.work import DomainSpec, Task, Worksite
from synthvet.model import Limits, Record, Status, Verdict, content_hash, dump_json, needs_review
from synthvet.model import refuted as _refuted
from synthvet.model import verified as _verified

__all__ = ["HARNESS_VERIFIER", "Item", "Out", "Plan", "Settler", "Tally", "settle_by_experts",
           "split_line"]

HARNESS_VERIFIER = f"synthvet@{__version__}"

#: what goes to a worker per record: (seq, source, line, text, obj, error). ``text`` is a
#: JSON Lines line still to decode; ``obj`` a table row already decoded; ``error`` says why
#: the line could not even be read as text.
Item = tuple[int, str, int, "str | None", Any, "str | None"]
#: what comes back per record: (seq, status value, verdicts.jsonl line, split-file line)
Out = tuple[int, str, str, str]


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs to settle any record of this run, as plain data."""

    specs: Mapping[str, DomainSpec]
    limits: Mapping[str, Limits]
    fingerprints: Mapping[str, str]
    fields: Mapping[str, str]
    default_domain: str | None
    config: Mapping[str, Any]
    ledger: str | None


def _kept_only() -> RunSummary:
    return RunSummary(Path("."), {}, keep_seconds=False)


@dataclass
class Tally:
    """What settling some records added to the run: counts by :func:`count_key`, ids
    and check times, sample verdicts for the reports, ledger rows, policy figures."""

    counts: Counter[CountKey] = field(default_factory=Counter)
    ids: dict[tuple[str, str], list[tuple[int, str]]] = field(default_factory=dict)
    #: domain -> check seconds of records checked (not cached); and of all records
    times: dict[str, list[float]] = field(default_factory=dict)
    seconds_total: dict[str, float] = field(default_factory=dict)
    kept: RunSummary = field(default_factory=_kept_only)
    verifiers: dict[str, str] = field(default_factory=dict)
    policy_applied: Counter[str] = field(default_factory=Counter)
    policy_seen: Counter[str] = field(default_factory=Counter)
    policy_moved: dict[str, Counter[str]] = field(default_factory=dict)
    ledger_rows: list[tuple[str, str, str, str, float]] = field(default_factory=list)
    seen_rows: list[tuple[str, str, str, float]] = field(default_factory=list)


def settle_by_experts(record: Record, decisions: list[Decision]) -> Verdict | None:
    """An expert's word for this record, or review when experts disagree."""
    mine = [d for d in decisions if d.domain == record.domain]
    if not mine:
        return None
    kinds = {d.decision for d in mine}
    evidence: dict[str, Any] = {"decisions": [d.as_evidence() for d in mine]}
    if len(kinds) > 1:
        return needs_review("expert_conflict",
                            f"{len(mine)} expert decisions disagree; a person must settle it",
                            evidence)
    last = mine[-1]
    evidence.update(last.as_evidence())
    who = f"{last.reviewer} on {last.decided_at}"
    if last.decision == "accept":
        return _verified("expert_accepted", f"accepted by {who}", evidence)
    return _refuted("expert_rejected", f"rejected by {who}", evidence)


def split_line(verdict: Verdict, source: str, line: int, original: str | None,
               obj: Any) -> str:
    """The record's line in accepted/rejected/review.jsonl: the original line untouched
    when verified, else the record annotated with why (``_synthvet``)."""
    if verdict.status is Status.VERIFIED:
        return original if original is not None else dump_json(obj)
    note = {"id": verdict.id, "domain": verdict.domain, "status": verdict.status.value,
            "reason": verdict.reason, "detail": verdict.detail, "source": source,
            "line": line}
    annotated = dict(obj) if isinstance(obj, dict) else {"_raw": original}
    annotated["_synthvet"] = note
    return dump_json(annotated)


@dataclass(slots=True)
class _Pending:
    """A decoded record with a domain that can check it, waiting for the ledger."""

    item: Item
    obj: dict[str, Any]
    record: Record
    verifier: str
    limits: Limits
    key: str


class Settler:
    """Settles items into output lines and counts what it did.

    One lives in each worker (with a :class:`Worksite` for the checks and a read-only
    view of the ledger) and one in the main process, which only ever uses
    :meth:`settle_failure` for the records whose worker died.
    """

    def __init__(self, plan: Plan, *, slot: Any = None, checks: bool = True) -> None:
        self.plan = plan
        self.known = sorted(plan.specs)
        self.policy = Policy.from_config(plan.config)
        self._policy_active = self.policy.active
        self.site = Worksite(plan.specs) if checks else None
        self.slot = slot
        self.tally = Tally()
        self._ledger: Ledger | None = None
        self._verifiers: dict[str, str] = {}
        self._broken: dict[str, str] = {}

    # -- public -----------------------------------------------------------------------
    def take_tally(self) -> Tally:
        """What was counted since the last call (it travels with those records' lines)."""
        seen, moved = self.policy.take_counts()
        tally, self.tally = self.tally, Tally()
        tally.policy_seen.update(seen)
        for reason, counts in moved.items():
            tally.policy_moved.setdefault(reason, Counter()).update(counts)
        return tally

    @property
    def must_recycle(self) -> bool:
        return self.site is not None and self.site.must_recycle

    def settle_batch(self, items: list[Item]) -> Iterator[Out]:
        """Each item's output, in order; checks run as the iterator is consumed."""
        pending: list[_Pending | Out] = [self._prepare(item) for item in items]
        todo = [p for p in pending if isinstance(p, _Pending)]
        decisions: dict[str, list[Decision]] = {}
        cached: dict[str, Verdict] = {}
        seen: set[tuple[str, str, str]] = set()
        ledger = self._reader()
        if ledger is not None and todo:
            decisions = ledger.decisions_for_many(p.record.content_key for p in todo)
            cached = ledger.lookup([p.key for p in todo])
            # a record served from the ledger was usually seen under this id before: its
            # `seen` row need not be written again
            seen = ledger.seen_already([(p.record.id, p.record.content_key, p.record.domain)
                                        for p in todo if p.key in cached])
        for p in pending:
            if not isinstance(p, _Pending):
                yield p
                continue
            record = p.record
            expert = settle_by_experts(record, decisions.get(record.content_key, [])
                                       ) if decisions else None
            if expert is not None:
                machine = cached.get(p.key)
                if machine is not None:  # what the machine said, to measure overturns
                    expert = Verdict(expert.status, expert.reason, expert.detail,
                                     {**expert.evidence, "machine": {
                                         "status": machine.status.value,
                                         "reason": machine.reason,
                                         "detail": machine.detail}})
                yield self._finish(p.item, p.obj, record, expert.stamped(
                    id=record.id, domain=record.domain, verifier=p.verifier), machine=False)
            elif p.key in cached:
                yield self._finish(p.item, p.obj, record,
                                   cached[p.key].stamped(id=record.id, cached=True),
                                   machine=True,
                                   seen=(record.id, record.content_key, record.domain) in seen)
            else:
                yield self._finish(p.item, p.obj, record, self._check(p), machine=True,
                                   key=p.key)

    def settle_failure(self, item: Item, verdict: Verdict) -> Out:
        """Output for a record whose check killed or outlived its worker."""
        prepared = self._prepare(item)
        if not isinstance(prepared, _Pending):  # cannot happen: it was being checked
            return prepared
        record = prepared.record
        return self._finish(item, prepared.obj, record, verdict.stamped(
            id=record.id, domain=record.domain, verifier=prepared.verifier), machine=True)

    def limits_of(self, item: Item) -> Limits:
        prepared = self._prepare(item)
        return prepared.limits if isinstance(prepared, _Pending) else Limits()

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    # -- internals --------------------------------------------------------------------
    def _reader(self) -> Ledger | None:
        if self._ledger is None and self.plan.ledger is not None:
            self._ledger = Ledger(self.plan.ledger, readonly=True)
        return self._ledger

    def _verifier(self, name: str) -> str | None:
        """``name@version`` of a domain (built here on first use); None when it is broken."""
        found = self._verifiers.get(name)
        if found is not None or name in self._broken:
            return found
        try:
            if self.site is not None:
                domain = self.site.domain(name)
            else:
                from synthvet.domains.registry import _import_target, build_domain

                spec = self.plan.specs[name]
                domain = build_domain(name, _import_target(name, spec.target), spec.options)
        except Exception as exc:  # noqa: BLE001 - a broken plugin costs its records only
            self._broken[name] = str(exc) or type(exc).__name__
            return None
        found = self._verifiers[name] = f"{domain.name}@{domain.version}"
        self.tally.verifiers[name] = found
        return found

    def _prepare(self, item: Item) -> _Pending | Out:
        _, source, line, text, obj, error = item
        if error is None and obj is None:
            try:
                obj = json.loads(text)  # type: ignore[arg-type]
            except ValueError as exc:
                error = f"line {line} is not valid JSON: {exc}"
            else:
                if not isinstance(obj, dict):
                    error = f"line {line} is a JSON {type(obj).__name__}, not an object"
                    obj = None
        if error is not None:
            rid = "sha256:" + content_hash(text or "")[:16]
            v = needs_review("parse_error", f"{source}: {error}",
                             {"source": source, "line": line, "text": (text or "")[:500]})
            return self._harness(item, None, None, v, rid, "")
        data = map_fields(obj, self.plan.fields)
        record = to_record(data, source=source, line=line,
                           default_domain=self.plan.default_domain)
        if not record.domain:
            v = needs_review("missing_field",
                             f"line {line}: no 'domain' field and no default domain "
                             "([run] domain or --domain)", {"field": "domain"})
            return self._harness(item, obj, record, v, record.id, "")
        if record.domain not in self.plan.specs:
            v = needs_review("unknown_domain",
                             f"line {line}: " + _unknown_message(record.domain, self.known),
                             {"domain": record.domain})
            return self._harness(item, obj, record, v, record.id, record.domain)
        verifier = self._verifier(record.domain)
        if verifier is None:
            v = needs_review("harness_error", self._broken[record.domain],
                             {"domain": record.domain})
            return self._harness(item, obj, record, v, record.id, record.domain)
        key = verdict_key(record.content_key, verifier,
                          self.plan.fingerprints[record.domain])
        return _Pending(item, obj, record, verifier, self.plan.limits[record.domain], key)

    def _harness(self, item: Item, obj: Any, record: Record | None, verdict: Verdict,
                 rid: str, domain: str) -> Out:
        """A verdict the harness gives before any check (bad line, unknown domain ...)."""
        return self._finish(item, obj, record, verdict.stamped(
            id=rid, domain=domain, verifier=HARNESS_VERIFIER), machine=False)

    def _check(self, p: _Pending) -> Verdict:
        assert self.site is not None
        slot = self.slot
        if slot is not None:
            slot[0], slot[2], slot[1] = float(p.item[0]), p.limits.seconds, time.monotonic()
        try:
            verdict = self.site.run(Task(p.item[0], p.record, p.limits))
        finally:
            if slot is not None:
                slot[1] = 0.0
        return verdict

    def _finish(self, item: Item, obj: Any, record: Record | None, verdict: Verdict, *,
                machine: bool, key: str = "", seen: bool = False) -> Out:
        """The record's output lines; counts it. With ``key``, ``verdict`` is a fresh
        check's and goes into the ledger (before policy, which is applied on every run)."""
        seq, source, line, text = item[0], item[1], item[2], item[3]
        tally = self.tally
        checked = verdict
        if machine and record is not None and verdict.status is Status.VERIFIED:
            if self._policy_active:
                verdict = self.policy.apply(record, verdict)
                if verdict is not checked and verdict.reason != checked.reason:
                    tally.policy_applied[verdict.reason] += 1
            else:
                tally.policy_seen[record.domain] += 1
        tags = dict(record.tags) if record is not None else {}
        ckey = record.content_key if record is not None else ""
        row = verdict.to_dict()
        row["source"], row["line"], row["tags"], row["content_key"] = source, line, tags, ckey
        verdict_text = dump_json(row)
        if key and checked.reason not in TRANSIENT_REASONS:
            # the ledger keeps the check's own verdict; extra keys are ignored on reading
            stored = verdict_text if verdict is checked else dump_json(checked.to_dict())
            tally.ledger_rows.append((key, ckey, checked.domain, stored, time.time()))
        status = verdict.status.value
        domain = verdict.domain
        tally.counts[count_key(verdict, tags)] += 1
        ids = tally.ids.setdefault((domain or "(none)", status), [])
        if len(ids) < 50:
            ids.append((seq, verdict.id))
        seconds = verdict.seconds
        tally.seconds_total[domain] = tally.seconds_total.get(domain, 0.0) + seconds
        if not verdict.cached:
            tally.times.setdefault(domain or "(none)", []).append(seconds)
        if status != "verified":
            row["_n"] = seq
            # the record as review/rejected.jsonl hold it (without the note)
            tally.kept.keep(row, original=obj if isinstance(obj, dict) else {"_raw": text})
        if record is not None and record.domain and not seen:
            tally.seen_rows.append((record.id, ckey, record.domain, time.time()))
        return (seq, status, verdict_text, split_line(verdict, source, line, text, obj))
