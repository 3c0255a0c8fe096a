"""The zygote forks each job's runner (J) and first candidate host (B) before the job
arrives. These tests pin down what that must not change: a pre-forked process holds
nothing of any job, J and B are fresh for every record, and the sandbox is recycled
every ``recycle_every`` jobs and after anything odd."""

from __future__ import annotations

import hashlib
import os

import pytest

from synthvet.domains.code import CodeDomain
from synthvet.model import Limits, Status
from synthvet.testing import make_record

CHECK5 = "def check(candidate):\n    assert candidate(2) == 5\n"
HONEST = "def f(x):\n    return x + 3\n"


def _token(n: int) -> str:
    return f"SVMARK-{hashlib.sha256(str(n).encode()).hexdigest()[:12]}"


def _scanner(tokens: list[str]) -> str:
    """A solution that reads its own memory (/proc/self/mem) and says whether any of
    ``tokens`` is in it; it holds only their digests, never the tokens themselves. (The
    zygote made every process non-dumpable, so the scanner first undoes that for itself.)"""
    digests = sorted(hashlib.sha256(t.encode()).hexdigest() for t in tokens)
    return f'''import ctypes, hashlib, re

def f(x):
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # dumpable again, to read our own /proc files
    want = set({digests!r})
    pat = re.compile(rb"SVMARK-[0-9a-f]{{12}}")
    with open("/proc/self/maps") as fh:
        maps = fh.read().splitlines()
    with open("/proc/self/mem", "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            if not parts[1].startswith("r"):
                continue
            lo, hi = (int(v, 16) for v in parts[0].split("-"))
            if hi - lo > (64 << 20):
                continue
            try:
                mem.seek(lo)
                chunk = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            for m in pat.finditer(chunk):
                if hashlib.sha256(m.group()).hexdigest() in want:
                    return "leaked"
    return "clean"
'''


def _tests_with(token: str, expect: str) -> str:
    return (f"SECRET = {token!r}  # only the tests hold this\n"
            f"def check(candidate):\n    assert candidate(0) == {expect!r}\n")


def _rec(solution: str, tests: str) -> object:
    return make_record({"domain": "code", "solution": solution, "tests": tests,
                        "entry_point": "f"})


def test_candidate_memory_holds_no_job_data(domain: CodeDomain) -> None:
    lim = Limits(seconds=20)
    first, second = _token(1), _token(2)
    # the scanner works: a token in the solution's own text is found
    control = _scanner([_token(3)]) + f"\nKEEP = {_token(3)!r}\n"
    v = domain.check(_rec(control, _tests_with(_token(4), "leaked")), lim)
    assert v.status is Status.VERIFIED, v
    # a job whose tests hold `first` ...
    v = domain.check(_rec(HONEST, _tests_with(first, "unused") .replace(
        "assert candidate(0) == 'unused'", "assert candidate(2) == 5")), lim)
    assert v.status is Status.VERIFIED, v
    # ... then the next job's candidate host, forked before that job arrived, holds
    # neither the previous job's tests nor its own job's tests
    v = domain.check(_rec(_scanner([first, second]), _tests_with(second, "clean")), lim)
    assert v.status is Status.VERIFIED, v


def test_runner_and_host_are_fresh_per_record(domain: CodeDomain) -> None:
    lim = Limits(seconds=20)
    marks = ("import builtins\nbuiltins._sv_mark = 1\n")
    # a record whose tests and solution leave a mark in their processes' built-ins
    v = domain.check(_rec(marks + HONEST, marks + CHECK5), lim)
    assert v.status is Status.VERIFIED, v
    # the next record's runner and host do not see it
    probe_sol = "import builtins\ndef f(x):\n    return hasattr(builtins, '_sv_mark')\n"
    probe_tests = ("import builtins\ndef check(candidate):\n"
                   "    assert not hasattr(builtins, '_sv_mark')\n"
                   "    assert candidate(0) is False\n")
    for _ in range(2):
        v = domain.check(_rec(probe_sol, probe_tests), lim)
        assert v.status is Status.VERIFIED, v


