"""NovelAI: PNG text chunks ``Software`` = "NovelAI", ``Source``, ``Description``, ``Comment``.

``Source`` names the model and its short hash ("Stable Diffusion XL C1E1DE52",
"NovelAI Diffusion V4.5 4BDE2A90"); ``Description`` is the prompt; ``Comment`` is JSON with
``prompt``, ``uc`` (negative), ``steps``, ``scale``, ``seed``, ``sampler``, ``width``, ``height``,
``noise_schedule``, ``request_type`` and, for V4, ``v4_prompt`` / ``v4_negative_prompt`` (with one
``char_captions`` entry per character) and V4.5's vibe / director references. The same
fields can also be hidden in the alpha channel (see :mod:`.novelai_stealth`).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from .._base import Evidence, GenerationParameters
from .._registry import register_reader
from .._source import ImageSource
from .._json import load_json_object
from ._common import as_float, as_int, as_text, generation_evidence, json_safe

_SOURCE = re.compile(r"(.*?)\s+([0-9A-Fa-f]{8})")
_MAPPED = {"prompt", "uc", "steps", "scale", "seed", "sampler", "width", "height", "noise_schedule",
           "v4_prompt", "v4_negative_prompt"}
_KEPT_EXTRA = ("request_type", "strength", "noise", "uncond_scale", "cfg_rescale", "sm", "sm_dyn",
               "n_samples", "legacy", "skip_cfg_above_sigma", "dynamic_thresholding")


def _v4_caption(block: Any) -> str | None:
    """``v4_prompt.caption.base_caption`` (V4 keeps the prompt there)."""
    if isinstance(block, dict) and isinstance(block.get("caption"), dict):
        return as_text(block["caption"].get("base_caption"))
    return None


def _v4_characters(block: Any) -> list[str]:
    """V4's per-character prompts (``v4_prompt.caption.char_captions[].char_caption``), bounded."""
    caption = block.get("caption") if isinstance(block, dict) else None
    chars = caption.get("char_captions") if isinstance(caption, dict) else None
    return [json_safe(c["char_caption"], 500) for c in (chars if isinstance(chars, list) else [])[:20]
            if isinstance(c, dict) and isinstance(c.get("char_caption"), str) and c["char_caption"].strip()]


def is_novelai(fields: Mapping[str, Any]) -> bool:
    software = fields.get("Software")
    source = fields.get("Source")
    return (isinstance(software, str) and software.strip().lower().startswith("novelai")) or (
        isinstance(source, str) and source.startswith("NovelAI Diffusion"))


def parse_novelai_fields(fields: Mapping[str, Any]) -> tuple[GenerationParameters, bool]:
    """Parameters from NovelAI's text fields (``Comment`` as JSON text or already a dict), and img2img flag."""
    comment = fields.get("Comment")
    if isinstance(comment, str):
        comment = load_json_object(comment, "NovelAI 'Comment'")
    if not isinstance(comment, dict):
        comment = {}
    params = GenerationParameters(tool="NovelAI")
    params.prompt = as_text(comment.get("prompt")) or _v4_caption(comment.get("v4_prompt")) or as_text(
        fields.get("Description"))
    params.negative_prompt = as_text(comment.get("uc")) or _v4_caption(comment.get("v4_negative_prompt"))
    source = as_text(fields.get("Source"))
    if source:
        match = _SOURCE.fullmatch(source)
        params.model, params.model_hash = (match.group(1), match.group(2)) if match else (source, None)
    params.seed = as_int(comment.get("seed"))
    params.steps = as_int(comment.get("steps"))
    params.cfg_scale = as_float(comment.get("scale"))
    params.sampler = as_text(comment.get("sampler"))
    params.scheduler = as_text(comment.get("noise_schedule"))
    params.width = as_int(comment.get("width"))
    params.height = as_int(comment.get("height"))
    params.extra = {k: json_safe(comment[k]) for k in _KEPT_EXTRA if k in comment}
    characters = _v4_characters(comment.get("v4_prompt"))
    if characters:
        params.extra["character_prompts"] = characters
    # V4.5 vibe transfer and director (character/style) references guide a new image; not an edit.
    references = sum(len(v) for k, v in comment.items()
                     if k in ("reference_strength_multiple", "director_reference_strengths") and isinstance(v, list))
    if references:
        params.extra["image_references"] = references
    if "signed_hash" in comment:
        params.extra["signed_hash"] = json_safe(comment["signed_hash"], 200)
    for key in ("Title", "Generation time", "Software"):
        if isinstance(fields.get(key), str):
            params.extra[key] = json_safe(fields[key], 200)
    request = str(comment.get("request_type", ""))
    edited = any(word in request for word in ("Img2Img", "Infill", "Inpaint"))
    return params, edited


@register_reader("novelai", applies=lambda s: s.text("Software") is not None or s.text("Source") is not None,
                 description="NovelAI PNG text chunks (Software, Source, Description, Comment)",
                 formats=("PNG tEXt Software/Source/Description/Comment",))
def read_novelai(source: ImageSource) -> Iterable[Evidence]:
    fields = {chunk.key: chunk.text for chunk in source.texts}
    if not is_novelai(fields):
        return []
    params, edited = parse_novelai_fields(fields)
    chunk = source.text("Comment") or source.text("Software") or source.text("Source")
    raw = fields.get("Comment") or fields.get("Source") or fields.get("Software") or ""
    return [generation_evidence("novelai", chunk.location if chunk else "PNG text", "Comment", raw, params,
                                edited=edited)]
