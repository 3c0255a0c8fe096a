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
    EXPR  := VALUE | not EXPR | VALUE CMP VALUE
    VALUE := LIT | CALL | VALUE - VALUE | WRAP(VALUE) | round(VALUE, LIT)
             | math.isclose(VALUE, VALUE, rel_tol=LIT, abs_tol=LIT)   (with `import math`)
    CALL  := NAME(LIT, ..., KEY=LIT, ...)     NAME: the candidate, or a function of the
                                              solution by its own name
    WRAP  := set frozenset sorted list tuple len abs round
    CMP   := == != < <= > >= in | not in | is | is not   (is: with None, True, False)
    LIT   := a Python literal; + - * / ** between numbers (ints below 2**64 for * / **,
             exponents naturals below 64) and + between strings are folded, as the
             compiler folds them
"""

from __future__ import annotations

import ast
import builtins
import copy
import operator
from typing import Any

__all__ = ["extract"]

#: a probe expression: nested tuples of plain data, evaluated by :mod:`.direct`
Expr = tuple[Any, ...]

#: built-ins a probe may apply to values on the trusted side (all pure on plain data)
WRAPPERS = ("set", "frozenset", "sorted", "list", "tuple", "len", "abs", "round")
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.Pow: operator.pow}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
        ast.GtE: ">=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
_MISSING = object()


def _literal(node: ast.AST) -> Any:
    """What ``ast.literal_eval`` gives, with constant arithmetic folded; or _MISSING."""
    try:
        return _folded(node, 0)
    except (ValueError, TypeError, RecursionError, MemoryError):
        return _MISSING


def _folded(node: ast.AST, depth: int) -> Any:
    """A literal with arithmetic between numbers (``3 * 19``, ``2.0/3.0``) or ``+``
    between strings, as the compiler would fold it; ints are kept small so that folding
    cannot be made costly."""
    if depth > 50:
        raise ValueError("too deep")
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_folded(e, depth + 1) for e in node.elts]
        return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_folded(k, depth + 1): _folded(v, depth + 1)  # type: ignore[arg-type]
                for k, v in zip(node.keys, node.values)}
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "set" and not node.args and not node.keywords):
        return set()  # the one call literal_eval reads (`set` may not be rebound)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "str" and len(node.args) == 1 and not node.keywords):
        value = _folded(node.args[0], depth + 1)  # str(7): `str` may not be rebound either
        if value is None or type(value) in (bool, int, float, str):
            return str(value)
        raise ValueError("str() of something other than a scalar")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _number(operator.neg if isinstance(node.op, ast.USub) else operator.pos,
                       _folded(node.operand, depth + 1))
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        return _number(_ARITH[type(node.op)], _folded(node.left, depth + 1),
                       _folded(node.right, depth + 1))
    raise ValueError("not a literal")


def _number(op: Any, *args: Any) -> Any:
    if op is operator.add and len(args) == 2 and type(args[0]) is type(args[1]) and \
            type(args[0]) in (str, bytes):
        return op(*args)  # 'ab' + 'cd': no longer than the source text
    costly = op in (operator.mul, operator.truediv, operator.pow)  # others: linear in size
    for a in args:
        if type(a) not in (int, float, complex) or (
                costly and type(a) is int and abs(a) >= 2 ** 64):
            raise ValueError("arithmetic on something other than a small number")
    if op is operator.pow and not all(type(a) is int and 0 <= a < 64 for a in args[1:]):
        # 0**0, 2**10, 1.5**2: a small natural exponent (no 0**-1, no 10**10**10)
        raise ValueError("a power with other than a small natural exponent")
    try:
        return op(*args)
    except (ZeroDivisionError, OverflowError) as exc:
        raise ValueError("division by zero or overflow") from exc


class _Grammar:
    """Reads assert statements whose calls go to ``callees`` (test name -> solution name)."""

    def __init__(self, callees: dict[str, str], math: bool = False) -> None:
        self.callees = callees
        self.math = math  # the tests import math (and nothing rebinds it)

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

    def value(self, node: ast.AST) -> Expr | None:
        """A VALUE of the grammar, or None."""
        if isinstance(node, ast.Call):
            found = self.call(node) or self._builtin(node)
            if found is None:
                literal = _literal(node)  # set(), str(7)
                return None if literal is _MISSING else ("lit", literal)
            return found
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
            a, b = self.value(node.left), self.value(node.right)
            if a is not None and b is not None:
                return ("sub", a, b)
        if isinstance(node, (ast.Compare, ast.Name, ast.BoolOp, ast.Attribute)):
            return None  # never literals
        literal = _literal(node)
        return None if literal is _MISSING else ("lit", literal)

    def _builtin(self, node: ast.Call) -> Expr | None:
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "isclose" and self.math
                and isinstance(func.value, ast.Name) and func.value.id == "math"
                and len(node.args) == 2):
            kw = {}
            for k in node.keywords:
                bound = _literal(k.value)
                if k.arg not in ("rel_tol", "abs_tol") or bound is _MISSING:
                    return None
                kw[k.arg] = bound
            a, b = self.value(node.args[0]), self.value(node.args[1])
            return None if a is None or b is None else ("isclose", a, b, kw)
        if not (isinstance(func, ast.Name) and func.id in WRAPPERS and not node.keywords
                and 1 <= len(node.args) <= (2 if func.id == "round" else 1)):
            return None
        inner = self.value(node.args[0])
        extra = [_literal(a) for a in node.args[1:]]
        if inner is None or _MISSING in extra:
            return None
        return ("wrap", func.id, inner, extra)

    def expr(self, node: ast.AST) -> Expr | None:
        value = self.value(node)
        if value is not None:
            return value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.expr(node.operand)
            return None if inner is None else ("not", inner)
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
            return None
        op = _CMP.get(type(node.ops[0]))
        lhs, rhs = self.value(node.left), self.value(node.comparators[0])
        if op is None or lhs is None or rhs is None:
            return None
        if op in ("is", "is not") and not (rhs[0] == "lit" and any(
                rhs[1] is v for v in (None, True, False))):
            return None  # `is` with other values depends on object identity
        return ("cmp", op, lhs, rhs)

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
    """Statements that change nothing a probe reads: docstrings, ``pass``, a bare
    built-in's name (HumanEval/129's stray ``print``: the test runner never lets the
    solution's names shadow a built-in, and nothing else binds one in tests that are
    data)."""
    return isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and (
        _literal(stmt.value) is not _MISSING
        or (isinstance(stmt.value, ast.Name) and hasattr(builtins, stmt.value.id))))


def _constant(stmt: ast.stmt) -> str | None:
    """``NAME = literal`` at module level (HumanEval's METADATA): the name it binds."""
    if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name) and _literal(stmt.value) is not _MISSING):
        return stmt.targets[0].id
    return None


