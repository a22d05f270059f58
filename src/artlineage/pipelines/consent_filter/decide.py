"""One row's consent decision: :func:`decide_consent` on its evidence, turned into output columns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ...signals._base import Evidence
from ...verdicts.consent import ConsentVerdict, decide_consent


@dataclass(frozen=True)
class RowOutcome:
    """What the output columns need from one decision; computed once per distinct decision."""

    excluded: bool
    decision: str  # reserved / allowed / unknown
    consent_json: str  # per-use decisions (excluded rows)
    reason: str | None
    rule: str | None
    evidence_json: str


class Decider:
    """:func:`decide_consent` memoised on the identity of the evidence (and on the registry terms).

    Web evidence objects are shared by every row a rule covers (:class:`UrlEvaluator`), so a shard
    of thousands of rows has a handful of distinct decisions; each is decided, explained and turned
    into JSON once. The memo keeps the evidence objects alive, so their ids cannot be reused.
    """

    def __init__(self, exclude_uses: Iterable[str]) -> None:
        self.exclude_uses = tuple(exclude_uses)
        self._memo: dict[tuple[tuple[int, ...], str], tuple[tuple[Evidence, ...], RowOutcome]] = {}

    def outcome(self, evidence: Iterable[Evidence], terms: list[Mapping[str, Any]] | None = None) -> RowOutcome:
        evidence = tuple(evidence)
        key = (tuple(map(id, evidence)), json.dumps(terms, sort_keys=True, default=str) if terms else "")
        hit = self._memo.get(key)
        if hit is not None:
            return hit[1]
        verdict = decide_consent(evidence, registry_terms=terms or ())
        reason = _reason(verdict, self.exclude_uses)
        outcome = RowOutcome(
            excluded=reason is not None, decision=verdict.decision.value,
            consent_json=json.dumps({u: d.decision.value for u, d in verdict.uses.items()}),
            reason=reason[0] if reason else None, rule=reason[1] if reason else None,
            evidence_json=json.dumps([e.to_dict() for e in verdict.evidence], default=str))
        self._memo[key] = (evidence, outcome)
        return outcome


def _reason(verdict: ConsentVerdict, exclude_uses: Iterable[str]) -> tuple[str, str] | None:
    for use in exclude_uses:
        d = verdict.uses.get(use)
        if d is not None and d.decision.value == "reserved":
            return (d.evidence.reader if d.evidence else "unknown"), d.rule
    return None
