"""Lean 4 proof checking: the REPL's JSON protocol, warm REPL pools, the ``lean`` binary.

The proof domain uses one object::

    checker = LeanChecker(options)   # the [domains.proof] table's "lean" subtable
    checker.check(statement, proof, imports, limits) -> Verdict
    checker.checkers() -> list[CheckerStatus]

Lean cannot be installed on the machines synthvet is developed on: without Lean every
record is ``needs_review``/``checker_unavailable``, never ``verified``.
"""

from synthvet.verifiers.lean._checker import DEFAULT_AXIOMS, LeanChecker, decide, parse_axioms
from synthvet.verifiers.lean._gate import RULES, GateHit, GateRule, scan
from synthvet.verifiers.lean._protocol import (
    CommandReply,
    ErrorReply,
    MalformedReply,
    Message,
    Pos,
    Sorry,
    encode_request,
    parse_reply,
    reply_to_json,
    split_stream,
)
from synthvet.verifiers.lean._repl import ReplPool, ReplSession, Transport

__all__ = [
    "LeanChecker",
    "DEFAULT_AXIOMS",
    "decide",
    "parse_axioms",
    "RULES",
    "GateRule",
    "GateHit",
    "scan",
    "CommandReply",
    "ErrorReply",
    "MalformedReply",
    "Message",
    "Pos",
    "Sorry",
    "encode_request",
    "parse_reply",
    "reply_to_json",
    "split_stream",
    "ReplPool",
    "ReplSession",
    "Transport",
]