def test_only_the_jobs_own_processes_run_during_it(domain: CodeDomain) -> None:
    """The next job's host is forked after this job is cleaned up, not while it runs: a
    candidate sees the sandbox's init, the zygote, its test runner and itself; with
    literal tests (checked on the trusted side) there is no test runner."""
    sol = ("import os\ndef f(x):\n    n = 0\n    for p in os.listdir('/proc'):\n"
           "        if p.isdigit():\n            try:\n"
           "                st = open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[0]\n"
           "            except OSError:\n                continue\n"
           "            n += st not in ('Z', 'X')\n    return n\n")
    literal = "def check(candidate):\n    assert candidate(0) == 3\n"
    code = "def check(candidate):\n    x = 0\n    assert candidate(x) == 4\n"
    for _ in range(3):
        for tests in (literal, code):
            v = domain.check(_rec(sol, tests), Limits(seconds=20))
            assert v.status is Status.VERIFIED, v
            assert ("literal_tests" in v.evidence) == (tests is literal)


def test_every_host_draws_the_same_random_numbers(domain: CodeDomain) -> None:
    """A candidate that uses ``random`` sees the same numbers on every run (each host
    seeds it: ``random`` reseeds itself from the system in every forked child)."""
    import random

    want = random.Random(0).random()
    sol = "import random\ndef f(x):\n    return random.random()\n"
    tests = [f"def check(candidate):\n    assert candidate(0) == {want!r}\n",
             f"def check(candidate):\n    x = 0\n    assert candidate(x) == {want!r}\n"]
    for t in tests + tests:
        v = domain.check(_rec(sol, t), Limits(seconds=20))
        assert v.status is Status.VERIFIED, v


def test_the_zygote_and_the_test_runner_are_closed_to_the_candidate(
        domain: CodeDomain) -> None:
    """They run as the candidate's uid, but are non-dumpable: their /proc files (memory,
    environment, fds) are the kernel's, not the uid's."""
    sol = ("import os\ndef f(x):\n    out = []\n    for p in sorted(os.listdir('/proc')):\n"
           "        if not p.isdigit() or int(p) in (1, os.getpid()):\n            continue\n"
           "        try:\n            open(f'/proc/{p}/environ', 'rb').read()\n"
           "            out.append('read')\n        except PermissionError:\n"
           "            out.append('denied')\n    return out\n")
    literal = "def check(candidate):\n    assert candidate(0) == ['denied']\n"  # Z only
    code = "def check(candidate):\n    x = 0\n    assert candidate(x) == ['denied'] * 2\n"
    for tests in (literal, code):
        v = domain.check(_rec(sol, tests), Limits(seconds=20))
        assert v.status is Status.VERIFIED, v


def test_recycled_every_n_jobs_and_after_anything_odd() -> None:
    from synthvet.verifiers.sandbox import probe

    if not probe()["available"]:
        pytest.skip(f"sandbox unavailable: {probe()['detail']}")
    d = CodeDomain({"timeout": 5.0, "mutants": 0, "recycle_every": 2})
    lim = Limits(seconds=20)
    try:
        pids = []
        for _ in range(5):
            assert d.check(_rec(HONEST, CHECK5), lim).status is Status.VERIFIED
            pids.append(d._sandbox._proc.pid)
        assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
        # a candidate that leaves a process behind: review, and the next job gets a new
        # sandbox
        daemon = ("import os, time\ndef f(x):\n    if os.fork() == 0:\n        os.setsid()\n"
                  "        time.sleep(1000)\n    return x + 3\n")
        v = d.check(_rec(daemon, CHECK5), lim)
        assert v.status is Status.NEEDS_REVIEW and v.reason == "tamper_suspected", v
        before = d._sandbox._proc.pid if d._sandbox._proc is not None else None
        assert d.check(_rec(HONEST, CHECK5), lim).status is Status.VERIFIED
        assert d._sandbox._proc.pid != before
    finally:
        d.close()


