"""artlineage: machine-checkable consent, provenance and lineage for images."""

from ._inspect import FileReport, inspect_bytes, inspect_file
from .signals import (Evidence, GenerationParameters, ImageSource, Implication, SignalError, SourceOptions,
                      get_readers, open_source, register_reader)
from .verdicts import Origin, ProvenanceVerdict, decide_provenance

__version__ = "0.1.0"

__all__ = [
    "FileReport", "inspect_bytes", "inspect_file",
    "Evidence", "GenerationParameters", "ImageSource", "Implication", "SignalError", "SourceOptions",
    "get_readers", "open_source", "register_reader",
    "Origin", "ProvenanceVerdict", "decide_provenance",
]
