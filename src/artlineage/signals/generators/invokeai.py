"""InvokeAI: ``invokeai_metadata`` JSON (3.x+), legacy ``sd-metadata`` JSON and ``Dream`` command strings (2.x).

* ``invokeai_metadata``: ``positive_prompt``, ``negative_prompt``, ``model`` ({``name``/``model_name``,
  ``hash``, ``base``}), ``seed``, ``steps``, ``cfg_scale``, ``scheduler``, ``width``, ``height``,
  ``generation_mode`` ("txt2img", "img2img", "inpaint", "sdxl_img2img"...), ``strength``.
* ``sd-metadata``: ``model_weights``, ``model_hash``, ``app_version`` and ``image`` {``prompt``:
  [{prompt, weight}], ``seed``, ``steps``, ``cfg_scale``, ``sampler``, ``width``, ``height``, ``type``,
  ``strength``}; 2.x wrote the negative prompt inside the prompt as ``[bracketed words]``.
* ``Dream``: ``"a prompt" -s 50 -S 12345 -W 512 -H 512 -C 7.5 -A k_lms`` (the CLI line).
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Iterable

from .._base import Evidence, GenerationParameters, SignalError
from .._registry import register_reader
from .._source import ImageSource
from .._json import load_json_object
from ._common import as_float, as_int, as_text, generation_evidence, json_safe

MAX_DREAM_CHARS = 64 * 1024
_NEGATIVE_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_DREAM_OPTIONS = {  # short and long CLI flags -> field
    "-s": "steps", "--steps": "steps", "-S": "seed", "--seed": "seed", "-W": "width", "--width": "width",
    "-H": "height", "--height": "height", "-C": "cfg_scale", "--cfg_scale": "cfg_scale",
    "-A": "sampler", "--sampler": "sampler", "-m": "model", "--model": "model",
    "-I": "init_img", "--init_img": "init_img", "-f": "strength", "--strength": "strength",
    "-M": "init_mask", "--init_mask": "init_mask",
}


def _model_fields(model: Any) -> tuple[str | None, str | None, dict[str, Any]]:
    if isinstance(model, dict):
        name = as_text(model.get("name")) or as_text(model.get("model_name"))
        extra = {k: json_safe(model[k]) for k in ("base", "base_model", "key", "type") if k in model}
        return name, as_text(model.get("hash")), extra
    return as_text(model), None, {}


def parse_invokeai_metadata(meta: dict[str, Any]) -> tuple[GenerationParameters, bool]:
    """``invokeai_metadata`` (InvokeAI 3+) -> parameters, img2img/inpaint flag."""
    model, model_hash, model_extra = _model_fields(meta.get("model"))
    scheduler = as_text(meta.get("scheduler"))
    params = GenerationParameters(
        tool="InvokeAI", prompt=as_text(meta.get("positive_prompt")),
        negative_prompt=as_text(meta.get("negative_prompt")), model=model, model_hash=model_hash,
        seed=as_int(meta.get("seed")), steps=as_int(meta.get("steps")),
        cfg_scale=as_float(meta.get("cfg_scale")),
        # InvokeAI's "scheduler" names the sampling algorithm (euler, dpmpp_2m_k): what others call sampler.
        sampler=scheduler, scheduler=scheduler,
        width=as_int(meta.get("width")), height=as_int(meta.get("height")))
    params.extra = {**model_extra, **{k: json_safe(meta[k]) for k in (
        "generation_mode", "app_version", "strength", "cfg_rescale_multiplier", "rand_device",
        "positive_style_prompt", "negative_style_prompt") if k in meta}}
    mode = str(meta.get("generation_mode", ""))
    strength = as_float(meta.get("strength"))
    edited = "inpaint" in mode or "outpaint" in mode or (
        ("img2img" in mode or "canvas" in mode) and (strength is None or strength < 1))
    return params, edited


def _split_negative(prompt: str) -> tuple[str, str | None]:
    negatives = [n.strip() for n in _NEGATIVE_BRACKETS.findall(prompt) if n.strip()]
    if not negatives:
        return prompt, None
    return re.sub(r"\s{2,}", " ", _NEGATIVE_BRACKETS.sub("", prompt)).strip(), ", ".join(negatives)


def parse_sd_metadata(meta: dict[str, Any]) -> tuple[GenerationParameters, bool]:
    """Legacy ``sd-metadata`` (InvokeAI 2.x) -> parameters, img2img flag."""
    image = meta.get("image") if isinstance(meta.get("image"), dict) else {}
    prompt = image.get("prompt")
    if isinstance(prompt, list):
        prompt = " ".join(p["prompt"] for p in prompt if isinstance(p, dict) and isinstance(p.get("prompt"), str))
    positive, negative = _split_negative(prompt) if isinstance(prompt, str) else (None, None)
    params = GenerationParameters(
        tool="InvokeAI", prompt=positive or None, negative_prompt=negative,
        model=as_text(meta.get("model_weights")) or as_text(meta.get("model")),
        model_hash=as_text(meta.get("model_hash")), seed=as_int(image.get("seed")),
        sampler=as_text(image.get("sampler")), steps=as_int(image.get("steps")),
        cfg_scale=as_float(image.get("cfg_scale")), width=as_int(image.get("width")),
        height=as_int(image.get("height")))
    params.extra = {k: json_safe(v) for k, v in (("app_id", meta.get("app_id")), ("app_version", meta.get("app_version")),
                                                   ("type", image.get("type")), ("strength", image.get("strength")))
                    if v is not None}
    kind = str(image.get("type", ""))
    strength = as_float(image.get("strength"))
    edited = "inpaint" in kind or ("img2img" in kind and (strength is None or strength < 1))
    return params, edited


def parse_dream_string(text: str) -> tuple[GenerationParameters, bool]:
    """A ``Dream`` CLI line -> parameters, img2img flag (an init image with strength < 1)."""
    if len(text) > MAX_DREAM_CHARS:
        raise SignalError(f"InvokeAI 'Dream': {len(text)} characters, above the {MAX_DREAM_CHARS} limit")
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise SignalError(f"InvokeAI 'Dream': cannot split command line ({exc})") from None
    if not tokens:
        raise SignalError("InvokeAI 'Dream': empty")
    values: dict[str, str] = {}
    words: list[str] = []  # the prompt: everything before the first option
    in_options = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        name, eq, inline = token.partition("=")
        in_options = in_options or (token.startswith("-") and len(token) > 1 and not token[1].isdigit())
        if name in _DREAM_OPTIONS:
            if eq:
                values[_DREAM_OPTIONS[name]] = inline
            elif index + 1 < len(tokens):
                values[_DREAM_OPTIONS[name]] = tokens[index + 1]
                index += 1
        elif not in_options:
            words.append(token)
        index += 1
    positive, negative = _split_negative(" ".join(words))
    params = GenerationParameters(
        tool="InvokeAI", prompt=positive or None, negative_prompt=negative, model=values.get("model"),
        seed=as_int(values.get("seed")), sampler=values.get("sampler"), steps=as_int(values.get("steps")),
        cfg_scale=as_float(values.get("cfg_scale")), width=as_int(values.get("width")),
        height=as_int(values.get("height")))
    params.extra = {k: values[k] for k in ("init_img", "strength", "init_mask") if k in values}
    strength = as_float(values.get("strength"))
    edited = "init_mask" in values or ("init_img" in values and (strength is None or strength < 1))
    return params, edited


_KEYS = ("invokeai_metadata", "sd-metadata", "Dream")


@register_reader("invokeai", applies=lambda s: any(s.text(k) is not None for k in _KEYS),
                 description="InvokeAI 'invokeai_metadata' / 'sd-metadata' JSON and 'Dream' strings",
                 formats=("PNG tEXt invokeai_metadata/invokeai_graph/sd-metadata/Dream",))
def read_invokeai(source: ImageSource) -> Iterable[Evidence]:
    # The richest record wins; the older ones are often written alongside it.
    chunk = source.text("invokeai_metadata")
    if chunk is not None:
        params, edited = parse_invokeai_metadata(load_json_object(chunk.text, "InvokeAI 'invokeai_metadata'"))
    elif (chunk := source.text("sd-metadata")) is not None:
        params, edited = parse_sd_metadata(load_json_object(chunk.text, "InvokeAI 'sd-metadata'"))
    elif (chunk := source.text("Dream")) is not None:
        params, edited = parse_dream_string(chunk.text)
    else:
        return []
    return [generation_evidence("invokeai", chunk.location, chunk.key, chunk.text, params, edited=edited)]
