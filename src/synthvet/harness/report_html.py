"""``report.html``: one self-contained page a person reads after a run.

No network, no script, no framework: inline CSS and inline SVG charts, so the file
opens from disk, from a CI artifact or an e-mail attachment and shows the same thing.
Sections: the outcome overall and by domain; verified / refuted / review rates by
domain x tag (e.g. difficulty), "where the wall is"; reasons; time spent; the gate;
what the policy did; capped samples of refuted and review records with their evidence.

Everything is computed from ``verdicts.jsonl`` (the source of truth) plus
``report.json`` for what only the run knows (timings, gate, policy, config).
"""

from __future__ import annotations

import html
import os
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from synthvet.errors import HarnessError
from synthvet.harness._expert_io import STATUSES, RunSummary, short_json, sub, summarize_run

__all__ = ["SAMPLE_CAP", "render_html", "write_html_report"]

SAMPLE_CAP = 25
#: tags with more distinct values than this are left out of the domain x tag charts
MAX_TAG_VALUES = 12
COLORS = {"verified": "#2e7d32", "refuted": "#c62828", "needs_review": "#e0a100"}
LABELS = {"verified": "verified", "refuted": "refuted", "needs_review": "needs review"}
_ORDER = ["trivial", "easy", "medium", "moderate", "hard", "harder", "very hard", "expert",
          "extreme", "olympiad"]

