"""The symbolic engine of the math domain (sympy for algebra, mpmath for numerics).

Knows nothing of records. Pieces, in the order a check uses them:

* :mod:`.extract` — the one final answer in a response (``\\boxed{}``, "final answer is");
* :mod:`.parse` — a strict parser (LaTeX, sympy syntax, plain numbers) to a syntax tree;
  anything ambiguous or unknown raises :class:`ParseError`;
* :mod:`.translate` — the tree to sympy values (exact rationals, sets, intervals, ...);
* :mod:`.compare` — equal / different / unknown, with evidence: exact for exact values,
  proof + seeded high-precision probe for expressions, tolerance only when stated;
* :mod:`.forms` — written-form requirements (lowest terms, factored, ...);
* :mod:`.tasks` — checks without a reference (solve, antiderivative, ...);
* :mod:`.bounded` — a risky sympy call in a forked child under a time budget;
* :mod:`.engine` — :func:`verify_answer`, which ties them together.

sympy and mpmath are imported lazily, inside functions.
"""

from synthvet.verifiers.symbolic.compare import Outcome, Settings
from synthvet.verifiers.symbolic.engine import ENGINE_VERSION, verify_answer
from synthvet.verifiers.symbolic.extract import Extraction, extract_answer
from synthvet.verifiers.symbolic.parse import ParseError, parse_answer

__all__ = ["ENGINE_VERSION", "Extraction", "Outcome", "ParseError", "Settings",
           "extract_answer", "parse_answer", "verify_answer"]
