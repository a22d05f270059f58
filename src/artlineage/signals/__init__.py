"""Signal readers: each module finds one kind of evidence and registers itself."""

from ._base import Evidence, GenerationParameters, Implication, SignalError, UnreadableImageError
from ._registry import SignalReader, get_readers, register_reader
from ._source import ImageSource, SourceOptions, TextChunk, open_source

__all__ = [
    "Evidence", "GenerationParameters", "Implication", "SignalError", "UnreadableImageError",
    "SignalReader", "get_readers", "register_reader", "ImageSource", "SourceOptions", "TextChunk",
    "open_source",
]
