"""The hostile battery: solutions that attack the sandbox or try to forge a pass.

None may be verified, none may harm the host, and the run must go on (the last record,
an honest one, is verified after all of them). The battery runs in a child process that
is itself inside an outer PID and mount namespace (``unshare``) with /work read-only when
we are root, so a sandbox escape would still land in a throw-away namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SECRET = "s3cr3t-7f1c9a"

CHECK5 = "def check(candidate):\n    assert candidate(2) == 5\n"
CHECK_SECRET = f"def check(candidate):\n    assert candidate(2) == {SECRET!r}\n"


def _fn(body: str, header: str = "") -> str:
    lines = "\n".join("    " + ln for ln in body.strip("\n").splitlines())
    return f"{header}\ndef f(x):\n{lines}\n"


def battery(sentinel: Path, secret_file: Path, port: int) -> list[dict]:
    """(id, solution, tests, allowed reasons). Each returns 5 only if its attack worked."""
    cases = [
        ("infinite_loop", _fn("while True:\n    pass"), CHECK5, {"timeout"}),
        ("sleep_forever", _fn("import time\ntime.sleep(1000)"), CHECK5, {"timeout"}),
        ("fork_bomb", _fn("import os\nwhile True:\n    try:\n        os.fork()\n"
                          "    except OSError:\n        pass"), CHECK5, None),
        ("memory_bomb", _fn("b = bytearray(1 << 36)\nreturn x + 3"), CHECK5,
         {"resource_limit"}),
        ("memory_gradual", _fn("keep = []\nwhile True:\n    keep.append(bytearray(1 << 24))"),
         CHECK5, {"resource_limit", "tamper_suspected", "timeout"}),
        ("stdout_flood", _fn("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)"),
         CHECK5, {"resource_limit"}),
        ("stderr_flood", _fn("import os\nwhile True:\n    os.write(2, b'y' * 65536)"),
         CHECK5, {"resource_limit"}),
        ("disk_fill", _fn("i = 0\nwhile True:\n    with open(f'/tmp/fill{i}', 'wb') as fh:\n"
                          "        fh.write(b'0' * (8 << 20))\n    i += 1"), CHECK5, None),
        ("write_outside", _fn(f"open({str(sentinel.parent / 'pwned')!r}, 'w').write('x')\n"
                              "return x + 3"), CHECK5, None),
        ("delete_outside", _fn(f"import os\nos.remove({str(sentinel)!r})\nreturn x + 3"),
         CHECK5, None),
        ("write_system", _fn("ok = 0\nfor p in ('/usr/pwned', '/pwned', '/etc/pwned', "
                             "'/root/pwned', '/work/pwned'):\n    try:\n"
                             "        open(p, 'w').write('x')\n        ok += 1\n"
                             "    except OSError:\n        pass\nreturn x + 3 if ok else None"),
         CHECK5, None),
        ("env_secret", _fn("import os\nreturn os.environ.get('SYNTHVET_SECRET', '')"),
         CHECK_SECRET, None),
        ("file_secret", _fn(f"return open({str(secret_file)!r}).read()"), CHECK_SECRET, None),
        ("proc_environ_secret", _fn(
            "import os\nfor p in os.listdir('/proc'):\n    try:\n"
            "        data = open(f'/proc/{p}/environ', 'rb').read()\n    except OSError:\n"
            "        continue\n    if b'SYNTHVET_SECRET=' in data:\n"
            "        return data.split(b'SYNTHVET_SECRET=')[1].split(b'\\0')[0].decode()\n"
            "return ''"), CHECK_SECRET, None),
        ("network_local", _fn(f"import socket\ns = socket.create_connection(('127.0.0.1', "
                              f"{port}), 2)\nreturn s.recv(100).decode()"), CHECK_SECRET, None),
        ("network_internet", _fn("import socket\nsocket.create_connection(('1.1.1.1', 53), 2)"
                                 "\nreturn x + 3"), CHECK5, None),
        ("kill_parent", _fn("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                            "return x + 3"), CHECK5, {"tamper_suspected"}),
        ("kill_everything", _fn("import os, signal\nos.kill(-1, signal.SIGKILL)\nreturn x + 3"),
         CHECK5, {"tamper_suspected"}),
        ("kill_every_pid", _fn("import os, signal\nfor p in os.listdir('/proc'):\n"
                               "    if p.isdigit() and int(p) != os.getpid():\n        try:\n"
                               "            os.kill(int(p), signal.SIGKILL)\n"
                               "        except OSError:\n            pass\nreturn x + 3"),
         CHECK5, {"tamper_suspected"}),
        ("os_exit_zero", _fn("import os\nos._exit(0)"), CHECK5, {"tamper_suspected"}),
        ("system_exit_zero", _fn("raise SystemExit(0)"), CHECK5, {"tamper_suspected"}),
        ("exit_at_import", "import sys\nsys.exit(0)\n" + _fn("return x + 3"), CHECK5,
         {"tamper_suspected"}),
        ("os_exit_at_import", "import os\nos._exit(0)\n" + _fn("return x + 3"), CHECK5,
         {"tamper_suspected"}),
        ("atexit_hook", _fn("return None", "import atexit, os\n"
                            "atexit.register(lambda: os._exit(0))\n"), CHECK5, None),
        ("eq_always_true", _fn("return Yes()", "class Yes:\n    def __eq__(self, o):\n"
                               "        return True\n    __hash__ = object.__hash__\n"),
         CHECK5, {"unsupported"}),
        ("str_subclass_eq", _fn("return S('')", "class S(str):\n    def __eq__(self, o):\n"
                                "        return True\n    __hash__ = str.__hash__\n"),
         CHECK5, {"unsupported"}),
        ("list_of_liars", _fn("return [Yes()]", "class Yes:\n    def __eq__(self, o):\n"
                              "        return True\n"), CHECK5, {"unsupported", "tests_failed"}),
        ("list_of_liars_vs_list", _fn("return [Yes()]", "class Yes:\n    def __eq__(self, o):\n"
                                      "        return True\n"),
         "def check(candidate):\n    assert candidate(2) == [5]\n", {"unsupported"}),
        ("bool_liar", _fn("return Yes()", "class Yes:\n    def __bool__(self):\n"
                          "        return True\n"),
         "def check(candidate):\n    assert candidate(2)\n", {"unsupported"}),
        ("method_liar", _fn("return Yes()", "class Yes:\n    def __eq__(self, o):\n"
                            "        return True\n    def value(self):\n        return self\n"),
         "def check(candidate):\n    assert candidate(2).value() == 5\n", {"unsupported"}),
        ("frame_walk_append_passed", _fn(
            "import sys, gc\nfr = sys._getframe()\nwhile fr is not None:\n"
            "    for v in list(fr.f_locals.values()):\n        if isinstance(v, list):\n"
            "            v.append('passed')\n    fr = fr.f_back\n"
            "for o in gc.get_objects():\n    if isinstance(o, list) and len(o) < 3:\n"
            "        o.append('passed')\nreturn None"), CHECK5, None),
        ("find_expected_in_memory", _fn(
            "import gc\nfor o in gc.get_objects():\n"
            "    if callable(o) and getattr(o, '__name__', '') == 'check':\n"
            "        for c in o.__code__.co_consts:\n"
            "            if isinstance(c, int) and c > 2:\n                return c\n"
            "return None"), CHECK5, None),
        ("daemon", _fn("import os, time\npid = os.fork()\nif pid == 0:\n    os.setsid()\n"
                       "    if os.fork() == 0:\n        time.sleep(1000)\n    os._exit(0)\n"
                       "os.waitpid(pid, 0)\nreturn x + 3"), CHECK5, {"tamper_suspected"}),
        ("fd_exhaustion", _fn("import os\nfds = []\nwhile len(fds) < 100000:\n"
                              "    fds.append(os.open('/dev/null', os.O_RDONLY))\nreturn x + 3"),
         CHECK5, None),
        ("close_all_fds", _fn("import os\nos.closerange(0, 4096)\nreturn x + 3"), CHECK5,
         {"tamper_suspected"}),
        ("forge_report_via_proc", _fn(
            "import os\nhit = 0\nfor p in os.listdir('/proc'):\n    if not p.isdigit():\n"
            "        continue\n    try:\n        fds = os.listdir(f'/proc/{p}/fd')\n"
            "    except OSError:\n        continue\n    for fd in fds:\n        try:\n"
            "            w = os.open(f'/proc/{p}/fd/{fd}', os.O_WRONLY)\n"
            "            os.write(w, b'\\x00\\x00\\x00\\x0f{\"from\":\"job\"}')\n"
            "            hit += 1\n        except OSError:\n            pass\n"
            "return x + 3 if hit else None"), CHECK5, None),
        ("read_runner_memory", _fn(
            "import os\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != "
            "os.getpid():\n        try:\n            open(f'/proc/{p}/mem', 'rb').read(1)\n"
            "            return x + 3\n        except OSError:\n            pass\nreturn None"),
         CHECK5, None),
        ("new_user_namespace", _fn(
            "import ctypes\nlibc = ctypes.CDLL(None)\n"
            "return x + 3 if libc.unshare(0x10000000) == 0 else None"), CHECK5, None),
        ("raise_rlimits", _fn(
            "import resource\nresource.setrlimit(resource.RLIMIT_NPROC, "
            "(resource.RLIM_INFINITY, resource.RLIM_INFINITY))\nreturn x + 3"), CHECK5, None),
        ("huge_value", _fn("return 'x' * (200 << 20)"), CHECK5, None),
        ("deep_value", _fn("v = []\nfor _ in range(5000):\n    v = [v]\nreturn v"), CHECK5,
         {"unsupported"}),
        ("slow_but_right", _fn("import time\ntime.sleep(6)\nreturn x + 3"), CHECK5,
         {"timeout"}),
    ]
    recs = [{"id": cid, "domain": "code", "language": "python", "solution": sol,
             "tests": tests, "entry_point": "f", "_allowed": sorted(ok) if ok else None}
            for cid, sol, tests, ok in cases]
    io = [
        ("io_print_then_daemon", ("import os, time\nprint(int(input()) + 3)\n"
                                  "import sys\nsys.stdout.flush()\nif os.fork() == 0:\n"
                                  "    os.setsid()\n    time.sleep(1000)\ntime.sleep(0.3)\n"),
         {"tamper_suspected"}),
        ("io_print_then_kill_host", ("import os, signal\nprint(int(input()) + 3, flush=True)\n"
                                     "os.kill(os.getppid(), signal.SIGKILL)\n"),
         {"tamper_suspected"}),
        ("io_flood", "while True:\n    print('z' * 10000)\n", None),
    ]
    for cid, sol, ok in io:
        recs.append({"id": cid, "domain": "code", "solution": sol,
                     "io_tests": [{"input": "2\n", "output": "5\n"}],
                     "_allowed": sorted(ok) if ok else None})
    recs.append({"id": "honest_after_all", "domain": "code", "solution": _fn("return x + 3"),
                 "tests": CHECK5, "entry_point": "f", "_allowed": ["tests_passed"],
                 "_verified": True})
    return recs


def _outer_argv(literal: bool) -> list[str]:
    base = [sys.executable, str(HERE / "_battery.py"),
            json.dumps({"timeout": 2.0, "mutants": 0, "literal_tests": literal})]
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("mount"):
        script = ("mount --bind /work /work 2>/dev/null && mount -o remount,bind,ro /work "
                  "/work 2>/dev/null; exec \"$@\"") if os.path.isdir("/work") else 'exec "$@"'
        # pid 1 of the outer namespace must reap orphans, or their zombies pile up
        return ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "--propagation",
                "private", "--",
                "sh", "-c", script, "sh", sys.executable, "-c", _REAPER, *base]
    return base


_REAPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
while True:
    got, status = os.wait()
    if got == pid:
        sys.exit(os.waitstatus_to_exitcode(status))
"""


