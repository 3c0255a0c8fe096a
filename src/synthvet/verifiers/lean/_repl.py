"""Warm Lean REPL processes, one per import header (kimina-lean-server's idea).

Loading ``import Mathlib`` takes Lean tens of seconds; checking one proof afterwards takes
far less. A :class:`ReplSession` starts the REPL once, runs the header (the record's
``imports``) with no ``env`` — the only way the REPL accepts ``import`` — and remembers
the environment number it gets back: the *base* environment. Every candidate then starts
from that base environment, never from the environment a previous candidate left, so
candidates cannot see one another's declarations, notation or options.

A session is discarded (its process group killed) after a timeout, an unreadable reply,
a reply that does not fit the request, or ``max_uses`` candidates (the REPL keeps every
environment it ever produced in memory). While the header is still loading, a check
that runs out of time returns and leaves the process loading for the next check.

The process layer is a :class:`Transport`; tests replace it with a replay double
(``RecordedRepl`` in ``tests/lean``) that serves real recorded replies.
"""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from synthvet.verifiers._process import RLimits, child_setup, kill_group
from synthvet.verifiers.lean._protocol import (
    CommandReply,
    MalformedReply,
    Reply,
    encode_request,
    parse_reply,
    split_stream,
)

__all__ = [
    "Transport",
    "ProcessTransport",
    "ReplSession",
    "ReplPool",
    "ReplTimeout",
    "ReplBroken",
    "HeaderFailed",
]

#: A reply bigger than this is not a proof check's reply; the session is dropped.
MAX_REPLY_BYTES = 16 << 20
_BLANK = re.compile(rb"\n[ \t]*\n")


class ReplTimeout(Exception):
    """No reply before the deadline. ``loading`` is true when the header was still running
    (the process is kept); otherwise the process was killed."""

    def __init__(self, loading: bool) -> None:
        super().__init__("REPL still loading its imports" if loading else "REPL timed out")
        self.loading = loading


