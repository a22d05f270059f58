"""Verdicts: evidence from the signal readers combined into decisions that carry their reasons."""

from .provenance import Origin, ProvenanceVerdict, decide_provenance

__all__ = ["Origin", "ProvenanceVerdict", "decide_provenance"]
