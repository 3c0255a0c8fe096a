"""REPLAY DOUBLE of the Lean REPL, run as a real child process (tests only; not a Lean).

``python recorded_repl_process.py RECORDING.json`` reads requests the way the REPL does
(JSON objects separated by blank lines on stdin) and answers each with the recorded reply
for the equal recorded request, followed by a blank line — written in two pieces with a
pause between, so the reader must reassemble partial replies. A ``null`` recorded reply
means "never answer" (the process hangs, as a stuck Lean would). A request that is not in
the recording gets ``{"message": "replay double: request not recorded"}``.

It exists so that the real process layer (pipes, framing, timeouts, killing the process
group) is exercised without Lean, which cannot be installed on these machines.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as fh:
        exchanges = [(e["request"], e["reply"]) for e in json.load(fh)]
    served: set[int] = set()
    lines: list[str] = []
    for line in sys.stdin:
        if line.strip():
            lines.append(line)
            continue
        if not lines:
            continue
        request = json.loads("".join(lines))
        lines = []
        matches = [i for i, (q, _) in enumerate(exchanges) if q == request]
        fresh = [i for i in matches if i not in served]
        if not matches:
            reply: str | None = json.dumps({"message": "replay double: request not recorded"})
        else:
            i = (fresh or matches)[0]
            served.add(i)
            reply = exchanges[i][1]
        if reply is None:
            while True:
                time.sleep(60)
        half = len(reply) // 2
        sys.stdout.write(reply[:half])
        sys.stdout.flush()
        time.sleep(0.01)
        sys.stdout.write(reply[half:] + "\n\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