class ReplBroken(Exception):
    """The process died, could not start, or replied outside the protocol."""

    def __init__(self, problem: str, text: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.text = text[:2000]


class HeaderFailed(Exception):
    """The import header itself did not elaborate: the record's ``imports`` are bad here."""

    def __init__(self, reply: Reply) -> None:
        super().__init__("the imports did not load")
        self.reply = reply


class Transport(Protocol):
    """A bidirectional byte pipe to one REPL process."""

    def send(self, text: str, deadline: float) -> None:
        """Write ``text`` (one encoded request); raise :class:`ReplBroken` if impossible."""
        ...

    def receive(self, deadline: float) -> str | None:
        """The next complete reply's text, or ``None`` if ``deadline`` passed first."""
        ...

    def close(self) -> None: ...


class ProcessTransport:
    """The real REPL as a child process in its own session (killed as a group)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        rlimits: RLimits | None = None,
    ) -> None:
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                start_new_session=True,
                preexec_fn=child_setup(rlimits or RLimits(), die_with_parent=True),
            )
        except OSError as exc:
            self._stderr.close()
            raise ReplBroken(f"cannot start {argv[0]!r}: {exc}") from exc
        assert self.proc.stdout is not None and self.proc.stdin is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        os.set_blocking(self.proc.stdin.fileno(), False)
        self._buffer = b""
        self._ready: list[str] = []

    def stderr_tail(self, chars: int = 800) -> str:
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - chars))
            return self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def send(self, text: str, deadline: float) -> None:
        assert self.proc.stdin is not None
        data = memoryview(text.encode("utf-8"))
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdin, selectors.EVENT_WRITE)
            while data:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ReplTimeout(loading=False)
                if not sel.select(timeout=min(remaining, 0.5)):
                    continue
                try:
                    n = os.write(self.proc.stdin.fileno(), data[:65536])
                except BlockingIOError:
                    continue
                except OSError as exc:
                    raise ReplBroken(f"REPL closed its input: {exc}",
                                     self.stderr_tail()) from exc
                data = data[n:]

    def receive(self, deadline: float) -> str | None:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while not self._ready:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                if not sel.select(timeout=min(remaining, 0.5)):
                    continue
                try:
                    chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    if self._buffer.strip():  # a last reply without its blank line
                        self._ready.append(self._buffer.decode("utf-8", "replace"))
                        self._buffer = b""
                        break
                    raise ReplBroken(
                        f"REPL exited (code {self.proc.poll()})", self.stderr_tail())
                self._buffer += chunk
                if len(self._buffer) > MAX_REPLY_BYTES:
                    raise ReplBroken("REPL reply too large")
                # Cut on bytes at the last blank line, so that a multi-byte character
                # still arriving is never decoded in halves.
                data = self._buffer.replace(b"\r\n", b"\n")
                ends = [m.end() for m in _BLANK.finditer(data)]
                if ends:
                    replies, rest = split_stream(data[: ends[-1]].decode("utf-8", "replace"))
                    self._ready.extend(replies)
                    self._buffer = rest.encode("utf-8") + data[ends[-1]:]
        return self._ready.pop(0)

    def close(self) -> None:
        kill_group(self.proc.pid)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not fail
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError:
                    pass
        self._stderr.close()


class ReplSession:
    """One warm REPL whose base environment holds ``header`` (imports, opens)."""

    def __init__(self, header: str, factory: Callable[[], Transport]) -> None:
        self.header = header
        self._factory = factory
        self._transport: Transport | None = None
        self.base_env: int | None = None
        self.header_failure: HeaderFailed | None = None
        self.loading = False
        self.uses = 0
        self.closed = False
        self.started_at = 0.0
        self.load_seconds: float | None = None

    def _start(self, deadline: float) -> Transport:
        if self._transport is None:
            self._transport = self._factory()
            self.started_at = time.monotonic()
            # No "env": the only request in which the REPL accepts `import`.
            self._transport.send(encode_request({"cmd": self.header}), deadline)
            self.loading = True
        return self._transport

    def ready(self, deadline: float) -> int:
        """The base environment, starting the process and loading the header if needed."""
        if self.closed:
            raise ReplBroken("session closed")
        if self.header_failure is not None:
            raise self.header_failure
        if self.base_env is not None:
            return self.base_env
        transport = self._start(deadline)
        raw = transport.receive(deadline)
        if raw is None:
            raise ReplTimeout(loading=True)
        self.loading = False
        self.load_seconds = time.monotonic() - self.started_at
        reply = parse_reply(raw)
        if isinstance(reply, MalformedReply):
            self.close()
            raise ReplBroken(f"unreadable header reply: {reply.problem}", reply.text)
        if not isinstance(reply, CommandReply) or reply.env is None or reply.errors:
            self.header_failure = HeaderFailed(reply)
            self.close(keep_failure=True)
            raise self.header_failure
        self.base_env = reply.env
        return reply.env

    def command(self, cmd: str, env: int, deadline: float, **extra: Any) -> Reply:
        """Run ``cmd`` in environment ``env``; a timeout kills the process."""
        if self._transport is None or self.closed:
            raise ReplBroken("session not ready")
        try:
            self._transport.send(encode_request({"cmd": cmd, "env": env, **extra}), deadline)
            raw = self._transport.receive(deadline)
        except ReplTimeout:
            self.close()
            raise
        except ReplBroken:
            self.close()
            raise
        if raw is None:
            # Lean cannot be interrupted mid-command; the process is useless now.
            self.close()
            raise ReplTimeout(loading=False)
        reply = parse_reply(raw)
        if isinstance(reply, MalformedReply):
            self.close()
        return reply

    def close(self, keep_failure: bool = False) -> None:
        if self._transport is not None:
            try:
                self._transport.close()
            finally:
                self._transport = None
        self.base_env = None
        if not keep_failure:
            self.closed = True


class ReplPool:
    """At most ``max_sessions`` warm sessions, keyed by header, least recently used out.

    The pool belongs to the process that made it: after a fork the child starts its own
    (the parent's pipes are not safe to share) and leaves the parent's processes alone.
    """

    def __init__(
        self,
        factory: Callable[[str], Callable[[], Transport]],
        *,
        max_sessions: int = 2,
        max_uses: int = 200,
    ) -> None:
        self._factory = factory
        self.max_sessions = max(1, max_sessions)
        self.max_uses = max(1, max_uses)
        self._sessions: OrderedDict[str, ReplSession] = OrderedDict()
        self.pid = os.getpid()

    def session(self, header: str) -> ReplSession:
        s = self._sessions.get(header)
        if s is not None and (s.closed or (s.uses >= self.max_uses
                                           and s.header_failure is None)):
            s.close()
            del self._sessions[header]
            s = None
        if s is None:
            while len(self._sessions) >= self.max_sessions:
                _, old = self._sessions.popitem(last=False)
                old.close()
            s = ReplSession(header, self._factory(header))
            self._sessions[header] = s
        self._sessions.move_to_end(header)
        return s

    def close_all(self) -> None:
        if os.getpid() != self.pid:
            self._sessions.clear()  # a forked child must not kill its parent's REPLs
            return
        for s in self._sessions.values():
            s.close()
        self._sessions.clear()

    def __len__(self) -> int:
        return len(self._sessions)
