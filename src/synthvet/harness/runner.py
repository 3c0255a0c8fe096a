"""One run: stream records in, have workers settle them, write the run folder in input
order.

The order of settlement for a record (see :mod:`synthvet.harness.settle`, which runs in
the workers): an expert's decision (final), a verdict already in the ledger
(``cached``), else a check. Policy applies to machine verdicts only; an expert's word is
not second-guessed by it. This process reads lines, hands them out, writes the lines
that come back in input order, commits ledger rows and merges the counts.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from synthvet import __version__
from synthvet.domains.registry import DomainRegistry
from synthvet.errors import DomainValidationError, UsageError
from synthvet.harness._expert_io import RunSummary
from synthvet.harness.config import Config
from synthvet.harness.executors import make_executor
from synthvet.harness.gate import Gate, RuleResult
from synthvet.harness.inputs import InputSet
from synthvet.harness.ledger import Ledger
from synthvet.harness.policy import Policy
from synthvet.harness.runfolder import RunFolder
from synthvet.harness.settle import (
    HARNESS_VERIFIER,
    Item,
    Out,
    Plan,
    Settler,
    Tally,
    settle_by_experts,
)
from synthvet.harness.stats import Stats
from synthvet.harness.work import DomainSpec
from synthvet.model import Verdict, content_hash, needs_review

__all__ = ["RunOptions", "RunResult", "run", "settle_by_experts", "HARNESS_VERIFIER"]

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
    #: what the human report, junit.xml and CI annotations need, gathered during the run
    summary: RunSummary | None = None

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.gate)


def _plan(registry: DomainRegistry, config: Config, ledger: str | None) -> Plan:
    """Every installed domain as plain data; workers build one only when it is used."""
    specs, limits, fingerprints = {}, {}, {}
    for name, target in registry.targets.items():
        options = config.domain_options(name)
        lim = config.limits_for(name)
        specs[name] = DomainSpec(name, target, options)
        limits[name] = lim
        fingerprints[name] = content_hash({"options": options,
                                           "limits": [lim.seconds, lim.memory_mb]})
    return Plan(specs, limits, fingerprints, config.fields, config.default_domain,
                dict(config.data), ledger)


def _check_configured_domains(registry: DomainRegistry, config: Config) -> None:
    """Bad ``[domains.X]`` tables stop the run before it starts (exit 2)."""
    for name in config.table("domains"):
        if name not in registry:
            raise UsageError(f"[domains.{name}] configures a domain that is not "
                             f"installed; installed: {', '.join(registry.names())}")
        try:
            registry.get(name, config.domain_options(name))
        except DomainValidationError:
            pass  # a broken plugin: each of its records says so (harness_error)


class _Run:
    def __init__(self, opts: RunOptions, registry: DomainRegistry | None,
                 progress: Callable[[int, int, int], None] | None) -> None:
        self.opts = opts
        self.config = opts.config
        self.inputs = InputSet(opts.inputs, decode=False)
        self.gate = Gate.from_config(self.config.table("gate"))
        self.pin_workers = self.config.pin_workers  # a bad value stops the run here
        registry = registry or self.config.registry()
        _check_configured_domains(registry, self.config)
        self.policy = Policy.from_config(self.config.data, known_domains=registry.names())
        self.folder = RunFolder(opts.out)
        #: opened once the workers are started (see execute)
        self.ledger: Ledger | None = None
        self.ledger_path = Path(opts.ledger or self.config.ledger_path) \
            if opts.use_ledger else None
        self.plan = _plan(registry, self.config,
                          str(self.ledger_path) if self.ledger_path is not None else None)
        #: settles, in this process, only the records whose worker hung or died
        self.local = Settler(self.plan, checks=False)
        self.stats = Stats()
        self.summary = RunSummary(self.folder.path, {}, keep_seconds=False)
        self.verifiers: dict[str, str] = {}
        self.policy_applied: Counter[str] = Counter()
        self.executor: Any = None
        self.items: dict[int, Item] = {}
        self.done: dict[int, Out] = {}
        self.next_write = 0
        self.seq = 0
        self.progress = progress

    # -- finishing ----------------------------------------------------------------------
    def _collect(self, timeout: float) -> None:
        outs, tallies, failures = self.executor.poll(timeout)
        done = self.done
        for out in outs:
            done[out[0]] = out
        for failure in failures:
            evidence = dict(failure.evidence)
            if evidence.get("limit_hit") == "memory_or_crash":
                evidence["memory_mb"] = self.local.limits_of(failure.item).memory_mb
            verdict = needs_review(failure.reason, failure.detail, evidence)
            out = self.local.settle_failure(failure.item,
                                            verdict.stamped(seconds=failure.seconds))
            done[out[0]] = out
        for tally in tallies:
            self._merge(tally)

    def _merge(self, tally: Tally) -> None:
        self.stats.add_counts(tally.counts)
        self.stats.add_ids(tally.ids)
        self.stats.add_times(tally.times)
        self.summary.add_counts(tally.counts)
        self.summary.add_seconds(tally.seconds_total)
        self.summary.merge_kept(tally.kept)
        self.verifiers.update(tally.verifiers)
        self.policy_applied.update(tally.policy_applied)
        if self.ledger is not None and (tally.ledger_rows or tally.seen_rows):
            self.ledger.add_rows(tally.ledger_rows, tally.seen_rows)
        self.policy.add_counts(tally.policy_seen, tally.policy_moved)

    def _write_ready(self) -> None:
        start = self.next_write
        n = start
        done, items = self.done, self.items
        ready = []
        while n in done:
            ready.append(done.pop(n))
            del items[n]
            n += 1
        if ready:
            self.next_write = n
            self.folder.write_lines(ready)
        if self.ledger is not None and self.ledger.flush_due():
            self.ledger.flush()
        if self.progress is not None:
            self.progress(self.next_write, self.inputs.bytes_read, self.inputs.bytes_total)

    def _drain(self, until: int) -> None:
        """Wait for results until at most ``until`` records are outstanding."""
        while True:
            self._write_ready()
            if len(self.items) <= until:
                return
            if self.executor.pending == 0:
                raise RuntimeError("records are outstanding but nothing is settling them")
            self._collect(0.1)

    def execute(self) -> RunResult:
        started_at = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        try:
            self.executor = make_executor(self.opts.executor, self.plan, self.opts.workers,
                                          self.pin_workers)
            if self.ledger_path is not None:
                # Only now: workers forked before it hold neither this process's SQLite
                # connection (SQLite's locks do not survive a fork) nor its writer thread.
                self.ledger = Ledger(self.ledger_path)
                self.ledger.start_writer()
            items, submit = self.items, self.executor.submit
            for item in self.inputs:
                seq = self.seq
                self.seq = seq + 1
                items[seq] = entry = (seq, item.source, item.line, item.text, item.obj,
                                      item.error)
                submit(entry)
                if seq % _BLOCK == _BLOCK - 1:
                    self._collect(0.0)
                    self._write_ready()
                    if len(items) > _WINDOW:
                        self._drain(_WINDOW // 2)
            self._drain(0)
            self._merge(self.local.take_tally())
        except BaseException:
            self.folder.abandon()
            raise
        finally:
            if self.executor is not None:
                self.executor.close()
            self.local.close()
            if self.ledger is not None:
                self.ledger.close()
        self.folder.finish()
        return self._report(started_at, time.perf_counter() - t0)

    def _report(self, started_at: datetime, seconds: float) -> RunResult:
        stats = self.stats
        gate = self.gate.evaluate(stats.domain, stats.ids)
        report: dict[str, Any] = {
            "synthvet_version": __version__,
            "started_at": started_at.isoformat(timespec="seconds"),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(seconds, 3),
            "inputs": [str(p) for p in self.inputs.paths],
            "blank_lines": self.inputs.blank_lines,
            "config": dict(self.config.data),
            "config_path": self.config.path,
            "ledger": str(self.ledger_path) if self.ledger_path is not None else None,
            "total": stats.total,
            "cached": stats.cached,
            "counts": stats.counts(),
            "domains": dict(sorted(self.verifiers.items())),
            "timings": {"domain": stats.timings(),
                        "records_per_second": round(stats.total / seconds, 1)
                        if seconds > 0 else None,
                        "workers_replaced": getattr(self.executor, "replaced", 0)},
            "gate": {"passed": all(r.passed for r in gate),
                     "rules": [r.to_dict() for r in gate]},
            "policy": {**self.policy.describe(),
                       "applied": dict(sorted(self.policy_applied.items()))},
        }
        self.folder.write_json("report.json", report)
        summary = self.summary
        summary.report = report
        summary.normalise()
        return RunResult(stats, gate, report, self.folder.path, summary)


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
        src.write_text(json.dumps(dict(record_data)) + "\n", encoding="utf-8")
        result = run(RunOptions([str(src)], str(Path(tmp) / "out"), config, workers=1,
                                use_ledger=False), registry=registry)
        line = (result.out / "verdicts.jsonl").read_text(encoding="utf-8").splitlines()[0]
        return Verdict.from_dict(json.loads(line))