CSS = """
:root { --fg:#1d232a; --muted:#5b6670; --line:#d8dde2; --bg:#ffffff; --soft:#f4f6f8; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
       sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
p.lead, .muted { color: var(--muted); }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin:16px 0; }
.card { flex: 1 1 150px; border:1px solid var(--line); border-radius:8px; padding:10px 14px;
        background: var(--soft); }
.card .n { font-size: 26px; font-weight: 650; }
.card .l { color: var(--muted); font-size: 13px; }
.card.verified .n { color: #2e7d32; } .card.refuted .n { color: #c62828; }
.card.needs_review .n { color: #9a6c00; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600;
         color:#fff; white-space:nowrap; }
.badge.verified { background:#2e7d32; } .badge.refuted { background:#c62828; }
.badge.needs_review { background:#b07d00; } .badge.pass { background:#2e7d32; }
.badge.fail { background:#c62828; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 14px; }
th, td { text-align:left; padding: 5px 8px; border-bottom:1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: var(--soft); border:1px solid var(--line); border-radius:6px; padding:8px;
      white-space: pre-wrap; word-break: break-word; max-height: 360px; overflow:auto; margin:6px 0; }
details summary { cursor: pointer; color: #1f5fa8; }
svg.chart { display:block; max-width:100%; height:auto; margin: 6px 0 10px; }
svg.chart text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
.legend { display:flex; gap:16px; font-size:13px; color: var(--muted); margin: 4px 0; }
.legend span::before { content:""; display:inline-block; width:11px; height:11px; margin-right:5px;
                       border-radius:2px; vertical-align:-1px; background: var(--c); }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _pct(n: float, total: float) -> str:
    return f"{(100.0 * n / total):.0f}%" if total else "–"


def _sort_values(values: Iterable[str]) -> list[str]:
    def key(v: str) -> tuple[int, float, str]:
        low = v.lower()
        if low in _ORDER:
            return (0, float(_ORDER.index(low)), low)
        try:
            return (1, float(v), low)
        except ValueError:
            return (2, 0.0, low)
    return sorted(values, key=key)


def _legend() -> str:
    return '<div class="legend">' + "".join(
        f'<span style="--c:{COLORS[s]}">{LABELS[s]}</span>' for s in STATUSES) + "</div>"


# -- charts ------------------------------------------------------------------------------


def _stacked_chart(name: str, rows: Sequence[tuple[str, Mapping[str, int]]], *,
                   label_width: int = 200) -> str:
    """Horizontal 100% stacked bars, one per row, counts in the segments, n at the right."""
    if not rows:
        return '<p class="muted">nothing to chart</p>'
    bar_w, row_h, gap = 560, 24, 8
    width = label_width + bar_w + 70
    height = len(rows) * (row_h + gap) + gap
    out = [(f'<svg class="chart" data-chart="{_e(name)}" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'),
           f"<title>{_e(name)}</title>"]
    for i, (label, counts) in enumerate(rows):
        y = gap + i * (row_h + gap)
        total = sum(counts.get(s, 0) for s in STATUSES)
        out.append(f'<text x="{label_width - 8}" y="{y + row_h * 0.7:.1f}" font-size="13" '
                   f'text-anchor="end" fill="#1d232a">{_e(label[:34])}</text>')
        out.append(f'<rect x="{label_width}" y="{y}" width="{bar_w}" height="{row_h}" '
                   f'fill="#eef1f4" rx="3"/>')
        x = float(label_width)
        for status in STATUSES:
            n = counts.get(status, 0)
            if not n or not total:
                continue
            w = bar_w * n / total
            out.append(
                f'<rect class="seg {status}" x="{x:.2f}" y="{y}" width="{w:.2f}" height="{row_h}" '
                f'fill="{COLORS[status]}"><title>{_e(label)}: {n} {LABELS[status]} '
                f'({_pct(n, total)})</title></rect>')
            if w >= 34:
                out.append(f'<text x="{x + w / 2:.2f}" y="{y + row_h * 0.7:.1f}" font-size="12" '
                           f'text-anchor="middle" fill="#fff">{_pct(n, total) if w >= 44 else n}'
                           f"</text>")
            x += w
        out.append(f'<text x="{label_width + bar_w + 8}" y="{y + row_h * 0.7:.1f}" '
                   f'font-size="12" fill="#5b6670">n={total}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _bar_chart(name: str, rows: Sequence[tuple[str, float, str, str]], *,
               label_width: int = 260) -> str:
    """Horizontal bars: (label, value, colour, value text)."""
    if not rows:
        return '<p class="muted">nothing to chart</p>'
    bar_w, row_h, gap = 480, 20, 6
    width = label_width + bar_w + 90
    height = len(rows) * (row_h + gap) + gap
    top = max(v for _, v, _, _ in rows) or 1.0
    out = [(f'<svg class="chart" data-chart="{_e(name)}" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'),
           f"<title>{_e(name)}</title>"]
    for i, (label, value, color, text) in enumerate(rows):
        y = gap + i * (row_h + gap)
        w = max(1.5, bar_w * value / top) if value > 0 else 0
        out.append(f'<text x="{label_width - 8}" y="{y + row_h * 0.72:.1f}" font-size="13" '
                   f'text-anchor="end" fill="#1d232a">{_e(label[:40])}</text>')
        out.append(f'<rect class="bar" x="{label_width}" y="{y}" width="{w:.2f}" height="{row_h}" '
                   f'fill="{color}" rx="2"><title>{_e(label)}: {_e(text)}</title></rect>')
        out.append(f'<text x="{label_width + w + 6:.2f}" y="{y + row_h * 0.72:.1f}" '
                   f'font-size="12" fill="#5b6670">{_e(text)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _heat_color(rate: float) -> str:
    """Pale grey (0% verified) to deep green (100%): one hue, so 0% does not read as
    "refuted" when the records are merely waiting for review."""
    lo, hi = (236, 239, 241), (46, 125, 50)
    rgb = [round(a + (b - a) * max(0.0, min(1.0, rate))) for a, b in zip(lo, hi, strict=True)]
    return f"rgb({rgb[0]},{rgb[1]},{rgb[2]})"


def _heatmap(name: str, domains: Sequence[str], values: Sequence[str],
             cells: Mapping[tuple[str, str], Mapping[str, int]]) -> str:
    """Verified rate per domain (rows) x tag value (columns); cell text: rate and n."""
    longest = max((len(v) for v in values), default=4)
    label_w, cell_h, head_h = 120, 40, 26
    cell_w = max(110, min(200, 8 * longest + 16))
    width = label_w + cell_w * len(values) + 10
    height = head_h + cell_h * len(domains) + 6
    out = [(f'<svg class="chart" data-chart="{_e(name)}" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'),
           f"<title>{_e(name)}: verified rate</title>"]
    for j, value in enumerate(values):
        out.append(f'<text x="{label_w + j * cell_w + cell_w / 2}" y="17" font-size="13" '
                   f'text-anchor="middle" font-weight="600" fill="#1d232a">{_e(value[:24])}</text>')
    for i, domain in enumerate(domains):
        y = head_h + i * cell_h
        out.append(f'<text x="{label_w - 8}" y="{y + cell_h * 0.6:.1f}" font-size="13" '
                   f'text-anchor="end" fill="#1d232a">{_e(domain[:16])}</text>')
        for j, value in enumerate(values):
            x = label_w + j * cell_w
            counts = cells.get((domain, value), {})
            total = sum(counts.get(s, 0) for s in STATUSES)
            if not total:
                out.append(f'<rect x="{x + 2}" y="{y + 2}" width="{cell_w - 4}" '
                           f'height="{cell_h - 4}" fill="none" stroke="#d8dde2" '
                           f'stroke-dasharray="4 3" rx="3"><title>no records</title></rect>')
                continue
            rate = counts.get("verified", 0) / total
            tip = ", ".join(f"{counts.get(s, 0)} {LABELS[s]}" for s in STATUSES)
            out.append(f'<rect class="cell" x="{x + 2}" y="{y + 2}" width="{cell_w - 4}" '
                       f'height="{cell_h - 4}" fill="{_heat_color(rate)}" rx="3">'
                       f"<title>{_e(domain)} / {_e(value)}: {tip}</title></rect>")
            out.append(f'<text x="{x + cell_w / 2}" y="{y + cell_h * 0.62:.1f}" font-size="13" '
                       f'text-anchor="middle" fill="{"#fff" if rate >= 0.45 else "#1d232a"}" '
                       f'font-weight="600">'
                       f"{_pct(counts.get('verified', 0), total)} · n={total}</text>")
    out.append("</svg>")
    return "\n".join(out)


# -- sections -------------------------------------------------------------------------------


def _section_summary(run: RunSummary) -> str:
    counts = run.status
    total = run.total
    rep = run.report
    gate = sub(rep, "gate") or None
    cards = [f'<div class="card"><div class="n">{total}</div><div class="l">records</div></div>']
    for s in STATUSES:
        cards.append(f'<div class="card {s}"><div class="n">{counts.get(s, 0)}</div>'
                     f'<div class="l">{LABELS[s]} ({_pct(counts.get(s, 0), total)})</div></div>')
    if gate is not None:
        ok = bool(gate.get("passed"))
        cards.append(f'<div class="card"><div class="n"><span class="badge '
                     f'{"pass" if ok else "fail"}">{"passed" if ok else "failed"}</span></div>'
                     f'<div class="l">gate</div></div>')
    meta = []
    if isinstance(rep.get("inputs"), list) and rep["inputs"]:
        shown = rep["inputs"][:10]
        meta.append("inputs: " + ", ".join(f"<code>{_e(p)}</code>" for p in shown)
                    + (f" and {len(rep['inputs']) - 10} more" if len(rep["inputs"]) > 10 else ""))
    if rep.get("started_at"):
        meta.append(f"started {_e(rep['started_at'])}")
    if isinstance(rep.get("seconds"), (int, float)):
        meta.append(f"took {rep['seconds']:.1f} s")
    if rep.get("cached"):
        meta.append(f"{_e(rep['cached'])} from the ledger")
    if rep.get("synthvet_version"):
        meta.append(f"synthvet {_e(rep['synthvet_version'])}")
    return (f'<div class="cards">{"".join(cards)}</div>'
            f'<p class="muted">{" · ".join(meta)}</p>')


def _section_domains(run: RunSummary) -> str:
    rows = [(d, run.domain_status[d]) for d in run.domains()]
    table = ["<table><tr><th>domain</th>" + "".join(f'<th class="num">{LABELS[s]}</th>'
                                                     for s in STATUSES)
             + '<th class="num">total</th></tr>']
    for d, c in rows:
        n = sum(c.values())
        table.append(f"<tr><td>{_e(d)}</td>" + "".join(
            f'<td class="num">{c.get(s, 0)} <span class="muted">({_pct(c.get(s, 0), n)})'
            f"</span></td>" for s in STATUSES) + f'<td class="num">{n}</td></tr>')
    table.append("</table>")
    return _legend() + _stacked_chart("outcome-by-domain", rows) + "".join(table)


def _section_wall(run: RunSummary) -> str:
    tags = sorted(run.tags, key=lambda t: (t != "difficulty", t))  # difficulty first
    if not tags:
        return ('<p class="muted">No record carries a tag with a few values (such as '
                '<code>"tags": {"difficulty": "hard"}</code>), so there is nothing to split '
                "by.</p>")
    parts = []
    for tag in tags:
        cells = run.tags[tag]
        ordered = _sort_values(run.tag_values.get(tag, {v for _, v in cells}))
        domains = sorted({d for d, _ in cells})
        rows = [(f"{d} · {val}", cells[(d, val)]) for d in domains for val in ordered
                if (d, val) in cells]
        parts.append(f"<h3>by {_e(tag)}</h3>")
        parts.append('<p class="muted">verified rate per cell (grey 0% → green 100%); the bars '
                     "below split each cell into verified / refuted / review</p>")
        parts.append(_heatmap(f"wall-{tag}-heatmap", domains, ordered, cells))
        parts.append(_legend())
        parts.append(_stacked_chart(f"wall-{tag}", rows, label_width=220))
    if run.wide_tags:
        parts.append(f'<p class="muted">Tags with more than {run.max_tag_values} values are '
                     f'not charted: {", ".join(_e(t) for t in sorted(run.wide_tags))}.</p>')
    return "\n".join(parts)


def _section_reasons(run: RunSummary) -> str:
    rows = [(f"{reason} ({LABELS.get(status, status)})", float(n), COLORS.get(status, "#888"),
             str(n)) for (status, reason), n in sorted(run.reasons.items(),
                                                       key=lambda kv: (-kv[1], kv[0]))]
    return _bar_chart("reasons", rows[:30]) + (
        f'<p class="muted">{len(rows) - 30} rarer reasons not shown.</p>' if len(rows) > 30
        else "")


def _section_time(run: RunSummary) -> str:
    timing = sub(run.report, "timings")
    per: dict[str, dict[str, float]] = {}
    reported = sub(timing, "domain")
    by_domain = run.seconds
    for d in sorted(set(by_domain) | set(reported)):
        r = reported.get(d) if isinstance(reported.get(d), Mapping) else None
        xs = sorted(by_domain.get(d, ()))
        if r is not None:
            per[d] = {k: float(r.get(k) or 0.0) for k in ("n", "median", "p95", "total")}
        elif xs:
            per[d] = {"n": len(xs), "median": statistics.median(xs),
                      "p95": xs[min(len(xs) - 1, int(0.95 * len(xs)))], "total": sum(xs)}
    if not per:
        return '<p class="muted">no timings recorded</p>'
    rows = [(d, per[d]["total"], "#3b6ea8", f"{per[d]['total']:.2f} s") for d in per]
    table = [('<table><tr><th>domain</th><th class="num">records</th><th class="num">median s</th>'
             '<th class="num">p95 s</th><th class="num">total s</th></tr>')]
    for d, t in per.items():
        table.append(f'<tr><td>{_e(d)}</td><td class="num">{int(t["n"])}</td>'
                     f'<td class="num">{t["median"]:.3f}</td><td class="num">{t["p95"]:.3f}</td>'
                     f'<td class="num">{t["total"]:.2f}</td></tr>')
    table.append("</table>")
    rps = timing.get("records_per_second")
    extra = (f'<p class="muted">{rps:.1f} records per second over the whole run.</p>'
             if isinstance(rps, (int, float)) else "")
    return (_bar_chart("time-by-domain", rows, label_width=160)
            + '<p class="muted">check time (sum over records, all workers)</p>'
            + "".join(table) + extra)


def _section_gate(run: RunSummary) -> str:
    gate = run.report.get("gate")
    if not isinstance(gate, Mapping) or not gate.get("rules"):
        return '<p class="muted">No gate rules configured.</p>'
    out = [('<table><tr><th>scope</th><th>rule</th><th class="num">limit</th>'
           '<th class="num">actual</th><th>result</th><th>records breaking it</th></tr>')]
    for r in gate["rules"]:
        if not isinstance(r, Mapping):
            continue
        ok = bool(r.get("passed"))
        ids = r.get("records") or []
        out.append(
            f"<tr><td>{_e(r.get('scope'))}</td><td><code>{_e(r.get('rule'))}</code> "
            f"<span class='muted'>({_e(r.get('kind', ''))})</span></td>"
            f"<td class='num'>{_e(r.get('limit'))}</td><td class='num'>{_e(_num(r.get('actual')))}</td>"
            f"<td><span class='badge {'pass' if ok else 'fail'}'>{'pass' if ok else 'fail'}</span></td>"
            f"<td>{', '.join(f'<code>{_e(i)}</code>' for i in ids[:12])}"
            f"{' …' if len(ids) > 12 else ''}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _num(x: Any) -> Any:
    return round(x, 4) if isinstance(x, float) else x


def _section_policy(run: RunSummary) -> str:
    policy = sub(run.report, "policy")
    moved = {k: n for k, n in run.domain_reason.items()
             if k[1] in ("high_stakes", "audit_sample")}
    experts = {k: n for k, n in run.domain_reason.items() if k[1].startswith("expert_")}
    rules = policy.get("rules") if isinstance(policy.get("rules"), list) else []
    parts = []
    if rules:
        parts.append("<table><tr><th>applies to</th><th>send every verified record to experts"
                     "</th><th class='num'>audit sample of verified records</th></tr>")
        for r in rules:
            if isinstance(r, Mapping):
                review = "always (high_stakes)" if r.get("review") == "always" else "—"
                audit = r.get("audit")
                shown = (f"{100 * audit:g}% (audit_sample)"
                         if isinstance(audit, (int, float)) and audit > 0 else "—")
                parts.append(f"<tr><td>{_e(r.get('scope'))}</td><td>{_e(review)}</td>"
                             f"<td class='num'>{_e(shown)}</td></tr>")
        parts.append("</table>")
        if policy.get("seed") is not None:
            parts.append(f"<p class='muted'>audit seed: <code>{_e(policy['seed'])}</code></p>")
    else:
        parts.append("<p class='muted'>No policy rules configured: the machine's verified "
                     "verdicts were trusted as they are.</p>")
    if moved:
        parts.append(_reason_table("Verified by the machine but sent to experts by policy:",
                                   moved))
    elif rules:
        parts.append("<p class='muted'>Policy moved no record in this run.</p>")
    if experts:
        parts.append(_reason_table("Settled by expert decisions from the ledger:", experts))
    if run.overturned:
        verified = {r: n for (m, r), n in run.overturned.items() if m == "verified"}
        judged = sum(verified.values())
        wrong = verified.get("expert_rejected", 0)
        if judged:
            parts.append(f"<p>Of {judged} machine-verified record(s) an expert judged, "
                         f"<b>{wrong}</b> ({_pct(wrong, judged)}) were rejected: the measured "
                         f"false-accept rate of the verifiers on what experts saw.</p>")
    return "".join(parts)


def _reason_table(title: str, counts: Mapping[tuple[str, str], int]) -> str:
    rows = "".join(f"<tr><td>{_e(d)}</td><td><code>{_e(r)}</code></td>"
                   f"<td class='num'>{n}</td></tr>" for (d, r), n in sorted(counts.items()))
    return (f"<p>{_e(title)}</p><table><tr><th>domain</th><th>reason</th>"
            f"<th class='num'>records</th></tr>{rows}</table>")


def _section_samples(run: RunSummary, status: str) -> str:
    every = run.status.get(status, 0)
    if not every:
        return f'<p class="muted">No {LABELS[status]} records.</p>'
    chosen = run.sample(status)
    reasons = len(run.samples.get(status, {}))
    out = [f'<p class="muted">{every} record(s); {len(chosen)} shown, spread over their '
           f"{reasons} reason(s), in input order.</p>" if every > len(chosen) else "",
           ('<table><tr><th>id</th><th>domain</th><th>where</th><th>reason</th><th>detail and '
           "evidence</th></tr>")]
    for v in chosen:
        where = f"{v.get('source', '')}:{v.get('line', '')}"
        record = run.original(v)
        body = [f"{_e(v.get('detail', ''))}",
                (f"<details><summary>evidence</summary><pre>"
                f"{_e(short_json(v.get('evidence') or {}, 3000))}</pre></details>")]
        if record is not None:
            body.append(f"<details><summary>record</summary><pre>"
                        f"{_e(short_json(record, 3000))}</pre></details>")
        out.append(f"<tr><td><code>{_e(v.get('id'))}</code></td><td>{_e(v.get('domain'))}</td>"
                   f"<td><code>{_e(where)}</code></td><td><code>{_e(v.get('reason'))}</code></td>"
                   f"<td>{''.join(body)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def render_html(run: RunSummary) -> str:
    """The whole page as a string."""
    title = f"synthvet report — {run.path.name}"
    sections = [
        ("outcome", "Outcome by domain", _section_domains(run)),
        ("wall", "Where the wall is: outcome by domain × tag", _section_wall(run)),
        ("reasons", "Reasons", _section_reasons(run)),
        ("time", "Time spent", _section_time(run)),
        ("gate", "Gate", _section_gate(run)),
        ("policy", "What the policy did", _section_policy(run)),
        ("refuted", "Refuted records (sample)", _section_samples(run, "refuted")),
        ("review", "Records for expert review (sample)", _section_samples(run, "needs_review")),
    ]
    body = "\n".join(f'<section id="{sid}"><h2>{_e(h)}</h2>\n{content}</section>'
                     for sid, h, content in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{CSS}</style></head>
<body><main>
<h1>synthvet report</h1>
<p class="lead">Run folder <code>{_e(run.path.name)}</code>. Only <b>verified</b> records are
training-ready; <b>refuted</b> were shown wrong; <b>needs review</b> wait for an expert.</p>
<section id="summary">{_section_summary(run)}</section>
{body}
<footer>Written by synthvet from verdicts.jsonl and report.json; self-contained, no network.
</footer>
</main></body></html>
"""


def write_html_report(run_dir: Path | str, gathered: RunSummary | None = None) -> Path:
    """(Re)build ``report.html`` in ``run_dir`` from the folder's files; returns its path.

    Raises:
        InputError: the folder is not a readable run folder.
        HarnessError: the page cannot be written.
    """
    run = gathered or summarize_run(run_dir, sample_cap=SAMPLE_CAP, originals=True)
    path = run.path / "report.html"
    try:
        tmp = path.with_name(path.name + ".partial")  # never a half-written page
        tmp.write_text(render_html(run), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise HarnessError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return path
