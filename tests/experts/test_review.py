"""Review queue out and decisions back, end to end through the command line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from expert_helpers import Workspace, exact_rows, read_jsonl, write_jsonl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthvet.errors import UsageError
from synthvet.harness.ledger import Ledger
from synthvet.harness.review import ImportReport, import_decisions, parse_decisions

POLICY = '[policy.tags.difficulty.hard]\nreview = "always"\n'


def setup_run(ws: Workspace, out: str = "run1") -> Path:
    ws.config(POLICY)
    rows: list[Any] = exact_rows(8)
    rows.append({"id": "nofield", "domain": "exact", "answer": "x",
                 "tags": {"difficulty": "easy"}})
    rows.append("{not json")
    ws.data(rows)
    return ws.run("data.jsonl", out=out)


def by_id(run: Path) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in read_jsonl(run / "verdicts.jsonl")}


def test_jsonl_round_trip_settles_records_on_the_next_run(ws: Workspace) -> None:
    run1 = setup_run(ws)
    before = by_id(run1)
    queue = ws.root / "queue.jsonl"
    proc = ws.sv("review", "export", str(run1), "--format", "jsonl", "--out", str(queue),
                 check=0)
    assert "review item(s)" in proc.stdout
    items = read_jsonl(queue)
    expected = [v["id"] for v in read_jsonl(run1 / "verdicts.jsonl")
                if v["status"] == "needs_review"]
    assert [i["id"] for i in items] == expected
    hs = {i["id"]: i for i in items if i["reason"] == "high_stakes"}
    assert set(hs) == {"r1", "r5", "r7"}  # hard and right (r3 is hard but wrong: refuted)
    item = hs["r1"]
    assert item["record"] == {"id": "r1", "domain": "exact", "answer": "1", "reference": "1",
                              "tags": {"difficulty": "hard", "source": "gen-a"}}
    assert item["machine"]["status"] == "verified"
    assert item["machine"]["evidence"] == {"answer": "1", "reference": "1"}
    assert item["content_key"] == before["r1"]["content_key"]
    assert item["source"].endswith("data.jsonl") and item["line"] == 2
    assert item["decision"] is None and item["reviewer"] is None
    missing = next(i for i in items if i["id"] == "nofield")
    assert missing["reason"] == "missing_field" and missing["evidence"]["field"] == "reference"
    raw = next(i for i in items if i["reason"] == "parse_error")
    assert raw["record"].get("_raw") == "{not json"

    # an expert decides two, leaves the rest
    decided = []
    for i in items:
        if i["id"] == "r1":
            i.update(decision="accept", reviewer="ann@lab", note="checked by hand")
        elif i["id"] == "r5":
            i.update(decision="reject", reviewer="bob@lab", note="reference is wrong")
        decided.append(i)
    write_jsonl(queue, decided)
    proc = ws.sv("review", "import", str(queue), check=0)
    assert proc.stdout.startswith("2 decision(s) written, 0 already in the ledger, 0 not placed, "
                                  "0 conflict(s)")

    run2 = ws.run("data.jsonl", out="run2")
    after = by_id(run2)
    assert after["r1"]["status"] == "verified" and after["r1"]["reason"] == "expert_accepted"
    assert after["r1"]["evidence"]["reviewer"] == "ann@lab"
    assert after["r1"]["evidence"]["note"] == "checked by hand"
    assert after["r1"]["evidence"]["decided_at"].endswith("Z")
    assert after["r5"]["status"] == "refuted" and after["r5"]["reason"] == "expert_rejected"
    assert after["r7"]["reason"] == "high_stakes"  # undecided: still asks
    assert after["nofield"]["reason"] == "missing_field"
    # the expert-accepted record is training-ready now
    accepted = read_jsonl(run2 / "accepted.jsonl")
    assert any(r.get("id") == "r1" for r in accepted)

    # importing the same file again adds nothing
    proc = ws.sv("review", "import", str(queue), "--json", check=0)
    report = json.loads(proc.stdout)
    assert report["written"] == 0 and report["already_recorded"] == 2

    # the diff between the runs shows what the experts changed
    proc = ws.sv("diff", str(run1), str(run2), "--format", "json", check=0)
    diff = json.loads(proc.stdout)
    assert [c["id"] for c in diff["newly_verified"]] == ["r1"]
    assert [c["id"] for c in diff["newly_refuted"]] == ["r5"]
    assert diff["newly_review"] == [] and diff["removed"] == []


def test_conflicting_decisions_are_reported_and_not_resolved(ws: Workspace) -> None:
    setup_run(ws)
    first = write_jsonl(ws.root / "a.jsonl", [
        {"id": "r1", "decision": "accept", "reviewer": "ann", "note": "fine"}])
    ws.sv("review", "import", str(first), check=0)
    second = write_jsonl(ws.root / "b.jsonl", [
        {"id": "r1", "decision": "reject", "reviewer": "bob", "note": "not fine"},
        {"id": "r7", "decision": "accept", "reviewer": "ann", "note": ""},
        {"id": "r7", "decision": "reject", "reviewer": "cy", "note": ""}])
    proc = ws.sv("review", "import", str(second), "--strict")
    assert proc.returncode == 1
    assert "2 conflict(s)" in proc.stdout
    assert "conflict: id 'r1'" in proc.stderr and "ann: accept" in proc.stderr
    assert "bob: reject" in proc.stderr and "conflict: id 'r7'" in proc.stderr
    # all decisions are kept; the next run sends both records back to review
    with Ledger(ws.ledger) as ledger:
        key = ledger.keys_for_id("r1")[0][0]
        assert {d.decision for d in ledger.decisions_for(key)} == {"accept", "reject"}
    run2 = by_id(ws.run("data.jsonl", out="run2"))
    for rid in ("r1", "r7"):
        assert run2[rid]["status"] == "needs_review"
        assert run2[rid]["reason"] == "expert_conflict"


def test_unknown_and_ambiguous_ids_are_reported_and_not_written(ws: Workspace) -> None:
    setup_run(ws)
    # r2 changes content under the same id: the ledger has seen two contents for "r2"
    rows = exact_rows(8)
    rows[2]["answer"] = "2 "
    rows[2]["reference"] = "2  "
    write_jsonl(ws.root / "changed.jsonl", rows)
    ws.run("changed.jsonl", out="run2")
    decisions = write_jsonl(ws.root / "d.jsonl", [
        {"id": "ghost", "decision": "accept", "reviewer": "ann", "note": ""},
        {"id": "r2", "decision": "accept", "reviewer": "ann", "note": ""},
        {"id": "r4", "decision": "reject", "reviewer": "ann", "note": "", "decided_at":
         "2026-01-02T03:04:05Z"}])
    proc = ws.sv("review", "import", str(decisions), "--json", check=0)
    report = json.loads(proc.stdout)
    assert report["written"] == 1
    unknown = {u["id"]: u["why"] for u in report["unknown"]}
    assert "no run recorded in this ledger has seen" in unknown["ghost"]
    assert "2 different record contents" in unknown["r2"]
    with Ledger(ws.ledger) as ledger:
        assert all(not ledger.decisions_for(k) for k, _ in ledger.keys_for_id("r2"))
        (key, domain), = ledger.keys_for_id("r4")
        (d,) = ledger.decisions_for(key)
        assert (d.decision, d.reviewer, d.decided_at, domain) == (
            "reject", "ann", "2026-01-02T03:04:05Z", "exact")
        assert d.origin.startswith("jsonl:d.jsonl:3")
    proc = ws.sv("review", "import", str(decisions), "--strict")
    assert proc.returncode == 1


@pytest.mark.parametrize(("line", "needle"), [
    ({"id": "r1", "decision": "maybe", "reviewer": "ann"}, ('decision must be "accept" or '
     '"reject"')),
    ({"id": "r1", "decision": "accept"}, '"reviewer" must name who decided'),
    ({"decision": "accept", "reviewer": "ann"}, 'a decision needs the record\'s "id"'),
    ({"id": "r1", "decision": "accept", "reviewer": "ann", "decided_at": 5}, "decided_at"),
    ("[1, 2", "not valid JSON"),
    ("not json at all", "not valid JSON"),
], ids=["bad-decision", "no-reviewer", "no-id", "bad-time", "broken-list", "broken-line"])
def test_a_malformed_decisions_file_writes_nothing_and_exits_2(
        ws: Workspace, line: Any, needle: str) -> None:
    setup_run(ws)
    path = ws.root / "bad.jsonl"
    good = {"id": "r7", "decision": "accept", "reviewer": "ann", "note": ""}
    if isinstance(line, str) and line.startswith("["):
        path.write_text(line)
    else:
        write_jsonl(path, [good, line])
    proc = ws.sv("review", "import", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    with Ledger(ws.ledger) as ledger:
        (key, _), = ledger.keys_for_id("r7")
        assert ledger.decisions_for(key) == []


def test_cli_usage_errors_are_one_sentence(ws: Workspace) -> None:
    proc = ws.sv("review", "export", "nowhere", "--out", "q.jsonl")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    (ws.root / "empty").mkdir()
    proc = ws.sv("review", "export", "empty", "--out", "q.jsonl")
    assert proc.returncode == 2 and "no verdicts.jsonl" in proc.stderr
    proc = ws.sv("review", "import", "missing.jsonl")
    assert proc.returncode == 2 and "cannot read decisions file" in proc.stderr
    proc = ws.sv("review", "export", "empty", "--format", "csv", "--out", "q")
    assert proc.returncode == 2 and "csv" in proc.stderr
    proc = ws.sv("report", "nowhere")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = ws.sv("diff", "nowhere", "empty")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_label_studio_export_shape(ws: Workspace) -> None:
    run1 = setup_run(ws)
    out = ws.root / "ls" / "tasks.json"
    proc = ws.sv("review", "export", str(run1), "--format", "label-studio", "--out", str(out),
                 check=0)
    assert "labeling config" in proc.stdout
    tasks = json.loads(out.read_text())
    config = ET.fromstring((ws.root / "ls" / "tasks.label_config.xml").read_text())
    variables = {el.get("value", "")[1:] for el in config.iter() if
                 el.get("value", "").startswith("$")}
    controls = {el.get("name"): el for el in config.iter() if el.tag in ("Choices", "TextArea")}
    assert set(controls) == {"decision", "note"}
    assert [c.get("value") for c in controls["decision"]] == ["accept", "reject"]
    by = {t["data"]["id"]: t for t in tasks}
    assert set(by) >= {"r1", "r5", "r7", "nofield"}
    for task in tasks:
        assert variables <= set(task["data"]), "every $variable of the config is in data"
        for pred in task["predictions"]:
            for r in pred["result"]:
                assert r["from_name"] in controls and r["to_name"] == "record"
    r1 = by["r1"]
    assert r1["data"]["reason"] == "high_stakes"
    assert json.loads(r1["data"]["record_text"])["answer"] == "1"
    assert json.loads(r1["data"]["evidence_text"])["machine"]["status"] == "verified"
    # the machine verified it: the pre-annotation suggests accept
    choices = [r for r in r1["predictions"][0]["result"] if r["type"] == "choices"]
    assert choices[0]["value"] == {"choices": ["accept"]}
    # no machine leaning for a missing field: only a note, no suggested choice
    nf = by["nofield"]["predictions"][0]["result"]
    assert [r["type"] for r in nf] == ["textarea"]
    assert "missing_field" in nf[0]["value"]["text"][0]


def _ls_export(tasks: list[dict[str, Any]], decisions: dict[str, list[tuple[str, str]]]
               ) -> list[dict[str, Any]]:
    """What Label Studio's JSON export looks like (shape taken from a real 1.23 export)."""
    out = []
    for n, t in enumerate(tasks, 1):
        anns = []
        for k, (choice, who) in enumerate(decisions.get(t["data"]["id"], []), 1):
            anns.append({"id": n * 10 + k, "completed_by": {"id": k, "email": who},
                         "result": [
                             {"id": "a", "from_name": "decision", "to_name": "record",
                              "type": "choices", "value": {"choices": [choice]}},
                             {"id": "b", "from_name": "note", "to_name": "record",
                              "type": "textarea", "value": {"text": [f"{who} says {choice}"]}}],
                         "was_cancelled": False, "created_at": "2026-11-24T20:00:00.000000Z",
                         "updated_at": f"2026-11-24T20:0{k}:00.000000Z"})
        out.append({"id": n, "data": t["data"], "annotations": anns,
                    "predictions": [], "meta": {}})
    return out


