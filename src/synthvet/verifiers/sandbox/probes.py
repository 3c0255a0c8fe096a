"""Tests that are data: literal asserts, read without running any test code.

Most synthetic and benchmark tests are lines like ``assert candidate([1, 2]) == 3``
(HumanEval's ``check``, MBPP's asserts). Their arguments and expected values are
literals, so the tests need not run as code at all: :func:`extract` turns them into
*probes*, plain data; the trusted side calls the candidate over the wire and does the
comparison itself (:mod:`.direct`). Nothing the record wrote executes outside the
candidate's own sandboxed process, and no test runner process is needed.

Anything outside the small grammar below returns ``None`` and the tests run as code in
the sandbox's test runner, as before. The grammar is chosen so that evaluating a probe
here means exactly what running the assert would mean there: the same calls in the same
order on one candidate process, the same Python operator on the same plain values.

    assert EXPR [, MESSAGE]          (MESSAGE: ignored unless a literal)
    EXPR := LIT | CALL | not EXPR | SIDE CMP SIDE | abs(SIDE - SIDE) (< | <=) LIT
    SIDE := LIT | CALL
    CALL := NAME(LIT, ..., KEY=LIT, ...)     NAME: the candidate
    CMP  := == != < <= > >= in | not in | is | is not   (is: with None, True, False)
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

__all__ = ["extract"]

#: a probe expression: nested tuples of plain data, evaluated by :mod:`.direct`
Expr = tuple[Any, ...]

_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
        ast.GtE: ">=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
_MISSING = object()


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _MISSING


class _Grammar:
    """Reads assert statements whose calls go to ``callees`` (test name -> solution name)."""

    def __init__(self, callees: dict[str, str]) -> None:
        self.callees = callees

    def call(self, node: ast.AST) -> Expr | None:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in self.callees):
            return None
        args = []
        for a in node.args:
            value = _literal(a)
            if value is _MISSING or isinstance(a, ast.Starred):
                return None
            args.append(value)
        kwargs = {}
        for k in node.keywords:
            value = _literal(k.value)
            if k.arg is None or value is _MISSING:
                return None
            kwargs[k.arg] = value
        return ("call", self.callees[node.func.id], args, kwargs)

    def side(self, node: ast.AST) -> Expr | None:
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, (ast.Compare, ast.Name, ast.BoolOp)):
            return None  # never literals: spare literal_eval the raise
        value = _literal(node)
        return None if value is _MISSING else ("lit", value)

    def expr(self, node: ast.AST) -> Expr | None:
        side = self.side(node)
        if side is not None:
            return side
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.expr(node.operand)
            return None if inner is None else ("not", inner)
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
            return None
        op = _CMP.get(type(node.ops[0]))
        left, right = node.left, node.comparators[0]
        if op in ("<", "<=") and self._abs_diff(left) is not None:
            bound = _literal(right)
            if bound is _MISSING:
                return None
            return ("cmp", op, self._abs_diff(left), ("lit", bound))
        lhs, rhs = self.side(left), self.side(right)
        if op is None or lhs is None or rhs is None:
            return None
        if op in ("is", "is not") and not (rhs[0] == "lit" and any(
                rhs[1] is v for v in (None, True, False))):
            return None  # `is` with other values depends on object identity
        return ("cmp", op, lhs, rhs)

    def _abs_diff(self, node: ast.AST) -> Expr | None:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "abs" and len(node.args) == 1 and not node.keywords
                and isinstance(node.args[0], ast.BinOp)
                and isinstance(node.args[0].op, ast.Sub)):
            return None
        a, b = self.side(node.args[0].left), self.side(node.args[0].right)
        if a is None or b is None:
            return None
        return ("abs", ("sub", a, b))

    def assertion(self, stmt: ast.stmt, lines: list[str]) -> dict[str, Any] | None:
        if not isinstance(stmt, ast.Assert):
            return None
        test = self.expr(stmt.test)
        if test is None:
            return None
        msg = _literal(stmt.msg) if stmt.msg is not None else None
        line = stmt.lineno
        return {"expr": test, "line": line,
                "source": lines[line - 1].strip()[:300] if 0 < line <= len(lines) else "",
                "message": "" if msg is _MISSING or msg is None else str(msg)[:500]}


def _inert(stmt: ast.stmt) -> bool:
    """Statements that change nothing a probe reads: docstrings, ``pass``."""
    return isinstance(stmt, ast.Pass) or (
        isinstance(stmt, ast.Expr) and _literal(stmt.value) is not _MISSING)


def _constant(stmt: ast.stmt) -> str | None:
    """``NAME = literal`` at module level (HumanEval's METADATA): the name it binds."""
    if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name) and _literal(stmt.value) is not _MISSING):
        return stmt.targets[0].id
    return None


def _body(stmts: list[ast.stmt], grammar: _Grammar, lines: list[str]) -> list[dict[str, Any]] | None:
    probes = []
    for stmt in stmts:
        if _inert(stmt):
            continue
        probe = grammar.assertion(stmt, lines)
        if probe is None:
            return None
        probes.append(probe)
    return probes


def extract(tests: str, form: str, entry: str | None, solution_functions: set[str],
            tree: ast.Module | None = None) -> list[dict[str, Any]] | None:
    """The probes of ``tests`` (parsed as ``tree`` if given), or ``None`` if they must
    run as code.

    ``form`` is the code domain's test form: ``check`` (a ``check(candidate)`` function
    called with ``entry``) or ``script`` (module-level asserts calling the solution's
    top-level functions, ``solution_functions``, by name).
    """
    if tree is None:
        try:
            tree = ast.parse(tests)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None
    lines = tests.splitlines()
    if form == "check" and entry:
        bound: list[str] = []
        checks = []
        for stmt in tree.body:
            name = _constant(stmt)
            if name is not None:
                bound.append(name)
            elif isinstance(stmt, ast.FunctionDef) and stmt.name == "check":
                checks.append(stmt)
            elif not _inert(stmt):
                return None
        if len(checks) != 1 or "check" in bound or "abs" in bound:
            return None
        fn = checks[0]
        a = fn.args
        if (fn.decorator_list or a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg
                or a.defaults or len(a.args) != 1):
            return None
        probes = _body(fn.body, _Grammar({a.args[0].arg: entry}), lines)
    elif form == "script":
        # the names the tests runner would bind to the solution's functions
        callees = {n: n for n in solution_functions
                   if not hasattr(builtins, n) and n not in ("check", "candidate", "abs")}
        stmts = []
        for stmt in tree.body:
            name = _constant(stmt)
            if name is not None:
                if name in callees or name == "abs":
                    return None
                continue
            stmts.append(stmt)
        probes = _body(stmts, _Grammar(callees), lines)
    else:
        return None
    if not probes or not any(_calls(p["expr"]) for p in probes):
        return None  # no call to the solution: the runner says so (weak evidence)
    return probes


def _calls(expr: Expr) -> bool:
    if expr[0] == "call":
        return True
    if expr[0] == "lit":
        return False
    return any(_calls(e) for e in expr[1:] if isinstance(e, tuple))
