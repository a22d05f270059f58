"""artlineage: machine-checkable consent, provenance and lineage for images.

The public surface is re-exported here; modules whose names start with ``_`` are private.
"""

from ._inspect import FileReport, inspect_bytes, inspect_file
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

__version__ = "0.1.0"

__all__ = [
    "FileReport", "inspect_bytes", "inspect_file",
    "Evidence", "GenerationParameters", "ImageSource", "Implication", "SignalError", "SourceOptions",
    "UnreadableImageError", "get_readers", "open_source", "register_reader",
    "C2paManifest", "read_c2pa_manifest", "set_trust_anchors", "decode_user_comment", "parse_xmp",
    "parse_a1111_parameters", "parse_comfyui_graph", "embed_stealth_metadata", "read_novelai_stealth",
    "KNOWN_WATERMARKS", "decode_dwtdct", "detect_known_watermarks", "embed_dwtdct",
    "Origin", "ProvenanceVerdict", "decide_provenance",
]
