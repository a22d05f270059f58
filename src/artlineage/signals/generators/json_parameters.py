"""Generators that write their own JSON into the ``parameters`` slot (beside Fooocus and SwarmUI).

* RuinedFooocus: ``{"Prompt", "Negative", "steps", "cfg", "width", "height", "seed", "sampler_name",
  "scheduler", "base_model_name", "base_model_hash", "loras", "denoise", ..., "software": "RuinedFooocus"}``.
* Diffusers apps (Hugging Face Spaces such as the Animagine / WAI demos): ``{"prompt", "negative_prompt",
  "resolution": "1024 x 1024", "guidance_scale", "num_inference_steps", "seed", "sampler", "Model",
  "Model hash", "use_upscaler"}``: diffusers' own argument names, which no webui writes.
"""

from __future__ import annotations

from typing import Any, Iterable

from .._base import Evidence, GenerationParameters
from .._json import load_json_object
from .._registry import register_reader
from .._source import ImageSource
from ._common import (as_float, as_int, as_text, generation_evidence, has_parameters_slot, json_safe,
                      looks_like_json_object, parameters_text, parse_size)

_RUINED_MAPPED = {"Prompt", "Negative", "steps", "cfg", "width", "height", "seed", "sampler_name", "scheduler",
                  "base_model_name", "base_model_hash", "software"}
_DIFFUSERS_MAPPED = {"prompt", "negative_prompt", "resolution", "guidance_scale", "num_inference_steps", "seed",
                     "sampler", "Model", "Model hash", "width", "height"}


def parse_ruined_fooocus(meta: dict[str, Any]) -> tuple[GenerationParameters, bool]:
    params = GenerationParameters(
        tool="RuinedFooocus", prompt=as_text(meta.get("Prompt")), negative_prompt=as_text(meta.get("Negative")),
        model=as_text(meta.get("base_model_name")), model_hash=as_text(meta.get("base_model_hash")),
        seed=as_int(meta.get("seed")), sampler=as_text(meta.get("sampler_name")),
        scheduler=as_text(meta.get("scheduler")), steps=as_int(meta.get("steps")), cfg_scale=as_float(meta.get("cfg")),
        width=as_int(meta.get("width")), height=as_int(meta.get("height")))
    params.extra = {k: json_safe(v) for k, v in list(meta.items())[:60] if k not in _RUINED_MAPPED}
    denoise = as_float(meta.get("denoise"))
    return params, denoise is not None and denoise < 1


def is_diffusers_json(meta: dict[str, Any]) -> bool:
    return "num_inference_steps" in meta and "guidance_scale" in meta and ("prompt" in meta or "seed" in meta)


def parse_diffusers_json(meta: dict[str, Any]) -> tuple[GenerationParameters, bool]:
    width, height = parse_size(meta.get("resolution"))
    params = GenerationParameters(
        tool="Diffusers", prompt=as_text(meta.get("prompt")), negative_prompt=as_text(meta.get("negative_prompt")),
        model=as_text(meta.get("Model")), model_hash=as_text(meta.get("Model hash")), seed=as_int(meta.get("seed")),
        sampler=as_text(meta.get("sampler")), steps=as_int(meta.get("num_inference_steps")),
        cfg_scale=as_float(meta.get("guidance_scale")), width=width or as_int(meta.get("width")),
        height=height or as_int(meta.get("height")))
    params.extra = {k: json_safe(v) for k, v in list(meta.items())[:60] if k not in _DIFFUSERS_MAPPED}
    strength = as_float(meta.get("strength"))
    return params, strength is not None and strength < 1


@register_reader("json_parameters", applies=has_parameters_slot,
                 description="RuinedFooocus and diffusers-app JSON in the 'parameters' slot",
                 formats=("PNG tEXt 'parameters'", "EXIF UserComment (JPEG, WebP)"))
def read_json_parameters(source: ImageSource) -> Iterable[Evidence]:
    found = parameters_text(source)
    if found is None or not looks_like_json_object(found[1]):
        return []
    location, text = found
    if "RuinedFooocus" not in text and "num_inference_steps" not in text:
        return []  # Fooocus' and SwarmUI's JSON have their own readers
    meta = load_json_object(text, f"generator JSON {location}")
    if meta.get("software") == "RuinedFooocus":
        params, edited = parse_ruined_fooocus(meta)
    elif is_diffusers_json(meta):
        params, edited = parse_diffusers_json(meta)
    else:
        return []
    return [generation_evidence("json_parameters", location, "parameters", text, params, edited=edited)]
