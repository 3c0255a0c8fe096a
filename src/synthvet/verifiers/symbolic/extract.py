"""Finding the claimed final answer in a full response text.

Rules, in order:

1. Every ``\\boxed{...}`` / ``\\fbox{...}`` (braces matched, nested braces allowed). If
   they do not all say the same thing, the answer is ambiguous. An unclosed box is
   ambiguous too.
2. Otherwise the last "final answer is X" / "Final Answer: X" (X up to the end of the
   line or sentence; ``$...$`` and ``**...**`` around X are removed).
3. When both a box and a "final answer" phrase exist and disagree: ambiguous.
4. Nothing found: no answer.

It never falls back to "the last number in the text".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Extraction", "extract_answer"]


@dataclass(frozen=True, slots=True)
class Extraction:
    """``answer`` is set when exactly one final answer was found; else ``problem`` says why
    (``ambiguous`` or ``none``) and ``detail`` explains."""

    answer: str | None
    method: str
    problem: str = ""
    detail: str = ""
    candidates: tuple[str, ...] = ()


_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
_FINAL = re.compile(r"final\s+answer\s*(?:is|:|=)\s*:?\s*", re.IGNORECASE)


def _boxes(text: str) -> tuple[list[str], bool]:
    out: list[str] = []
    for m in _BOX.finditer(text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            c = text[i]
            if c == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
                i += 2
                continue
            depth += {"{": 1, "}": -1}.get(c, 0)
            i += 1
        if depth:
            return out, False
        out.append(text[m.end():i - 1].strip())
    return out, True


def _clean(ans: str) -> str:
    a = ans.strip()
    for _ in range(3):
        a = a.strip()
        if a.endswith(".") and not re.search(r"\d\.$", a):
            a = a[:-1].rstrip()
        if a.startswith("**") and a.endswith("**") and len(a) > 4 or a.startswith("$$") and a.endswith("$$") and len(a) > 4:
            a = a[2:-2]
        elif a.startswith("$") and a.endswith("$") and len(a) > 2:
            a = a[1:-1]
        elif a.startswith("\\(") and a.endswith("\\)") or a.startswith("\\[") and a.endswith("\\]"):
            a = a[2:-2]
    a = a.strip()
    if a.endswith(".") and not re.search(r"\d\.$", a):
        a = a[:-1].rstrip()
    return a


def _norm(a: str) -> str:
    return re.sub(r"\s+", "", a)


def _final_phrase(text: str) -> str | None:
    matches = list(_FINAL.finditer(text))
    if not matches:
        return None
    rest = text[matches[-1].end():]
    line = rest.split("\n", 1)[0] if rest.strip() else ""
    if not line.strip() and "\n" in rest:  # "Final Answer:\n 42"
        line = rest.strip().split("\n", 1)[0]
    # end of sentence: ". " followed by more text
    m = re.search(r"\.\s+\S", line)
    if m:
        line = line[:m.start()]
    return _clean(line) or None


def extract_answer(text: str) -> Extraction:
    """The one final answer in ``text``, or why there is none."""
    boxes, closed = _boxes(text)
    if not closed:
        return Extraction(None, "boxed", "ambiguous", "an unclosed \\boxed{", tuple(boxes))
    boxes = [_clean(b) for b in boxes]
    phrase = _final_phrase(text)
    if boxes:
        distinct = sorted({_norm(b) for b in boxes})
        if len(distinct) > 1:
            return Extraction(None, "boxed", "ambiguous",
                              f"{len(distinct)} different boxed answers", tuple(boxes[:50]))
        if not boxes[-1]:
            return Extraction(None, "boxed", "none", "empty \\boxed{}")
        if phrase is not None and "\\boxed" not in phrase and "\\fbox" not in phrase and (
                _norm(phrase) != distinct[0]):
            return Extraction(None, "boxed", "ambiguous",
                              "the boxed answer and the 'final answer' phrase differ",
                              (boxes[-1], phrase))
        return Extraction(boxes[-1], "boxed")
    if phrase:
        return Extraction(phrase, "final_answer_phrase")
    return Extraction(None, "none", "none", "no \\boxed{} and no 'final answer is' phrase")
