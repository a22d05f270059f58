"""Draw Things (iOS / macOS): JSON in the XMP ``exif:UserComment`` (or the EXIF UserComment).

Keys: ``c`` (prompt), ``uc`` (negative), ``seed``, ``steps``, ``scale``, ``sampler``, ``model``,
``size`` ("1024x1024"), ``strength`` (< 1 for image-to-image) and a ``v2`` block with the full
configuration (``width``, ``height``, ``guidanceScale``...). ``xmp:CreatorTool`` / Software is
"Draw Things". Only the UserComment text is pulled out of the packet with a regex; XMP itself is
parsed by the XMP reader.
"""

from __future__ import annotations

import html
import re
from typing import Any, Iterable

from .._base import Evidence, GenerationParameters
from .._registry import register_reader
from .._source import ImageSource
from .._json import load_json_object
from ._common import (as_float, as_int, as_text, generation_evidence, json_safe, looks_like_json_object,
                      parse_size, user_comment)

_ELEMENT = re.compile(rb"<exif:UserComment\b[^>]*>(.*?)</exif:UserComment>", re.S)
_ATTRIBUTE = re.compile(rb"""exif:UserComment\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_TAGS = re.compile(r"<[^>]*>")
_MAPPED = {"c", "uc", "seed", "steps", "scale", "sampler", "model", "size", "v2"}


def is_drawthings_json(meta: dict[str, Any]) -> bool:
    return "c" in meta and ("seed" in meta or "v2" in meta) and ("steps" in meta or "scale" in meta or "v2" in meta)


def parse_drawthings_json(meta: dict[str, Any]) -> tuple[GenerationParameters, bool]:
    v2 = meta.get("v2") if isinstance(meta.get("v2"), dict) else {}
    width, height = parse_size(meta.get("size"))
    params = GenerationParameters(
        tool="Draw Things", prompt=as_text(meta.get("c")), negative_prompt=as_text(meta.get("uc")),
        model=as_text(meta.get("model")) or as_text(v2.get("model")),
        seed=as_int(meta.get("seed", v2.get("seed"))), sampler=as_text(meta.get("sampler")),
        steps=as_int(meta.get("steps", v2.get("steps"))),
        cfg_scale=as_float(meta.get("scale", v2.get("guidanceScale"))),
        width=width or as_int(v2.get("width")), height=height or as_int(v2.get("height")))
    params.extra = {k: json_safe(v) for k, v in list(meta.items())[:60] if k not in _MAPPED}
    strength = as_float(meta.get("strength", v2.get("strength")))
    return params, strength is not None and strength < 1


def _xmp_user_comment(packet: bytes) -> str | None:
    match = _ELEMENT.search(packet)
    if match:
        inner = _TAGS.sub("", match.group(1).decode("utf-8", "replace"))
    else:
        match = _ATTRIBUTE.search(packet)
        if not match:
            return None
        inner = (match.group(1) or match.group(2) or b"").decode("utf-8", "replace")
    return html.unescape(inner).strip() or None


def _candidates(source: ImageSource) -> Iterable[tuple[str, str]]:
    for location, packet in source.xmp_packets:
        if b"UserComment" in packet:
            text = _xmp_user_comment(packet)
            if text and looks_like_json_object(text):
                yield f"{location} exif:UserComment", text
    comment = user_comment(source)
    if comment and looks_like_json_object(comment) and '"c"' in comment:
        yield f"{source.exif_location or 'EXIF'} UserComment", comment


def _applies(source: ImageSource) -> bool:
    return any(b"UserComment" in packet for _, packet in source.xmp_packets) or bool(source.exif_bytes)


@register_reader("drawthings", applies=_applies, description="Draw Things JSON in XMP / EXIF UserComment",
                 formats=("XMP exif:UserComment (PNG iTXt, JPEG)", "EXIF UserComment"))
def read_drawthings(source: ImageSource) -> Iterable[Evidence]:
    for location, text in _candidates(source):
        meta = load_json_object(text, f"Draw Things {location}")
        if is_drawthings_json(meta):
            params, edited = parse_drawthings_json(meta)
            return [generation_evidence("drawthings", location, "UserComment", text, params, edited=edited)]
    return []
