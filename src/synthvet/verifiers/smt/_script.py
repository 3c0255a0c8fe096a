"""Reading an SMT-LIB 2 script into the commands that define one satisfiability question.

Pure Python, no solver: it runs in the harness worker before anything is sent to the
solver process, so a malformed script is reported with a line number and never reaches
z3 or cvc5. It keeps what defines the problem (sort, constant, function and datatype
declarations and definitions, assertions, the logic) and drops what only steers a solver
or prints (``set-option``, ``set-info``, ``get-*``, ``echo``). Options are dropped on
purpose: the verifier pins its own solver options, and a script must not be able to turn
off model checking or change a seed.

What cannot be reduced to one question is rejected with :class:`ScriptError`:
``push``/``pop``, ``check-sat-assuming``, more than one ``check-sat``, or assertions and
declarations after the ``check-sat`` (which question would the claim be about?).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Decl", "Script", "ScriptError", "parse_script", "symbol_name"]

#: Commands that are part of the problem and are passed on to the solvers.
_PROBLEM = frozenset({
    "declare-const", "declare-fun", "declare-sort", "define-sort", "define-fun",
    "define-fun-rec", "define-funs-rec", "define-const", "declare-datatype",
    "declare-datatypes", "assert",
})
#: Commands that are tolerated and ignored (they print, or only steer a solver).
_IGNORED = frozenset({
    "set-info", "set-option", "get-model", "get-value", "get-info", "get-option",
    "get-assertions", "get-assignment", "get-proof", "get-unsat-core",
    "get-unsat-assumptions", "echo", "block-model", "block-model-values",
})
_UNSUPPORTED = frozenset({"push", "pop", "check-sat-assuming"})
_SIMPLE_SYMBOL = re.compile(r"[A-Za-z~!@$%^&*_+=<>.?/\-][A-Za-z0-9~!@$%^&*_+=<>.?/\-]*\Z")
MAX_SCRIPT_CHARS = 2_000_000
MAX_DEPTH = 5000


class ScriptError(ValueError):
    """The script cannot be read, or asks more than one question. ``line`` is 1-based."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Decl:
    """A declared (uninterpreted) symbol: a constant when ``arity`` is 0."""

    name: str
    arity: int
    sort: str  # the result sort as written, e.g. "Int", "(_ BitVec 8)"


@dataclass(frozen=True, slots=True)
class Script:
    """The problem part of a script, ready to be handed to a solver."""

    logic: str | None
    #: problem commands as text, in order (declarations, definitions, assertions)
    commands: tuple[str, ...]
    #: declared symbols by plain name, in declaration order
    decls: tuple[Decl, ...]
    #: names of nullary ``define-fun``/``define-const`` symbols (fixed by the script)
    defined_constants: tuple[str, ...]
    #: the text of each ``assert`` command, in order (for evidence)
    assertion_texts: tuple[str, ...]
    ignored: tuple[str, ...] = field(default=())

    @property
    def assertions(self) -> int:
        return len(self.assertion_texts)

    @property
    def body(self) -> str:
        return "\n".join(self.commands)

    def text(self, with_logic: bool) -> str:
        head = f"(set-logic {self.logic})\n" if with_logic and self.logic else ""
        return head + self.body


def symbol_name(token: str) -> str:
    """The plain name of a symbol token: ``|x|`` and ``x`` are the same symbol."""
    if len(token) >= 2 and token[0] == "|" and token[-1] == "|":
        return token[1:-1]
    return token


def quote_symbol(name: str) -> str:
    """``name`` as a token the solvers read back as the same symbol."""
    return name if _SIMPLE_SYMBOL.match(name) else f"|{name}|"


# ---- tokenizer -----------------------------------------------------------------------

def _tokens(text: str) -> list[tuple[str, int, int]]:
    """(token, start offset, line) for ``(``, ``)``, strings, quoted symbols and atoms."""
    out: list[tuple[str, int, int]] = []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r\f\v":
            i += 1
        elif c == ";":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "()":
            out.append((c, i, line))
            i += 1
        elif c == '"':
            j = i + 1
            while True:
                j = text.find('"', j)
                if j < 0:
                    raise ScriptError("unterminated string literal", line)
                if j + 1 < n and text[j + 1] == '"':  # "" is an escaped quote
                    j += 2
                    continue
                break
            out.append((text[i:j + 1], i, line))
            line += text.count("\n", i, j)
            i = j + 1
        elif c == "|":
            j = text.find("|", i + 1)
            if j < 0:
                raise ScriptError("unterminated |quoted symbol|", line)
            out.append((text[i:j + 1], i, line))
            line += text.count("\n", i, j)
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in ' \t\r\n\f\v();"|':
                j += 1
            out.append((text[i:j], i, line))
            i = j
    return out