def test_label_studio_shaped_import_with_two_annotators(ws: Workspace) -> None:
    run1 = setup_run(ws)
    out = ws.root / "tasks.json"
    ws.sv("review", "export", str(run1), "--format", "label-studio", "--out", str(out), check=0)
    tasks = json.loads(out.read_text())
    export = _ls_export(tasks, {"r1": [("accept", "ann@lab")],
                                "r7": [("accept", "ann@lab"), ("reject", "bob@lab")]})
    export.append({"id": 99, "data": tasks[0]["data"], "annotations": [
        {"id": 5, "was_cancelled": True, "result": [], "completed_by": 1}]})
    path = ws.root / "export.json"
    path.write_text(json.dumps(export))
    report = ImportReport()
    parsed = parse_decisions(path, report)
    assert [(d.record_id, d.decision, d.reviewer) for d in parsed] == [
        ("r1", "accept", "ann@lab"), ("r7", "accept", "ann@lab"), ("r7", "reject", "bob@lab")]
    assert any("cancelled" in s for s in report.skipped)
    assert parsed[0].note == "ann@lab says accept"
    assert parsed[0].decided_at == "2026-11-24T20:01:00.000000Z"
    assert parsed[0].content_key == by_id(run1)["r1"]["content_key"]
    with Ledger(ws.ledger) as ledger:
        report = import_decisions(path, ledger)
    assert len(report.written) == 3 and [c["id"] for c in report.conflicts] == ["r7"]
    run2 = by_id(ws.run("data.jsonl", out="run2"))
    assert run2["r1"]["reason"] == "expert_accepted"
    assert run2["r1"]["evidence"]["reviewer"] == "ann@lab"
    assert run2["r7"]["reason"] == "expert_conflict"


