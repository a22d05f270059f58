"""Typed evidence that signal readers return, and the errors they raise.

A reader never decides the verdict: it reports *what the file says* (which field,
where, what raw value) and *what that implies*. The verdict modules weigh it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any, Mapping
from ..errors import SignalError as SignalError  # re-exported: its old home
from ..errors import UnreadableImageError as UnreadableImageError


class Implication(str, Enum):
    """What a piece of evidence says about the file's origin or its consent terms."""

    AI_GENERATED = "ai_generated"  # made by a generative model
    AI_EDITED = "ai_edited"  # composite or edited with a generative model
    CAMERA = "camera"  # captured by a camera / scanner
    HUMAN_DECLARED = "human_declared"  # a person declares they made it (digital art, human edits)
    ALGORITHMIC = "algorithmic"  # made by a non-learned algorithm (IPTC algorithmicMedia)
    UNTRUSTED = "untrusted"  # evidence exists but failed validation (e.g. broken C2PA signature)
    CONSENT_RESERVED = "consent_reserved"  # rights-holder reserves a use (no AI training, ...)
    CONSENT_ALLOWED = "consent_allowed"  # rights-holder allows a use
    INFO = "info"  # context only: creator, rights notice, software that implies nothing


@dataclass(frozen=True)
class Evidence:
    """One fact found in a file or web source.

    ``reader``   the registered reader that found it (``"c2pa"``, ``"xmp"``, ``"a1111"``...)
    ``location`` where in the container (``"PNG tEXt 'parameters'"``, ``"JPEG APP1 XMP"``)
    ``field``    the field's name in its own vocabulary (``"Iptc4xmpExt:DigitalSourceType"``)
    ``value``    the raw value, JSON-serialisable, truncated by the reader if huge
    ``implies``  what it means (:class:`Implication`)
    ``strength`` how much it should move a verdict, 0..1 (spoofable hints low, signed claims high)
    ``generator`` the tool or model family it names, when it names one
    ``note``     one line a person can read
    ``data``     parsed structure (generation parameters, C2PA actions, ...)
    """

    reader: str
    location: str
    field: str  # the evidence's field name; part of the JSON schema, so the name stays
    value: Any
    implies: Implication
    strength: float = 0.5
    generator: str | None = None
    note: str = ""
    # ``dataclasses.field`` spelled out: inside this class body the bare name ``field`` reads as the
    # attribute above (to readers and type checkers), not as the dataclasses helper.
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["implies"] = self.implies.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Evidence":
        d = dict(d)
        d["implies"] = Implication(d["implies"])
        return cls(**d)


@dataclass
class GenerationParameters:
    """Generation settings parsed out of a tool's metadata (not just a raw string)."""

    tool: str
    prompt: str | None = None
    negative_prompt: str | None = None
    model: str | None = None
    model_hash: str | None = None
    seed: int | None = None
    sampler: str | None = None
    scheduler: str | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    width: int | None = None
    height: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, "")}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GenerationParameters:
        """Inverse of :meth:`to_dict` (keys that are not fields go to ``extra``)."""
        names = {f.name for f in fields(cls)} - {"extra"}
        extra = dict(d.get("extra") or {})
        extra.update({k: v for k, v in d.items() if k not in names and k != "extra"})
        return cls(**{k: v for k, v in d.items() if k in names}, extra=extra)


def truncate(value: str, limit: int = 4000) -> str:
    """Keep evidence values bounded: a 50 MB text chunk must not end up in every report row."""
    if len(value) <= limit:
        return value
    return value[:limit] + f"... [{len(value) - limit} more characters]"


# Where the container parse (signals._source, signals._bmff) finds EXIF and XMP, per format: readers
# of those blocks name these in their registration so `artlineage readers` can list them.
EXIF_CONTAINERS = ("JPEG APP1 Exif", "PNG eXIf", "WebP EXIF", "TIFF IFD0", "HEIF/HEIC/AVIF Exif item",
                   "JPEG XL Exif box (also brob)")
XMP_CONTAINERS = ("JPEG APP1 XMP (+ extended XMP)", "PNG iTXt XML:com.adobe.xmp", "WebP XMP", "TIFF tag 700",
                  "GIF XMP", "HEIF/HEIC/AVIF mime item application/rdf+xml", "JPEG XL xml box (also brob)")