def _top_level(text: str) -> list[tuple[list[object], int, int, int]]:
    """Top-level s-expressions as nested lists, with (start, end) offsets and line."""
    toks = _tokens(text)
    result: list[tuple[list[object], int, int, int]] = []
    stack: list[list[object]] = []
    start = line0 = 0
    for tok, pos, line in toks:
        if tok == "(":
            if not stack:
                start, line0 = pos, line
            if len(stack) >= MAX_DEPTH:
                raise ScriptError(f"nesting deeper than {MAX_DEPTH}", line)
            stack.append([])
        elif tok == ")":
            if not stack:
                raise ScriptError("unbalanced ')'", line)
            done = stack.pop()
            if stack:
                stack[-1].append(done)
            else:
                result.append((done, start, pos + 1, line0))
        else:
            if not stack:
                raise ScriptError(f"{tok[:40]!r} outside of a command", line)
            stack[-1].append(tok)
    if stack:
        raise ScriptError("unbalanced '(': the script ends inside a command",
                          toks[-1][2] if toks else 0)
    return result


def _sort_text(sexp: object) -> str:
    if isinstance(sexp, list):
        return "(" + " ".join(_sort_text(s) for s in sexp) + ")"
    return str(sexp)


def _need_symbol(cmd: list[object], index: int, what: str, line: int) -> str:
    if len(cmd) <= index or not isinstance(cmd[index], str):
        raise ScriptError(f"{cmd[0]}: expected {what}", line)
    return symbol_name(str(cmd[index]))


def parse_script(text: str) -> Script:
    """Read ``text``; raise :class:`ScriptError` when it is not one plain question."""
    if not isinstance(text, str):
        raise ScriptError(f"the script must be text, got {type(text).__name__}")
    if len(text) > MAX_SCRIPT_CHARS:
        raise ScriptError(f"script longer than {MAX_SCRIPT_CHARS} characters")
    if "\x00" in text:
        raise ScriptError("the script contains a NUL character")
    logic: str | None = None
    commands: list[tuple[str, str]] = []  # (command name, text)
    decls: dict[str, Decl] = {}
    defined: list[str] = []
    ignored: list[str] = []
    asserts: list[str] = []
    checked = False
    global_decls = False
    for sexp, start, end, line in _top_level(text):
        if not sexp or not isinstance(sexp[0], str):
            raise ScriptError("a command must start with its name", line)
        name = sexp[0]
        if name == "exit":
            break
        if name in _IGNORED:
            if name == "set-option" and len(sexp) >= 3 and sexp[1] == ":global-declarations":
                global_decls = sexp[2] == "true"
            ignored.append(name)
            continue
        if name in _UNSUPPORTED:
            raise ScriptError(f"({name}) is not supported: the claim must be about one "
                              "check-sat of one set of assertions", line)
        if name == "set-logic":
            if checked or commands or logic is not None:
                raise ScriptError("set-logic must come first and only once", line)
            logic = _need_symbol(sexp, 1, "a logic name", line)
            continue
        if name == "check-sat":
            if checked:
                raise ScriptError("more than one (check-sat): which one is claimed?", line)
            checked = True
            continue
        if name == "reset":
            logic, commands, decls, defined, asserts, checked = None, [], {}, [], [], False
            global_decls = False
            continue
        if name == "reset-assertions":
            if checked:
                raise ScriptError("(reset-assertions) after (check-sat) is not supported",
                                  line)
            if global_decls:
                commands = [c for c in commands if c[0] != "assert"]
            else:
                commands, decls, defined = [], {}, []
            asserts = []
            continue
        if name not in _PROBLEM:
            raise ScriptError(f"unknown or unsupported command ({name[:40]} ...)", line)
        if checked:
            raise ScriptError(f"({name} ...) after (check-sat): the claim would be ambiguous",
                              line)
        if name == "assert":
            if len(sexp) != 2:
                raise ScriptError("assert takes exactly one term", line)
            asserts.append(text[start:end])
        elif name in ("declare-const", "declare-fun"):
            sym = _need_symbol(sexp, 1, "a symbol", line)
            if name == "declare-const":
                if len(sexp) != 3:
                    raise ScriptError("declare-const takes a symbol and a sort", line)
                arity, sort = 0, sexp[2]
            else:
                if len(sexp) != 4 or not isinstance(sexp[2], list):
                    raise ScriptError("declare-fun takes a symbol, (argument sorts), a sort",
                                      line)
                arity, sort = len(sexp[2]), sexp[3]
            if sym in decls or sym in defined:
                raise ScriptError(f"symbol {sym!r} declared twice", line)
            decls[sym] = Decl(sym, arity, _sort_text(sort))
        elif name in ("define-fun", "define-const"):
            sym = _need_symbol(sexp, 1, "a symbol", line)
            if sym in decls or sym in defined:
                raise ScriptError(f"symbol {sym!r} declared twice", line)
            if name == "define-const" or (len(sexp) == 5 and sexp[2] == []):
                defined.append(sym)
        commands.append((name, text[start:end]))
    return Script(logic, tuple(c[1] for c in commands), tuple(decls.values()), tuple(defined),
                  tuple(asserts), tuple(ignored))