def test_label_studio_json_min_export(ws: Workspace) -> None:
    run1 = setup_run(ws)
    key = by_id(run1)["r5"]["content_key"]
    path = ws.root / "min.json"
    key7 = by_id(run1)["r7"]["content_key"]
    # JSON_MIN puts Label Studio's task id in "id"; the record's id travels as "record_id"
    path.write_text(json.dumps([{"id": 3, "record_id": "r5", "content_key": key,
                                 "domain": "exact", "decision": "reject", "note": "nope",
                                 "annotator": "ann@lab", "updated_at": "2026-11-24T20:00:00Z"},
                                {"id": 4, "record_id": "r5", "content_key": key},
                                {"id": 5, "content_key": key7, "domain": "exact",
                                 "decision": "accept", "annotator": "bob@lab"}]))
    with Ledger(ws.ledger) as ledger:
        report = import_decisions(path, ledger)
        (d,) = ledger.decisions_for(key)
        (d7,) = ledger.decisions_for(key7)
    assert len(report.written) == 2 and len(report.skipped) == 1, report.to_dict()
    assert (d.record_id, d.decision, d.reviewer, d.note) == ("r5", "reject", "ann@lab", "nope")
    assert (d7.decision, d7.reviewer) == ("accept", "bob@lab")


def test_parse_errors_name_the_item(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps([{"id": 1, "data": {"title": "?"}, "annotations": [
        {"id": 2, "result": [{"from_name": "decision", "type": "choices",
                              "value": {"choices": ["accept"]}}]}]}]))
    with pytest.raises(UsageError, match="neither \"id\" nor \"content_key\""):
        parse_decisions(path)


