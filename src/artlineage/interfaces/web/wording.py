"""Plain words for what the platform knows, so no internal code (``human_declared``,
``DMI-PROHIBITED-AIMLTRAINING``) reaches a page. A badge found in the file is evidence; a badge from
the artist's declaration is their word and is always worded (and styled) as such."""

from __future__ import annotations

from typing import Any

from .optout import DMI_ALLOWED, OptOut

BADGE_LABEL = {"human": "Human-made", "ai": "AI-generated", "composite": "AI-assisted", "unknown": "Unknown origin"}
SOURCE_LABEL = {"file": "evidence in the file", "declared": "artist's declaration",
                "estimate": "a detector's estimate", "none": "nothing found or stated"}

ORIGIN_WORDS = {
    "ai_generated": "made with a generative AI tool",
    "ai_edited": "edited with an AI tool",
    "camera": "taken with a camera",
    "human_declared": "declared human-made by its maker",
    "algorithmic": "made by software, with no sign of generative AI",
    "unknown": "no origin recorded",
    # evidence implications that are not origins
    "untrusted": "a record that failed its check (not trusted)",
    "consent_reserved": "the rights holder reserves a use",
    "consent_allowed": "the rights holder allows a use",
    "info": "context only",
}
DECLARED_WORDS = {
    "not_stated": "not stated", "none": "no AI used", "medium": "AI used as a medium",
    "edited": "AI used for edits", "generated": "generated with AI",
}
TRAINING_WORDS = {"own": "the artist's own work", "consented": "consented data", "unknown": "not stated",
                  "n/a": "not applicable"}
TERM_WORDS = {None: "not stated", "unknown": "not stated", "not_allowed": "not allowed",
              "allowed_with_credit": "allowed with credit", "allowed": "allowed"}
SCOPE_WORDS = {"ai_training": "AI training", "generative_training": "Generative AI training",
               "data_mining": "Data mining", "style_imitation": "Imitating the style"}
CRITERION_WORDS = {"consented_or_own_data": "Trained on consented or own data", "ai_as_medium": "AI as a medium",
                   "disclosed": "AI use disclosed", "influences_credited": "Influences credited"}


def badge_text(badge: str, source: str) -> str:
    """"Human-made" for evidence, "Human-made (artist's word)" for a declaration."""
    label = BADGE_LABEL.get(badge, "Unknown origin")
    if source == "estimate":
        return f"{label} · estimated"
    return f"{label} · declared" if source == "declared" else label


def estimate_note(verdict: dict[str, Any]) -> str | None:
    """The sentence a detector's evidence carries ("a detector (m 2) estimates 93% likely AI; evaluated at
    2.0% false positives on ..."), for the strongest estimate in a verdict, if any."""
    notes = [e for e in verdict.get("evidence") or [] if (e.get("data") or {}).get("model_estimate")]
    if not notes:
        return None
    best = max(notes, key=lambda e: float(e.get("strength") or 0.0))
    note = str(best.get("note") or "")
    return note[:1].upper() + note[1:] if note else None


def consent_marker(opt: OptOut) -> tuple[str, str]:
    """(key, words) of the consent marker on a tile: does this artist allow AI training?"""
    if opt.dmi == DMI_ALLOWED:
        return "allowed", "AI training allowed"
    if opt.reserved and opt.reason.startswith("artist's terms"):
        return "reserved", "No AI training"
    if opt.reserved:
        return "unstated", "No AI training (terms not stated)"
    return "unstated", "Terms not stated"


def optout_words(opt: OptOut) -> str:
    if opt.dmi == DMI_ALLOWED:
        return "This artist allows AI training and data mining; the images say so in their metadata."
    if opt.reserved:
        return ("AI training and data mining are reserved: the images and pages carry a machine-readable "
                "opt-out (" + opt.reason + ").")
    return "No terms recorded."


def summary(origin: dict[str, Any], declared: dict[str, Any]) -> str:
    """One sentence a visitor reads first: what made the image and where that knowledge comes from."""
    generator = origin.get("generator")
    source = origin.get("badge_source")
    if source == "file":
        what = ORIGIN_WORDS.get(origin.get("origin") or "unknown", "of unknown origin")
        if generator and origin.get("badge") in ("ai", "composite"):
            what = f"made with {generator}" if origin.get("badge") == "ai" else f"edited with {generator}"
        return f"{what[0].upper()}{what[1:]}; found in the file's metadata."
    if source == "estimate":
        note = origin.get("estimate") or "A detector estimates this image is AI-made"
        return f"{note}. This is a model's estimate, not evidence in the file, and the artist stated nothing."
    if source == "declared":
        words = DECLARED_WORDS.get(declared.get("ai_use") or "not_stated", "not stated")
        return (f"The artist says: {words}. The file itself carries no provenance record, so this is "
                "the artist's word, not evidence.")
    return "Origin unknown: the file carries no provenance record and the artist did not state how it was made."
