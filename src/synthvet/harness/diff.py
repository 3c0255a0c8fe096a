"""``synthvet diff RUN_A RUN_B``: what changed between two runs.

What a reviewer of a dataset pull request wants to see: records that are **newly
refuted**, **newly verified** or **newly in review** in run B compared with run A
(a record new in B counts as "newly" whatever it became), plus records that left.

Records are matched by id (the n-th occurrence of an id in A with the n-th in B, so
duplicated ids still pair up); each row also carries both content keys, and says when
the content changed under the same id.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthvet.harness._expert_io import STATUSES, iter_verdicts, run_folder

__all__ = ["CATEGORIES", "Change", "RunDiff", "diff_runs"]

#: category name -> the status a record newly has in B
CATEGORIES = {"newly_refuted": "refuted", "newly_verified": "verified",
              "newly_review": "needs_review"}
_TITLES = {"newly_refuted": "newly refuted", "newly_verified": "newly verified",
           "newly_review": "newly in review", "removed": "no longer in the data"}


@dataclass(frozen=True)
class Change:
    """One record whose status differs between the runs."""

    id: str
    domain: str
    before: str | None  # status in A; None: not in A
    after: str | None  # status in B; None: not in B
    reason_before: str | None
    reason_after: str | None
    detail: str
    where: str
    content_key_before: str | None
    content_key_after: str | None

    @property
    def content_changed(self) -> bool:
        return (self.content_key_before is not None and self.content_key_after is not None
                and self.content_key_before != self.content_key_after)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "domain": self.domain, "before": self.before,
                "after": self.after, "reason_before": self.reason_before,
                "reason_after": self.reason_after, "detail": self.detail, "where": self.where,
                "content_key_before": self.content_key_before,
                "content_key_after": self.content_key_after,
                "content_changed": self.content_changed}


@dataclass
class RunDiff:
    """The changes, by category, plus totals of both runs."""

    run_a: str
    run_b: str
    newly_refuted: list[Change] = field(default_factory=list)
    newly_verified: list[Change] = field(default_factory=list)
    newly_review: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    unchanged: int = 0
    totals_a: dict[str, int] = field(default_factory=dict)
    totals_b: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.newly_refuted or self.newly_verified or self.newly_review
                    or self.removed)

    def categories(self) -> Iterable[tuple[str, list[Change]]]:
        yield "newly_refuted", self.newly_refuted
        yield "newly_verified", self.newly_verified
        yield "newly_review", self.newly_review
        yield "removed", self.removed

    def to_dict(self) -> dict[str, Any]:
        return {"run_a": self.run_a, "run_b": self.run_b, "unchanged": self.unchanged,
                "totals_a": self.totals_a, "totals_b": self.totals_b,
                **{name: [c.to_dict() for c in rows] for name, rows in self.categories()}}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_markdown(self, cap: int = 100) -> str:
        """A markdown section, e.g. for a pull-request comment or step summary."""
        out = [f"### synthvet diff: `{self.run_a}` → `{self.run_b}`", "",
               "| | " + " | ".join(STATUSES) + " |", "|---|" + "---:|" * len(STATUSES),
               "| before | " + " | ".join(str(self.totals_a.get(s, 0)) for s in STATUSES) + " |",
               "| after | " + " | ".join(str(self.totals_b.get(s, 0)) for s in STATUSES) + " |",
               ""]
        if not self.changed:
            out.append(f"No record changed status ({self.unchanged} unchanged).")
            return "\n".join(out) + "\n"
        for name, rows in self.categories():
            if not rows:
                continue
            out += [f"#### {_TITLES[name]} ({len(rows)})", "",
                    "| id | domain | before | after | reason | where | detail |",
                    "|---|---|---|---|---|---|---|"]
            for c in rows[:cap]:
                before = c.before or "(new)"
                if c.content_changed:
                    before += " (content changed)"
                out.append(f"| `{_md(c.id)}` | {_md(c.domain)} | {_md(before)} | "
                           f"{_md(c.after or '(gone)')} | `{_md(c.reason_after or c.reason_before)}`"
                           f" | `{_md(c.where)}` | {_md(c.detail[:160])} |")
            if len(rows) > cap:
                out.append(f"| … {len(rows) - cap} more | | | | | | |")
            out.append("")
        out.append(f"{self.unchanged} record(s) unchanged.")
        return "\n".join(out) + "\n"

    def print_rich(self, cap: int = 100) -> None:
        """Rich tables on the terminal."""
        from rich.console import Console
        from rich.table import Table

        console = Console()
        styles = {"verified": "green", "refuted": "red", "needs_review": "yellow"}
        totals = Table(title=f"synthvet diff: {self.run_a} → {self.run_b}")
        totals.add_column("")
        for s in STATUSES:
            totals.add_column(s, justify="right", style=styles[s])
        totals.add_row("before", *(str(self.totals_a.get(s, 0)) for s in STATUSES))
        totals.add_row("after", *(str(self.totals_b.get(s, 0)) for s in STATUSES))
        console.print(totals)
        if not self.changed:
            console.print(f"No record changed status ({self.unchanged} unchanged).")
            return
        for name, rows in self.categories():
            if not rows:
                continue
            table = Table(title=f"{_TITLES[name]} ({len(rows)})", title_justify="left")
            for col in ("id", "domain", "before", "after", "reason", "where", "detail"):
                table.add_column(col, overflow="fold")
            for c in rows[:cap]:
                before = (c.before or "(new)") + (" (content changed)" if c.content_changed
                                                  else "")
                after = c.after or "(gone)"
                table.add_row(c.id, c.domain, before,
                              f"[{styles.get(after, 'white')}]{after}[/]",
                              c.reason_after or c.reason_before or "", c.where, c.detail[:120])
            if len(rows) > cap:
                table.add_row(f"… {len(rows) - cap} more", "", "", "", "", "", "")
            console.print(table)
        console.print(f"{self.unchanged} record(s) unchanged.")


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True, slots=True)
class _Seen:
    """What is kept of each record of run A: enough to describe a change, no more."""

    status: str
    reason: str
    domain: str
    content_key: str | None
    where: str
    detail: str


def _key(rid: str, counts: dict[str, int]) -> tuple[str, int]:
    n = counts.get(rid, 0)
    counts[rid] = n + 1
    return rid, n


def _where(v: dict[str, Any]) -> str:
    return f"{v.get('source')}:{v.get('line')}"


def diff_runs(run_a: Path | str, run_b: Path | str) -> RunDiff:
    """Compare two run folders (see the module doc). Run A is held in memory as small
    tuples per record; run B is streamed.

    Raises:
        InputError: either folder is not a readable run folder.
    """
    path_a, path_b = run_folder(run_a), run_folder(run_b)
    intern = sys.intern
    seen_a: dict[tuple[str, int], _Seen] = {}
    counts: dict[str, int] = {}
    totals_a: Counter[str] = Counter()
    for v in iter_verdicts(path_a):
        status = intern(str(v.get("status")))
        totals_a[status] += 1
        seen_a[_key(str(v.get("id")), counts)] = _Seen(
            status, intern(str(v.get("reason"))), intern(str(v.get("domain") or "")),
            str(v["content_key"]) if v.get("content_key") else None, _where(v),
            str(v.get("detail") or "")[:300])
    result = RunDiff(run_a=str(run_a), run_b=str(run_b), totals_a=dict(totals_a))
    totals_b: Counter[str] = Counter()
    counts = {}
    for vb in iter_verdicts(path_b):
        key = _key(str(vb.get("id")), counts)
        after = str(vb.get("status"))
        totals_b[after] += 1
        va = seen_a.pop(key, None)
        before = va.status if va is not None else None
        if before == after:
            result.unchanged += 1
            continue
        change = Change(
            id=key[0], domain=str(vb.get("domain") or ""), before=before, after=after,
            reason_before=va.reason if va is not None else None,
            reason_after=str(vb.get("reason")), detail=str(vb.get("detail") or ""),
            where=_where(vb), content_key_before=va.content_key if va is not None else None,
            content_key_after=str(vb["content_key"]) if vb.get("content_key") else None)
        for name, status in CATEGORIES.items():
            if after == status:
                getattr(result, name).append(change)
    result.totals_b = dict(totals_b)
    for key, va in seen_a.items():  # what is left of A is not in B
        result.removed.append(Change(
            id=key[0], domain=va.domain, before=va.status, after=None,
            reason_before=va.reason, reason_after=None, detail=va.detail, where=va.where,
            content_key_before=va.content_key, content_key_after=None))
    return result
