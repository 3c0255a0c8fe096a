"""A strict parser for final answers written in LaTeX, sympy/Python syntax or plain text.

The parser builds a small syntax tree (:class:`Node`) and refuses anything it does not
understand instead of guessing: a word it does not know ("cm", "dollars"), ``%``,
``\\log`` without a base, ``^\\circ``, ``\\dots``, ``\\approx``, text, a ratio ``1:2``,
``1/2x`` (is it ``x/2`` or ``1/(2x)``?), ``(1,000, 2)`` (thousands separator or list?),
``2\\frac{1}{2}`` (a mixed number or a product?), ``(x+1)2``, or LaTeX ``2^10`` (which
renders as 2¹0) all raise :class:`ParseError`, which the
domain turns into ``needs_review``. It never pulls a number out of a larger text.

The tree keeps what the writer wrote (the digits of a decimal, a ``\\frac`` of two
integers), which the form checks (:mod:`.forms`) need and sympy would throw away.
Translation to sympy happens in :mod:`.translate`.

Two modes are chosen from the text itself: *LaTeX* when it contains a backslash, math
delimiters (``$...$``), ``^{``/``_{`` or ``{,}``; otherwise *plain* (sympy/Python syntax
and everyday notation, where ``{1, 2}`` is a set as sympy prints it, and sympy's
``Interval(...)``, ``Interval.open(...)``, ``FiniteSet``, ``Union``, ``EmptySet`` are read). They differ only
where the notations disagree (and plain text with ``*`` or ``**`` is taken as sympy
syntax, where one-argument ``log`` is the natural logarithm): in LaTeX ``^`` takes one character or a braced group,
``\\frac12`` is ``1/2`` and ``E`` is a variable; in plain text ``^`` and ``**`` take a
whole operand and ``E`` is Euler's number. In both, ``e`` is Euler's number, ``i`` the
imaginary unit (``I`` too in plain text), and ``3.75e-17`` is a number in scientific notation, not ``3.75·e - 17``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = ["MAX_LENGTH", "Node", "ParseError", "parse_answer"]

#: Longer answers are not parsed (a final answer is short; a long one is a runaway risk).
MAX_LENGTH = 2000
_MAX_DEPTH = 60


class ParseError(ValueError):
    """The text is not an answer this parser accepts; ``reason`` says why, for people."""

    def __init__(self, reason: str, text: str = "", pos: int | None = None) -> None:
        where = f" at {pos}: {text[pos:pos + 20]!r}" if pos is not None and text else ""
        super().__init__(f"{reason}{where}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Node:
    """One syntax-tree node: ``kind`` plus its children or payload.

    Kinds: ``num`` (text, Fraction value, 'int'|'dec'|'sci'), ``sym`` (name), ``const``
    (pi|E|I|oo), ``neg``, ``add``/``sub``/``mul``/``div``/``frac``/``pow`` (two children;
    ``mul`` carries whether the sign was explicit), ``pm``/``mp`` (left may be None),
    ``sqrt``, ``root`` (index, radicand), ``func`` (name, args), ``fact``, ``abs``,
    ``group`` (open, close, items), ``set`` (items), ``matrix`` (rows), ``rel`` (operands
    and operators alternating), ``in`` (element, set), ``union``/``inter``/``minus``,
    ``list`` (top-level comma list), ``empty`` (the empty set).
    """

    kind: str
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:  # compact, for evidence
        if self.kind == "num":
            return str(self.args[0])
        if self.kind in ("sym", "const"):
            return str(self.args[0])
        return f"{self.kind}({', '.join(str(a) for a in self.args)})"


_REL_WORDS = {
    "=": "=", "==": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!=",
    "\\le": "<=", "\\leq": "<=", "\\leqslant": "<=", "\\ge": ">=", "\\geq": ">=",
    "\\geqslant": ">=", "\\ne": "!=", "\\neq": "!=", "\\lt": "<", "\\gt": ">",
}
#: LaTeX function commands and their canonical names.
_LATEX_FUNCS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec", "csc": "csc",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh",
    "tanh": "tanh", "ln": "ln", "exp": "exp", "log": "log",
}
#: Plain-text function names (sympy spelling and common aliases).
_PLAIN_FUNCS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec", "csc": "csc",
    "asin": "asin", "acos": "acos", "atan": "atan", "arcsin": "asin", "arccos": "acos",
    "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "ln": "ln",
    "exp": "exp", "log": "log", "sqrt": "sqrt", "cbrt": "cbrt", "Abs": "abs", "abs": "abs",
    "factorial": "factorial", "binomial": "binomial", "Rational": "rational",
    "floor": "floor", "ceiling": "ceiling", "Matrix": "matrix", "root": "rootfn",
}
_PLAIN_CONSTS = {"pi": "pi", "E": "E", "I": "I", "oo": "oo", "e": "E", "i": "I"}
_LATEX_CONSTS = {"pi": "pi", "infty": "oo", "infinity": "oo"}
#: Commands that are pure spacing or sizing and carry no meaning.
_IGNORED = {
    ",", ";", "!", ":", " ", "quad", "qquad", "displaystyle", "textstyle", "left", "right",
    "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
    "limits", "nolimits", "mathord",
}
_SYMPY_SETS = {"Interval", "FiniteSet", "Union", "EmptySet"}
_SET_OPS = (("cup", "union"), ("cap", "inter"), ("setminus", "minus"))
_MATRIX_ENVS = {"pmatrix", "bmatrix", "matrix", "Bmatrix", "smallmatrix"}
_WORD_SEPARATORS = re.compile(
    r"\s*,?\s*(?:\\(?:text|mathrm)\{\s*,?\s*(?:and|or)\s*\}"
    r"|(?<![A-Za-z\\])(?:and|or)(?![A-Za-z]))\s*")
_TYPOGRAPHIC = str.maketrans({"×": "*", "·": "*", "⋅": "*", "−": "-", "÷": "/"})
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_NUMBER = re.compile(r"(\d+\.\d+|\d+\.(?!\d)|\.\d+|\d+)")
_SCI = re.compile(r"[eE][+-]?\d+(?![A-Za-z0-9_])")


def _alpha(c: str) -> bool:
    """ASCII letters only: other scripts' letters are text, not variables."""
    return c.isascii() and c.isalpha()


