"""One run: stream records in, settle each from expert decisions, the ledger or a check,
and write the run folder in input order.

The order of settlement for a record: an expert's decision (final), a verdict already in
the ledger (``cached``), else a check in a worker. Policy applies to machine verdicts
only; an expert's word is not second-guessed by it.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from synthvet import __version__
from synthvet.domains.registry import DomainRegistry
from synthvet.errors import DomainValidationError, UsageError
from synthvet.harness.config import Config
from synthvet.harness.executors import make_executor
from synthvet.harness.gate import Gate, RuleResult
from synthvet.harness.inputs import InputItem, InputSet
from synthvet.harness.ledger import Decision, Ledger, verdict_key
from synthvet.harness.policy import Policy
from synthvet.harness.records import map_fields, to_record
from synthvet.harness.runfolder import RunFolder
from synthvet.harness.stats import Stats
from synthvet.harness.work import DomainSpec, Task
from synthvet.model import Limits, Record, Status, Verdict, content_hash, needs_review
from synthvet.model import refuted as _refuted
from synthvet.model import verified as _verified

__all__ = ["RunOptions", "RunResult", "run", "settle_by_experts", "HARNESS_VERIFIER"]

HARNESS_VERIFIER = f"synthvet@{__version__}"
_BLOCK = 512
_WINDOW = 8192


@dataclass
class RunOptions:
    inputs: list[str]
    out: str
    config: Config = field(default_factory=Config)
    workers: int | None = None
    executor: str = "local"
    ledger: str | None = None
    use_ledger: bool = True


@dataclass
class RunResult:
    stats: Stats
    gate: list[RuleResult]
    report: dict[str, Any]
    out: Path

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.gate)


@dataclass
class _DomainInfo:
    spec: DomainSpec
    verifier: str
    fingerprint: str
    limits: Limits


@dataclass(slots=True)
class _Pending:
    item: InputItem
    record: Record | None
    key: str = ""
    verdict: Verdict | None = None
    machine: bool = False  # the verdict came from a check and goes into the ledger


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


class _Domains:
    """Domains built in the main process: for their version, options and limits."""

    def __init__(self, registry: DomainRegistry, config: Config) -> None:
        self.registry = registry
        self.config = config
        self.info: dict[str, _DomainInfo] = {}
        self.broken: dict[str, str] = {}
        for name in config.table("domains"):
            if name not in registry:
                raise UsageError(f"[domains.{name}] configures a domain that is not "
                                 f"installed; installed: {', '.join(registry.names())}")
            self.get(name)

    def get(self, name: str) -> _DomainInfo | str:
        """Its info, or a message saying why it cannot be used."""
        if name in self.info:
            return self.info[name]
        if name in self.broken:
            return self.broken[name]
        options = self.config.domain_options(name)
        limits = self.config.limits_for(name)
        try:
            domain = self.registry.get(name, options)
        except DomainValidationError as exc:
            self.broken[name] = str(exc)
            return self.broken[name]
        info = _DomainInfo(
            DomainSpec(name, self.registry.targets[name], options),
            f"{domain.name}@{domain.version}",
            content_hash({"options": options, "limits": [limits.seconds, limits.memory_mb]}),
            limits,
        )
        self.info[name] = info
        return info

    def all_specs(self) -> dict[str, DomainSpec]:
        """Every installed domain as plain data; workers build one only when it is used."""
        return {n: DomainSpec(n, t, self.config.domain_options(n))
                for n, t in self.registry.targets.items()}


def _harness_verdict(verdict: Verdict, record_id: str, domain: str) -> Verdict:
    return verdict.stamped(id=record_id, domain=domain, verifier=HARNESS_VERIFIER)


class _Run:
    def __init__(self, opts: RunOptions, registry: DomainRegistry | None,
                 progress: Callable[[int, int, int], None] | None) -> None:
        self.opts = opts
        self.config = opts.config
        self.inputs = InputSet(opts.inputs)
        self.gate = Gate.from_config(self.config.table("gate"))
        self.fields = self.config.fields
        self.default_domain = self.config.default_domain
        self.domains = _Domains(registry or self.config.registry(), self.config)
        self.policy = Policy.from_config(self.config.data,
                                         known_domains=self.domains.registry.names())
        self.folder = RunFolder(opts.out)
        ledger_path = opts.ledger or self.config.ledger_path
        self.ledger = Ledger(ledger_path) if opts.use_ledger else None
        self.stats = Stats()
        self.executor: Any = None
        self.pending: dict[int, _Pending] = {}
        self.next_write = 0
        self.seq = 0
        self.progress = progress
        self.policy_counts: dict[str, int] = {}

    # -- preparing ----------------------------------------------------------------------
    def _prepare(self, item: InputItem) -> _Pending:
        if item.error is not None:
            rid = "sha256:" + content_hash(item.text or "")[:16]
            v = needs_review("parse_error", f"{item.source}: {item.error}",
                             {"source": item.source, "line": item.line,
                              "text": (item.text or "")[:500]})
            return _Pending(item, None, verdict=_harness_verdict(v, rid, ""))
        data = map_fields(item.obj, self.fields)
        record = to_record(data, source=item.source, line=item.line,
                           default_domain=self.default_domain)
        if not record.domain:
            v = needs_review("missing_field",
                             f"line {item.line}: no 'domain' field and no default domain "
                             "([run] domain or --domain)", {"field": "domain"})
            return _Pending(item, record, verdict=_harness_verdict(v, record.id, ""))
        if record.domain not in self.domains.registry:
            from synthvet.domains.registry import _unknown_message

            v = needs_review("unknown_domain",
                             f"line {item.line}: "
                             + _unknown_message(record.domain, self.domains.registry.names()),
                             {"domain": record.domain})
            return _Pending(item, record, verdict=_harness_verdict(v, record.id, record.domain))
        info = self.domains.get(record.domain)
        if isinstance(info, str):
            v = needs_review("harness_error", info, {"domain": record.domain})
            return _Pending(item, record, verdict=_harness_verdict(v, record.id, record.domain))
        key = verdict_key(record.content_key, info.verifier, info.fingerprint)
        return _Pending(item, record, key=key)

    def _settle_block(self, block: list[tuple[int, _Pending]]) -> None:
        todo = [(s, p) for s, p in block if p.verdict is None and p.record is not None]
        decisions: dict[str, list[Decision]] = {}
        cached: dict[str, Verdict] = {}
        if self.ledger is not None and todo:
            decisions = self.ledger.decisions_for_many(p.record.content_key for _, p in todo
                                                       if p.record is not None)
            cached = self.ledger.lookup([p.key for _, p in todo])
        for seq, p in todo:
            assert p.record is not None
            info = self.domains.info[p.record.domain]
            expert = settle_by_experts(p.record, decisions.get(p.record.content_key, []))
            if expert is not None:
                machine = cached.get(p.key)
                if machine is not None:  # what the machine said, to measure overturns
                    expert = Verdict(expert.status, expert.reason, expert.detail,
                                     {**expert.evidence, "machine": {
                                         "status": machine.status.value,
                                         "reason": machine.reason,
                                         "detail": machine.detail}})
                p.verdict = expert.stamped(id=p.record.id, domain=p.record.domain,
                                           verifier=info.verifier)
            elif p.key in cached:
                p.verdict = cached[p.key].stamped(id=p.record.id, cached=True)
                p.machine = True
            else:
                if self.executor is None:
                    self.executor = make_executor(self.opts.executor, self.domains.all_specs(),
                                                  self.opts.workers)
                self.executor.submit(Task(seq, p.record, info.limits))
        for seq, p in block:
            self.pending[seq] = p

    # -- finishing ----------------------------------------------------------------------
    def _collect(self, timeout: float) -> None:
        if self.executor is None:
            return
        for seq, verdict in self.executor.poll(timeout):
            p = self.pending[seq]
            assert p.record is not None
            info = self.domains.info[p.record.domain]
            p.verdict = verdict.stamped(verifier=info.verifier)
            p.machine = True
            if self.ledger is not None:
                self.ledger.store(p.key, p.record.content_key, p.verdict)

    def _write_ready(self) -> None:
        while self.next_write in self.pending:
            p = self.pending[self.next_write]
            if p.verdict is None:
                break
            del self.pending[self.next_write]
            self.next_write += 1
            verdict = p.verdict
            record = p.record
            if p.machine and record is not None:
                before = verdict
                verdict = self.policy.apply(record, verdict)
                if verdict is not before and verdict.reason != before.reason:
                    self.policy_counts[verdict.reason] = self.policy_counts.get(
                        verdict.reason, 0) + 1
            tags = dict(record.tags) if record is not None else {}
            ckey = record.content_key if record is not None else ""
            self.folder.write(verdict, source=p.item.source, line=p.item.line, tags=tags,
                              content_key=ckey, original=p.item.text, obj=p.item.obj)
            self.stats.add(verdict, tags)
            if self.ledger is not None and record is not None and record.domain:
                self.ledger.saw(record.id, ckey, record.domain)
        if self.ledger is not None and self.ledger.flush_due():
            self.ledger.flush()
        if self.progress is not None:
            self.progress(self.stats.total, self.inputs.bytes_read, self.inputs.bytes_total)

    def _drain(self, until: int) -> None:
        """Wait for results until at most ``until`` records are outstanding."""
        while True:
            self._write_ready()
            if len(self.pending) <= until:
                return
            if self.executor is None or self.executor.pending == 0:
                raise RuntimeError("records are outstanding but nothing is checking them")
            self._collect(0.1)

    def execute(self) -> RunResult:
        started_at = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        block: list[tuple[int, _Pending]] = []
        try:
            for item in self.inputs:
                block.append((self.seq, self._prepare(item)))
                self.seq += 1
                if len(block) >= _BLOCK:
                    self._settle_block(block)
                    block = []
                    self._collect(0.0)
                    self._write_ready()
                    if len(self.pending) > _WINDOW:
                        self._drain(_WINDOW // 2)
            self._settle_block(block)
            self._drain(0)
        except BaseException:
            self.folder.abandon()
            raise
        finally:
            if self.executor is not None:
                self.executor.close()
            if self.ledger is not None:
                self.ledger.close()
        self.folder.finish()
        return self._report(started_at, time.perf_counter() - t0)

    def _report(self, started_at: datetime, seconds: float) -> RunResult:
        gate = self.gate.evaluate(self.stats.domain, self.stats.ids)
        report: dict[str, Any] = {
            "synthvet_version": __version__,
            "started_at": started_at.isoformat(timespec="seconds"),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(seconds, 3),
            "inputs": [str(p) for p in self.inputs.paths],
            "blank_lines": self.inputs.blank_lines,
            "config": dict(self.config.data),
            "config_path": self.config.path,
            "ledger": str(self.ledger.path) if self.ledger is not None else None,
            "total": self.stats.total,
            "cached": self.stats.cached,
            "counts": self.stats.counts(),
            "domains": {n: i.verifier for n, i in sorted(self.domains.info.items())},
            "timings": {"domain": self.stats.timings(),
                        "records_per_second": round(self.stats.total / seconds, 1)
                        if seconds > 0 else None,
                        "workers_replaced": getattr(self.executor, "replaced", 0)},
            "gate": {"passed": all(r.passed for r in gate),
                     "rules": [r.to_dict() for r in gate]},
            "policy": {**self.policy.describe(), "applied": dict(self.policy_counts)},
        }
        self.folder.write_json("report.json", report)
        return RunResult(self.stats, gate, report, self.folder.path)


def run(opts: RunOptions, *, registry: DomainRegistry | None = None,
        progress: Callable[[int, int, int], None] | None = None) -> RunResult:
    """Verify ``opts.inputs`` into the run folder ``opts.out``."""
    previous = signal.getsignal(signal.SIGTERM)

    def _term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, _term)
    except ValueError:  # not the main thread: leave SIGTERM alone
        previous = None
    try:
        return _Run(opts, registry, progress).execute()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def check_one(record_data: Mapping[str, Any], config: Config,
              registry: DomainRegistry | None = None) -> Verdict:
    """One record, checked in a worker under its limits (for ``synthvet verify``)."""
    import tempfile

    registry = registry or config.registry()
    with tempfile.TemporaryDirectory(prefix="synthvet-verify-") as tmp:
        src = Path(tmp) / "record.jsonl"
        import json

        src.write_text(json.dumps(dict(record_data)) + "\n", encoding="utf-8")
        result = run(RunOptions([str(src)], str(Path(tmp) / "out"), config, workers=1,
                                use_ledger=False), registry=registry)
        line = (result.out / "verdicts.jsonl").read_text(encoding="utf-8").splitlines()[0]
        return Verdict.from_dict(json.loads(line))
