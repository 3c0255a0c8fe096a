"""Policy: where a machine's ``verified`` is not enough, send the record to an expert.

The machine decides what it can; policy decides where its word is trusted. Policy
only ever moves a **verified** verdict to ``needs_review``. It never turns anything
into ``verified`` and never touches ``refuted`` or ``needs_review`` verdicts, nor a
verdict an expert already settled (``expert_accepted``).

Configuration (``synthvet.toml``, or ``[tool.synthvet.policy]`` in pyproject.toml)::

    [policy]                      # run-wide defaults (optional)
    seed = "2026-q4"              # the audit sample's seed (string or integer)
    audit = 0.01                  # audit 1% of all verified records

    [policy.proof]                # per domain: the domain's name
    review = "always"             # every verified proof goes to an expert

    [policy.math]
    audit = 0.02                  # a seeded 2% sample of verified math records

    [policy.tags.difficulty.hard] # per tag value: [policy.tags.<tag>.<value>]
    audit = 0.25
    [policy.tags.source.gen-v3]
    review = "always"

Keys of a rule table: ``review`` (``"always"`` or ``"never"``, the default) and
``audit`` (a fraction from 0 to 1). ``seed``, ``review``, ``audit`` and ``tags`` are
reserved at the top of ``[policy]``; every other key there is a domain table.

When several rules match one record (the run-wide defaults, its domain, each of its
tags) the strictest wins: ``review = "always"`` if any matching rule says so
(reason ``high_stakes``), otherwise the record is audited with the largest matching
``audit`` fraction (reason ``audit_sample``). ``review = "never"`` in one rule does
not cancel ``"always"`` in another: policy only adds scrutiny.

The audit sample is a pure function of the seed and the record's content key
(SHA-256), not of run order, worker count or a random state: the same dataset and
seed give the same sample on every run and machine, and a record whose content
changes is drawn afresh. Raising the fraction keeps every record already sampled.

The moved verdict keeps the machine's original verdict under ``evidence["machine"]``
and the matching rules under ``evidence["policy"]``, so an expert sees what the
machine said, and the report counts what policy did.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from synthvet.errors import UsageError
from synthvet.model import Record, Status, Verdict, needs_review

__all__ = ["Policy", "Rule", "audit_draw"]

ReviewMode = Literal["always", "never"]
_REVIEW_MODES: Final = ("always", "never")
_RULE_KEYS: Final = ("review", "audit")
_RESERVED: Final = ("seed", "review", "audit", "tags")
#: verdicts an expert already settled are never sent back to experts by policy
_SETTLED_REASONS: Final = frozenset({"expert_accepted"})
DEFAULT_SEED: Final = "synthvet"


@dataclass(frozen=True, slots=True)
class Rule:
    """One policy table: where it applies (``scope``) and what it asks for."""

    scope: str  # "overall", "domain:<name>" or "tag:<tag>=<value>"
    review: ReviewMode = "never"
    audit: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "review": self.review, "audit": self.audit}


def _tag_text(value: Any) -> str:
    """A tag value as it is written in a TOML key (``true``, ``3``, ``hard``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def audit_draw(seed: str, content_key: str) -> float:
    """A number in [0, 1) fixed by ``seed`` and ``content_key``: the record's lottery ticket.

    A record is in the audit sample when its draw is below the audit fraction.
    """
    digest = hashlib.sha256(f"synthvet-audit\x00{seed}\x00{content_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _parse_rule(scope: str, where: str, table: Any) -> Rule:
    if not isinstance(table, Mapping):
        raise UsageError(
            f"{where} must be a table with keys 'review' and/or 'audit', got "
            f"{table!r} ({type(table).__name__})"
        )
    unknown = sorted(str(k) for k in table if k not in _RULE_KEYS)
    if unknown:
        raise UsageError(
            f"{where} has unknown key(s) {unknown}; a policy rule takes 'review' "
            f"(\"always\" or \"never\") and 'audit' (a fraction from 0 to 1)"
        )
    review = table.get("review", "never")
    if review not in _REVIEW_MODES:
        raise UsageError(
            f"{where}.review must be \"always\" or \"never\", got {review!r} "
            f"({type(review).__name__})"
        )
    audit = table.get("audit", 0.0)
    if isinstance(audit, bool) or not isinstance(audit, (int, float)):
        raise UsageError(
            f"{where}.audit must be a fraction from 0 to 1 such as 0.02, got {audit!r} "
            f"({type(audit).__name__})"
        )
    if not math.isfinite(audit) or not 0.0 <= float(audit) <= 1.0:
        raise UsageError(
            f"{where}.audit must be a fraction from 0 to 1 such as 0.02, got {audit!r}"
            + (" (did you mean a percentage? write 0.02 for 2%)" if audit > 1 else "")
        )
    return Rule(scope=scope, review=review, audit=float(audit))


class Policy:
    """The parsed ``[policy]`` tables, applied to each verdict after the machine's check.

    Build it with :meth:`from_config`. :meth:`apply` is safe to call from several
    threads; it counts what it did for :meth:`describe`. Apply it in the process that
    writes the run folder, so the counts are complete.
    """

    def __init__(
        self,
        *,
        seed: str = DEFAULT_SEED,
        overall: Rule | None = None,
        domains: Mapping[str, Rule] | None = None,
        tags: Mapping[tuple[str, str], Rule] | None = None,
    ) -> None:
        self.seed = seed
        self.overall = overall
        self.domains: dict[str, Rule] = dict(domains or {})
        self.tags: dict[tuple[str, str], Rule] = dict(tags or {})
        self._lock = threading.Lock()
        self._seen_verified: Counter[str] = Counter()
        self._moved: dict[str, Counter[str]] = {"high_stakes": Counter(), "audit_sample": Counter()}

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None, *,
                    known_domains: Iterable[str] | None = None) -> Policy:
        """Build from the whole config mapping (reads its ``policy`` table, if any).

        With ``known_domains`` (the installed domains' names), a ``[policy.<name>]`` for
        a domain that does not exist is an error instead of a rule that never matches.

        Raises:
            UsageError: a table or value is malformed; the message names it and the fix.
        """
        table = (config or {}).get("policy", {})
        if table is None:
            table = {}
        if not isinstance(table, Mapping):
            raise UsageError(
                f"[policy] must be a table, got {table!r} ({type(table).__name__})"
            )
        seed_raw = table.get("seed", DEFAULT_SEED)
        if isinstance(seed_raw, bool) or not isinstance(seed_raw, (str, int)):
            raise UsageError(
                f"policy.seed must be a string or an integer, got {seed_raw!r} "
                f"({type(seed_raw).__name__})"
            )
        overall_table = {k: table[k] for k in _RULE_KEYS if k in table}
        overall = _parse_rule("overall", "policy", overall_table) if overall_table else None

        domains: dict[str, Rule] = {}
        for key, value in table.items():
            if key in _RESERVED:
                continue
            if key == "tag":
                raise UsageError(
                    "[policy.tag...]: tag rules go in [policy.tags.<tag>.<value>], e.g. "
                    "[policy.tags.difficulty.hard] with review = \"always\""
                )
            if known_domains is not None and key not in set(known_domains):
                names = sorted(set(known_domains))
                close = difflib.get_close_matches(str(key), names, n=1)
                hint = f" (did you mean [policy.{close[0]}]?)" if close else ""
                raise UsageError(
                    f"[policy.{key}] names no installed domain{hint}; domains: "
                    f"{', '.join(names)}; tag rules go in [policy.tags.<tag>.<value>]"
                )
            if not isinstance(value, Mapping):
                raise UsageError(
                    f"policy.{key} = {value!r} is not a table: keys directly under [policy] "
                    f"are {list(_RESERVED)}; a domain's rules go in a table [policy.{key}] "
                    f"with 'review' and/or 'audit'"
                )
            domains[str(key)] = _parse_rule(f"domain:{key}", f"policy.{key}", value)

        tags: dict[tuple[str, str], Rule] = {}
        tag_table = table.get("tags", {})
        if not isinstance(tag_table, Mapping):
            raise UsageError(
                f"policy.tags must be a table of tables such as "
                f"[policy.tags.difficulty.hard], got {tag_table!r}"
            )
        for tag, values in tag_table.items():
            if not isinstance(values, Mapping) or not all(
                isinstance(v, Mapping) for v in values.values()
            ):
                raise UsageError(
                    f"policy.tags.{tag} must hold one table per tag value, e.g. "
                    f"[policy.tags.{tag}.hard] with review = \"always\"; got {values!r}"
                )
            for value, rule_table in values.items():
                tags[(str(tag), str(value))] = _parse_rule(
                    f"tag:{tag}={value}", f"policy.tags.{tag}.{value}", rule_table
                )
        return cls(seed=str(seed_raw), overall=overall, domains=domains, tags=tags)

    # -- use ------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether any rule could move a verdict (else :meth:`apply` is the identity)."""
        return any(r.review == "always" or r.audit > 0 for r in self.rules())

    def rules(self) -> list[Rule]:
        """Every configured rule: overall first, then domains, then tags (sorted)."""
        out = [self.overall] if self.overall else []
        out += [self.domains[d] for d in sorted(self.domains)]
        out += [self.tags[k] for k in sorted(self.tags)]
        return out

    def matching(self, record: Record) -> list[Rule]:
        """The rules that apply to ``record``: overall, its domain, each of its tags."""
        out = [self.overall] if self.overall else []
        if record.domain in self.domains:
            out.append(self.domains[record.domain])
        for tag, value in sorted((str(k), v) for k, v in (record.tags or {}).items()):
            if isinstance(value, (Mapping, list)):
                continue
            rule = self.tags.get((tag, _tag_text(value)))
            if rule is not None:
                out.append(rule)
        return out

    def apply(self, record: Record, verdict: Verdict) -> Verdict:
        """The verdict after policy: ``verdict`` itself, or a ``needs_review`` copy of it.

        Only a machine-``verified`` verdict can move. The copy keeps id, domain,
        verifier, seconds and cached, and stores the original under
        ``evidence["machine"]``.
        """
        if verdict.status is not Status.VERIFIED or verdict.reason in _SETTLED_REASONS:
            return verdict
        rules = self.matching(record)
        with self._lock:
            self._seen_verified[record.domain] += 1
        if not rules:
            return verdict
        always = [r for r in rules if r.review == "always"]
        if always:
            reason = "high_stakes"
            detail = (f"verified by the machine, but policy ({', '.join(r.scope for r in always)})"
                      f" sends every such record to an expert")
            why: dict[str, Any] = {"rules": [r.to_dict() for r in always]}
        else:
            fraction = max(r.audit for r in rules)
            if fraction <= 0.0:
                return verdict
            draw = audit_draw(self.seed, record.content_key)
            if draw >= fraction:
                return verdict
            chosen = [r for r in rules if r.audit == fraction]
            reason = "audit_sample"
            detail = (f"verified by the machine; drawn for the {fraction:g} audit sample "
                      f"({', '.join(r.scope for r in chosen)})")
            why = {"rules": [r.to_dict() for r in chosen], "seed": self.seed,
                   "draw": round(draw, 6), "fraction": fraction}
        machine = {
            "status": verdict.status.value,
            "reason": verdict.reason,
            "detail": verdict.detail,
            "evidence": dict(verdict.evidence),
            "verifier": verdict.verifier,
        }
        moved = needs_review(reason, detail, {"machine": machine, "policy": why})
        with self._lock:
            self._moved[reason][record.domain] += 1
        return dataclasses.replace(
            verdict, status=moved.status, reason=moved.reason, detail=moved.detail,
            evidence=moved.evidence,
        )

    def take_counts(self) -> tuple[Counter[str], dict[str, Counter[str]]]:
        """What :meth:`apply` counted since the last call (machine-verified per domain,
        moved per reason and domain); counting starts again from zero."""
        with self._lock:
            seen, self._seen_verified = self._seen_verified, Counter()
            moved = self._moved
            self._moved = {"high_stakes": Counter(), "audit_sample": Counter()}
        return seen, moved

    def add_counts(self, seen: Counter[str], moved: Mapping[str, Counter[str]]) -> None:
        """Counts from :meth:`take_counts` of a copy of this policy in another process."""
        with self._lock:
            self._seen_verified.update(seen)
            for reason, counts in moved.items():
                self._moved.setdefault(reason, Counter()).update(counts)

    def describe(self) -> dict[str, Any]:
        """What policy was configured and what it did, for ``report.json["policy"]``."""
        with self._lock:
            moved = {r: dict(sorted(c.items())) for r, c in self._moved.items()}
            seen = dict(sorted(self._seen_verified.items()))
        return {
            "seed": self.seed,
            "active": self.active,
            "rules": [r.to_dict() for r in self.rules()],
            "machine_verified": seen,
            "moved": moved,
            "moved_total": sum(sum(c.values()) for c in moved.values()),
        }
