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
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant) and isinstance(
                    body[0].value.value, str):
                body = body[1:]
            for stmt in body:
                yield from ast.walk(stmt)


def mutation_sites(tree: ast.Module) -> list[tuple[int, str]]:
    """(node index, kind) for every place a mutation operator applies."""
    sites: list[tuple[int, str]] = []
    seen: set[int] = set()
    for node in _in_functions(tree):
        if id(node) in seen:
            continue  # nested functions are walked twice
        seen.add(id(node))
        key = id(node)
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _CMP:
                    sites.append((key, f"cmp{i}"))
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BIN:
            sites.append((key, "bin"))
        elif isinstance(node, ast.BoolOp):
            sites.append((key, "bool"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            sites.append((key, "not"))
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            sites.append((key, "flipbool"))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            sites.append((key, "inc"))
            sites.append((key, "dec"))
    return sites


class _Apply(ast.NodeTransformer):
    def __init__(self, target: int, kind: str) -> None:
        self.target, self.kind = target, kind
        self.description = ""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if id(node) == self.target:
            return self._mutate(node)
        return super().generic_visit(node)

    def _mutate(self, node: ast.AST) -> ast.AST:
        line = getattr(node, "lineno", "?")
        k = self.kind
        if k.startswith("cmp") and isinstance(node, ast.Compare):
            i = int(k[3:])
            old = node.ops[i]
            new = _CMP[type(old)]()
            node.ops[i] = new
            self.description = f"line {line}: {_symbol(old)} -> {_symbol(new)}"
        elif k == "bin" and isinstance(node, (ast.BinOp, ast.AugAssign)):
            old_op = node.op
            node.op = _BIN[type(old_op)]()
            self.description = f"line {line}: {_symbol(old_op)} -> {_symbol(node.op)}"
        elif k == "bool" and isinstance(node, ast.BoolOp):
            old_b = node.op
            node.op = ast.Or() if isinstance(old_b, ast.And) else ast.And()
            self.description = f"line {line}: {_symbol(old_b)} -> {_symbol(node.op)}"
        elif k == "not" and isinstance(node, ast.UnaryOp):
            self.description = f"line {line}: `not` dropped"
            return node.operand
        elif k == "flipbool" and isinstance(node, ast.Constant):
            self.description = f"line {line}: {node.value} -> {not node.value}"
            return ast.copy_location(ast.Constant(not node.value), node)
        elif k in ("inc", "dec") and isinstance(node, ast.Constant):
            new_v = node.value + (1 if k == "inc" else -1)
            self.description = f"line {line}: {node.value} -> {new_v}"
            return ast.copy_location(ast.Constant(new_v), node)
        return node


def mutants(source: str, count: int, seed: str = "") -> list[Mutant]:
    """Up to ``count`` distinct mutants of ``source`` (fewer when it has fewer sites).

    Sites are sampled with a generator seeded by the source text, so the choice is
    stable across runs and machines. A source that does not parse has no mutants.
    """
    if count <= 0:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    sites = mutation_sites(tree)
    digest = hashlib.sha256((seed + source).encode("utf-8", "replace")).hexdigest()
    rng = random.Random(int(digest[:16], 16))
    order = list(range(len(sites)))
    rng.shuffle(order)
    out: list[Mutant] = []
    seen = {ast.unparse(tree)}
    for index in order:
        if len(out) >= count:
            break
        # re-parse each time: the transformer edits the tree in place
        fresh = ast.parse(source)
        fresh_sites = mutation_sites(fresh)
        target, kind = fresh_sites[index]
        tx = _Apply(target, kind)
        mutated = tx.visit(fresh)
        ast.fix_missing_locations(mutated)
        try:
            text = ast.unparse(mutated)
            compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError, RecursionError):
            continue
        if text in seen:
            continue
        seen.add(text)
        out.append(Mutant(text, tx.description or kind))
    return out