def test_one_zygote_serves_every_kind_of_job_in_any_order(domain: CodeDomain) -> None:
    """The zygote offers the next job's first host when a job ends, before it knows the
    job's kind: a direct job talks to it, a job with tests run as code hands it to J, a
    record that never reaches the sandbox leaves it for the next. One zygote serves any
    sequence of kinds, and each verdict is what that record deserves."""
    lim = Limits(seconds=20)
    wrong = "def f(x):\n    return x + 4\n"
    code_tests = "def check(candidate):\n    x = 2\n    assert candidate(x) == 5\n"
    pytest_tests = "def test_f():\n    assert f(2) == 5\n"
    io_sol = "print(int(input()) + 3)\n"
    io_bad = "print(int(input()) + 4)\n"
    io = [{"input": "2\n", "output": "5\n"}]
    ref = "def f(x: int) -> int:\n    return x + 3\n"
    kinds = [
        ({"solution": HONEST, "tests": CHECK5, "entry_point": "f"}, Status.VERIFIED),
        ({"solution": HONEST, "tests": code_tests, "entry_point": "f"}, Status.VERIFIED),
        ({"solution": io_sol, "io_tests": io}, Status.VERIFIED),
        ({"solution": HONEST, "tests": pytest_tests}, Status.VERIFIED),
        ({"solution": "def f(x:", "tests": CHECK5, "entry_point": "f"}, Status.NEEDS_REVIEW),
        ({"solution": wrong, "tests": CHECK5, "entry_point": "f"}, Status.REFUTED),
        ({"solution": io_bad, "io_tests": io}, Status.REFUTED),
        ({"solution": wrong, "tests": code_tests, "entry_point": "f"}, Status.REFUTED),
        ({"solution": HONEST, "reference_solution": ref, "entry_point": "f"},
         Status.VERIFIED),
        ({"solution": wrong, "tests": pytest_tests}, Status.REFUTED),
    ]
    pid = None
    for round_ in range(2):
        order = kinds if round_ == 0 else kinds[::-1]
        for fields, status in order:
            v = domain.check(make_record({"domain": "code", **fields}), lim)
            assert v.status is status, (fields, v)
            if domain._sandbox._proc is not None:
                pid = pid or domain._sandbox._proc.pid
                assert domain._sandbox._proc.pid == pid, "the sandbox was restarted"


@pytest.mark.skipif(os.geteuid() != 0, reason="a distinct host uid needs root")
def test_sandbox_runs_as_an_unused_host_uid_with_no_groups(domain: CodeDomain) -> None:
    """As root, the sandbox is started as an unused host uid (a private mount namespace
    and setresuid in the child before bwrap): every process of it, seen from the host."""
    assert domain.check(_rec(HONEST, CHECK5), Limits(seconds=20)).status is Status.VERIFIED
    assert domain._sandbox.protections["distinct_host_uid"]
    todo, seen = [domain._sandbox._proc.pid], []
    while todo:
        pid = todo.pop()
        with open(f"/proc/{pid}/status") as fh:
            status = dict(line.split(":", 1) for line in fh if ":" in line)
        uids, gids = status["Uid"].split(), status["Gid"].split()
        assert len(set(uids)) == 1 and 61000 <= int(uids[0]) < 65000, status["Uid"]
        assert set(gids) == {uids[0]} and not status["Groups"].split(), status
        seen.append(pid)
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            todo += [int(p) for p in fh.read().split()]
    assert len(seen) >= 3  # bwrap, its init, the zygote (and a host forked ahead)


@pytest.mark.skipif(os.geteuid() != 0, reason="a distinct host uid needs root")
def test_a_failed_uid_drop_means_no_sandbox_not_a_root_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """If the child cannot enter its mount namespace (here: the mount point does not
    exist), nothing runs as root instead: the record goes to review, saying why."""
    from synthvet.verifiers import sandbox

    monkeypatch.setattr(sandbox, "_PY_MOUNT", "/nonexistent-synthvet/py")
    d = CodeDomain({"timeout": 5.0, "mutants": 0})
    try:
        v = d.check(_rec(HONEST, CHECK5), Limits(seconds=20))
    finally:
        d.close()
    assert v.status is Status.NEEDS_REVIEW and v.reason == "checker_unavailable", v
    assert "unused uid" in v.detail
