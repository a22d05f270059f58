"""The badge a visitor sees: evidence in the file decides; the artist's declaration is used only when
the file says nothing, and a declared badge is always shown as the artist's word, not as evidence.
An upload whose AI use is "not stated" (the form's default) and whose file says nothing is Unknown."""

from __future__ import annotations

ORIGIN_BADGE = {"ai_generated": "ai", "ai_edited": "composite", "camera": "human", "human_declared": "human"}
DECLARED_BADGE = {"none": "human", "medium": "composite", "edited": "composite", "generated": "ai"}
DECLARED_AI_USES = ("not_stated", *DECLARED_BADGE)


def badge_for(origin: str, declared_ai_use: str, decided_by: str = "file") -> tuple[str, str]:
    """(badge, source): source ``file`` (evidence), ``declared`` (the artist's word), ``estimate`` (a
    learned detector's estimate, the file saying nothing) or ``none``.
    The declaration never hides AI evidence: it is consulted only when the file's origin is
    ``unknown``/``algorithmic``. A detector's estimate is not evidence: the artist's declaration, when
    there is one, comes first (a detector wrong at its measured false-positive rate must not relabel
    an artist's stated work); the estimate is shown only when nothing was found or stated."""
    from_file = ORIGIN_BADGE.get(origin)
    if from_file is not None and decided_by != "model_estimate":
        return from_file, "file"
    declared = DECLARED_BADGE.get(declared_ai_use)
    if declared is not None:
        return declared, "declared"
    if from_file is not None:
        return from_file, "estimate"
    return "unknown", "none"


def decided_by_of(report: dict | None) -> str:
    """What decided a stored report's verdict (older reports, written before detectors, say nothing)."""
    verdict = (report or {}).get("verdict") or {}
    return str(verdict.get("decided_by") or "file")
