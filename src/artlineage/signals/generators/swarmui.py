"""SwarmUI (StableSwarmUI): ``parameters`` JSON with a ``sui_image_params`` object.

``{"sui_image_params": {"prompt", "negativeprompt", "model", "seed", "steps", "cfgscale", "sampler",
"scheduler", "width", "height", "swarm_version", "initimagecreativity"...}, "sui_extra_data": {...},
"sui_models": [{"name", "param", "hash"}]}`` in the PNG text chunk or the EXIF UserComment.
"""

from __future__ import annotations

from typing import Any, Iterable

from .._base import Evidence, GenerationParameters, SignalError
from .._registry import register_reader
from .._source import ImageSource
from .._json import load_json_object
from ._common import (as_float, as_int, as_text, generation_evidence, has_parameters_slot, json_safe,
                      looks_like_json_object, parameters_text)

_MAPPED = {"prompt", "negativeprompt", "model", "seed", "steps", "cfgscale", "sampler", "scheduler", "width",
           "height"}


def parse_swarmui_parameters(meta: dict[str, Any]) -> tuple[GenerationParameters, bool]:
    """The whole ``parameters`` object -> parameters, init-image flag."""
    image = meta.get("sui_image_params")
    if not isinstance(image, dict):
        raise SignalError("SwarmUI parameters: 'sui_image_params' is not an object")
    params = GenerationParameters(
        tool="SwarmUI", prompt=as_text(image.get("prompt")), negative_prompt=as_text(image.get("negativeprompt")),
        model=as_text(image.get("model")), seed=as_int(image.get("seed")), sampler=as_text(image.get("sampler")),
        scheduler=as_text(image.get("scheduler")), steps=as_int(image.get("steps")),
        cfg_scale=as_float(image.get("cfgscale")), width=as_int(image.get("width")),
        height=as_int(image.get("height")))
    models = meta.get("sui_models")
    for entry in models if isinstance(models, list) else []:
        if isinstance(entry, dict) and entry.get("param") == "model":
            params.model_hash = as_text(entry.get("hash"))
    params.extra = {k: json_safe(v) for k, v in list(image.items())[:60] if k not in _MAPPED}
    creativity = as_float(image.get("initimagecreativity"))
    edited = "maskimage" in image or "initimage" in image or (creativity is not None and 0 < creativity < 1)
    return params, edited


@register_reader("swarmui", applies=has_parameters_slot, description="SwarmUI 'parameters' JSON (sui_image_params)",
                 formats=("PNG tEXt 'parameters'", "EXIF UserComment (JPEG, WebP)"))
def read_swarmui(source: ImageSource) -> Iterable[Evidence]:
    found = parameters_text(source)
    if found is None or not looks_like_json_object(found[1]) or "sui_image_params" not in found[1]:
        return []
    location, text = found
    params, edited = parse_swarmui_parameters(load_json_object(text, f"SwarmUI {location}"))
    return [generation_evidence("swarmui", location, "parameters", text, params, edited=edited)]
