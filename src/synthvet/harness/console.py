"""What a person sees: progress while a run goes, and the summary tables after it.

Progress goes to stderr: a bar with rate and ETA on a terminal, a plain line every few
seconds otherwise (CI logs). The summary goes to stdout.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from synthvet.model import Status

__all__ = ["Progress", "print_summary", "domains_table"]

_STATUS_STYLE = {"verified": "green", "refuted": "red", "needs_review": "yellow"}


class Progress:
    """Callable as ``progress(records_done, bytes_read, bytes_total)``."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None,
                 every: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.every = every
        self.started = time.monotonic()
        self._last = self.started
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, read: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if self._bar is None:
                from rich.progress import (BarColumn, Progress as Bar,
                                           TextColumn, TimeRemainingColumn)

                self._bar = Bar(TextColumn("verifying"), BarColumn(), TextColumn(
                    "{task.percentage:>3.0f}%"), TextColumn("{task.fields[records]} records"),
                    TextColumn("{task.fields[rate]}/s"), TimeRemainingColumn(),
                    console=Console(file=self.stream), transient=True)
                self._bar.start()
                self._task = self._bar.add_task("run", total=max(total, 1), records=0,
                                                rate="-")
            if now - self._last >= 0.1:
                rate = done / max(now - self.started, 1e-9)
                self._bar.update(self._task, completed=read, records=done, rate=f"{rate:,.0f}")
                self._last = now
        elif now - self._last >= self.every:
            elapsed = now - self.started
            rate = done / max(elapsed, 1e-9)
            pct = f"{100 * read / total:.0f}% of input read, " if total else ""
            eta = ""
            if total and read:
                eta = f", about {max(0.0, elapsed * (total - read) / read):.0f} s left"
            print(f"synthvet: {done:,} records done, {pct}{rate:,.0f}/s{eta}",
                  file=self.stream, flush=True)
            self._last = now

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _stdout_console() -> Console:
    # Piped output (CI logs, files) gets a readable width instead of rich's 80 columns.
    return Console(file=sys.stdout, highlight=False,
                   width=None if sys.stdout.isatty() else 120)


def _pct(n: int, total: int) -> str:
    return f"{n:,} ({100 * n / total:.0f}%)" if total else "0"


def print_summary(report: dict[str, Any], out_dir: str, console: Console | None = None) -> None:
    console = console or _stdout_console()
    total = report["total"]
    by_domain: dict[str, dict[str, int]] = report["counts"]["domain"]
    table = Table(title=f"synthvet: {total:,} records in {report['seconds']:.1f} s "
                        f"({report['cached']:,} from the ledger)", title_justify="left")
    table.add_column("domain")
    for s in Status:
        table.add_column(s.value, justify="right", style=_STATUS_STYLE[s.value])
    table.add_column("total", justify="right")
    for domain, counts in sorted(by_domain.items()):
        n = sum(counts.values())
        table.add_row(domain, *(_pct(counts.get(s.value, 0), n) for s in Status), f"{n:,}")
    status = report["counts"]["status"]
    table.add_row("[b]all[/b]", *(_pct(status.get(s.value, 0), total) for s in Status),
                  f"{total:,}", end_section=True)
    console.print(table)

    reasons = Table(title="why", title_justify="left")
    reasons.add_column("reason")
    reasons.add_column("records", justify="right")
    for reason, n in sorted(report["counts"]["reason"].items(), key=lambda kv: -kv[1])[:12]:
        reasons.add_row(reason, f"{n:,}")
    console.print(reasons)

    rules = report["gate"]["rules"]
    if rules:
        gate = Table(title="gate", title_justify="left")
        gate.add_column("rule")
        gate.add_column("actual", justify="right")
        gate.add_column("result")
        for r in rules:
            actual = "-" if r["actual"] is None else (
                f"{r['actual']:.3g}" if r["kind"] == "fraction" else str(int(r["actual"])))
            gate.add_row(r["text"], actual, "[green]pass[/]" if r["passed"] else "[red]FAIL[/]")
        console.print(gate)
        verdict = "[green]passed[/]" if report["gate"]["passed"] else "[red]failed[/]"
        console.print(f"gate {verdict}")
    else:
        console.print("gate: no rules configured (\\[gate] in synthvet.toml)")
    console.print(f"run folder: {out_dir}")


def domains_table(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    console = console or _stdout_console()
    table = Table(title="installed domains", title_justify="left")
    table.add_column("domain")
    table.add_column("version", no_wrap=True)
    table.add_column("from")
    table.add_column("fields", max_width=28)
    table.add_column("checkers and protections", ratio=1)
    for row in rows:
        checkers = "\n".join(
            f"{'[green]yes[/]' if c['available'] else '[red]no[/]'} {c['name']}"
            + (f": {c['detail']}" if c["detail"] else "") for c in row["checkers"]
        ) or "-"
        table.add_row(row["name"], row["version"], row["origin"], ", ".join(row["fields"]),
                      checkers)
    console.print(table)