def _sandbox_uid_processes() -> list[str]:
    """Live (not zombie) processes of the uids the sandbox runs as."""
    out = subprocess.run(["ps", "-eo", "uid=,pid=,stat=,args="], capture_output=True, text=True,
                         check=False)
    return [ln for ln in out.stdout.splitlines()
            if ln.split() and 61000 <= int(ln.split()[0]) < 65000
            and not ln.split()[2].startswith("Z")]


@pytest.mark.slow
@pytest.mark.parametrize("literal", [True, False], ids=["literal-tests", "test-runner"])
def test_hostile_battery(tmp_path: Path, literal: bool) -> None:
    """Twice: with literal asserts checked on the trusted side (no test runner in the
    sandbox), and with every test run as code by the sandboxed runner."""
    from synthvet.verifiers.sandbox import probe

    if not probe()["available"]:
        pytest.skip(f"sandbox unavailable: {probe()['detail']}")
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("keep me")
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    secret_file.chmod(0o644)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    served = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            served.append(1)
            conn.sendall(SECRET.encode())
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    recs = battery(sentinel, secret_file, port)
    env = {**os.environ, "SYNTHVET_SECRET": SECRET,
           "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    before = _sandbox_uid_processes()
    proc = subprocess.run(_outer_argv(literal), input="".join(json.dumps(r) + "\n" for r in recs),
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    server.close()
    verdicts = {}
    for line in proc.stdout.splitlines():
        v = json.loads(line)
        verdicts[v["id"]] = v
    missing = [r["id"] for r in recs if r["id"] not in verdicts]
    assert not missing, f"the run did not go on: no verdict for {missing}\n{proc.stderr[-3000:]}"
    problems = []
    for r in recs:
        v = verdicts[r["id"]]
        if r.get("_verified"):
            if v["status"] != "verified":
                problems.append(f"{r['id']}: honest record after the battery: {v}")
            continue
        if v["status"] == "verified":
            problems.append(f"{r['id']}: VERIFIED: {v}")
        allowed = r["_allowed"]
        if allowed is not None and v["reason"] not in allowed:
            problems.append(f"{r['id']}: reason {v['reason']} not in {allowed}: {v['detail']}")
    assert not problems, "\n".join(problems)
    # the host is unharmed
    assert sentinel.read_text() == "keep me"
    assert not (tmp_path / "pwned").exists()
    for p in ("/usr/pwned", "/pwned", "/etc/pwned", "/root/pwned", "/work/pwned"):
        assert not os.path.exists(p), p
    assert not served, "a sandboxed solution reached a host socket"
    import time

    for _ in range(40):  # the kernel needs a moment to tear down killed namespaces
        extra = set(_sandbox_uid_processes()) - set(before)
        if not extra:
            break
        time.sleep(0.1)
    assert not extra, f"sandbox processes outlived the run: {sorted(extra)[:3]}"
    # evidence names what hit
    assert verdicts["infinite_loop"]["evidence"].get("limit")
    # the path under test is the one that ran
    assert ("literal_tests" in verdicts["honest_after_all"]["evidence"]) is literal
    assert verdicts["daemon"]["evidence"].get("leftover_processes", 0) >= 1
