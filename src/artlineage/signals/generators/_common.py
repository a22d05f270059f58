"""Helpers shared by the generator-metadata readers.

The text a tool left in the PNG ``parameters`` chunk or the EXIF UserComment, lenient number
conversion, and the one way every generator reader turns parsed parameters into :class:`Evidence`.
Bounded JSON loading lives in :mod:`artlineage.signals._json` (shared with C2PA and tdmrep).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .._base import Evidence, GenerationParameters, Implication, truncate
from .._source import ImageSource
from ..exif import decode_user_comment
from ..strengths import strength

# A full parameter block written by the tool itself (see the strength guidance in the notes).
GENERATOR_STRENGTH = strength("generator_parameters")
EVIDENCE_VALUE_LIMIT = 2000

EXIF_USER_COMMENT = 0x9286
EXIF_IMAGE_DESCRIPTION = 0x010E
EXIF_MAKE = 0x010F
EXIF_MODEL = 0x0110
EXIF_SOFTWARE = 0x0131


def looks_like_json_object(text: str) -> bool:
    return text.lstrip()[:1] == "{"


# ----- where tools put their text ------------------------------------------------------------

def exif_tags(source: ImageSource) -> dict[int, Any]:
    """The file's EXIF tags, or none when it has none or they are corrupt (the EXIF reader reports that)."""
    if not source.exif_bytes:
        return {}
    try:
        return source.exif()
    except Exception:  # noqa: BLE001 - Pillow raises many types on corrupt EXIF
        return {}


def user_comment(source: ImageSource) -> str | None:
    """EXIF UserComment as text (A1111, Fooocus and others write their parameters there in JPEG/WebP)."""
    raw = exif_tags(source).get(EXIF_USER_COMMENT)
    if raw is None:
        return None
    text = decode_user_comment(raw)
    return text or None


def exif_text(source: ImageSource, tag: int) -> str | None:
    value = exif_tags(source).get(tag)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.rstrip("\x00").strip() if isinstance(value, str) else None


def parameters_text(source: ImageSource) -> tuple[str, str] | None:
    """(location, text) of the ``parameters`` block: PNG text chunk, else EXIF UserComment.

    AUTOMATIC1111 / Forge / SD.Next (plain text), Fooocus and SwarmUI (JSON) all use this slot.
    """
    chunk = source.text("parameters")
    if chunk is not None:
        return chunk.location, chunk.text
    comment = user_comment(source)
    if comment:
        return f"{source.exif_location or 'EXIF'} UserComment", comment
    return None


def has_parameters_slot(source: ImageSource) -> bool:
    """Cheap pre-check: a ``parameters`` chunk or an EXIF block that may hold a UserComment."""
    return source.text("parameters") is not None or bool(source.exif_bytes)


# ----- lenient conversions (tools write numbers as strings, floats as ints, ...) --------------

def as_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value == int(value) else None
    if isinstance(value, str):
        value = value.strip()
        if re.fullmatch(r"[+-]?\d{1,40}", value):
            return int(value)
        return as_int(as_float(value))
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and len(value) < 64:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def parse_size(value: Any) -> tuple[int | None, int | None]:
    """``"512x768"``, ``"(896, 1152)"``, ``"1024 x 1024"`` -> (width, height)."""
    if not isinstance(value, str):
        return None, None
    match = re.fullmatch(r"\s*\(?\s*(\d{1,6})\s*[x×,*]\s*(\d{1,6})\s*\)?\s*", value)
    if not match:
        return None, None
    return int(match.group(1)), int(match.group(2))


def json_safe(value: Any, limit: int = 500) -> Any:
    """A bounded, JSON-serialisable copy of a small value for ``GenerationParameters.extra``."""
    if isinstance(value, str):
        return truncate(value, limit)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return truncate(json.dumps(value, default=str), limit)


# ----- evidence -------------------------------------------------------------------------------

def generation_evidence(reader: str, location: str, field: str, raw: str, params: GenerationParameters,
                        *, edited: bool = False, note: str = "",
                        strength: float = GENERATOR_STRENGTH) -> Evidence:
    """The evidence every generator reader returns: AI_GENERATED, or AI_EDITED for img2img/inpainting."""
    implies = Implication.AI_EDITED if edited else Implication.AI_GENERATED
    if not note:
        note = f"{params.tool} generation parameters" + (" (image-to-image / inpainting)" if edited else "")
    return Evidence(reader=reader, location=location, field=field, value=truncate(raw, EVIDENCE_VALUE_LIMIT),
                    implies=implies, strength=strength, generator=params.tool, note=note,
                    data={"generation": params.to_dict()})
