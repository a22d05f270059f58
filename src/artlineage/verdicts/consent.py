"""Combine consent evidence into one verdict per use: reserved / allowed / unknown.

Rules, in words (the verdict's ``explanation`` repeats the ones that fired):

* Uses are ``training``, ``generative_training`` and ``data_mining``. They nest: reserving data
  mining reserves AI training, and reserving AI training reserves generative training (the
  IPTC PLUS DataMining vocabulary is built the same way). Allowing one use allows only that use.
* Any CONSENT_RESERVED evidence for a use makes it ``reserved``: when signals conflict, the most
  restrictive wins, and the verdict names the allowing evidence it overrode.
* Otherwise CONSENT_ALLOWED evidence makes it ``allowed``; with none, the use is ``unknown``
  (silence is not consent).
* The deciding rule is the strongest evidence of the winning side (first found on ties).
* Registry terms (the artists' registry: ``not_allowed`` / ``allowed`` / ``allowed_with_credit``
  per scope) are evidence like any other, from reader ``registry``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterable, Mapping

from ..signals._base import Evidence, Implication
from ..signals._iptc_vocab import USE_DATA_MINING, USE_GENERATIVE_TRAINING, USE_TRAINING
from ..vocabulary import ALL_USES, use_of_name
from ..signals.strengths import strength


class Decision(str, Enum):
    RESERVED = "reserved"
    ALLOWED = "allowed"
    UNKNOWN = "unknown"


# A reservation of the key also reserves these (generality order).
_RESERVATION_COVERS = {
    USE_DATA_MINING: (USE_DATA_MINING, USE_TRAINING, USE_GENERATIVE_TRAINING),
    USE_TRAINING: (USE_TRAINING, USE_GENERATIVE_TRAINING),
    USE_GENERATIVE_TRAINING: (USE_GENERATIVE_TRAINING,),
}
_WEB_READERS = frozenset({"robots", "ai.txt", "tdmrep", "x-robots-tag", "meta-robots"})
_REGISTRY_PERMISSION = {"not_allowed": Implication.CONSENT_RESERVED, "allowed": Implication.CONSENT_ALLOWED,
                        "allowed_with_credit": Implication.CONSENT_ALLOWED}


@dataclass
class UseDecision:
    decision: Decision
    rule: str = ""  # "<reader> <field>: <value> @ <location>" of the deciding evidence
    evidence: Evidence | None = None
    overridden: list[str] = field(default_factory=list)  # allowing evidence a reservation overrode

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.value, "rule": self.rule, "reader": self.evidence.reader if self.evidence else None,
                "overridden": self.overridden}


@dataclass
class ConsentVerdict:
    uses: dict[str, UseDecision]
    evidence: list[Evidence] = field(default_factory=list)
    registry_terms: list[dict[str, Any]] = field(default_factory=list)
    explanation: str = ""

    @property
    def reserved_uses(self) -> list[str]:
        return [u for u, d in self.uses.items() if d.decision is Decision.RESERVED]

    @property
    def reserved(self) -> bool:
        return bool(self.reserved_uses)

    @property
    def decision(self) -> Decision:
        """One word for the item: reserved if any use is, allowed if all are, else unknown."""
        if self.reserved:
            return Decision.RESERVED
        if all(d.decision is Decision.ALLOWED for d in self.uses.values()):
            return Decision.ALLOWED
        return Decision.UNKNOWN

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.value, "uses": {u: d.to_dict() for u, d in self.uses.items()},
                "evidence": [e.to_dict() for e in self.evidence], "registry_terms": self.registry_terms,
                "explanation": self.explanation}


def uses_of(e: Evidence) -> tuple[str, ...]:
    """Which of our uses a piece of consent evidence speaks about."""
    named: list[str] = []
    uses = e.data.get("uses")
    if isinstance(uses, (list, tuple)):
        named = [use_of_name(u) or "" for u in uses]
    else:
        for key in (e.data.get("purpose"), e.field):  # C2PA: "c2pa.ai_generative_training"
            if isinstance(key, str):
                alias = use_of_name(key.lower().rsplit(".", 1)[-1])
                if alias:
                    named = [alias]
                    break
    found = tuple(u for u in ALL_USES if u in named)
    if not found and uses is None and e.reader in _WEB_READERS:
        return ALL_USES  # web opt-outs speak about every AI use
    return found


def describe(e: Evidence) -> str:
    value = e.value if isinstance(e.value, str) else repr(e.value)
    return f"{e.reader} {e.field}: {value[:160]} @ {e.location}"


def registry_evidence(terms: Iterable[Mapping[str, Any]]) -> list[Evidence]:
    """Registry consent terms (scope -> permission) as evidence."""
    out: list[Evidence] = []
    for t in terms:
        for scope, permission in t.items():
            use = use_of_name(scope)
            implies = _REGISTRY_PERMISSION.get(str(permission)) if permission is not None else None
            if use is None or implies is None:
                continue
            out.append(Evidence(reader="registry", location=str(t.get("source") or "artists' registry"),
                                field=scope, value=str(permission), implies=implies, strength=strength("registry_terms"),
                                note=f"artists' registry: {scope} {permission}",
                                data={"uses": [use], "artist_id": t.get("artist_id"), "work_id": t.get("work_id"),
                                      **({"matched_by": t["matched_by"]} if t.get("matched_by") else {})}))
    return out


def decide_consent(evidence: Iterable[Evidence], *, registry_terms: Iterable[Mapping[str, Any]] = ()) -> ConsentVerdict:
    """Per-use consent decision with the rule that decided it (most restrictive wins)."""
    terms = [dict(t) for t in registry_terms]
    all_evidence = list(evidence) + registry_evidence(terms)
    reserved: dict[str, list[Evidence]] = {u: [] for u in ALL_USES}
    allowed: dict[str, list[Evidence]] = {u: [] for u in ALL_USES}
    for e in all_evidence:
        if e.implies is Implication.CONSENT_RESERVED:
            for use in uses_of(e):
                for covered in _RESERVATION_COVERS[use]:
                    reserved[covered].append(e)
        elif e.implies is Implication.CONSENT_ALLOWED:
            for use in uses_of(e):
                allowed[use].append(e)
    decisions: dict[str, UseDecision] = {}
    lines: list[str] = []
    for use in ALL_USES:
        if reserved[use]:
            top = max(reserved[use], key=lambda x: x.strength)  # max keeps the first on ties
            overridden = [describe(e) for e in allowed[use]]
            decisions[use] = UseDecision(Decision.RESERVED, describe(top), top, overridden)
            line = f"{use}: reserved by {describe(top)}"
            if overridden:
                line += f" (most restrictive wins over {len(overridden)} allowing signal(s): {overridden[0]})"
        elif allowed[use]:
            top = max(allowed[use], key=lambda x: x.strength)
            decisions[use] = UseDecision(Decision.ALLOWED, describe(top), top)
            line = f"{use}: allowed by {describe(top)}"
        else:
            decisions[use] = UseDecision(Decision.UNKNOWN)
            line = f"{use}: unknown (no machine-readable statement)"
        lines.append(line)
    return ConsentVerdict(decisions, all_evidence, terms, "; ".join(lines))
