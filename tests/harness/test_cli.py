"""The command line as a user meets it: real subprocesses, real exit codes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness_helpers import exact_rows, read_jsonl

HERE = Path(__file__).parent


def synthvet(*args: str, cwd: Path, input: str | None = None, env: dict | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "synthvet", *args], cwd=cwd, input=input,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_run_writes_the_run_folder_and_summary(tmp_path, write_jsonl):
    src = write_jsonl(exact_rows(30))
    p = synthvet("run", str(src), "--out", "out", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    for name in ("verdicts.jsonl", "accepted.jsonl", "rejected.jsonl", "review.jsonl",
                 "report.json"):
        assert (tmp_path / "out" / name).is_file(), name
    assert "verified" in p.stdout and "exact" in p.stdout
    assert (tmp_path / ".synthvet" / "ledger.sqlite").is_file()


def test_gate_failure_exits_1(tmp_path, write_jsonl):
    src = write_jsonl(exact_rows(30))
    (tmp_path / "synthvet.toml").write_text("[gate]\nmax_refuted = 0\n")
    p = synthvet("run", str(src), "--out", "out", cwd=tmp_path)
    assert p.returncode == 1
    assert "FAIL" in p.stdout


def test_pyproject_tool_table_is_read(tmp_path, write_jsonl):
    src = write_jsonl(exact_rows(30))
    (tmp_path / "pyproject.toml").write_text("[tool.synthvet.gate]\nmax_refuted = 0\n")
    assert synthvet("run", str(src), "--out", "out", "-q", cwd=tmp_path).returncode == 1


@pytest.mark.parametrize("args,message", [
    (["run", "missing.jsonl", "--out", "o"], "cannot read input 'missing.jsonl'"),
    (["run", "in.jsonl"], "Missing option '--out'"),
    (["run", "in.jsonl", "--out", "o", "--workers", "0"], "--workers"),
    (["run", "in.jsonl", "--out", "o", "--field", "nonsense"], "--field expects"),
    (["run", "in.jsonl", "--out", "o", "--config", "nope.toml"], "cannot read config"),
    (["run", "in.jsonl", "--out", "o", "--executor", "ray"], "ray executor"),
    (["run", "data.csv", "--out", "o"], "unknown input format"),
    (["verify", "{broken"], "not a JSON object"),
    (["frobnicate"], "No such command"),
], ids=["missing-input", "no-out", "bad-workers", "bad-field", "bad-config", "ray",
        "csv", "bad-record", "bad-command"])
def test_bad_usage_exits_2_without_traceback(tmp_path, write_jsonl, args, message):
    write_jsonl(exact_rows(2))
    (tmp_path / "data.csv").write_text("a,b\n")
    p = synthvet(*args, cwd=tmp_path)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert message in p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("toml,message", [
    ("[gaet]\n", "did you mean [gate]"),
    ("[gate]\nmax_refused = 0\n", "did you mean 'max_refuted'"),
    ("[gate]\nmin_verified = 1.5\n", "between 0.0 and 1.0"),
    ("[limits]\nseconds = -1\n", "positive number"),
    ("[domains.exact]\nfoo = 1\n", "takes no options"),
    ("[domains.nosuch]\n", "not installed"),
    ("not toml = = 1\n", "not valid TOML"),
], ids=["table", "rule", "fraction", "limits", "domain-option", "domain-name", "toml"])
def test_bad_config_exits_2(tmp_path, write_jsonl, toml, message):
    src = write_jsonl(exact_rows(2))
    (tmp_path / "synthvet.toml").write_text(toml)
    p = synthvet("run", str(src), "--out", "o", cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and "Traceback" not in p.stderr


def test_unwritable_ledger_exits_3(tmp_path, write_jsonl):
    src = write_jsonl(exact_rows(2))
    (tmp_path / "blocker").write_text("a file, not a folder")
    p = synthvet("run", str(src), "--out", "o", "--ledger", "blocker/ledger.sqlite",
                 cwd=tmp_path)
    assert p.returncode == 3, p.stderr
    assert "ledger" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("how", ["argument", "stdin", "file"])
def test_verify_one_record(tmp_path, how):
    rec = json.dumps({"domain": "exact", "answer": " 7", "reference": "7 "})
    if how == "argument":
        p = synthvet("verify", rec, cwd=tmp_path)
    elif how == "stdin":
        p = synthvet("verify", cwd=tmp_path, input=rec)
    else:
        (tmp_path / "r.json").write_text(rec)
        p = synthvet("verify", "r.json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    verdict = json.loads(p.stdout)
    assert verdict["status"] == "verified" and verdict["verifier"] == "exact@1"


def test_verify_wrong_record_exits_1(tmp_path):
    p = synthvet("verify", '{"domain": "exact", "answer": "6", "reference": "7"}', cwd=tmp_path)
    assert p.returncode == 1 and json.loads(p.stdout)["status"] == "refuted"


def test_domains_lists_every_builtin(tmp_path):
    p = synthvet("domains", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    names = {row["name"] for row in json.loads(p.stdout)}
    assert {"exact", "math", "code", "smt", "proof"} <= names


def test_config_plugins_are_loaded(tmp_path, write_jsonl):
    (tmp_path / "myplug.py").write_text((HERE / "testplugins.py").read_text())
    (tmp_path / "synthvet.toml").write_text('[run.plugins]\nsleepy = "myplug:SleepyDomain"\n')
    src = write_jsonl([{"domain": "sleepy", "answer": "a", "reference": "a"}])
    p = synthvet("run", str(src), "--out", "o", "-q", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert read_jsonl(tmp_path / "o/verdicts.jsonl")[0]["status"] == "verified"


def _slow_setup(tmp_path: Path, n: int) -> Path:
    (tmp_path / "myplug.py").write_text((HERE / "testplugins.py").read_text())
    (tmp_path / "synthvet.toml").write_text('[run.plugins]\nsleepy = "myplug:SleepyDomain"\n')
    rows = [{"id": f"k{i}", "domain": "sleepy", "answer": str(i % 4), "reference": "0",
             "sleep": 0.02, "n": i} for i in range(n)]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _ledger_count(tmp_path: Path) -> int:
    db = tmp_path / ".synthvet" / "ledger.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM verdicts").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_sigkill_and_resume_loses_and_duplicates_nothing(tmp_path):
    n = 400
    src = _slow_setup(tmp_path, n)
    proc = subprocess.Popen([sys.executable, "-m", "synthvet", "run", str(src), "--out", "out",
                             "--workers", "2", "-q"], cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _ledger_count(tmp_path) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group: main process and workers
    proc.wait()
    settled = _ledger_count(tmp_path)
    assert 0 < settled < n, "the kill must land mid-run"
    assert not (tmp_path / "out" / "verdicts.jsonl").exists(), "no half-written run folder"
    p = synthvet("run", str(src), "--out", "out", "-q", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    verdicts = read_jsonl(tmp_path / "out" / "verdicts.jsonl")
    ids = [v["id"] for v in verdicts]
    assert len(ids) == n and len(set(ids)) == n
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["cached"] >= settled
    assert report["counts"]["status"] == {"verified": n // 4, "refuted": n - n // 4}


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_resumes(tmp_path):
    n = 300
    src = _slow_setup(tmp_path, n)
    # As a shell starts a foreground command: SIGINT at its default even if this test
    # runs with it ignored (a non-interactive shell starts background jobs that way, and
    # the child would inherit it). Between fork and exec: one signal.signal() call.
    proc = subprocess.Popen([sys.executable, "-m", "synthvet", "run", str(src), "--out", "out",
                             "--workers", "2"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT,  # noqa: PLW1509
                                                             signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while _ledger_count(tmp_path) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before Ctrl-C"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err
    p = synthvet("run", str(src), "--out", "out", "-q", cwd=tmp_path)
    assert p.returncode == 0
    assert len(read_jsonl(tmp_path / "out" / "verdicts.jsonl")) == n
    assert json.loads((tmp_path / "out" / "report.json").read_text())["cached"] >= 40


_INTERRUPTED_IMPORT = """
import sys

class Interrupt:  # Ctrl-C lands while the command line's modules are being imported
    def find_spec(self, name, path=None, target=None):
        if name == "synthvet.harness.cli":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, Interrupt())
from synthvet._entry import main

main()
"""


def test_ctrl_c_during_start_up_is_no_traceback(tmp_path):
    """Ctrl-C while Python is still importing the command line (about 60 ms here) ends as
    one during a run does: exit 130 and one line, no traceback."""
    script = tmp_path / "interrupted.py"
    script.write_text(_INTERRUPTED_IMPORT, encoding="utf-8")
    p = subprocess.run([sys.executable, str(script), "run", "x.jsonl", "--out", "out"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 130, p.stderr
    assert p.stderr == "synthvet: interrupted\n"
    assert not (tmp_path / "out").exists()
