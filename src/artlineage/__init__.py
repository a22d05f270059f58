"""artlineage: machine-checkable consent, provenance and lineage for images.

The public surface is re-exported here; modules whose names start with ``_`` are private.
"""

import logging
from typing import Any

from . import errors
from ._inspect import FileReport, inspect_bytes, inspect_file
from .errors import *  # noqa: F403  (the whole exception tree, listed in errors.__all__)
from .signals import (Evidence, GenerationParameters, ImageSource, Implication, SignalError, SourceOptions,
                      UnreadableImageError, get_readers, open_source, register_reader)
from .signals.c2pa import C2paManifest, read_c2pa_manifest, set_trust_anchors
from .signals.exif import decode_user_comment
from .signals.generators.a1111 import parse_a1111_parameters
from .signals.generators.comfyui import parse_comfyui_graph
from .signals.generators.novelai_stealth import embed_stealth_metadata, read_novelai_stealth
from .signals.watermark import KNOWN_WATERMARKS, decode_dwtdct, detect_known_watermarks, embed_dwtdct
from .signals.xmp import parse_xmp
from .verdicts import Origin, ProvenanceVerdict, decide_provenance
from .vocabulary import ALL_USES, ConsentUse, normalize_uses

__version__ = "0.1.0"

# A library stays quiet unless its user configures logging: each module logs to its own
# ``logging.getLogger(__name__)`` under "artlineage", which has only a NullHandler.
logging.getLogger(__name__).addHandler(logging.NullHandler())

# The other parts load on first use, so ``import artlineage`` stays light (no SQLAlchemy,
# pyarrow or httpx until a registry, dataset or web check is asked for).
_LAZY = {
    "artlineage.pipelines.scan": ("scan_directory", "ScanSummary"),
    "artlineage._files": ("iter_image_files",),
    "artlineage.datasets.scan_store": ("ScanStore",),
    "artlineage.pipelines.consent_filter": ("filter_manifest", "filter_rows", "FilterConfig", "FilterSummary",
                                            "RowDecision"),
    "artlineage.datasets.manifest": ("open_manifest",),
    "artlineage.datasets.filesystems": ("open_location", "Location"),
    "artlineage.pipelines.dataset_audit": ("run_audit", "AuditConfig", "AuditSummary"),
    "artlineage.verdicts.consent": ("decide_consent", "ConsentVerdict", "UseDecision", "Decision"),
    "artlineage.signals.web": ("check_url", "SafeFetcher", "FetchCache", "DEFAULT_AI_AGENTS", "USER_AGENT",
                               "is_public_address"),
    "artlineage.registry": ("Registry", "upgrade_registry", "Lineage",
                            "ResolvedTerms", "normalize_name"),
    "artlineage.matching": ("hash_image_file", "hash_files", "phash", "pdq", "HammingIndex", "WorkMatcher",
                            "CopyDetector", "CopyMatch", "CopyEvidence",
                            "match_paths", "PromptDecision", "PromptGuard", "PromptMatch", "check_prompt", "check_prompts",
                            "load_artist_names"),
    "artlineage.health": ("vendi_score", "VendiAccumulator", "StatisticsEmbedder", "OnnxEmbedder",
                          "find_near_duplicates", "synthetic_shares", "guard_real_share", "build_health_report",
                          "write_health_report"),
    "artlineage.stamping": ("stamp_file", "stamp_bytes", "stamp_image", "StampOptions", "StampResult",
                            "SigningCredentials", "make_test_chain", "influences_from_prompt", "GenerationService"),
    "artlineage.pipelines.stamp": ("stamp_folder",),
    "artlineage.health.collapse": ("simulate_gaussian", "simulate_mixture", "simulate_from_embeddings"),
    "artlineage.detectors": ("load_detector", "ModelCard", "DetectorResult", "OnnxDetector", "TrainedDetector",
                             "train_from_folders", "evaluate_folders"),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


# Subpackages reachable as attributes without importing them first (``artlineage.datasets.ScanStore``).
_SUBPACKAGES = frozenset({"datasets", "pipelines", "registry", "matching", "health", "signals", "verdicts",
                          "interfaces", "reporting", "errors", "vocabulary"})


def __getattr__(name: str) -> Any:  # PEP 562: lazy re-exports and subpackages
    import importlib

    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'artlineage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_NAMES) | _SUBPACKAGES)

__all__ = [
    "errors", *errors.__all__,
    "FileReport", "inspect_bytes", "inspect_file",
    "Evidence", "GenerationParameters", "ImageSource", "Implication", "SignalError", "SourceOptions",
    "UnreadableImageError", "get_readers", "open_source", "register_reader",
    "C2paManifest", "read_c2pa_manifest", "set_trust_anchors", "decode_user_comment", "parse_xmp",
    "parse_a1111_parameters", "parse_comfyui_graph", "embed_stealth_metadata", "read_novelai_stealth",
    "KNOWN_WATERMARKS", "decode_dwtdct", "detect_known_watermarks", "embed_dwtdct",
    "Origin", "ProvenanceVerdict", "decide_provenance", "ALL_USES", "ConsentUse", "normalize_uses",
    *_LAZY_NAMES,
]
