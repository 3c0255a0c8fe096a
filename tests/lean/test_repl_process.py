"""The real process layer (ProcessTransport) against a REPLAY DOUBLE run as a child process.

``recorded_repl_process.py`` is not Lean; it serves the recorded replies of
fixtures/lean/exchanges.json over real pipes, in pieces, and hangs where the recording
says the REPL never answered.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lean_replay import load_scenarios

from synthvet.model import Limits, Status
from synthvet.verifiers.lean import LeanChecker
from synthvet.verifiers.lean._repl import ProcessTransport, ReplBroken, ReplSession

DOUBLE = Path(__file__).with_name("recorded_repl_process.py")
SCENARIOS = {s["id"]: s for s in load_scenarios()}


def recording(tmp_path: Path, *ids: str) -> Path:
    path = tmp_path / "recording.json"
    path.write_text(json.dumps([e for i in ids for e in SCENARIOS[i]["exchanges"]]),
                    encoding="utf-8")
    return path


def checker_for(path: Path, **options: Any) -> LeanChecker:
    return LeanChecker({"mode": "repl", "repl": [sys.executable, str(DOUBLE), str(path)],
                        **options})


def check(checker: LeanChecker, sid: str, seconds: float = 10.0):  # type: ignore[no-untyped-def]
    s = SCENARIOS[sid]
    return checker.check(s["statement"], s["proof"], s["imports"], Limits(seconds=seconds))


@pytest.mark.parametrize("sid", ["honest_rfl", "weaker_statement", "unknown_environment",
                                 "imports_fail", "axiom_from_imports"])
def test_scenarios_over_real_pipes(tmp_path: Path, sid: str) -> None:
    checker = checker_for(recording(tmp_path, sid))
    verdict = check(checker, sid)
    expect = SCENARIOS[sid]["expect"]
    assert (verdict.status.value, verdict.reason) == (expect["status"], expect["reason"]), \
        verdict.detail
    assert checker._pool is not None
    checker._pool.close_all()


def test_one_warm_process_serves_many_candidates(tmp_path: Path) -> None:
    checker = checker_for(recording(tmp_path, "isolation_first", "isolation_second"))
    assert check(checker, "isolation_first").status is Status.VERIFIED
    session = checker._pool.session("") if checker._pool else None
    assert session is not None and session.uses == 1
    verdict = check(checker, "isolation_second")
    assert (verdict.status, verdict.reason) == (Status.REFUTED, "proof_error")
    assert session.uses == 2 and not session.closed
    checker._pool.close_all()  # type: ignore[union-attr]


def test_a_hung_process_is_killed_on_time(tmp_path: Path) -> None:
    checker = checker_for(recording(tmp_path, "hangs"))
    started = time.monotonic()
    verdict = check(checker, "hangs", seconds=1.5)
    assert (verdict.status, verdict.reason) == (Status.NEEDS_REVIEW, "timeout")
    assert time.monotonic() - started < 5
    assert checker._pool is not None
    session = checker._pool.session("")  # the hung one was closed and replaced
    assert session.uses == 0


def test_transport_kills_the_whole_group(tmp_path: Path) -> None:
    transport = ProcessTransport([sys.executable, str(DOUBLE), str(recording(tmp_path,
                                                                             "hangs"))])
    pid = transport.proc.pid
    session = ReplSession("", lambda: transport)
    assert session.ready(time.monotonic() + 5) == 0
    session.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_program_that_exits_is_broken_not_verified(tmp_path: Path) -> None:
    checker = LeanChecker({"mode": "repl", "repl": [sys.executable, "-c", "pass"]})
    verdict = checker.check("theorem t : True", "theorem t : True := trivial", [],
                            Limits(seconds=5))
    assert (verdict.status, verdict.reason) == (Status.NEEDS_REVIEW, "checker_error")


def test_a_program_that_cannot_start(tmp_path: Path) -> None:
    with pytest.raises(ReplBroken):
        ProcessTransport([str(tmp_path / "missing")])


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc (Linux)")
def test_the_repl_dies_with_the_worker_that_owns_it(tmp_path: Path) -> None:
    """The harness SIGKILLs a hung worker; its warm REPL must not live on."""
    import subprocess

    src = str(Path(__file__).resolve().parents[2] / "src")
    stuck = tmp_path / "stuck.json"  # the header never answers: busy, deaf to stdin's EOF
    stuck.write_text(json.dumps([{"request": {"cmd": ""}, "reply": None}]))
    code = (f"import sys, time; sys.path.insert(0, {src!r})\n"
            "from synthvet.verifiers.lean._repl import ProcessTransport\n"
            f"t = ProcessTransport([sys.executable, {str(DOUBLE)!r}, {str(stuck)!r}])\n"
            "t.send('{\"cmd\": \"\"}\\n\\n', time.monotonic() + 5)\n"
            "print(t.proc.pid, flush=True)\ntime.sleep(60)\n")
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    pid = int(owner.stdout.readline())
    assert _alive(pid)
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
