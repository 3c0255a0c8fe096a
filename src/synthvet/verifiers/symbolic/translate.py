"""From the strict syntax tree (:mod:`.parse`) to values built on sympy.

Our own translator, not sympy's ``parse_latex`` or latex2sympy: every node kind has one
meaning here, and anything whose meaning is open raises :class:`~.parse.ParseError`:
two ``\\pm`` in one expression, a negative number to a fractional power (principal or
real root?), a power or factorial too large to compute exactly.

Decimals become exact rationals (``0.1`` is 1/10, never a float), so comparisons of
exact values stay exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from synthvet.verifiers.symbolic.parse import Node, ParseError

__all__ = ["MAX_BITS", "Value", "interval", "safe_str", "to_expr", "to_set", "to_value"]

#: Largest exact integer (in bits) an answer may denote; beyond it we do not compute.
MAX_BITS = 200_000
_MAX_FACTORIAL = 5000
_MAX_SYMBOLIC_POWER = 200


@dataclass(frozen=True, slots=True)
class Value:
    """A translated answer.

    ``kind`` is one of ``expr`` (``items[0]`` a sympy expression), ``list`` (a bare
    top-level comma list), ``set`` (``\\{...\\}`` or the two values of ``\\pm``), ``group``
    (brackets: ``open``/``close`` say which; a tuple, or an interval when the ends are
    mixed), ``matrix`` (``items[0]`` a sympy Matrix), ``rel`` (``items`` the operands,
    ``ops`` the operators), ``sset`` (a sympy Set: unions, ``\\emptyset``), ``in``
    (``x \\in S``: ``items`` = (symbol expr, set value)).
    """

    kind: str
    items: tuple[Any, ...]
    ops: tuple[str, ...] = ()
    open: str = ""
    close: str = ""
    node: Node | None = None

    def show(self) -> str:
        """A short text form for evidence."""
        if self.kind == "expr":
            return _short(self.items[0])
        if self.kind == "matrix":
            return _short(str(self.items[0].tolist()))
        if self.kind == "rel":
            parts: list[str] = [safe_str(self.items[0])]
            for op, it in zip(self.ops, self.items[1:]):
                parts += [op, safe_str(it)]
            return _short(" ".join(parts))
        if self.kind == "sset":
            return _short(self.items[0])
        if self.kind == "in":
            return _short(f"{safe_str(self.items[0])} in {self.items[1].show()}")
        inner = ", ".join(v.show() for v in self.items)
        if self.kind == "set":
            return _short("{" + inner + "}")
        if self.kind == "group":
            return _short(self.open + inner + self.close)
        return _short(inner)


def _short(text: Any, limit: int = 300) -> str:
    text = safe_str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_str(obj: Any) -> str:
    """``str`` that survives huge integers (Python refuses > 4300 digits) and odd objects."""
    if isinstance(obj, str):
        return obj
    try:
        if hasattr(obj, "free_symbols"):  # sympy: unsorted printing is much faster
            from sympy import sstr

            return sstr(obj, order="none")
        return str(obj)
    except (ValueError, RecursionError):
        p, q = getattr(obj, "p", None), getattr(obj, "q", None)
        if isinstance(p, int) and isinstance(q, int):
            try:
                from sympy import N

                approx = f" ≈ {N(obj, 15)}"
            except Exception:
                approx = ""
            return f"<rational with {p.bit_length()}-bit numerator, {q.bit_length()}-bit " \
                   f"denominator{approx}>"
        return f"<{type(obj).__name__} too large to print>"


def _sympy() -> Any:
    import sympy

    return sympy


def _count_pm(node: Any) -> int:
    if not isinstance(node, Node):
        return 0
    own = 1 if node.kind in ("pm", "mp") else 0
    return own + sum(_count_pm(a) for a in node.args if isinstance(a, Node)) + sum(
        _count_pm(b) for a in node.args if isinstance(a, tuple) for b in a)


def to_value(node: Node) -> Value:
    """Translate a whole answer; raise :class:`ParseError` for what has no single meaning."""
    k = node.kind
    if k == "list":
        return Value("list", tuple(to_value(n) for n in node.args), node=node)
    if k == "set":
        return Value("set", tuple(to_value(n) for n in node.args), node=node)
    if k == "empty":
        return Value("sset", (_sympy().S.EmptySet,), node=node)
    if k == "group":
        open_, close, items = node.args
        return Value("group", tuple(to_value(n) for n in items), open=open_, close=close,
                     node=node)
    if k == "matrix":
        sp = _sympy()
        rows = [[to_expr(c) for c in row] for row in node.args]
        return Value("matrix", (sp.Matrix(rows),), node=node)
    if k == "rel":
        if _count_pm(node):
            lhs, rhs = node.args[0], node.args[-1]
            if len(node.args) == 3 and node.args[1] == "=" and lhs.kind == "sym" and (
                    not _count_pm(lhs)):
                # x = a \pm b: the two equations x = a + b and x = a - b
                x = to_expr(lhs)
                halves = tuple(Value("rel", (x, to_expr(rhs, pm=sign)), ops=("=",),
                                     node=Node("rel", (lhs, "=", rhs))) for sign in (1, -1))
                return Value("set", halves, node=node)
            raise ParseError("\\pm inside an equation or inequality")
        operands = tuple(to_expr(n) for n in node.args[0::2])
        return Value("rel", operands, ops=tuple(node.args[1::2]), node=node)
    if k == "in":
        elem, where = node.args
        return Value("in", (to_expr(elem), to_value(where)), node=node)
    if k in ("union", "inter", "minus"):
        return Value("sset", (to_set(node),), node=node)
    if k == "func" and node.args[0] == "matrix":
        return _matrix_call(node)
    n_pm = _count_pm(node)
    if n_pm > 1:
        raise ParseError("more than one \\pm in one expression")
    if n_pm == 1:
        plus, minus = to_expr(node, pm=1), to_expr(node, pm=-1)
        return Value("set", (Value("expr", (plus,)), Value("expr", (minus,))), node=node)
    return Value("expr", (to_expr(node),), node=node)


def _matrix_call(node: Node) -> Value:
    sp = _sympy()
    args = node.args[1]
    if len(args) != 1 or args[0].kind != "group":
        raise ParseError("Matrix([[...], ...]) expected")
    rows = []
    for row in args[0].args[2]:
        if row.kind == "group" and row.args[0] == "[":
            rows.append([to_expr(c) for c in row.args[2]])
        elif row.kind != "group":
            rows.append([to_expr(row)])
        else:
            raise ParseError("bad Matrix row")
    if any(len(r) != len(rows[0]) for r in rows):
        raise ParseError("ragged Matrix")
    return Value("matrix", (sp.Matrix(rows),), node=node)


def to_set(node: Node) -> Any:
    """A set-valued node as a sympy Set (intervals, unions, finite sets)."""
    sp = _sympy()
    k = node.kind
    if k == "union":
        return sp.Union(to_set(node.args[0]), to_set(node.args[1]))
    if k == "inter":
        return sp.Intersection(to_set(node.args[0]), to_set(node.args[1]))
    if k == "minus":
        return sp.Complement(to_set(node.args[0]), to_set(node.args[1]))
    if k == "empty":
        return sp.S.EmptySet
    if k == "set":
        return sp.FiniteSet(*[to_expr(n) for n in node.args])
    if k == "group" and len(node.args[2]) == 2:
        lo, hi = (to_expr(n) for n in node.args[2])
        return interval(lo, hi, node.args[0] == "(", node.args[1] == ")")
    raise ParseError(f"not a set: {k}")


def interval(lo: Any, hi: Any, left_open: bool, right_open: bool) -> Any:
    """A sympy Interval, refusing reversed or non-real ends (no silent empty sets)."""
    sp = _sympy()
    if not (lo.is_extended_real and hi.is_extended_real):
        raise ParseError("interval ends must be real numbers")
    if (lo == sp.oo or hi == -sp.oo) or (lo == -sp.oo and not left_open) or (
            hi == sp.oo and not right_open):
        raise ParseError("infinite interval end must be open")
    order = sp.sympify(hi - lo).is_extended_positive
    if order is not True:
        raise ParseError("interval ends are not in increasing order")
    return sp.Interval(lo, hi, left_open, right_open)


def _num_bits(x: Any) -> float:
    """Bits in the numerator and denominator of a rational (for size guards)."""
    return math.log2(abs(int(x.p)) + 1) + math.log2(abs(int(x.q)) + 1)


_FUNCS_1 = {
    "sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan", "sinh", "cosh",
    "tanh", "ln", "exp", "sqrt", "cbrt", "abs", "factorial", "floor", "ceiling",
}


def to_expr(node: Node, pm: int = 1) -> Any:
    """Translate a scalar node to a sympy expression (``pm`` picks the sign of ``\\pm``)."""
    sp = _sympy()
    k = node.kind
    a = node.args
    if k == "num":
        frac = a[1]
        return sp.Rational(frac.numerator, frac.denominator)
    if k == "sym":
        return sp.Symbol(a[0])
    if k == "const":
        return {"pi": sp.pi, "E": sp.E, "I": sp.I, "oo": sp.oo}[a[0]]
    if k == "neg":
        return -to_expr(a[0], pm)
    if k in ("pm", "mp"):
        sign = pm if k == "pm" else -pm
        right = to_expr(a[1], pm)
        left = to_expr(a[0], pm) if a[0] is not None else sp.Integer(0)
        return left + sign * right
    if k == "add":
        return to_expr(a[0], pm) + to_expr(a[1], pm)
    if k == "sub":
        return to_expr(a[0], pm) - to_expr(a[1], pm)
    if k == "mul":
        return to_expr(a[0], pm) * to_expr(a[1], pm)
    if k in ("div", "frac"):
        den = to_expr(a[1], pm)
        if den == 0:
            raise ParseError("division by zero")
        return to_expr(a[0], pm) / den
    if k == "pow":
        return _power(to_expr(a[0], pm), to_expr(a[1], pm))
    if k == "sqrt":
        return _root(to_expr(a[0], pm), sp.Integer(2))
    if k == "root":
        return _root(to_expr(a[1], pm), to_expr(a[0], pm))
    if k == "fact":
        return _factorial(to_expr(a[0], pm))
    if k == "abs":
        return sp.Abs(to_expr(a[0], pm))
    if k == "func":
        return _function(a[0], [to_expr(x, pm) for x in a[1]])
    if k in ("group", "set", "list", "matrix", "rel", "in", "union", "inter", "minus",
             "empty"):
        raise ParseError(f"a {k} where a number or expression was expected")
    raise ParseError(f"unknown node {k}")


def _power(base: Any, exp: Any) -> Any:
    sp = _sympy()
    if base.is_Number and exp.is_Number:
        if exp.is_Integer and base.is_Rational:
            if base == 0 and exp < 0:
                raise ParseError("zero to a negative power")
            if abs(int(exp)) * max(_num_bits(base), 1.0) > MAX_BITS:
                raise ParseError("power too large to compute exactly")
        elif exp.is_Rational and base.is_negative:
            raise ParseError("negative base with fractional exponent (principal or real root?)")
    if exp.is_Number and not exp.is_finite:
        raise ParseError("infinite exponent")
    if not base.is_number and exp.is_Integer and abs(exp) > _MAX_SYMBOLIC_POWER:
        # (x+y)^100000 would make every polynomial routine expand it: refuse up front
        raise ParseError("power of an expression too large to handle")
    if base.is_Integer and exp.is_Number is False and exp.is_number:
        # 2^(2^(2^10)): evaluate the exponent's size before sympy tries
        try:
            mag = abs(float(sp.N(exp, 15)))
        except (TypeError, ValueError):
            mag = math.inf
        if mag * max(_num_bits(base), 1.0) > MAX_BITS and exp.is_integer:
            raise ParseError("power too large to compute exactly")
    return sp.Pow(base, exp)


def _root(radicand: Any, index: Any) -> Any:
    sp = _sympy()
    if not (index.is_Integer and index >= 2):
        raise ParseError("root index must be an integer >= 2")
    if radicand.is_number and radicand.is_negative:
        if index % 2 == 0:
            return sp.root(radicand, index)  # imaginary, e.g. sqrt(-4) = 2i
        return sp.real_root(radicand, index)  # \sqrt[3]{-8} = -2 as written
    return sp.root(radicand, index)


def _factorial(x: Any) -> Any:
    sp = _sympy()
    if x.is_Number:
        if not (x.is_Integer and x >= 0):
            raise ParseError("factorial of a non-natural number")
        if x > _MAX_FACTORIAL:
            raise ParseError("factorial too large to compute exactly")
    return sp.factorial(x)


def _function(name: str, args: list[Any]) -> Any:
    sp = _sympy()
    if name in _FUNCS_1 and len(args) != 1:
        raise ParseError(f"{name} takes one argument")
    if name == "sqrt":
        return _root(args[0], sp.Integer(2))
    if name == "cbrt":
        return _root(args[0], sp.Integer(3))
    if name == "rootfn":
        if len(args) != 2:
            raise ParseError("root(x, n) takes two arguments")
        return _root(args[0], args[1])
    if name == "factorial":
        return _factorial(args[0])
    if name == "log":
        x, b = args
        if b == sp.E:
            return sp.log(x)
        if not (b.is_positive and b != 1) and b.is_number:
            raise ParseError("bad logarithm base")
        return sp.log(x, b)
    if name == "binomial":
        if len(args) != 2:
            raise ParseError("binomial takes two arguments")
        n, r = args
        if n.is_Integer and abs(n) > _MAX_FACTORIAL * 4:
            raise ParseError("binomial too large")
        return sp.binomial(n, r)
    if name == "rational":
        if len(args) != 2 or not all(x.is_Integer for x in args) or args[1] == 0:
            raise ParseError("Rational(p, q) takes two integers")
        return sp.Rational(args[0], args[1])
    table = {
        "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "cot": sp.cot, "sec": sp.sec,
        "csc": sp.csc, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "sinh": sp.sinh,
        "cosh": sp.cosh, "tanh": sp.tanh, "ln": sp.log, "exp": sp.exp, "abs": sp.Abs,
        "floor": sp.floor, "ceiling": sp.ceiling,
    }
    fn = table.get(name)
    if fn is None:
        raise ParseError(f"unsupported function {name}")
    arg = args[0]
    if name == "exp" and arg.is_Number and abs(arg) > 10**6:
        raise ParseError("exponential too large")
    return fn(arg)
