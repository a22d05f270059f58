"""Combine evidence into a provenance verdict: origin, confidence, evidence, conflicts.

Rules, in words (the ``explanation`` repeats the ones that fired):

* Each origin's score is the noisy-OR of the strengths of the evidence implying it:
  ``1 - prod(1 - s)``. Independent hints add up; one strong signed claim dominates.
* AI-generated and AI-edited evidence outrank camera and human declarations, because AI
  metadata is rarely forged onto human work, while camera EXIF is routinely copied into
  img2img outputs and human declarations cost nothing to write.
* Evidence marked UNTRUSTED (e.g. a C2PA manifest whose signature fails) never raises a score;
  it is kept in the list and named in the explanation.
* No evidence, or only weak hints (score < ``UNKNOWN_BELOW``), gives ``unknown``: the absence
  of AI metadata is not evidence of human work.
* When two different origins both score above ``CONFLICT_AT``, the verdict names the conflict
  and lowers its confidence.
* A learned detector's result is a *model estimate* (``data["model_estimate"]``), not something the
  file says. The origin is first decided from the file's own evidence; an estimate only decides
  when that gives ``unknown``, adds to the confidence when it agrees with an AI verdict, and is
  named as disagreeing otherwise — it never outweighs a signed C2PA claim or a camera capture claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterable

from ..signals._base import Evidence, Implication


class Origin(str, Enum):
    AI_GENERATED = "ai_generated"
    AI_EDITED = "ai_edited"  # composite, inpainted or otherwise edited with generative AI
    CAMERA = "camera"
    HUMAN_DECLARED = "human_declared"
    ALGORITHMIC = "algorithmic"
    UNKNOWN = "unknown"


_ORIGIN_OF = {
    Implication.AI_GENERATED: Origin.AI_GENERATED,
    Implication.AI_EDITED: Origin.AI_EDITED,
    Implication.CAMERA: Origin.CAMERA,
    Implication.HUMAN_DECLARED: Origin.HUMAN_DECLARED,
    Implication.ALGORITHMIC: Origin.ALGORITHMIC,
}
# Earlier wins a tie and outranks later ones whose scores it reaches (see module docstring).
_PRECEDENCE = [Origin.AI_GENERATED, Origin.AI_EDITED, Origin.ALGORITHMIC, Origin.HUMAN_DECLARED, Origin.CAMERA]
UNKNOWN_BELOW = 0.3
CONFLICT_AT = 0.5
# AI evidence must at least reach this score to override a stronger non-AI origin.
AI_OVERRIDE_AT = 0.6


@dataclass
class ProvenanceVerdict:
    origin: Origin
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    explanation: str = ""
    generator: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    # What decided the origin: "file" (evidence the file carries), "model_estimate" (a learned
    # detector alone, the file saying nothing) or "none" (unknown). Platforms word these differently.
    decided_by: str = "file"

    @property
    def is_ai(self) -> bool:
        return self.origin in (Origin.AI_GENERATED, Origin.AI_EDITED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin.value,
            "confidence": round(self.confidence, 4),
            "generator": self.generator,
            "explanation": self.explanation,
            "conflicts": list(self.conflicts),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "decided_by": self.decided_by,
            "evidence": [e.to_dict() for e in self.evidence],
        }


def _noisy_or(strengths: Iterable[float]) -> float:
    p = 1.0
    for s in strengths:
        p *= 1.0 - min(max(s, 0.0), 1.0)
    return 1.0 - p


def _describe(e: Evidence) -> str:
    value = e.value if isinstance(e.value, str) else repr(e.value)
    if len(value) > 80:
        value = value[:77] + "..."
    return f"{e.reader}: {e.field}={value} ({e.location})"


def is_model_estimate(e: Evidence) -> bool:
    """Evidence from a learned detector (a model's estimate from pixels, see ``artlineage.detectors``)."""
    return bool(e.data.get("model_estimate"))


def decide_provenance(evidence: Iterable[Evidence]) -> ProvenanceVerdict:
    """Weigh the evidence into one verdict. Pure function: same evidence, same verdict."""
    evidence = list(evidence)
    estimates = [e for e in evidence if is_model_estimate(e)]
    if not estimates:
        return _decide_from_file_evidence(evidence)
    verdict = _decide_from_file_evidence([e for e in evidence if not is_model_estimate(e)])
    return _weigh_model_estimates(verdict, evidence, estimates)


def _weigh_model_estimates(verdict: ProvenanceVerdict, evidence: list[Evidence],
                           estimates: list[Evidence]) -> ProvenanceVerdict:
    """Fold detector estimates into a verdict made from the file's own evidence (see module docstring)."""
    active = [e for e in estimates if e.implies is Implication.AI_GENERATED and e.strength > 0]
    notes = [e.note for e in estimates if e.note]
    scores = dict(verdict.scores)
    if active:
        scores["model_estimate"] = _noisy_or(e.strength for e in active)
    verdict.evidence = evidence
    verdict.scores = scores
    if not active:
        verdict.explanation += "".join(f". {n}" for n in notes)
        return verdict
    best = max(active, key=lambda e: e.strength)
    if verdict.origin is Origin.UNKNOWN:
        return ProvenanceVerdict(
            Origin.AI_GENERATED, scores["model_estimate"], evidence, [],
            f"ai_generated (score {scores['model_estimate']:.2f}) by a model estimate only, no evidence in the "
            f"file: {best.note}", None, scores, decided_by="model_estimate")
    if verdict.is_ai:
        verdict.confidence = _noisy_or([verdict.confidence, scores["model_estimate"]])
        verdict.explanation += f". A model estimate agrees: {best.note}"
        return verdict
    verdict.conflicts.append(f"a model estimate disagrees with {verdict.origin.value} (the file's evidence decides): "
                             f"{best.note}")
    verdict.explanation += f". Not changed by a model estimate that disagrees: {best.note}"
    return verdict


def _decide_from_file_evidence(evidence: list[Evidence]) -> ProvenanceVerdict:
    by_origin: dict[Origin, list[Evidence]] = {}
    for e in evidence:
        origin = _ORIGIN_OF.get(e.implies)
        if origin is not None:
            by_origin.setdefault(origin, []).append(e)
    scores = {o: _noisy_or(x.strength for x in ev) for o, ev in by_origin.items()}
    untrusted = [e for e in evidence if e.implies is Implication.UNTRUSTED]

    notes: list[str] = []
    if untrusted:
        notes.append("ignored as untrusted: " + "; ".join(_describe(e) for e in untrusted))
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], _PRECEDENCE.index(kv[0])))
    if not ranked or ranked[0][1] < UNKNOWN_BELOW:
        why = "no origin evidence found" if not ranked else (
            f"only weak hints (best: {ranked[0][0].value} at {ranked[0][1]:.2f})")
        return ProvenanceVerdict(Origin.UNKNOWN, 0.0 if not ranked else 1.0 - ranked[0][1], evidence,
                                 [], "; ".join([why + "; absence of AI metadata is not evidence of human work"] + notes),
                                 None, {o.value: s for o, s in scores.items()}, decided_by="none")

    chosen, score = ranked[0]
    ai_scores = [(o, scores[o]) for o in (Origin.AI_GENERATED, Origin.AI_EDITED) if o in scores]
    if chosen not in (Origin.AI_GENERATED, Origin.AI_EDITED) and ai_scores:
        best_ai = max(ai_scores, key=lambda kv: kv[1])
        if best_ai[1] >= AI_OVERRIDE_AT:
            notes.append(f"{best_ai[0].value} evidence ({best_ai[1]:.2f}) outranks {chosen.value} "
                         f"({score:.2f}): camera EXIF and declarations are easily copied or written")
            chosen, score = best_ai
    # AI-edited (composite) is the more specific claim when both AI kinds are strongly present
    # and the edit claim is at least as strong: an img2img/inpaint of a human source.
    if chosen is Origin.AI_GENERATED and scores.get(Origin.AI_EDITED, 0.0) >= score:
        chosen, score = Origin.AI_EDITED, scores[Origin.AI_EDITED]

    conflicts: list[str] = []
    for other, s in ranked:
        if other is chosen or s < CONFLICT_AT:
            continue
        if {other, chosen} <= {Origin.AI_GENERATED, Origin.AI_EDITED}:
            continue  # both say AI: a detail, not a conflict
        conflicts.append(
            f"{other.value} evidence ({s:.2f}) conflicts with {chosen.value}: "
            + "; ".join(_describe(e) for e in by_origin[other])
        )
    confidence = score * (1.0 - 0.5 * max((s for o, s in ranked if o is not chosen and s >= CONFLICT_AT
                                            and not {o, chosen} <= {Origin.AI_GENERATED, Origin.AI_EDITED}),
                                           default=0.0))
    support = sorted(by_origin[chosen], key=lambda e: -e.strength)
    generator = next((e.generator for e in support if e.generator), None) or next(
        (e.generator for e in evidence if e.generator and e.implies in (Implication.AI_GENERATED, Implication.AI_EDITED)), None)
    explanation = f"{chosen.value} (score {score:.2f}) because " + "; ".join(_describe(e) for e in support[:4])
    if notes:
        explanation += ". " + ". ".join(notes)
    return ProvenanceVerdict(chosen, confidence, evidence, conflicts, explanation, generator,
                             {o.value: s for o, s in scores.items()})