def _digit(c: str) -> bool:
    return c.isascii() and c.isdigit()  # "²".isdigit() is True


def _alnum(c: str) -> bool:
    return _alpha(c) or _digit(c)


def _is_number_literal(node: Node) -> bool:
    return node.kind == "num" or (node.kind == "neg" and node.args[0].kind == "num")


def _strip_outer(text: str) -> str:
    """Remove math delimiters around the whole answer ($...$, \\(...\\), \\[...\\])."""
    t = text.strip()
    changed = True
    while changed and t:
        changed = False
        for open_, close in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
            if t.startswith(open_) and t.endswith(close) and len(t) >= len(open_) + len(close):
                inner = t[len(open_):len(t) - len(close)]
                if "$" not in inner:
                    t, changed = inner.strip(), True
                    break
    return t


def parse_answer(text: str) -> Node:
    """Parse one final answer strictly; raise :class:`ParseError` when unsure."""
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"answer longer than {MAX_LENGTH} characters")
    t = _strip_outer(text)
    wrapped = t != text.strip()
    if t.endswith(".") and not re.search(r"\d\.$", t):
        t = t[:-1].rstrip()
    if not t:
        raise ParseError("empty answer")
    if "\x00" in t:
        raise ParseError("control character in answer")
    if _THOUSANDS.fullmatch(t):  # the whole answer is one number with thousands separators
        digits = t.replace(",", "")
        return _Parser(digits, latex=False).parse_top()
    t = _WORD_SEPARATORS.sub(", ", t)
    # typographic operators: unambiguous, so normalise rather than refuse
    t = t.translate(_TYPOGRAPHIC)
    # math delimiters ($...$) or any backslash/brace mean the writer wrote LaTeX
    latex = "\\" in t or wrapped or bool(re.search(r"[\^_]\{|\{,\}", t))
    return _Parser(t, latex=latex).parse_top()


