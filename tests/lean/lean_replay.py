"""``RecordedRepl``: a REPLAY DOUBLE of the Lean REPL process, for tests only.

Lean cannot be installed on these machines, so the Lean adapter's process layer is
replaced by this double. It is not a Lean: it knows nothing but a recording — pairs of
(request object, reply text) — and serves the recorded reply for a request equal to a
recorded one. Anything else fails loudly (the request is logged in ``misses`` and the
double raises ``ReplBroken``, which the adapter turns into ``needs_review``).

It also checks the protocol from the REPL's side: each request is one line of JSON
followed by a blank line, and every ``env`` a request names was given out by an earlier
reply of the same process (a request that reuses another process's env, or invents one,
is logged in ``env_violations``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from synthvet.verifiers.lean._protocol import CommandReply, parse_reply, split_stream
from synthvet.verifiers.lean._repl import ReplBroken

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lean"
RECORDED = FIXTURES / "recorded"


def load_transcript(name: str) -> tuple[list[str], list[str]]:
    """The request texts and reply texts of ``recorded/NAME`` (verbatim)."""
    reqs, _ = split_stream((RECORDED / f"{name}.in").read_text(encoding="utf-8") + "\n\n")
    out = RECORDED / f"{name}.expected.out"
    reps, _ = split_stream(out.read_text(encoding="utf-8") + "\n\n")
    return reqs, reps


def load_scenarios() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "exchanges.json").read_text(encoding="utf-8"))


class RecordedRepl:
    """Replay double of one REPL process (see the module docstring)."""

    def __init__(self, exchanges: Iterable[tuple[dict[str, Any], str | None]]) -> None:
        self.exchanges = list(exchanges)
        self.log: list[dict[str, Any]] = []
        self.misses: list[dict[str, Any]] = []
        self.env_violations: list[dict[str, Any]] = []
        self.framing_errors: list[str] = []
        self._pending: list[str | None] = []
        self._envs: set[int] = set()
        self._served: set[int] = set()
        self.closed = False

    def send(self, text: str, deadline: float) -> None:
        if self.closed:
            raise ReplBroken("replay double already closed")
        body = text[:-2] if text.endswith("\n\n") else text
        if not text.endswith("\n\n") or "\n" in body:
            self.framing_errors.append(text)
        request = json.loads(body)
        self.log.append(request)
        if "env" in request and request["env"] not in self._envs:
            self.env_violations.append(request)
        # The first recorded exchange for this request that this process has not served
        # yet (the same command asked twice gets the next env number, as from the REPL).
        matches = [i for i, (q, _) in enumerate(self.exchanges) if q == request]
        fresh = [i for i in matches if i not in self._served]
        if not matches:
            self.misses.append(request)
            raise ReplBroken(f"request not in the recording: {body[:120]}")
        i = (fresh or matches)[0]
        self._served.add(i)
        reply = self.exchanges[i][1]
        self._pending.append(reply)
        if reply is not None:
            parsed = parse_reply(reply)
            if isinstance(parsed, CommandReply) and parsed.env is not None:
                self._envs.add(parsed.env)

    def receive(self, deadline: float) -> str | None:
        if not self._pending:
            return None
        return self._pending.pop(0)  # None: the recorded process never answered

    def close(self) -> None:
        self.closed = True


class ReplayFactory:
    """``header -> (() -> RecordedRepl)`` for ``LeanChecker(transport=...)``; keeps every
    double it made so tests can inspect what was sent."""

    def __init__(self, exchanges: Sequence[tuple[dict[str, Any], str | None]]) -> None:
        self.exchanges = list(exchanges)
        self.made: list[RecordedRepl] = []

    def __call__(self, header: str):  # type: ignore[no-untyped-def]
        def start() -> RecordedRepl:
            double = RecordedRepl(self.exchanges)
            self.made.append(double)
            return double
        return start

    @property
    def misses(self) -> list[dict[str, Any]]:
        return [m for d in self.made for m in d.misses]

    @property
    def env_violations(self) -> list[dict[str, Any]]:
        return [m for d in self.made for m in d.env_violations]

    @property
    def framing_errors(self) -> list[str]:
        return [m for d in self.made for m in d.framing_errors]


def scenario_exchanges(*scenarios: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    return [(e["request"], e["reply"]) for s in scenarios for e in s["exchanges"]]
