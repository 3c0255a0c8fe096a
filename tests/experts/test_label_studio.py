"""Integration with a real Label Studio (its own venv, SQLite, on 127.0.0.1).

The exported labeling config creates a project, the exported tasks (with the machine's
pre-annotations) import into it, a task renders in Label Studio's own labeling UI in a real
Chromium (record, evidence, accept/reject, the machine's pre-annotation), annotations made
through its REST API export back as Label Studio JSON and JSON_MIN, and
`synthvet review import` reads those exports into the ledger so that the next run settles
the records.

Server: ``SYNTHVET_LS_URL`` and ``SYNTHVET_LS_TOKEN`` name a running one (CI starts it
with ``tests/experts/label_studio.sh start``); otherwise this module starts one with that
script (and stops it after) when Label Studio is installed in ``LS_VENV``
(default /opt/ls-venv). Without Label Studio the test is skipped with the reason — unless
``SYNTHVET_REQUIRE_LABEL_STUDIO=1`` (CI sets it), which makes a missing server a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _chromium import load_page
from expert_helpers import Workspace, exact_rows, read_jsonl

HERE = Path(__file__).parent
SCRIPT = HERE / "label_studio.sh"
DEFAULT_TOKEN = "synthvet0test0token0000000000000000000000"
# the account tests/experts/label_studio.sh creates (override with LS_USER / LS_PASSWORD)
LS_USER = os.environ.get("LS_USER", "expert@example.com")
LS_PASSWORD = os.environ.get("LS_PASSWORD", "synthvet-test-password")

pytestmark = pytest.mark.slow


class LabelStudio:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url.rstrip("/"), token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Token {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: HTTP {exc.code}: "
                                 f"{exc.read().decode()[:2000]}") from exc
        return json.loads(text) if text else None


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=3) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError):
        return False


@pytest.fixture(scope="module")
def label_studio() -> Iterator[LabelStudio]:
    required = os.environ.get("SYNTHVET_REQUIRE_LABEL_STUDIO") == "1"
    url = os.environ.get("SYNTHVET_LS_URL")
    token = os.environ.get("SYNTHVET_LS_TOKEN", DEFAULT_TOKEN)
    started = False
    if not url:
        env = dict(os.environ)
        url = "http://127.0.0.1:" + env.get("LS_PORT", "8089")
        if not _up(url):
            venv = Path(env.get("LS_VENV", "/opt/ls-venv"))
            if not (venv / "bin" / "label-studio").exists():
                msg = (f"Label Studio is not installed in {venv}; run "
                       f"`{SCRIPT} install` (or set SYNTHVET_LS_URL to a running server)")
                if required:
                    pytest.fail(msg)
                pytest.skip(msg)
            proc = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, check=False,
                                  timeout=400)
            assert proc.returncode == 0, f"could not start Label Studio:\n{proc.stderr}"
            started = True
    if not _up(url):
        pytest.fail(f"Label Studio at {url} does not answer /health")
    try:
        yield LabelStudio(url, token)
    finally:
        if started:
            subprocess.run([str(SCRIPT), "stop"], capture_output=True, timeout=60, check=False)


def test_tasks_import_and_annotations_come_back(ws: Workspace, label_studio: LabelStudio
                                               ) -> None:
    ls = label_studio
    ws.config('[policy.tags.difficulty.hard]\nreview = "always"\n')
    rows: list[Any] = exact_rows(8)
    rows.append({"id": "nofield", "domain": "exact", "answer": "x"})
    ws.data(rows)
    run1 = ws.run("data.jsonl", out="run1")
    tasks_path = ws.root / "tasks.json"
    ws.sv("review", "export", str(run1), "--format", "label-studio", "--out", str(tasks_path),
          check=0)
    tasks = json.loads(tasks_path.read_text())
    config = (ws.root / "tasks.label_config.xml").read_text()
    assert len(tasks) == 4  # r1, r5, r7 (high_stakes), nofield

    project = ls.call("POST", "/api/projects", {"title": f"synthvet test {os.getpid()}",
                                                "label_config": config})
    pid = project["id"]
    try:
        imported = ls.call("POST", f"/api/projects/{pid}/import", tasks)
        assert imported["task_count"] == 4, imported
        assert imported.get("prediction_count", 4) == 4, imported
        listed = ls.call("GET", f"/api/tasks?project={pid}&page_size=100")
        ls_tasks = listed["tasks"] if isinstance(listed, dict) else listed
        by_record = {t["data"]["record_id"]: t for t in ls_tasks}
        assert set(by_record) == {"r1", "r5", "r7", "nofield"}
        # the pre-annotations arrived with the tasks
        full = ls.call("GET", f"/api/tasks/{by_record['r1']['id']}")
        preds = full.get("predictions") or []
        assert preds and preds[0]["result"][0]["value"] == {"choices": ["accept"]}

        # an expert opening the task in Label Studio's own UI (real Chromium) sees the
        # record, the evidence, the decision controls and the machine's pre-annotation
        login = ("(() => { const f = document.querySelector('form');"
                 f" f.querySelector('[name=email]').value = {json.dumps(LS_USER)};"
                 f" f.querySelector('[name=password]').value = {json.dumps(LS_PASSWORD)};"
                 " f.submit(); })()")
        task_url = f"{ls.url}/projects/{pid}/data?task={by_record['r1']['id']}"
        page = load_page(f"{ls.url}/user/login/", probe="document.body.innerText",
                         steps=(("js", login), ("goto", task_url)), settle=10, timeout=180)
        text = page.probe or ""
        for needle in ("exact · high_stakes · r1", "Your decision", "accept", "reject",
                       '"answer": "1"', '"status": "verified"', "synthvet@0.1.0"):
            assert needle in text, f"{needle!r} not on the labeling page:\n{text[:3000]}"
        (ws.root / "label-studio-task.png").write_bytes(page.screenshot)

        def annotate(record_id: str, choice: str, note: str) -> None:
            ls.call("POST", f"/api/tasks/{by_record[record_id]['id']}/annotations", {
                "result": [
                    {"from_name": "decision", "to_name": "record", "type": "choices",
                     "value": {"choices": [choice]}},
                    {"from_name": "note", "to_name": "record", "type": "textarea",
                     "value": {"text": [note]}}],
                "was_cancelled": False, "ground_truth": False})

        annotate("r1", "accept", "fine by me")
        annotate("r5", "reject", "the reference is wrong")

        export = ls.call("GET", f"/api/projects/{pid}/export?exportType=JSON"
                         "&download_all_tasks=true")
        export_path = ws.root / "ls-export.json"
        export_path.write_text(json.dumps(export))
        users_path = ws.root / "users.json"
        users_path.write_text(json.dumps(ls.call("GET", "/api/users")))
        proc = ws.sv("review", "import", str(export_path), "--json", "--users", str(users_path),
                     check=0)
        report = json.loads(proc.stdout)
        assert report["written"] == 2 and report["unknown"] == [] and report["conflicts"] == []
        assert len(report["skipped"]) == 2  # r7 and nofield: no annotation yet

        # JSON_MIN of the same annotations: nothing new
        export_min = ls.call("GET", f"/api/projects/{pid}/export?exportType=JSON_MIN")
        min_path = ws.root / "ls-export-min.json"
        min_path.write_text(json.dumps(export_min))
        proc = ws.sv("review", "import", str(min_path), "--json", "--users", str(users_path),
                     check=0)
        report_min = json.loads(proc.stdout)
        assert report_min["unknown"] == [] and report_min["conflicts"] == []
        assert (report_min["written"], report_min["already_recorded"]) == (0, 2)

        run2 = {v["id"]: v for v in read_jsonl(ws.run("data.jsonl", out="run2")
                                               / "verdicts.jsonl")}
        assert run2["r1"]["reason"] == "expert_accepted"
        assert run2["r1"]["evidence"]["note"] == "fine by me"
        # the annotator's e-mail (the server was started with --username expert@example.com)
        assert "@" in run2["r1"]["evidence"]["reviewer"], run2["r1"]["evidence"]
        assert run2["r5"]["reason"] == "expert_rejected"
        assert run2["r7"]["reason"] == "high_stakes"
    finally:
        ls.call("DELETE", f"/api/projects/{pid}/")