class _Parser:
    def __init__(self, text: str, *, latex: bool) -> None:
        self.s = text
        self.i = 0
        self.latex = latex
        self.depth = 0
        self.abs_depth = 0
        # plain text with explicit * or ** is program (sympy/Python) syntax, where log(x)
        # has one meaning: the natural logarithm
        self.sympy_syntax = not latex and "*" in text

    # ---------------------------------------------------------------- low level
    def fail(self, reason: str) -> ParseError:
        return ParseError(reason, self.s, self.i)

    def skip_ws(self) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r\n~":
                self.i += 1
                continue
            if c == "\\" and self.latex:
                m = re.match(r"\\([,;!: ]|[A-Za-z]+)", self.s[self.i:])
                if m and m.group(1) in _IGNORED:
                    if m.group(1) in ("left", "right") or m.group(1).startswith(("big", "Big")):
                        # \left. is an invisible delimiter: refuse (unbalanced meaning)
                        nxt = self.s[self.i + m.end():self.i + m.end() + 1]
                        if nxt == ".":
                            raise self.fail("\\left. / \\right. delimiter")
                    self.i += m.end()
                    continue
            break

    def peek(self, k: int = 0) -> str:
        self.skip_ws()
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def at_end(self) -> bool:
        self.skip_ws()
        return self.i >= len(self.s)

    def startswith(self, lit: str | tuple[str, ...]) -> bool:
        self.skip_ws()
        return self.s.startswith(lit, self.i)

    def command_here(self) -> str | None:
        """The name of the LaTeX command at the cursor (without backslash), if any."""
        self.skip_ws()
        m = re.match(r"\\([A-Za-z]+|.)", self.s[self.i:])
        return m.group(1) if m else None

    def eat(self, lit: str) -> bool:
        if self.startswith(lit):
            if _alpha(lit[-1:]) and lit.startswith("\\"):
                nxt = self.s[self.i + len(lit):self.i + len(lit) + 1]
                if _alpha(nxt):
                    return False
            self.i += len(lit)
            return True
        return False

    def expect(self, lit: str) -> None:
        if not self.eat(lit):
            raise self.fail(f"expected {lit!r}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.fail("nesting too deep")

    # ---------------------------------------------------------------- grammar
    def parse_comma_items(self) -> list[Node]:
        """``item (, item)*``, refusing a comma that may be a thousands separator."""
        items = [self.parse_item()]
        while self.eat(","):
            self.check_thousands_ambiguity(items[-1])
            items.append(self.parse_item())
        return items

    def parse_top(self) -> Node:
        items = self.parse_comma_items()
        if not self.at_end():
            raise self.fail("unexpected text")
        return items[0] if len(items) == 1 else Node("list", tuple(items))

    def check_thousands_ambiguity(self, prev: Node) -> None:
        """``1,000`` inside a list could be one thousand or the pair 1 and 0: refuse."""
        if prev.kind == "num" and prev.args[2] == "int" and len(prev.args[0]) <= 3:
            rest = self.s[self.i:]
            if re.match(r"\d{3}(?![\d.])", rest):
                raise self.fail("ambiguous comma: thousands separator or list separator?")

    def parse_item(self) -> Node:
        self.enter()
        try:
            first = self.parse_setexpr()
            if self.eat_command("in"):
                return Node("in", (first, self.parse_setexpr()))
            parts: list[Any] = [first]
            while True:
                op = self.rel_op()
                if op is None:
                    break
                parts.extend([op, self.parse_setexpr()])
            if len(parts) == 1:
                return first
            ops = parts[1::2]
            if len(ops) > 1 and ("=" in ops or "!=" in ops):
                raise self.fail("chained equation")
            if len(ops) > 1:
                dirs = {o[0] for o in ops}
                if len(dirs) > 1:
                    raise self.fail("chained inequality changes direction")
            return Node("rel", tuple(parts))
        finally:
            self.depth -= 1

    def eat_command(self, name: str) -> bool:
        return self.eat("\\" + name)

    def rel_op(self) -> str | None:
        self.skip_ws()
        for lit in ("<=", ">=", "!=", "==", "=", "<", ">"):
            if self.s.startswith(lit, self.i):
                self.i += len(lit)
                return _REL_WORDS[lit]
        cmd = self.command_here()
        if cmd and "\\" + cmd in _REL_WORDS:
            self.i += len(cmd) + 1
            return _REL_WORDS["\\" + cmd]
        if cmd in ("approx", "sim", "simeq", "cong", "equiv", "propto", "to", "rightarrow",
                   "Rightarrow", "implies", "iff", "subset", "subseteq", "mid"):
            raise self.fail(f"relation \\{cmd} is not a checkable answer")
        return None

    def parse_setexpr(self) -> Node:
        left = self.parse_expr()
        while True:
            op = next((kind for cmd, kind in _SET_OPS if self.eat_command(cmd)), None)
            if op is None:
                return left
            left = Node(op, (left, self.parse_expr()))

    def parse_expr(self) -> Node:
        self.enter()
        try:
            left: Node | None = None
            sign = self.leading_sign()
            if sign in ("pm", "mp"):
                left = Node(sign, (None, self.parse_term()))
            else:
                t = self.parse_term()
                left = Node("neg", (t,)) if sign == "-" else t
            while True:
                c = self.peek()
                if c in "+-" and c:
                    self.i += 1
                    op = "add" if c == "+" else "sub"
                elif self.eat_command("pm"):
                    op = "pm"
                elif self.eat_command("mp"):
                    op = "mp"
                else:
                    return left
                left = Node(op, (left, self.parse_term()))
        finally:
            self.depth -= 1

    def leading_sign(self) -> str | None:
        c = self.peek()
        if c == "+":
            self.i += 1
            return "+"
        if c == "-":
            self.i += 1
            return "-"
        if self.eat_command("pm"):
            return "pm"
        if self.eat_command("mp"):
            return "mp"
        return None

    def parse_term(self) -> Node:
        left = self.parse_factor()
        divided = False
        while True:
            self.skip_ws()
            if self.startswith("**"):
                raise self.fail("misplaced **")
            if self.peek() == "*":
                self.i += 1
                left = Node("mul", (left, self.parse_factor(), True))
            elif self.eat_command("cdot") or self.eat_command("times"):
                left = Node("mul", (left, self.parse_factor(), True))
            elif self.peek() == "/" or self.eat_command("div"):
                if self.peek() == "/":
                    self.i += 1
                left = Node("div", (left, self.parse_factor()))
                divided = True
            elif self.starts_implicit_factor():
                if divided:
                    raise self.fail("ambiguous implicit product after '/' (a/bc)")
                if _digit(self.peek()):
                    raise self.fail("a number written right after another factor")
                right = self.parse_factor()
                if _is_number_literal(left) and right.kind == "frac" and all(
                        a.kind == "num" for a in right.args):
                    raise self.fail("mixed number? (2\\frac{1}{2} is 5/2 or 1)")
                left = Node("mul", (left, right, False))
            else:
                return left

    def starts_implicit_factor(self) -> bool:
        c = self.peek()
        if not c:
            return False
        if _alnum(c) or c in "(":
            return True
        if c == "[" and not self.latex:
            return False
        if c == "|":
            return self.abs_depth == 0
        if c == "\\":
            cmd = self.command_here()
            if cmd is None:
                return False
            if cmd == "{":
                return False
            return not ("\\" + cmd in _REL_WORDS or cmd in ("cdot", "times", "div", "pm", "mp", "cup", "cap", "setminus", "in", "right", "end", "approx", "}", ")", "]", "\\", "rvert", "rVert", "rangle", "to"))
        return bool(c == "{" and self.latex)

    def parse_factor(self) -> Node:
        self.enter()
        try:
            c = self.peek()
            if c == "-" and not self.latex:  # 2*-3 in plain syntax
                self.i += 1
                return Node("neg", (self.parse_factor(),))
            base = self.parse_postfix()
            self.skip_ws()
            if self.startswith("**"):
                if self.latex:
                    raise self.fail("** in LaTeX")
                self.i += 2
                return Node("pow", (base, self.parse_exponent()))
            if self.peek() == "^":
                self.i += 1
                return Node("pow", (base, self.parse_exponent()))
            return base
        finally:
            self.depth -= 1

    def parse_exponent(self) -> Node:
        self.skip_ws()
        if self.latex:
            if self.peek() == "{":
                return self.parse_group_braces()
            if self.command_here() == "circ":
                raise self.fail("degrees (^\\circ) are units")
            m = _NUMBER.match(self.s, self.i)
            if m:
                if len(m.group(0)) > 1:
                    raise self.fail("ambiguous exponent: LaTeX ^ takes one character")
                self.i += 1
                return Node("num", (m.group(0), Fraction(int(m.group(0))), "int"))
            c = self.peek()
            if _alpha(c):
                self.i += 1
                return self.symbol_node(c)
            if c == "\\":
                return self.parse_primary()
            raise self.fail("bad exponent")
        # plain: a signed operand, right associative (2^3^2 = 2^9)
        c = self.peek()
        if c in "+-":
            self.i += 1
            inner = self.parse_factor()
            return Node("neg", (inner,)) if c == "-" else inner
        return self.parse_factor()

    def parse_postfix(self) -> Node:
        node = self.parse_primary()
        while True:
            if self.peek() == "!":
                if self.s.startswith("!=", self.i):
                    return node
                self.i += 1
                if self.s.startswith("!", self.i):
                    raise self.fail("double factorial")
                node = Node("fact", (node,))
            elif self.peek() == "'":
                raise self.fail("prime notation")
            else:
                return node

    def parse_group_braces(self) -> Node:
        self.expect("{")
        inner = self.parse_inner_until("}")
        self.expect("}")
        return inner

    def parse_inner_until(self, closer: str) -> Node:
        items = self.parse_comma_items()
        if not self.startswith(closer):
            raise self.fail(f"expected {closer!r}")
        if len(items) > 1:
            raise self.fail("comma inside a group")
        return items[0]

    def latex_arg(self) -> Node:
        """A LaTeX macro argument: a braced group or one character/command."""
        self.skip_ws()
        c = self.peek()
        if c == "{":
            return self.parse_group_braces()
        if _digit(c):
            self.i += 1
            return Node("num", (c, Fraction(int(c)), "int"))
        if _alpha(c):
            self.i += 1
            return self.symbol_node(c)
        if c == "\\":
            return self.parse_primary()
        raise self.fail("bad macro argument")

    def symbol_node(self, name: str) -> Node:
        if name == "e":
            return Node("const", ("E",))
        if name == "i":
            return Node("const", ("I",))
        if name in ("E", "I") and not self.latex:  # sympy spelling in plain text
            return Node("const", (name,))
        return Node("sym", (name,))

    def parse_number(self) -> Node:
        m = _NUMBER.match(self.s, self.i)
        assert m is not None
        text = m.group(0)
        end = m.end()
        # LaTeX thousands groups: 1{,}000 and 1\,000
        if self.latex and "." not in text and len(text) <= 3:
            while True:
                g = re.match(r"(\{,\}|\\,)(\d{3})(?!\d)", self.s[end:])
                if not g:
                    break
                text += g.group(2)
                end += g.end()
            if "." not in text:
                frac_part = re.match(r"\.\d+", self.s[end:])
                if frac_part and len(text) > 3:
                    text += frac_part.group(0)
                    end += frac_part.end()
        kind = "dec" if "." in text else "int"
        value = Fraction(text.rstrip(".")) if text != "." else None
        if value is None:
            raise self.fail("bad number")
        sci = _SCI.match(self.s, end)
        if sci:
            exp = int(sci.group(0)[1:])
            if abs(exp) > 400:
                raise self.fail("exponent too large")
            value = value * Fraction(10) ** exp
            text += sci.group(0)
            end = sci.end()
            kind = "sci"
        self.i = end
        nxt = self.s[end:end + 1]
        if _digit(nxt):
            raise self.fail("malformed number")
        return Node("num", (text, value, kind))

    def parse_primary(self) -> Node:
        self.skip_ws()
        if self.i >= len(self.s):
            raise self.fail("unexpected end")
        c = self.s[self.i]
        if _digit(c) or (c == "." and _digit(self.s[self.i + 1:self.i + 2])):
            node = self.parse_number()
            self.skip_ws()
            if self.i < len(self.s) and (_digit(self.s[self.i]) or self.s[self.i] == "."):
                raise self.fail("two numbers side by side")
            return node
        if c in "([":
            return self.parse_bracketed()
        if c == "{":
            if not self.latex:  # sympy prints a FiniteSet as {1, 2}
                self.i += 1
                items = self.parse_items_until("}")
                self.expect("}")
                return Node("set", tuple(items)) if items else Node("empty", ())
            return self.parse_group_braces()
        if c == "|":
            self.i += 1
            self.abs_depth += 1
            try:
                inner = self.parse_expr()
            finally:
                self.abs_depth -= 1
            self.expect("|")
            return Node("abs", (inner,))
        if c == "\\":
            return self.parse_command()
        if _alpha(c):
            return self.parse_word()
        if c == "%":
            raise self.fail("percent sign")
        raise self.fail(f"unexpected character {c!r}")

    def parse_word(self) -> Node:
        m = re.match(r"[A-Za-z]+", self.s[self.i:])
        assert m is not None
        word = m.group(0)
        if len(word) == 1 or (not self.latex and word in _SYMPY_SETS) or (
                not self.latex and word in _PLAIN_CONSTS) or (
                not self.latex and word in _PLAIN_FUNCS) or (self.latex and word in (
                    "sqrt", "sin", "cos", "tan", "ln", "exp")):
            pass
        else:
            raise self.fail(f"unknown word {word!r} (text or units?)")
        self.i += len(word)
        if len(word) == 1:
            name = word
            sub = self.subscript()
            if sub:
                return Node("sym", (name + "_" + sub,))
            return self.symbol_node(name)
        if word in _SYMPY_SETS and not self.latex:
            return self.parse_sympy_set(word)
        if word in _PLAIN_CONSTS and not self.latex:
            if self.peek() == "(" and word not in ("e", "i"):
                raise self.fail(f"{word} is a constant, not a function")
            return Node("const", (_PLAIN_CONSTS[word],))
        fname = _PLAIN_FUNCS.get(word, word)
        return self.finish_function(fname, plain_call=True)

    def parse_sympy_set(self, word: str) -> Node:
        """sympy's printed sets: Interval(a, b), Interval.open/Lopen/Ropen(a, b),
        FiniteSet(...), Union(...), EmptySet."""
        if word == "EmptySet":
            return Node("empty", ())
        brackets = ("[", "]")
        if word == "Interval":
            m = re.match(r"\.(open|Lopen|Ropen)", self.s[self.i:])
            if m:
                self.i += m.end()
                brackets = {"open": ("(", ")"), "Lopen": ("(", "]"),
                            "Ropen": ("[", ")")}[m.group(1)]
        self.expect("(")
        items = self.parse_items_until(")")
        self.expect(")")
        if word == "FiniteSet":
            return Node("set", tuple(items)) if items else Node("empty", ())
        if word == "Interval":
            if len(items) != 2:
                raise self.fail("Interval takes two ends")
            lo, hi = brackets
            # sympy's Interval is always open at an infinite end, whatever it prints
            if items[0] == Node("neg", (Node("const", ("oo",)),)):
                lo = "("
            if items[1] == Node("const", ("oo",)):
                hi = ")"
            return Node("group", (lo, hi, tuple(items)))
        if len(items) < 2:
            raise self.fail("Union of fewer than two sets")
        node = items[0]
        for other in items[1:]:
            node = Node("union", (node, other))
        return node

    def subscript(self) -> str:
        if not self.s.startswith("_", self.i):
            return ""
        self.i += 1
        if self.s.startswith("{", self.i):
            m = re.match(r"\{([A-Za-z0-9]+)\}", self.s[self.i:])
            if not m:
                raise self.fail("complex subscript")
            self.i += m.end()
            return m.group(1)
        m = re.match(r"[A-Za-z0-9]", self.s[self.i:])
        if not m:
            raise self.fail("bad subscript")
        self.i += 1
        return m.group(0)

    def finish_function(self, fname: str, *, plain_call: bool) -> Node:
        """After a function name: ``^{n}`` power, the argument(s), validation."""
        power: Node | None = None
        if self.latex and self.peek() == "^":
            self.i += 1
            power = self.parse_exponent()
        base: Node | None = None
        if fname == "log" and self.s.startswith("_", self.i):
            self.i += 1
            base = self.latex_arg() if self.latex else None
            if base is None:
                raise self.fail("log base")
        if self.peek() == "(":
            self.i += 1
            args = [self.parse_item()]
            while self.eat(","):
                args.append(self.parse_item())
            self.expect(")")
        elif fname == "matrix":
            raise self.fail("Matrix needs (")
        elif self.latex and not plain_call:
            arg = self.parse_power_operand()
            args = [arg]
            if self.starts_implicit_factor() and self.peek() != "\\":
                raise self.fail(f"ambiguous argument of \\{fname} (use parentheses)")
        else:
            raise self.fail(f"{fname} needs parentheses")
        if fname == "log":
            if base is not None:
                if len(args) != 1:
                    raise self.fail("log arity")
                args = [args[0], base]
            elif len(args) == 1 and self.sympy_syntax:
                args = [args[0], Node("const", ("E",))]  # sympy's log(x) is natural
            elif len(args) != 2:
                raise self.fail("log without a base is ambiguous (natural or base 10?)")
        node = Node("func", (fname, tuple(args)))
        if power is not None:
            if power.kind == "neg" or (power.kind == "num" and power.args[1] == -1):
                raise self.fail("ambiguous inverse-function exponent")
            node = Node("pow", (node, power))
        return node

    def parse_power_operand(self) -> Node:
        """An unparenthesised function argument: one factor (with its exponent)."""
        return self.parse_factor()

    def parse_command(self) -> Node:
        m = re.match(r"\\([A-Za-z]+|.)", self.s[self.i:])
        if not m:
            raise self.fail("lone backslash")
        cmd = m.group(1)
        self.i += m.end()
        if cmd in ("frac", "dfrac", "tfrac", "cfrac"):
            num = self.latex_arg()
            den = self.latex_arg()
            return Node("frac", (num, den))
        if cmd == "sqrt":
            if self.peek() == "[":
                self.i += 1
                idx = self.parse_expr()
                self.expect("]")
                return Node("root", (idx, self.sqrt_arg()))
            return Node("sqrt", (self.sqrt_arg(),))
        if cmd in _LATEX_CONSTS:
            return Node("const", (_LATEX_CONSTS[cmd],))
        if cmd in _LATEX_FUNCS:
            return self.finish_function(_LATEX_FUNCS[cmd], plain_call=False)
        if cmd in ("mathrm", "mathit", "operatorname", "textrm", "text", "mathbf"):
            m2 = re.match(r"\{\s*([A-Za-z]+)\s*\}", self.s[self.i:])
            if not m2:
                raise self.fail(f"\\{cmd} with unsupported content")
            word = m2.group(1)
            self.i += m2.end()
            if len(word) == 1 and cmd != "text":
                return self.symbol_node(word)
            if cmd == "operatorname" and word in _LATEX_FUNCS:
                return self.finish_function(_LATEX_FUNCS[word], plain_call=False)
            if cmd == "operatorname" and word in _PLAIN_FUNCS and _PLAIN_FUNCS[word] in (
                    "asin", "acos", "atan", "floor", "ceiling", "abs"):
                return self.finish_function(_PLAIN_FUNCS[word], plain_call=False)
            raise self.fail(f"text {word!r} in answer")
        if cmd == "{":
            items = self.parse_items_until("\\}")
            self.expect("\\}")
            return Node("set", tuple(items)) if items else Node("empty", ())
        if cmd in ("emptyset", "varnothing"):
            return Node("empty", ())
        if cmd in ("lvert", "vert", "lVert"):
            self.abs_depth += 1
            try:
                inner = self.parse_expr()
            finally:
                self.abs_depth -= 1
            if not (self.eat("\\rvert") or self.eat("\\vert") or self.eat("|")):
                raise self.fail("unclosed \\lvert")
            return Node("abs", (inner,))
        if cmd == "binom" or cmd == "dbinom" or cmd == "tbinom":
            return Node("func", ("binomial", (self.latex_arg(), self.latex_arg())))
        if cmd == "begin":
            return self.parse_matrix()
        if cmd in ("boxed", "fbox"):
            return self.parse_group_braces()
        if cmd == "(" or cmd == "[":
            raise self.fail("nested math delimiters")
        raise self.fail(f"unsupported command \\{cmd}")

    def sqrt_arg(self) -> Node:
        self.skip_ws()
        if self.peek() == "{":
            return self.parse_group_braces()
        c = self.peek()
        if _digit(c):
            if _digit(self.s[self.i + 1:self.i + 2]):
                raise self.fail("ambiguous \\sqrt argument (\\sqrt12 is sqrt(1)·2)")
            self.i += 1
            return Node("num", (c, Fraction(int(c)), "int"))
        return self.latex_arg()

    def parse_items_until(self, closer: str) -> list[Node]:
        if self.startswith(closer):
            return []
        return self.parse_comma_items()

    def parse_bracketed(self) -> Node:
        open_ = self.s[self.i]
        self.i += 1
        items = self.parse_items_until(")")
        self.skip_ws()
        close = self.s[self.i:self.i + 1]
        if close not in (")", "]"):
            raise self.fail("unclosed bracket")
        self.i += 1
        if not items:
            raise self.fail("empty brackets")
        if len(items) == 1:
            if open_ + close not in ("()", "[]"):
                raise self.fail("mismatched brackets around one item")
            if open_ == "[" and not self.latex:
                return Node("group", (open_, close, tuple(items)))
            return items[0]
        return Node("group", (open_, close, tuple(items)))

    def parse_matrix(self) -> Node:
        m = re.match(r"\{([A-Za-z]+)\}", self.s[self.i:])
        if not m or m.group(1) not in _MATRIX_ENVS:
            raise self.fail("unsupported environment")
        env = m.group(1)
        self.i += m.end()
        rows: list[tuple[Node, ...]] = []
        row: list[Node] = []
        while True:
            if self.eat("\\end"):
                m2 = re.match(r"\{([A-Za-z]+)\}", self.s[self.i:])
                if not m2 or m2.group(1) != env:
                    raise self.fail("mismatched \\end")
                self.i += m2.end()
                break
            if self.startswith("\\\\"):
                self.i += 2
                if not row:
                    raise self.fail("empty matrix row")
                rows.append(tuple(row))
                row = []
                continue
            row.append(self.parse_item())
            if self.eat("&"):
                if self.startswith(("&", "\\\\", "\\end")):
                    raise self.fail("empty matrix cell")
                continue
            if not (self.startswith(("\\\\", "\\end"))):
                raise self.fail("bad matrix cell")
        if row:
            rows.append(tuple(row))
        if not rows or any(len(r) != len(rows[0]) for r in rows) or not rows[0]:
            raise self.fail("ragged or empty matrix")
        return Node("matrix", tuple(rows))
