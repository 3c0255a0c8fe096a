"""Lean source handling that needs no Lean: comments, the statement header, imports.

Only the harness's own text is built here; the candidate's text is never rewritten
except that ``import`` lines equal to the record's imports are dropped (the REPL refuses
``import`` in a command that runs in an existing environment, and the file runner puts
the imports at the top itself).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "PINNED",
    "CHECK",
    "Statement",
    "Header",
    "code_only",
    "parse_statement",
    "parse_header",
    "split_candidate_imports",
    "check_command",
    "axioms_command",
]

#: Harness-owned names; a candidate that mentions them goes to review (see the gate).
PINNED: Final = "__synthvet_pinned"
CHECK: Final = "__synthvet_check"

_OPEN = "([{⦃⟨⟦"
_CLOSE = ")]}⦄⟩⟧"


def code_only(text: str) -> str:
    """``text`` with comments and string/char literals blanked (newlines kept).

    Lean's block comments nest (``/- /- -/ -/``); ``--`` runs to the end of the line;
    strings take backslash escapes. A character literal is recognised only where an
    identifier cannot end (``h'`` is a name, ``'a'`` a char). An unterminated comment or
    string blanks the rest, as Lean would refuse the file anyway.
    """
    out: list[str] = []
    i, n = 0, len(text)

    def blank(chunk: str) -> str:
        return "".join("\n" if c == "\n" else " " for c in chunk)

    while i < n:
        c = text[i]
        if text.startswith("/-", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(blank(text[i:j]))
            i = j
        elif c == "'" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_'!?.")):
            m = re.match(r"'(?:\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)|[^\\'\n])'", text[i:])
            if m:
                out.append(blank(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _top_level(code: str, assign: bool) -> int:
    """Index of the first ``:=`` (``assign``) or lone ``:`` outside brackets, else -1.

    ``code`` has its comments and strings already blanked.
    """
    depth = 0
    for i, c in enumerate(code):
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth = max(0, depth - 1)
        elif c == ":" and depth == 0 and code.startswith(":=", i) == assign:
            return i
    return -1


_DECL = re.compile(
    r"\A\s*(?:@\[[^\]]*\]\s*)*(?:(?:private|protected|nonrec)\s+)*"
    r"(?P<kw>theorem|lemma)\s+(?P<name>[^\s(){}\[\]⦃⦄:]+)(?P<rest>.*)\Z",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Statement:
    """The pinned statement: the theorem's name and its binders-and-type text."""

    name: str
    #: everything after the name up to (not including) a top-level ``:=``
    signature: str

    @property
    def pinned_command(self) -> str:
        """The statement, renamed, elaborated in the base environment BEFORE the candidate.

        Its proof is ``sorry``: only its type is ever used (via ``type_of%``), and a
        candidate that leans on it picks up ``sorryAx`` (caught by the axiom check) and
        names a reserved identifier (caught by the gate).
        """
        # `:=` on its own line: a `--` comment ending the signature cannot swallow it.
        return f"theorem {PINNED}{self.signature}\n  := sorry"


def parse_statement(text: object) -> Statement | str:
    """The record's ``statement`` as a :class:`Statement`, or a problem description."""
    if not isinstance(text, str) or not text.strip():
        return "statement is missing or not text"
    code = code_only(text)
    cut = _top_level(code, assign=True)
    if cut >= 0:
        code, text = code[:cut], text[:cut]
    m = _DECL.match(code)
    if m is None:
        return "statement is not a `theorem NAME ... : TYPE` header"
    name = m.group("name")
    if name.startswith("_root_."):
        name = name[len("_root_."):]
    if not re.fullmatch(r"[\w.'!?«»\u00b7-\U0010ffff]+", name) or name.endswith("."):
        return f"statement names no usable theorem ({name!r})"
    signature = text[m.start("rest"):].rstrip()
    if _top_level(code_only(signature), assign=False) < 0:
        return "statement has no `: TYPE` after its binders"
    return Statement(name, signature)


_HEADER_LINE = re.compile(
    r"import\s+[\w.«»']+(?:\s+[\w.«»']+)*"
    r"|open\s+(?:scoped\s+)?[\w.«»' ]+"
    r"|universe\s+[\w ]+"
    r"|set_option\s+(?:maxHeartbeats|maxRecDepth|synthInstance\.maxHeartbeats)\s+\d+"
)


@dataclass(frozen=True, slots=True)
class Header:
    """Validated ``imports``: ``import`` lines first, then ``open``/``universe``/options."""

    imports: tuple[str, ...]
    others: tuple[str, ...]

    @property
    def lines(self) -> tuple[str, ...]:
        return self.imports + self.others

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _norm(line: str) -> str:
    return " ".join(line.split())


def parse_header(imports: object) -> Header | str:
    """Validate the record's ``imports`` (dataset text, so untrusted as well).

    Only ``import``, ``open [scoped]``, ``universe`` and a few resource options are
    accepted: the header runs before the pinned statement, so anything else (an
    ``axiom``, ``set_option debug.skipKernelTC``…) there would be outside every check.
    """
    if imports is None:
        return Header((), ())
    if isinstance(imports, str):
        imports = [imports]
    if not isinstance(imports, (list, tuple)):
        return "imports is not a list of lines"
    imp: list[str] = []
    other: list[str] = []
    for item in imports:
        if not isinstance(item, str):
            return "imports holds a non-text entry"
        for raw in code_only(item).splitlines():
            line = _norm(raw)
            if not line:
                continue
            if not _HEADER_LINE.fullmatch(line):
                return f"unsupported line in imports: {line[:80]!r}"
            target = imp if line.startswith("import ") else other
            if line not in target:
                target.append(line)
    return Header(tuple(imp), tuple(other))


_IMPORT_LINE = re.compile(r"^[ \t]*import[ \t]+[^\n]*$", re.MULTILINE)


def split_candidate_imports(proof: str, header: Header) -> tuple[str, list[str]]:
    """Drop the candidate's ``import`` lines that the header already has.

    Returns ``(proof_without_them, foreign_import_lines)``; a foreign import is one the
    record's ``imports`` do not list (the gate sends it to review). Lines are blanked,
    not removed, so Lean's line numbers still match the candidate's text.
    """
    code = code_only(proof)
    foreign: list[str] = []
    pieces: list[str] = []
    last = 0
    for m in _IMPORT_LINE.finditer(code):
        line = _norm(m.group(0))
        if line not in header.imports:
            foreign.append(line)
        pieces.append(proof[last:m.start()])
        last = m.end()
    pieces.append(proof[last:])
    return "".join(pieces), foreign


def check_command(name: str) -> str:
    """Harness-owned: the candidate's constant must have the pinned statement's type.

    ``type_of% @PINNED`` is the type elaborated before the candidate ran, so notation the
    candidate redefines cannot change it; ``_root_`` stops an ``open``ed namespace from
    supplying a different constant of the same short name.
    """
    return f"theorem {CHECK} : type_of% @{PINNED} := @_root_.{name}"


def axioms_command(name: str) -> str:
    return f"#print axioms _root_.{name}"


def names_equal(printed: str, name: str) -> bool:
    """Whether Lean's printed constant name is ``name`` (guillemets aside)."""
    strip = str.maketrans("", "", "«»")
    return printed.translate(strip) == name.translate(strip)


def reserved_names() -> Sequence[str]:
    return (PINNED, CHECK)
