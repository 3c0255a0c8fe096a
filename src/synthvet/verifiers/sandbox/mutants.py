"""Automatic mutants of a Python program, for judging how strong its tests are.

Small, classic operators applied one at a time inside function bodies: flipped
comparisons, swapped arithmetic and boolean operators, integer constants off by one,
``not`` dropped, ``True``/``False`` swapped. A test suite that passes on the program and
also on most of its mutants checks little; the code domain sends such records to review.

Deterministic: the same source and count always give the same mutants.
"""

from __future__ import annotations

import ast
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Mutant", "mutants", "mutation_sites"]

_CMP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
_BIN: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}


@dataclass(frozen=True, slots=True)
class Mutant:
    """One mutated program and a human description such as ``line 4: < -> <=``."""

    source: str
    description: str


def _symbol(op: ast.AST) -> str:
    names = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
             ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is",
             ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
             ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.BitAnd: "&",
             ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>", ast.And: "and",
             ast.Or: "or"}
    return names.get(type(op), type(op).__name__)


def _in_functions(tree: ast.Module) -> Iterator[ast.AST]:
    """Nodes inside function bodies (docstrings excluded), in source order."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
                    isinstance(first.value.value, str):
                body = body[1:]
            for stmt in body:
                yield from ast.walk(stmt)


def mutation_sites(tree: ast.Module) -> list[tuple[ast.AST, str]]:
    """(node, kind) for every place a mutation operator applies, in a stable order."""
    sites: list[tuple[ast.AST, str]] = []
    seen: set[int] = set()
    for node in _in_functions(tree):
        if id(node) in seen:
            continue  # nested functions are walked twice
        seen.add(id(node))
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _CMP:
                    sites.append((node, f"cmp{i}"))
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BIN:
            sites.append((node, "bin"))
        elif isinstance(node, ast.BoolOp):
            sites.append((node, "bool"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            sites.append((node, "not"))
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            sites.append((node, "flipbool"))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            sites.append((node, "inc"))
            sites.append((node, "dec"))
    return sites


def _apply(node: ast.AST, kind: str) -> tuple[str, Any]:
    """Mutate ``node`` in place; return a description and an undo function."""
    line = getattr(node, "lineno", "?")
    if kind.startswith("cmp") and isinstance(node, ast.Compare):
        i = int(kind[3:])
        old = node.ops[i]
        node.ops[i] = _CMP[type(old)]()

        def undo() -> None:
            node.ops[i] = old
        return f"line {line}: {_symbol(old)} -> {_symbol(node.ops[i])}", undo
    if kind in ("bin", "bool") and isinstance(node, (ast.BinOp, ast.AugAssign, ast.BoolOp)):
        old_op = node.op
        if isinstance(node, ast.BoolOp):
            node.op = ast.Or() if isinstance(old_op, ast.And) else ast.And()
        else:
            node.op = _BIN[type(old_op)]()  # type: ignore[index]

        def undo() -> None:
            node.op = old_op
        return f"line {line}: {_symbol(old_op)} -> {_symbol(node.op)}", undo
    if kind == "not" and isinstance(node, ast.UnaryOp):
        operand = node.operand
        node.operand = ast.UnaryOp(ast.Not(), operand)  # `not x` -> `not not x`

        def undo() -> None:
            node.operand = operand
        return f"line {line}: `not` dropped", undo
    if isinstance(node, ast.Constant):
        const = node
        old_v = const.value
        if kind == "flipbool":
            const.value = not old_v
        elif isinstance(old_v, int):
            const.value = old_v + (1 if kind == "inc" else -1)

        def undo() -> None:
            const.value = old_v
        return f"line {line}: {old_v!r} -> {const.value!r}", undo
    raise ValueError(kind)


def _span(node: ast.AST, data: bytes, starts: list[int]) -> tuple[int, int] | None:
    """Byte offsets of ``node``'s text in the source, if they provably hold the node
    (its text parses back to the same tree); None otherwise."""
    try:
        lo = starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        hi = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        segment = data[lo:hi].decode("utf-8")
        if isinstance(node, ast.stmt):
            body = ast.parse(segment).body
            back: ast.AST | None = body[0] if len(body) == 1 else None
        else:
            back = ast.parse(f"({segment})", mode="eval").body
    except (AttributeError, IndexError, TypeError, UnicodeDecodeError, SyntaxError,
            ValueError, RecursionError, MemoryError):
        return None
    if back is None or ast.dump(back) != ast.dump(node):
        return None
    return lo, hi


def mutants(source: str, count: int, seed: str = "") -> list[Mutant]:
    """Up to ``count`` distinct mutants of ``source`` (fewer when it has fewer sites).

    Sites are sampled with a generator seeded by the source text, so the choice is
    stable across runs and machines. A source that does not parse has no mutants.
    The tree is parsed once; each mutation is applied in place and undone. The mutant's
    text is the source with just the mutated node's text replaced (the node unparsed, in
    parentheses), when the node's recorded span is verifiably its own text; else the whole
    tree is unparsed. Either way the text must compile.
    """
    if count <= 0:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    sites = mutation_sites(tree)
    if not sites:
        return []
    digest = hashlib.sha256((seed + source).encode("utf-8", "replace")).hexdigest()
    rng = random.Random(int(digest[:16], 16))
    order = list(range(len(sites)))
    rng.shuffle(order)
    # Mutants of a `while` condition tend to loop forever and cost a whole timeout each:
    # try them last (the runner stops at the first killed mutant).
    in_while = {id(n) for w in ast.walk(tree) if isinstance(w, ast.While)
                for n in ast.walk(w.test)}
    order.sort(key=lambda i: id(sites[i][0]) in in_while)
    out: list[Mutant] = []
    seen = {source}
    data = source.encode("utf-8")
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    in_fstring = {id(n) for j in ast.walk(tree) if isinstance(j, ast.JoinedStr)
                  for n in ast.walk(j)}
    for index in order:
        if len(out) >= count:
            break
        node, kind = sites[index]
        span = None if id(node) in in_fstring else _span(node, data, starts)
        description, undo = _apply(node, kind)
        try:
            if span is not None:
                piece = ast.unparse(node)
                if not isinstance(node, ast.stmt):
                    piece = f"({piece})"
                text = (data[:span[0]] + piece.encode("utf-8") + data[span[1]:]).decode(
                    "utf-8")
            else:
                text = ast.unparse(tree)
            compile(text, "<mutant>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, UnicodeDecodeError):
            continue
        finally:
            undo()
        if text in seen:
            continue
        seen.add(text)
        out.append(Mutant(text, description))
    return out
