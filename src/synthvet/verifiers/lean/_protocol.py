"""The Lean REPL's JSON protocol: encode requests, cut the reply stream, parse replies.

The REPL (leanprover-community/repl) reads request objects separated by blank lines on
stdin and writes one reply object per request on stdout, also followed by a blank line,
possibly pretty-printed over several lines. A command reply carries ``env`` (the number
of the environment the command produced), ``messages`` (``severity``/``pos``/``endPos``/
``data``) and ``sorries``; a request the REPL could not run gets ``{"message": "..."}``
instead (e.g. ``Unknown environment.``).

Everything here is pure and never raises on bad input: a reply that is not what the
protocol promises becomes a :class:`MalformedReply`, which the checker turns into
``needs_review`` — never ``verified``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = [
    "Pos",
    "Message",
    "Sorry",
    "CommandReply",
    "ErrorReply",
    "MalformedReply",
    "Reply",
    "SEVERITIES",
    "encode_request",
    "split_stream",
    "parse_reply",
    "reply_to_json",
    "is_sorry_warning",
]

Severity = Literal["error", "warning", "info"]
SEVERITIES: Final[frozenset[str]] = frozenset({"error", "warning", "info"})

#: ``declaration uses 'sorry'`` (older Lean) or ``declaration uses `sorry` `` (newer).
_SORRY_WARNING = re.compile(r"declaration uses ['`]sorry['`]")


@dataclass(frozen=True, slots=True)
class Pos:
    """A 1-based line and 0-based column, as the REPL reports them."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Message:
    severity: Severity
    data: str
    pos: Pos | None = None
    end_pos: Pos | None = None

    def short(self, limit: int = 400) -> str:
        where = f"{self.pos.line}:{self.pos.column}: " if self.pos else ""
        text = f"{where}{self.severity}: {self.data}"
        return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Sorry:
    goal: str
    pos: Pos | None = None
    end_pos: Pos | None = None
    proof_state: int | None = None


@dataclass(frozen=True, slots=True)
class CommandReply:
    """A reply to a ``cmd`` (or a tactic) request."""

    env: int | None
    messages: tuple[Message, ...] = ()
    sorries: tuple[Sorry, ...] = ()
    #: every other key of the reply (``tactics``, ``proofState``, ``goals``, ``infotree``…)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.severity == "error")

    @property
    def sorry_warnings(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if is_sorry_warning(m))

    def __eq__(self, other: object) -> bool:  # ``extra`` may hold unhashable JSON
        if not isinstance(other, CommandReply):
            return NotImplemented
        return (self.env, self.messages, self.sorries, dict(self.extra)) == (
            other.env, other.messages, other.sorries, dict(other.extra))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """``{"message": "..."}``: the REPL refused the request (unknown env, Lean error…)."""

    message: str


@dataclass(frozen=True, slots=True)
class MalformedReply:
    """Text that is not a protocol reply; ``problem`` says why."""

    text: str
    problem: str


Reply = CommandReply | ErrorReply | MalformedReply


def is_sorry_warning(message: Message) -> bool:
    return _SORRY_WARNING.search(message.data) is not None


def encode_request(request: Mapping[str, Any]) -> str:
    """One request as the REPL wants it: JSON on ONE line, then a blank line.

    ``json.dumps`` escapes newlines inside strings, so the candidate's text can never
    contain the blank line that would end the request early.
    """
    return json.dumps(dict(request), ensure_ascii=False) + "\n\n"


def split_stream(text: str) -> tuple[list[str], str]:
    """Cut REPL output into complete replies and the unfinished rest.

    A reply ends at the first blank line after some non-blank text; leading blank lines
    are skipped. Returns ``(replies, remainder)``.
    """
    replies: list[str] = []
    lines = text.split("\n")
    current: list[str] = []
    consumed = 0  # characters of ``text`` fully accounted for
    offset = 0
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        end = offset + len(line) + (0 if last else 1)
        if last:
            break  # no newline yet: the line may still grow
        if line.strip():
            current.append(line)
        elif current:
            replies.append("\n".join(current))
            current = []
            consumed = end
        else:
            consumed = end
        offset = end
    return replies, text[consumed:]


