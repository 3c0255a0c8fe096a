"""GitHub Actions integration: annotations on the dataset lines, and a step summary.

When ``GITHUB_ACTIONS`` is set (GitHub sets it to ``true`` in every job),
:func:`emit` prints workflow commands to standard output:

* ``::error file=F,line=L,title=...::message`` for each refuted record, and
  ``::warning ...`` for each record waiting for review (capped: GitHub itself shows
  only a few per step, and a huge log helps nobody);

and appends a markdown table (outcome by domain, gate rules, the first refuted
records) to the file named by ``GITHUB_STEP_SUMMARY``, when that is set.
Paths are made relative to ``GITHUB_WORKSPACE`` so GitHub links them to the diff.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from synthvet.harness._expert_io import STATUSES, RunSummary, sub, summarize_run, where_key

__all__ = ["ANNOTATION_CAP", "annotations", "emit", "step_summary"]

ANNOTATION_CAP = 50


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _relative(source: str, workspace: str | None) -> str:
    """The path GitHub links: relative to the checkout. A relative ``source`` is taken
    from the current folder (where ``synthvet run`` was started)."""
    if not workspace:
        return source
    try:
        return os.path.relpath(os.path.abspath(source), workspace)
    except ValueError:  # another drive (Windows)
        return source


def annotation_lines(run: RunSummary, *, workspace: str | None = None,
                cap: int = ANNOTATION_CAP) -> list[str]:
    """The workflow-command lines: refuted records first (errors), then reviews (warnings)."""
    lines: list[str] = []
    for status, command in (("refuted", "error"), ("needs_review", "warning")):
        for v in run.firsts.get(status, []):
            if len(lines) >= cap:
                break
            props = []
            source, line = where_key(v)
            if source and not source.startswith("<"):
                props.append(f"file={_escape_property(_relative(source, workspace))}")
                if line > 0:
                    props.append(f"line={line}")
            title = f"synthvet {v.get('domain')}: {v.get('status')} ({v.get('reason')})"
            props.append(f"title={_escape_property(title)}")
            message = f"record {v.get('id')}: {v.get('detail') or v.get('reason')}"
            lines.append(f"::{command} {','.join(props)}::{_escape_data(message)}")
    total = run.status.get("refuted", 0) + run.status.get("needs_review", 0)
    if total > len(lines):
        lines.append(f"::notice title=synthvet::{total - len(lines)} more refuted or review "
                     f"records are not annotated; see the run folder's report.html")
    return lines


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def step_summary(run: RunSummary, *, cap: int = 20) -> str:
    """A markdown summary: outcome by domain, gate rules, first refuted records."""
    counts = run.domain_status
    gate = sub(run.report, "gate")
    passed = gate.get("passed")
    head = "### synthvet: " + ("gate passed ✅" if passed else "gate failed ❌"
                               if passed is not None else "results")
    out = [head, "", "| domain | verified | refuted | needs review | total |",
           "|---|---:|---:|---:|---:|"]
    totals: Counter[str] = Counter()
    for d in sorted(counts):
        c = counts[d]
        totals.update(c)
        out.append(f"| {_md(d)} | " + " | ".join(str(c.get(s, 0)) for s in STATUSES)
                   + f" | {sum(c.values())} |")
    out.append("| **all** | " + " | ".join(f"**{totals.get(s, 0)}**" for s in STATUSES)
               + f" | **{sum(totals.values())}** |")
    rules = [r for r in gate.get("rules") or [] if isinstance(r, Mapping)]
    if rules:
        out += ["", "| gate rule | limit | actual | result |", "|---|---:|---:|---|"]
        for r in rules:
            out.append(f"| {_md(r.get('scope'))} `{_md(r.get('rule'))}` | {_md(r.get('limit'))} "
                       f"| {_md(r.get('actual'))} | {'pass' if r.get('passed') else '**fail**'} |")
    refuted = run.firsts.get("refuted", [])
    n_refuted = run.status.get("refuted", 0)
    if refuted:
        out += ["", f"<details><summary>{n_refuted} refuted record(s)</summary>", "",
                "| id | where | reason | detail |", "|---|---|---|---|"]
        for v in refuted[:cap]:
            out.append(f"| `{_md(v.get('id'))}` | `{_md(v.get('source'))}:{_md(v.get('line'))}` "
                       f"| `{_md(v.get('reason'))}` | {_md(str(v.get('detail', ''))[:200])} |")
        if n_refuted > min(cap, len(refuted)):
            out.append(f"| … | {n_refuted - min(cap, len(refuted))} more | | |")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def emit(run_dir: Path | str, *, env: Mapping[str, str] | None = None,
         stream: IO[str] | None = None, gathered: RunSummary | None = None) -> bool:
    """Annotate and summarise for GitHub Actions; does nothing outside it.

    Returns whether anything was emitted. A summary file that cannot be written is
    reported on stderr and otherwise ignored: CI cosmetics must not fail a run.
    """
    env = os.environ if env is None else env
    if not env.get("GITHUB_ACTIONS"):
        return False
    stream = stream or sys.stdout
    run = gathered or summarize_run(run_dir, first_cap=ANNOTATION_CAP)
    for line in annotation_lines(run, workspace=env.get("GITHUB_WORKSPACE")):
        stream.write(line + "\n")
    stream.flush()
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(step_summary(run))
        except OSError as exc:
            sys.stderr.write(f"synthvet: cannot append to GITHUB_STEP_SUMMARY {summary!r}: "
                             f"{exc}\n")
    return True
