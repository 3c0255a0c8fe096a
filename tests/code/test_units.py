"""Pure-Python parts: the wire format, mutants, io comparison, input generation."""

from __future__ import annotations

import json
import math
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthvet.domains.code import _io_equal, _same_value
from synthvet.verifiers.sandbox._child import (
    Unsupported,
    WireError,
    _fill_pools,
    _free_blocks,
    _parse,
    decode,
    encode,
    write_frame,
)
from synthvet.verifiers.sandbox.differential import Unannotated, generate_inputs
from synthvet.verifiers.sandbox.mutants import mutants

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.floats(allow_nan=False) | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=4)
    | st.frozensets(st.integers(), max_size=4),
    max_leaves=20)


@given(plain)
@settings(max_examples=200, deadline=None)
def test_wire_round_trip_keeps_types(value: object) -> None:
    back = decode(json.loads(json.dumps(encode(value))))
    assert back == value
    assert type(back) is type(value)


@pytest.mark.parametrize("value", [
    type("Liar", (), {"__eq__": lambda s, o: True})(),
    type("I", (int,), {"__eq__": lambda s, o: True})(0),
    type("S", (str,), {})("x"), [object()], {1: {2: iter([])}}, (lambda: 0),
], ids=["eq-object", "int-subclass", "str-subclass", "list-of-object", "iterator", "lambda"])
def test_encode_refuses_non_plain(value: object) -> None:
    with pytest.raises(Unsupported):
        encode(value)


@pytest.mark.parametrize("data", [
    {"x": 1}, {"l": 1}, {"l": [], "t": []}, {"d": [[{"l": []}, 1]]}, {"d": [[1]]},
    {"b": "zz"}, {"c": [1, "2"]}, [1, 2], {"s": [{"l": []}]},
], ids=str)
def test_decode_rejects_malformed(data: object) -> None:
    with pytest.raises(WireError):
        decode(data)


def test_decode_rejects_too_deep() -> None:
    data: object = 1
    for _ in range(300):
        data = {"l": [data]}
    with pytest.raises(WireError):
        decode(data)


def test_mutants_are_deterministic_and_different() -> None:
    src = "def f(xs):\n    total = 0\n    for x in xs:\n        if x > 1 and x < 10:\n" \
          "            total += x * 2\n    return total\n"
    a, b = mutants(src, 6), mutants(src, 6)
    assert [m.source for m in a] == [m.source for m in b]
    assert len(a) == 6
    assert len({m.source for m in a}) == 6
    for m in a:
        assert m.source != src
        compile(m.source, "<m>", "exec")
        assert m.description.startswith("line ")


def test_mutants_skip_docstrings_and_bad_source() -> None:
    assert mutants("def f():\n    '''doc 1 < 2'''\n", 5) == []
    assert mutants("def f(:\n", 5) == []
    assert mutants("x = 1 + 2\n", 5) == []  # module level is left alone


@pytest.mark.parametrize("expected,got,tol,ok", [
    ("3\n", "3", None, True), ("3\n", "3  \n\n", None, True), ("a b\n", "a  b\n", None, False),
    ("1\r\n2\r\n", "1\n2\n", None, True), ("0.333333", "0.3333333333", None, False),
    ("0.333333", "0.3333333333", 1e-6, True), ("0.333", "0.3333333333", 1e-6, False),
    ("1 2", "1 2 3", 1e-6, False), ("nan", "nan", 1e-6, True), ("x 1.0", "x 1", 1e-9, True),
    ("inf", "1e400", 1e-3, False),
], ids=lambda v: repr(v)[:20])
def test_io_comparison(expected: str, got: str, tol: float | None, ok: bool) -> None:
    assert _io_equal(expected, got, tol) is ok


def test_same_value_is_structural() -> None:
    assert _same_value([1, 2.0], [1, 2.0])
    assert not _same_value([1], (1,))
    assert not _same_value(True, 1)
    assert _same_value(0.1 + 0.2, 0.3)
    assert _same_value(float("nan"), float("nan"))
    assert not _same_value({"a": 1}, {"a": 2})
    assert not _same_value(1.0, math.inf)


def test_generate_inputs_follow_annotations() -> None:
    ref = "from typing import List, Tuple\ndef g(xs: List[int], s: str, t: Tuple[int, bool]) -> int:\n    return 0\n"
    inputs = generate_inputs(ref, "g", 30)
    assert 10 <= len(inputs) <= 30
    assert inputs == generate_inputs(ref, "g", 30)  # deterministic
    for xs, s, t in inputs:
        assert type(xs) is list and all(type(x) is int for x in xs)
        assert type(s) is str and type(t) is tuple and type(t[1]) is bool


@pytest.mark.parametrize("ref", [
    "def g(x):\n    return x\n", "def g(x: Foo) -> int:\n    return 1\n",
    "def g(*a: int):\n    return 1\n", "def h(x: int):\n    return 1\n", "def g(:\n",
], ids=["unannotated", "unknown-type", "varargs", "missing", "syntax"])
def test_generate_inputs_refuses(ref: str) -> None:
    with pytest.raises(Unannotated):
        generate_inputs(ref, "g", 5)


def test_mutants_splice_only_the_mutated_node() -> None:
    # the mutant keeps the source's own text (comments, docstring) but for the mutated node
    src = 'def f(x):\n    """Doc: 1 < 2."""\n    # keep me\n    return x  +  1  # and me\n'
    (m,) = mutants(src, 1)
    assert "# keep me" in m.source and "# and me" in m.source and '"""Doc: 1 < 2."""' in m.source
    assert m.source.count("\n") == src.count("\n")
    ns: dict = {}
    exec(compile(m.source, "<m>", "exec"), ns)  # noqa: S102
    assert ns["f"](5) != 6


def test_mutants_inside_fstrings_and_statements_compile() -> None:
    src = ("def f(x):\n    y = 0\n    y += x\n    s = f'{x + 1}'\n"
           "    return (y\n            > 3), s\n")
    ms = mutants(src, 10)
    assert ms
    for m in ms:
        compile(m.source, "<m>", "exec")
        assert m.source != src


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20)


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_frames_hold_what_json_dumps_writes(value: object) -> None:
    """Frames are written with json's C encoder called directly: the same bytes as
    ``json.dumps``, read back as ``json.loads`` reads them."""
    r, w = os.pipe()
    try:
        write_frame(w, value)
        data = os.read(r, 1 << 16)
    finally:
        os.close(r)
        os.close(w)
    text = json.dumps(value, separators=(",", ":"))
    assert data == len(text).to_bytes(4, "big") + text.encode()
    assert json.dumps(_parse(data[4:])) == json.dumps(value)


@given(st.binary(max_size=40) | json_values.map(lambda v: f" {json.dumps(v)}\n".encode()))
@settings(max_examples=300, deadline=None)
def test_frames_parse_as_json_loads_does(data: bytes) -> None:
    try:
        want = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        with pytest.raises(WireError):
            _parse(data)
        return
    assert json.dumps(_parse(data)) == json.dumps(want)


def test_fill_pools_takes_up_the_allocators_free_blocks() -> None:
    before = _free_blocks()
    if not before:
        pytest.skip("this Python reports no allocator statistics")
    keep = _fill_pools()
    after = _free_blocks()
    assert len(keep) > sum(before.values()) / 2

    def blocks(free: dict[int, int]) -> int:  # the sizes _fill_pools fills with bytes
        return sum(n for size, n in free.items() if size >= 48)

    assert blocks(after) < blocks(before) / 2, (before, after)