def _pos(value: Any) -> Pos | None | str:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return "position is not an object"
    line, col = value.get("line"), value.get("column")
    if not (isinstance(line, int) and isinstance(col, int)) or isinstance(
            line, bool) or isinstance(col, bool):
        return "position without integer line/column"
    return Pos(line, col)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_reply(text: Any) -> Reply:
    """Parse one reply. Never raises: anything unexpected is a :class:`MalformedReply`."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return MalformedReply(repr(text)[:200], "reply is not text")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return MalformedReply(text[:2000], f"not JSON: {exc}"[:200])
    if not isinstance(obj, dict):
        return MalformedReply(text[:2000], "reply is not a JSON object")
    if set(obj) == {"message"}:
        if isinstance(obj["message"], str):
            return ErrorReply(obj["message"])
        return MalformedReply(text[:2000], "error reply whose message is not a string")
    env = obj.get("env")
    if env is not None and not (_is_int(env) and env >= 0):
        return MalformedReply(text[:2000], "env is not a non-negative integer")
    messages: list[Message] = []
    raw_messages = obj.get("messages", [])
    if not isinstance(raw_messages, list):
        return MalformedReply(text[:2000], "messages is not a list")
    for m in raw_messages:
        if not isinstance(m, dict):
            return MalformedReply(text[:2000], "a message is not an object")
        sev, data = m.get("severity"), m.get("data")
        if sev not in SEVERITIES:
            return MalformedReply(text[:2000], f"unknown message severity {sev!r}"[:200])
        if not isinstance(data, str):
            return MalformedReply(text[:2000], "message data is not a string")
        pos, end = _pos(m.get("pos")), _pos(m.get("endPos"))
        if isinstance(pos, str) or isinstance(end, str):
            return MalformedReply(text[:2000], str(pos if isinstance(pos, str) else end))
        messages.append(Message(sev, data, pos, end))
    sorries: list[Sorry] = []
    raw_sorries = obj.get("sorries", [])
    if not isinstance(raw_sorries, list):
        return MalformedReply(text[:2000], "sorries is not a list")
    for s in raw_sorries:
        if not isinstance(s, dict):
            return MalformedReply(text[:2000], "a sorry is not an object")
        goal = s.get("goal", "")
        state = s.get("proofState")
        if not isinstance(goal, str) or (state is not None and not _is_int(state)):
            return MalformedReply(text[:2000], "a sorry has a bad goal or proofState")
        pos, end = _pos(s.get("pos")), _pos(s.get("endPos"))
        if isinstance(pos, str) or isinstance(end, str):
            return MalformedReply(text[:2000], str(pos if isinstance(pos, str) else end))
        sorries.append(Sorry(goal, pos, end, state))
    known = {"env", "messages", "sorries"}
    extra = {k: v for k, v in obj.items() if k not in known}
    if env is None and not ({"proofState", "proofStatus", "goals"} & set(extra)):
        return MalformedReply(text[:2000], "reply has neither env nor a proof state")
    return CommandReply(env, tuple(messages), tuple(sorries), extra)


def _pos_json(pos: Pos) -> dict[str, int]:
    return {"line": pos.line, "column": pos.column}


def reply_to_json(reply: CommandReply | ErrorReply) -> dict[str, Any]:
    """The JSON object a reply came from (inverse of :func:`parse_reply`)."""
    if isinstance(reply, ErrorReply):
        return {"message": reply.message}
    out: dict[str, Any] = dict(reply.extra)
    if reply.sorries:
        out["sorries"] = [
            {k: v for k, v in (
                ("proofState", s.proof_state),
                ("pos", _pos_json(s.pos) if s.pos else None),
                ("goal", s.goal),
                ("endPos", _pos_json(s.end_pos) if s.end_pos else None),
            ) if v is not None}
            for s in reply.sorries
        ]
    if reply.messages:
        out["messages"] = [
            {k: v for k, v in (
                ("severity", m.severity),
                ("pos", _pos_json(m.pos) if m.pos else None),
                ("endPos", _pos_json(m.end_pos) if m.end_pos else None),
                ("data", m.data),
            ) if v is not None}
            for m in reply.messages
        ]
    if reply.env is not None:
        out["env"] = reply.env
    return out
