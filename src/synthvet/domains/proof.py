"""The ``proof`` domain: a formal proof checked by the real proof checker.

Fields: ``system`` (``coq`` or ``lean``), ``statement`` (the theorem header the example is
about), ``proof`` (the full text submitted, which must prove exactly that statement under
that name) and optional ``imports`` (a string of lines or a list of lines).

The domain only validates fields and dispatches; the engines live in
:mod:`synthvet.verifiers.coq` and :mod:`synthvet.verifiers.lean` and are built lazily,
once per worker, on the first record of their system. When an engine (or its binary) is
not there, the record goes to review with ``checker_unavailable`` — never verified.

Options (``[domains.proof]``): a ``coq`` subtable or the equivalent ``coq_<key>`` keys
(``coq_allowed_axioms = ["Coq.Logic.Classical_Prop.classic"]``, ``coq_coqchk = false``,
``coq_coqc``, ``coq_coqchk_path``), and a ``lean`` subtable handed to the Lean checker
as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthvet.domains.base import CheckerStatus
from synthvet.model import Limits, Record, Verdict, needs_review

__all__ = ["SYSTEMS", "ProofDomain"]

#: The proof systems this domain knows, lower case.
SYSTEMS = ("coq", "lean")


def _normalise_imports(raw: Any) -> list[str] | None:
    """``imports`` as a list of non-empty lines; ``None`` when it has the wrong shape."""
    if raw is None:
        return []
    if isinstance(raw, str):
        items: list[Any] = [raw]
    elif isinstance(raw, (list, tuple)):
        items = list(raw)
    else:
        return None
    lines: list[str] = []
    for item in items:
        if not isinstance(item, str):
            return None
        lines += [line.strip() for line in item.splitlines() if line.strip()]
    return lines


def _text_field(record: Record, name: str) -> str | Verdict:
    """A required, non-blank string field, or the verdict saying what is wrong with it."""
    raw = record.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return needs_review("missing_field", f"field {name!r} is missing or empty",
                            {"field": name})
    if not isinstance(raw, str):
        return needs_review("parse_error", f"field {name!r} must be a string, got "
                                           f"{type(raw).__name__}", {"field": name})
    return raw


class ProofDomain:
    """Lean 4 and Coq proofs, checked by the real checkers with every known fake caught."""

    name = "proof"
    version = "1"
    fields = ("system", "statement", "proof", "imports")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        from synthvet.errors import UsageError

        options = dict(options or {})
        coq: dict[str, Any] = {}
        lean: dict[str, Any] = {}
        for key, value in options.items():
            if key == "coq" or key == "lean":
                if not isinstance(value, Mapping):
                    raise UsageError(f"[domains.proof] {key!r} must be a table, got "
                                     f"{value!r} ({type(value).__name__})")
                (coq if key == "coq" else lean).update(value)
            elif key.startswith("coq_"):
                coq_table = options.get("coq")
                short = key[len("coq_"):]
                if isinstance(coq_table, Mapping) and short in coq_table:
                    raise UsageError(f"[domains.proof] sets {short!r} twice: as {key!r} and "
                                     "in the coq table")
                coq[short] = value
            else:
                import difflib

                known = ["coq", "lean", "coq_allowed_axioms", "coq_coqchk", "coq_coqc",
                         "coq_coqchk_path"]
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise UsageError(f"[domains.proof] has no option {key!r}{hint} "
                                 f"(known: {', '.join(known)})")
        from synthvet.verifiers.coq import CoqChecker, CoqOptions

        CoqOptions.from_mapping(coq)  # validate now, so a bad config fails at load time
        self._coq_options = coq
        self._lean_options = lean
        from synthvet.verifiers.lean import LeanChecker

        # Built now, so a bad [domains.proof.lean] table is a config error at load time, and
        # both engines' versions key the ledger: upgrading Lean or Coq re-checks everything.
        lean_checker = LeanChecker(lean)
        self._checkers: dict[str, Any] = {"lean": lean_checker}
        self._coq_factory = CoqChecker
        self.version = (f"1+coq-{CoqChecker(coq).engine_version()}"
                        f"+{lean_checker.engine_version()}")

    # ------------------------------------------------------------------ checking
    def check(self, record: Record, limits: Limits) -> Verdict:
        texts: dict[str, str] = {}
        for name in ("system", "statement", "proof"):
            value = _text_field(record, name)
            if isinstance(value, Verdict):
                return value
            texts[name] = value
        system = texts["system"].strip().lower()
        if system in ("lean4", "lean 4"):
            system = "lean"
        if system not in SYSTEMS:
            return needs_review("unsupported_system",
                                f"proof system {system[:40]!r} is not supported (supported: "
                                f"{', '.join(SYSTEMS)})", {"system": system[:100]})
        imports = _normalise_imports(record.get("imports"))
        if imports is None:
            return needs_review("parse_error",
                                "field 'imports' must be a string or a list of strings",
                                {"field": "imports"})
        return self._checker(system).check(texts["statement"], texts["proof"], imports, limits)

    def _checker(self, system: str) -> Any:
        """The engine for ``system`` (Coq's is built on first use)."""
        if system in self._checkers:
            return self._checkers[system]
        checker: Any = self._coq_factory(self._coq_options)  # only coq is built lazily
        self._checkers[system] = checker
        return checker

    def checkers(self) -> list[CheckerStatus]:
        out: list[CheckerStatus] = []
        for system in SYSTEMS:
            out.extend(self._checker(system).checkers())
        return out
