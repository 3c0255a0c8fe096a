"""The plain ``lean`` binary path, used when no REPL is configured.

One temporary file per candidate::

    <imports, then open/universe/option lines>        (the header)
    theorem __synthvet_pinned <signature> := sorry    (the statement, BEFORE the candidate)
    <the candidate, its duplicate import lines blanked>
    theorem __synthvet_check : type_of% @__synthvet_pinned := @_root_.<name>
    #print axioms _root_.<name>

Lean's messages are read with ``--json`` (one JSON object per message, with its position)
when the option ``json`` is on (default), else from the classic ``FILE:LINE:COL: error:
text`` lines; either way each message is attributed by line to the pinned statement, the
candidate or one of the two harness commands. A candidate that comments out the harness
lines (an unterminated ``/-``) leaves no ``#print axioms`` reply, which is never verified.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from synthvet.verifiers.lean._protocol import Message, Pos
from synthvet.verifiers.lean._source import Header, Statement, axioms_command, check_command

__all__ = ["LeanFile", "build_file", "parse_lean_output"]


@dataclass(frozen=True, slots=True)
class LeanFile:
    text: str
    #: 1-based line ranges (inclusive) of each part
    pinned: tuple[int, int]
    candidate: tuple[int, int]
    check_line: int
    axioms_line: int

    def part(self, line: int | None) -> str:
        if line is None:
            return "unknown"
        if self.pinned[0] <= line <= self.pinned[1]:
            return "pinned"
        if self.candidate[0] <= line <= self.candidate[1]:
            return "candidate"
        if line == self.check_line:
            return "check"
        if line == self.axioms_line:
            return "axioms"
        return "header" if line < self.pinned[0] else "unknown"


def build_file(header: Header, statement: Statement, candidate: str) -> LeanFile:
    lines: list[str] = list(header.lines)
    pinned = statement.pinned_command.split("\n")
    p0 = len(lines) + 1
    lines.extend(pinned)
    p1 = len(lines)
    lines.append("")  # the candidate starts on a fresh line after a blank one
    body = candidate.split("\n")
    c0 = len(lines) + 1
    lines.extend(body)
    c1 = len(lines)
    lines.append("")
    lines.append(check_command(statement.name))
    check_line = len(lines)
    lines.append(axioms_command(statement.name))
    axioms_line = len(lines)
    return LeanFile("\n".join(lines) + "\n", (p0, p1), (c0, c1), check_line, axioms_line)


_SEVERITY = {"error": "error", "warning": "warning", "information": "info", "info": "info"}


def _json_message(obj: object) -> Message | None:
    if not isinstance(obj, dict):
        return None
    sev = _SEVERITY.get(str(obj.get("severity", "")))
    data = obj.get("data")
    if sev is None or not isinstance(data, str):
        return None
    caption = obj.get("caption")
    if isinstance(caption, str) and caption:
        data = f"{caption}:\n{data}"
    pos = obj.get("pos")
    end = obj.get("endPos")

    def as_pos(v: object) -> Pos | None:
        if isinstance(v, dict) and isinstance(v.get("line"), int) and isinstance(
                v.get("column"), int):
            return Pos(int(v["line"]), int(v["column"]))
        return None

    return Message(sev, data, as_pos(pos), as_pos(end))  # type: ignore[arg-type]


_HEAD = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|info"
                   r"|information)(?:\([^)]*\))?: ?(?P<text>.*)$")


_AXIOMS_LINE = re.compile(r"^'.+' (?:depends on axioms:|does not depend on any axioms)")


def parse_lean_output(stdout: str, filename: str) -> tuple[list[Message], list[str]]:
    """Lean's messages from its output, plus lines that fit no format.

    Handles both ``lean --json`` (a JSON object a line) and the classic text, where an
    ``info`` message (the output of ``#print axioms``) carries no position and a message
    continues over the following lines until the next ``FILE:LINE:COL: severity:`` head.
    Never raises.
    """
    messages: list[Message] = []
    stray: list[str] = []
    current: list[str] | None = None
    head: tuple[str, Pos] | None = None

    def flush() -> None:
        nonlocal current, head
        if current is not None:
            text = "\n".join(current).rstrip("\n")
            if head is None:
                messages.append(Message("info", text, None, None))
            else:
                messages.append(Message(head[0], text, head[1], None))  # type: ignore[arg-type]
        current, head = None, None

    for line in stdout.splitlines():
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            try:
                obj = json.loads(stripped)
            except ValueError:
                obj = None
            msg = _json_message(obj)
            if msg is not None:
                flush()
                messages.append(msg)
                continue
        if _AXIOMS_LINE.match(line):
            # `#print axioms` output always starts a message of its own: in the classic
            # format it would otherwise read as the tail of the message before it.
            flush()
            current = [line]
            continue
        m = _HEAD.match(line)
        if m and (m.group("file") == filename or m.group("file").endswith("/" + filename)
                  or filename.endswith(m.group("file"))):
            flush()
            head = (_SEVERITY[m.group("sev")], Pos(int(m.group("line")), int(m.group("col"))))
            current = [m.group("text")]
        elif current is not None and head is not None:
            current.append(line)
        elif stripped:
            # A position-less info message (the classic format prints those bare).
            if current is None:
                current = []
            current.append(line)
        else:
            flush()
    flush()
    for msg in messages:
        if msg.pos is None and msg.severity != "info":
            stray.append(msg.data)
    return messages, stray
