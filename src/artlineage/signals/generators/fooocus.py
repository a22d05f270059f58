"""Fooocus: ``parameters`` JSON (its "fooocus" metadata scheme), with ``fooocus_scheme`` beside it.

PNG: text chunks ``parameters`` (JSON, keys sorted) and ``fooocus_scheme`` ("fooocus" / "a1111");
JPEG/WebP: EXIF UserComment (the JSON), Software ("Fooocus v2.5.5") and MakerNote (the scheme).
Fields: ``prompt``, ``negative_prompt``, ``base_model``, ``base_model_hash``, ``seed`` (a string),
``steps``, ``guidance_scale``, ``sampler``, ``scheduler``, ``resolution`` ("(1152, 896)" = width,
height), ``styles``, ``performance``, ``version``. With the "a1111" scheme Fooocus writes an A1111
infotext instead, which :mod:`.a1111` reads (``Version: Fooocus v...``).
"""

from __future__ import annotations

from typing import Any, Iterable

from .._base import Evidence, GenerationParameters
from .._registry import register_reader
from .._source import ImageSource
from .._json import load_json_object
from ._common import (as_float, as_int, as_text, generation_evidence, has_parameters_slot, json_safe,
                      looks_like_json_object, parameters_text, parse_size)

_MAPPED = {"prompt", "negative_prompt", "base_model", "base_model_hash", "seed", "steps", "guidance_scale",
           "sampler", "scheduler", "resolution", "full_prompt", "full_negative_prompt"}


def is_fooocus_json(meta: dict[str, Any], scheme: str | None = None) -> bool:
    version = meta.get("version")
    return (scheme or "").strip().lower() == "fooocus" or (
        isinstance(version, str) and version.startswith("Fooocus")) or (
        "base_model" in meta and "guidance_scale" in meta)


def parse_fooocus_parameters(meta: dict[str, Any]) -> GenerationParameters:
    width, height = parse_size(meta.get("resolution"))
    params = GenerationParameters(
        tool="Fooocus", prompt=as_text(meta.get("prompt")), negative_prompt=as_text(meta.get("negative_prompt")),
        model=as_text(meta.get("base_model")), model_hash=as_text(meta.get("base_model_hash")),
        seed=as_int(meta.get("seed")), sampler=as_text(meta.get("sampler")),
        scheduler=as_text(meta.get("scheduler")), steps=as_int(meta.get("steps")),
        cfg_scale=as_float(meta.get("guidance_scale")), width=width, height=height)
    params.extra = {k: json_safe(v) for k, v in list(meta.items())[:60] if k not in _MAPPED}
    return params


def _applies(source: ImageSource) -> bool:
    return has_parameters_slot(source)


@register_reader("fooocus", applies=_applies, description="Fooocus 'parameters' JSON (fooocus metadata scheme)",
                 formats=("PNG tEXt 'parameters' + 'fooocus_scheme'", "EXIF UserComment (JPEG, WebP)"))
def read_fooocus(source: ImageSource) -> Iterable[Evidence]:
    found = parameters_text(source)
    if found is None or not looks_like_json_object(found[1]):
        return []
    location, text = found
    scheme_chunk = source.text("fooocus_scheme")
    scheme = scheme_chunk.text if scheme_chunk else None
    if scheme is None and "Fooocus" not in text and "guidance_scale" not in text:
        return []  # someone else's JSON (SwarmUI has its own reader)
    meta = load_json_object(text, f"Fooocus {location}")
    if not is_fooocus_json(meta, scheme):
        return []
    params = parse_fooocus_parameters(meta)
    denoise = as_float(meta.get("denoising_strength"))
    return [generation_evidence("fooocus", location, "parameters", text, params,
                                edited=denoise is not None and denoise < 1)]