def test_label_studio_user_numbers_map_to_emails(tmp_path: Path) -> None:
    from synthvet.harness.review import load_users

    ann = {"id": 1, "completed_by": 2, "was_cancelled": False, "updated_at": "t",
           "result": [{"from_name": "decision", "type": "choices",
                       "value": {"choices": ["reject"]}}]}
    path = tmp_path / "e.json"
    path.write_text(json.dumps([{"id": 1, "data": {"record_id": "r1", "content_key": "k",
                                                   "domain": "exact"}, "annotations": [ann]}]))
    (d,) = parse_decisions(path)
    assert d.reviewer == "label-studio user 2" and d.decision == "reject"
    users = tmp_path / "users.json"
    users.write_text(json.dumps([{"id": 2, "email": "bob@lab", "username": "bob"}]))
    (d,) = parse_decisions(path, users=load_users(users))
    assert d.reviewer == "bob@lab"
    users.write_text("[]")
    with pytest.raises(UsageError, match="holds no users"):
        load_users(users)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "decision", "reviewer", "note", "data", "annotations", "result",
                         "from_name", "value", "choices", "text", "content_key", "domain",
                         "record_id", "completed_by", "was_cancelled", "decided_at", "x"]),
        inner, max_size=6),
    max_leaves=20)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(JSON, max_size=5), as_list=st.booleans())
def test_any_decisions_file_parses_or_fails_with_a_usage_error(
        tmp_path: Path, items: list[Any], as_list: bool) -> None:
    path = tmp_path / "any.json"
    if as_list:
        path.write_text(json.dumps(items))
    else:
        path.write_text("".join(json.dumps(i) + "\n" for i in items))
    try:
        parsed = parse_decisions(path)
    except UsageError:  # InputError is a UsageError too
        return
    for d in parsed:
        assert d.decision in ("accept", "reject") and d.reviewer
        assert d.record_id or d.content_key
