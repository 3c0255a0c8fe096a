"""The zygote imports the rarer standard modules (``ON_DEMAND``) only once a job showed
they are wanted. The scan that decides it, the bookkeeping, and in a real sandbox: a
module is there for the hosts after a job imported it, never before, a recycled sandbox
is asked again, and the zygote imports nothing outside its own list whatever it is sent."""

from __future__ import annotations

import keyword

from hypothesis import given, settings
from hypothesis import strategies as st

from synthvet.domains.code import CodeDomain
from synthvet.model import Limits, Status
from synthvet.testing import make_record
from synthvet.verifiers.sandbox._child import ON_DEMAND, PREIMPORT
from synthvet.verifiers.sandbox.preload import Preloads, imported_modules

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n))
dotted = st.lists(names, min_size=1, max_size=3).map(".".join)


@st.composite
def import_statements(draw: st.DrawFn) -> tuple[str, set[str]]:
    """A valid import statement, indented or not, and the top-level modules it imports."""
    mods = draw(st.lists(dotted, min_size=1, max_size=3))
    indent = draw(st.sampled_from(["", "    ", "\t"]))
    if draw(st.booleans()):
        line = f"from {mods[0]} import {draw(names)}"
        mods = mods[:1]
    else:
        line = "import " + ", ".join(
            m + (f" as {draw(names)}" if draw(st.booleans()) else "") for m in mods)
    return indent + line + draw(st.sampled_from(["", "  # a comment", "; x = 1"])), {
        m.split(".")[0] for m in mods}


@given(st.lists(import_statements(), max_size=5), st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_the_scan_finds_every_imported_module(stmts: list[tuple[str, set[str]]],
                                              noise: str) -> None:
    text = "\n".join([noise.replace("import", "")] + [s for s, _ in stmts])
    found = imported_modules(text)
    for _, mods in stmts:
        assert mods <= found


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_the_scan_takes_any_text(text: str) -> None:
    assert all(n.isidentifier() for n in imported_modules(text))


def test_the_lists_are_disjoint_and_standard() -> None:
    assert not ON_DEMAND & set(PREIMPORT)
    for name in ON_DEMAND | set(PREIMPORT):
        __import__(name)  # each is a module of this interpreter's standard library


def test_bookkeeping_asks_once_and_again_after_a_restart() -> None:
    p = Preloads()
    p.saw_job({"candidates": [{"code": "import decimal, os\nfrom fractions import F\n"
                                       "import colorsys\n"}],
               "tests": "    import copy\n"})
    # only the allow-listed, not-yet-asked names: not os (core), not colorsys (unlisted)
    assert p.take() == {"preload": ["copy", "decimal", "fractions"]}
    p.saw_job({"candidates": [{"code": "import decimal\n"}]})
    assert p.take() == {}
    p.saw_outcomes([{"status": "pass"}, {"status": "ran", "runs": [{"exit": 0}]}])
    assert p.take() == {}
    p.saw_outcomes([{"status": "ran", "runs": [{"exit": 0}, {"exit": 1}]}])
    assert p.take() == {"preload": ["traceback"]}
    p.saw_outcomes([{"status": "load_error"}])
    assert p.take() == {}
    p.restarted()
    assert p.take() == {"preload": ["copy", "decimal", "fractions", "traceback"]}


# ----------------------------------------------------------------------------- sandbox

#: a solution whose f says which of these modules its host already holds (`ast`,
#: `json`, `signal`: the sandbox itself uses their C layers only)
WATCHED = ("ast", "colorsys", "decimal", "fractions", "json", "signal")
PROBE = ("import sys\ndef f(x):\n"
         f"    return [m for m in {WATCHED!r} if m in sys.modules]\n")


def _expect(held: list[str]) -> object:
    return make_record({"domain": "code", "solution": PROBE, "entry_point": "f",
                        "tests": f"def check(candidate):\n    assert candidate(0) == {held!r}\n"})


USES = make_record({"domain": "code", "entry_point": "f",
                    "solution": "import decimal\nfrom fractions import Fraction\n"
                                "def f(x):\n    return x + 3\n",
                    "tests": "def check(candidate):\n    assert candidate(2) == 5\n"})


def _verified(domain: CodeDomain, record: object) -> None:
    v = domain.check(record, Limits(seconds=20))
    assert v.status is Status.VERIFIED, v


def test_hosts_hold_a_module_only_after_a_job_imported_it(domain: CodeDomain) -> None:
    _verified(domain, _expect([]))
    _verified(domain, _expect([]))  # a job that imports nothing asks for nothing
    _verified(domain, USES)
    _verified(domain, _expect(["decimal", "fractions"]))
    # a fresh sandbox holds only the core, and is asked for the rest with its first job
    domain._box().close()
    _verified(domain, _expect([]))
    _verified(domain, _expect(["decimal", "fractions"]))


def test_the_zygote_imports_nothing_outside_its_list(domain: CodeDomain) -> None:
    _verified(domain, _expect([]))
    # as if the trusted side asked for a module off the list: the zygote ignores it
    domain._box().preloads.wanted.add("colorsys")
    _verified(domain, _expect([]))
    _verified(domain, _expect([]))
