"""kohya-ss sd-scripts' image generation (``gen_img.py``, ``sdxl_gen_img.py``): one PNG text chunk per field.

They write ``prompt`` (plain text, not ComfyUI's JSON), ``seed``, ``sampler``, ``steps``, ``scale``
(CFG), and when set ``negative-prompt``, ``negative-scale``, ``clip-prompt``, ``raw-prompt``, and
for SDXL ``original-width``/``original-height``/``crop-top``/``crop-left``. ``scale`` + ``steps``
beside a plain-text ``prompt`` is what only this tool writes. (Training-time sample images
from ``train_util.sample_images`` carry no metadata; their filenames are all they keep.)
"""

from __future__ import annotations

from typing import Iterable

from .._base import Evidence, GenerationParameters
from .._registry import register_reader
from .._source import ImageSource
from ._common import as_float, as_int, as_text, generation_evidence, looks_like_json_object

_FIELDS = ("prompt", "negative-prompt", "seed", "sampler", "steps", "scale", "negative-scale", "clip-prompt",
           "raw-prompt", "original-width", "original-height", "crop-top", "crop-left")


def _applies(source: ImageSource) -> bool:
    prompt = source.text("prompt")
    return (prompt is not None and source.text("scale") is not None and source.text("steps") is not None
            and not looks_like_json_object(prompt.text))


@register_reader("kohya", applies=_applies, description="kohya-ss sd-scripts gen_img PNG text chunks (prompt/scale/steps)",
                 formats=("PNG tEXt prompt/seed/sampler/steps/scale",))
def read_kohya(source: ImageSource) -> Iterable[Evidence]:
    if not _applies(source):
        return []
    values = {key: chunk.text for key in _FIELDS if (chunk := source.text(key)) is not None}
    params = GenerationParameters(
        tool="kohya-ss sd-scripts", prompt=as_text(values.get("prompt")),
        negative_prompt=as_text(values.get("negative-prompt")), seed=as_int(values.get("seed")),
        sampler=as_text(values.get("sampler")), steps=as_int(values.get("steps")),
        cfg_scale=as_float(values.get("scale")), width=as_int(values.get("original-width")),
        height=as_int(values.get("original-height")))
    mapped = {"prompt", "negative-prompt", "seed", "sampler", "steps", "scale", "original-width", "original-height"}
    params.extra = {k: v[:500] for k, v in values.items() if k not in mapped}
    location = source.text("prompt").location
    raw = "\n".join(f"{k}: {v}" for k, v in values.items())
    return [generation_evidence("kohya", location, "prompt/scale/steps", raw, params)]
