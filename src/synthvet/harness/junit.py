"""``junit.xml`` for CI systems, from a finished run folder.

Two test suites:

* ``synthvet.domains``: one test case per domain. It fails when the domain has refuted
  records; the failure message names them (id and ``file:line``, capped). Records waiting
  for review are listed in the case's ``system-out`` (a review is not a failure of the
  data, but it is not a pass either, so CI readers see them next to the case).
* ``synthvet.gate``: one test case per gate rule from ``report.json``; it fails exactly when
  the rule failed, naming the records that break it. This suite decides like the exit
  code does.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from synthvet.errors import HarnessError
from synthvet.harness._expert_io import RunSummary, sub, summarize_run

__all__ = ["NAME_CAP", "write_junit"]

#: records named in one failure message
NAME_CAP = 50


def _where(v: dict[str, Any]) -> str:
    return f"{v.get('id')} ({v.get('source')}:{v.get('line')}) {v.get('reason')}: {v.get('detail', '')}"


def _suite(root: ET.Element, name: str, cases: list[ET.Element], seconds: float) -> None:
    failures = sum(1 for c in cases if c.find("failure") is not None)
    suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(cases)),
                          failures=str(failures), errors="0", skipped="0",
                          time=f"{seconds:.3f}")
    suite.extend(cases)


def write_junit(run_dir: Path | str, gathered: RunSummary | None = None) -> Path:
    """Write ``junit.xml`` into ``run_dir`` and return its path.

    Raises:
        InputError: the run folder cannot be read.
        HarnessError: junit.xml cannot be written.
    """
    run = gathered or summarize_run(run_dir, first_cap=NAME_CAP)

    domain_cases = []
    domain_seconds = 0.0
    for domain in run.domains():
        counts = run.domain_status[domain]
        seconds = run.seconds_total.get(domain, 0.0)
        domain_seconds += seconds
        case = ET.Element("testcase", classname="synthvet.domains", name=domain,
                          time=f"{seconds:.3f}")
        n_refuted, n_review = counts.get("refuted", 0), counts.get("needs_review", 0)
        refuted = run.domain_firsts.get((domain, "refuted"), [])
        review = run.domain_firsts.get((domain, "needs_review"), [])
        summary = (f"{sum(counts.values())} records: {counts.get('verified', 0)} verified, "
                   f"{n_refuted} refuted, {n_review} need review")
        if n_refuted:
            failure = ET.SubElement(case, "failure", type="refuted",
                                    message=f"{domain}: {n_refuted} refuted record(s): "
                                    + ", ".join(str(v.get("id")) for v in refuted)
                                    + (" …" if n_refuted > len(refuted) else ""))
            failure.text = "\n".join(_where(v) for v in refuted)
        out = [summary]
        if n_review:
            out.append("needs review:")
            out += [_where(v) for v in review]
            if n_review > len(review):
                out.append(f"… and {n_review - len(review)} more")
        ET.SubElement(case, "system-out").text = "\n".join(out)
        domain_cases.append(case)

    gate_cases = []
    gate = sub(run.report, "gate")
    for rule in gate.get("rules") or []:
        if not isinstance(rule, dict):
            continue
        name = f"{rule.get('scope')}: {rule.get('rule')} {rule.get('limit')}"
        case = ET.Element("testcase", classname="synthvet.gate", name=name, time="0")
        actual = rule.get("actual")
        if not rule.get("passed"):
            ids = [str(i) for i in rule.get("records") or []]
            failure = ET.SubElement(
                case, "failure", type=str(rule.get("rule")),
                message=f"gate {rule.get('scope')} {rule.get('rule')}: actual {actual} "
                        f"breaks the limit {rule.get('limit')} ({rule.get('kind')})"
                        + (f"; records: {', '.join(ids[:NAME_CAP])}" if ids else ""))
            failure.text = "\n".join(ids)
        else:
            ET.SubElement(case, "system-out").text = (
                f"actual {actual} within the limit {rule.get('limit')} ({rule.get('kind')})")
        gate_cases.append(case)

    root = ET.Element("testsuites", name="synthvet")
    _suite(root, "synthvet.domains", domain_cases, domain_seconds)
    _suite(root, "synthvet.gate", gate_cases, 0.0)
    root.set("tests", str(len(domain_cases) + len(gate_cases)))
    root.set("failures", str(sum(1 for c in domain_cases + gate_cases
                                 if c.find("failure") is not None)))
    ET.indent(root)
    path = run.path / "junit.xml"
    try:
        tmp = path.with_name(path.name + ".partial")
        ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
        os.replace(tmp, path)
    except OSError as exc:
        raise HarnessError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return path
