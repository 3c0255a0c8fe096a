"""The ``exact`` domain: ``answer`` equals ``reference`` after trimming white space.

For multiple choice, labels and short strings, and the cheapest domain, which makes
it the yardstick for the harness's own overhead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthvet.model import Limits, Record, Verdict, needs_review, refuted, verified

__all__ = ["ExactDomain"]


def _as_text(value: Any) -> str | None:
    """Strings as they are; whole numbers as their digits; anything else is not exact text."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


class ExactDomain:
    name = "exact"
    version = "1"
    fields = ("answer", "reference")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        if options:
            from synthvet.errors import UsageError

            raise UsageError(f"the exact domain takes no options, got {sorted(options)}")

    def check(self, record: Record, limits: Limits) -> Verdict:
        values: dict[str, str] = {}
        for name in self.fields:
            raw = record.get(name)
            if raw is None:
                return needs_review("missing_field", f"field {name!r} is missing",
                                    {"field": name})
            text = _as_text(raw)
            if text is None:
                return needs_review(
                    "parse_error",
                    f"field {name!r} must be a string or whole number, got "
                    f"{type(raw).__name__}",
                    {"field": name, "value": repr(raw)[:200]},
                )
            if not text:
                return needs_review("missing_field", f"field {name!r} is empty",
                                    {"field": name})
            values[name] = text
        evidence = {"answer": values["answer"], "reference": values["reference"]}
        if values["answer"] == values["reference"]:
            return verified("answer_matches", "answer equals reference", evidence)
        return refuted("answer_mismatch",
                       f"answer {values['answer'][:80]!r} != reference "
                       f"{values['reference'][:80]!r}", evidence)
