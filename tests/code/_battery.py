"""Run the code domain over records read from stdin (JSON Lines); print one verdict a line.

Used by ``test_hostile.py`` inside an outer namespace (``unshare --mount --pid --fork``),
so that even a sandbox escape would land in a throw-away PID and mount namespace.
``{RUNNER_PID}`` in a solution is replaced by this process's pid, so a hostile solution
can try to kill the process that runs the domain.
"""

from __future__ import annotations

import json
import os
import sys
import time

from synthvet.domains.code import CodeDomain
from synthvet.model import Limits
from synthvet.testing import make_record


def main() -> None:
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    domain = CodeDomain(options)
    for line in sys.stdin:
        if not line.strip():
            continue
        data = json.loads(line)
        data["solution"] = data["solution"].replace("{RUNNER_PID}", str(os.getpid()))
        t = time.monotonic()
        verdict = domain.check(make_record(data), Limits(seconds=20))
        out = {"id": data["id"], "status": verdict.status.value, "reason": verdict.reason,
               "detail": verdict.detail, "seconds": round(time.monotonic() - t, 3),
               "evidence": json.loads(json.dumps(dict(verdict.evidence), default=str))}
        print(json.dumps(out), flush=True)
    domain.close()


if __name__ == "__main__":
    main()
