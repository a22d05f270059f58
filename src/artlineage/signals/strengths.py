"""Evidence strengths: how much one piece of evidence weighs, in one table (0 = informational only,
1 = proof). Readers take their numbers from here; ``docs/evidence-strengths.md`` lists the same table
(a test keeps the two equal). Strengths rank evidence *within* a verdict (the strongest evidence of the
winning side decides); they are judgments, stated with their reason, not calibrated probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Strength", "STRENGTHS", "strength"]


@dataclass(frozen=True)
class Strength:
    name: str
    value: float
    reader: str
    why: str


STRENGTHS: dict[str, Strength] = {s.name: s for s in (
    # provenance: signed and structured claims
    Strength("c2pa_trusted", 0.97, "c2pa", "signed C2PA claim, signer on the trust list"),
    Strength("c2pa_untrusted_signer", 0.8, "c2pa", "valid C2PA signature, signer not on a trust list"),
    Strength("generator_parameters", 0.95, "generators", "a generation tool's own parameter block (A1111, "
             "ComfyUI graph, NovelAI, ...): written by the tool, rarely by hand"),
    Strength("digital_source_type", 0.9, "xmp / iptc", "IPTC digital source type code: a controlled vocabulary"),
    Strength("xmp_midjourney", 0.9, "xmp", "Midjourney's own XMP fields (job id, prompt)"),
    Strength("xmp_ai_field", 0.85, "xmp", "an AI-specific XMP field (prompt, model) named by a tool"),
    Strength("xmp_ai_creator_tool", 0.8, "xmp", "xmp:CreatorTool names an AI tool: a free-text tool name"),
    Strength("iptc_ai_program", 0.8, "iptc_iim", "IPTC IIM originating program names an AI tool"),
    Strength("credit_line_ai_label", 0.8, "xmp / iptc_iim", "a platform's worded AI label in a credit line: "
             "written by the platform, but plain text"),
    Strength("exif_ai_software", 0.8, "exif", "EXIF Software names an AI tool"),
    Strength("exif_camera_max", 0.65, "exif", "camera make/model with capture tags: easy to copy or forge"),
    Strength("exif_camera_base", 0.5, "exif", "camera make/model alone"),
    Strength("model_estimate_max", 0.55, "detectors", "a learned detector's estimate: never above file evidence"),
    # consent
    Strength("registry_terms", 0.95, "registry", "the artist's own terms in the artists' registry"),
    Strength("xmp_data_mining", 0.9, "xmp", "PLUS DataMining vocabulary code in XMP"),
    Strength("xmp_consent_text", 0.6, "xmp", "free-text rights wording read by keyword: weaker than a code"),
    Strength("robots_own_agent", 0.95, "robots", "robots.txt group naming artlineage's own agent"),
    Strength("robots_named_agent", 0.9, "robots", "robots.txt group naming an AI crawler"),
    Strength("robots_generic", 0.6, "robots", "a '*' group blocks every crawler, not AI on purpose"),
    Strength("aitxt", 0.9, "ai.txt", "an ai.txt rule: written for AI use"),
    Strength("tdmrep_reserved", 0.9, "tdmrep", "TDMRep tdm-reservation: 1 (the EU TDM opt-out protocol)"),
    Strength("tdmrep_not_reserved", 0.7, "tdmrep", "TDMRep tdm-reservation: 0"),
    Strength("x_robots_noai", 0.85, "x-robots-tag", "X-Robots-Tag / meta robots noai, noimageai"),
    Strength("informational", 0.0, "any", "INFO and UNTRUSTED evidence: shown, never decides"),
)}


def strength(name: str) -> float:
    """The table's value for ``name`` (KeyError for an unknown name: a typo must not weigh 0)."""
    return STRENGTHS[name].value
