"""Which standard library modules a sandbox's zygote should import before its next fork.

The zygote imports a core set at its start (:data:`._child.PREIMPORT`); every module it
holds makes each sandbox start and each fork dearer, so the rarer ones
(:data:`._child.ON_DEMAND`) wait until a job shows they are wanted: its code imports one,
or a failure printed a traceback. Then that job's host imports it once and every later
host of the sandbox has it. A recycled sandbox is asked again for all of them at once.

The scan is a regular expression over the program text, not a parse: a name it misses or
invents costs speed, never a verdict (the zygote imports nothing outside ON_DEMAND).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from synthvet.verifiers.sandbox._child import ON_DEMAND

__all__ = ["Preloads", "imported_modules"]

_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)|import[ \t]+([^\n#;]+))",
                     re.MULTILINE)


def imported_modules(text: str) -> set[str]:
    """The top-level module names of ``text``'s import statements (a line's first
    statement; ``from . import`` and the like are skipped)."""
    names: set[str] = set()
    for frm, imp in _IMPORT.findall(text):
        if frm:
            names.add(frm)
            continue
        for part in imp.split(","):
            words = part.split()
            if words:
                names.add(words[0].split(".")[0])
    return names


def _printed_traceback(outcome: Mapping[str, Any]) -> bool:
    """A host formatted a traceback with the ``traceback`` module: the solution failed
    to load, or an io program ended in an uncaught exception (exit status 1)."""
    if outcome.get("status") == "load_error":
        return True
    runs = outcome.get("runs")
    return type(runs) is list and any(type(r) is dict and r.get("exit") == 1 for r in runs)


class Preloads:
    """One sandbox's bookkeeping: what its zygote was asked to import, what to ask next."""

    __slots__ = ("asked", "wanted")

    def __init__(self) -> None:
        self.asked: set[str] = set()
        self.wanted: set[str] = set()

    def restarted(self) -> None:
        """A fresh zygote holds only the core set: ask it for everything again."""
        self.wanted |= self.asked
        self.asked = set()

    def saw_job(self, job: Mapping[str, Any]) -> None:
        texts = [job.get("tests"), job.get("reference")]
        cands = job.get("candidates")
        if type(cands) is list and cands and type(cands[0]) is dict:
            texts.append(cands[0].get("code"))  # mutants import what the solution does
        for text in texts:
            if type(text) is str and "import" in text:
                self.wanted |= (imported_modules(text) & ON_DEMAND) - self.asked

    def saw_outcomes(self, outcomes: Iterable[Any]) -> None:
        if "traceback" not in self.asked and any(
                type(o) is dict and _printed_traceback(o) for o in outcomes):
            self.wanted.add("traceback")

    def take(self) -> dict[str, list[str]]:
        """The ``preload`` field for the zygote's next request (empty when nothing new)."""
        if not self.wanted:
            return {}
        names, self.wanted = sorted(self.wanted), set()
        self.asked.update(names)
        return {"preload": names}