#: the most assert statements a test's loops may unroll to
MAX_UNROLLED = 1000


class _Bind(ast.NodeTransformer):
    """A loop variable's value in place of its name (a constant, as the grammar reads)."""

    def __init__(self, name: str, value: int) -> None:
        self.name, self.value = name, value

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == self.name:
            return ast.copy_location(ast.Constant(self.value), node)
        return node


def _turns(stmt: ast.For, taken: set[str]) -> tuple[str, range] | None:
    """``for NAME in range(LIT[, LIT[, LIT]]):`` with no ``else``: the name and its range."""
    it = stmt.iter
    if (stmt.orelse or stmt.type_comment or not isinstance(stmt.target, ast.Name)
            or stmt.target.id in taken or not isinstance(it, ast.Call)
            or not isinstance(it.func, ast.Name) or it.func.id != "range"
            or it.keywords or not 1 <= len(it.args) <= 3):
        return None
    bounds = [_literal(a) for a in it.args]
    if not all(type(b) is int and abs(b) < 2 ** 31 for b in bounds) or bounds[2:] == [0]:
        return None
    return stmt.target.id, range(*bounds)


def _body(stmts: list[ast.stmt], grammar: _Grammar, lines: list[str],
          taken: set[str]) -> list[dict[str, Any]] | None:
    """The probes of a block of asserts; a loop over a literal ``range`` whose body is
    such a block (HumanEval/44's ``for x in range(2, 8): assert candidate(x, x + 1) ==
    str(x)``) unrolls, its variable's value put in each turn's asserts. ``taken``: the
    names a loop variable may not rebind."""
    probes: list[dict[str, Any]] = []
    for stmt in stmts:
        if _inert(stmt):
            continue
        if isinstance(stmt, ast.For):
            loop = _turns(stmt, taken)
            if loop is None or len(loop[1]) * len(stmt.body) > MAX_UNROLLED - len(probes):
                return None
            name, turns = loop
            for value in turns:
                bind = _Bind(name, value)
                inner = _body([bind.visit(copy.deepcopy(s)) for s in stmt.body], grammar,
                              lines, taken | {name})
                if inner is None or len(probes) + len(inner) > MAX_UNROLLED:
                    return None
                probes += inner
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
    # names the grammar gives a meaning to; a module-level binding of any of them would
    # change that meaning, so the tests then run as code
    reserved = {*WRAPPERS, "math", "check", "str", "range"}
    math = False
    stmts: list[ast.stmt] = []
    checks: list[ast.FunctionDef] = []
    bound: set[str] = set()
    for stmt in tree.body:
        name = _constant(stmt)
        if name is not None:
            bound.add(name)
        elif (isinstance(stmt, ast.Import) and len(stmt.names) == 1
              and stmt.names[0].name == "math" and stmt.names[0].asname is None):
            math = True
        elif form == "check" and isinstance(stmt, ast.FunctionDef) and stmt.name == "check":
            checks.append(stmt)
        else:
            stmts.append(stmt)
    if bound & reserved:
        return None
    # the names the test runner binds to the solution's functions (it never lets one
    # shadow a built-in, `check` or `candidate`)
    own = {n: n for n in solution_functions
           if not hasattr(builtins, n) and n not in reserved | {"candidate"}}
    if form == "check" and entry:
        if len(checks) != 1 or not all(_inert(st) for st in stmts):
            return None
        fn = checks[0]
        a = fn.args
        if (fn.decorator_list or a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg
                or a.defaults or len(a.args) != 1 or a.args[0].arg in reserved):
            return None
        # HumanEval/33 calls the solution's function by its own name, besides `candidate`
        callees = {n: n for n in own if n not in bound and n != a.args[0].arg}
        callees[a.args[0].arg] = entry
        probes = _body(fn.body, _Grammar(callees, math), lines,
                       reserved | bound | set(callees) | {"candidate"})
    elif form == "script":
        callees = own
        if bound & set(callees):
            return None
        probes = _body(stmts, _Grammar(callees, math), lines,
                       reserved | bound | set(callees) | {"math", "candidate"})
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
