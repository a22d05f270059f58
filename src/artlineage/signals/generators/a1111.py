"""AUTOMATIC1111 stable-diffusion-webui ``parameters`` and the tools that copy its format.

Forge, reForge, SD.Next, Fooocus' A1111 scheme, Civitai's generator and Yodayo write the same
infotext; :func:`detect_flavour` names the tool from the fields only it writes.

The "infotext" is written to the PNG text chunk ``parameters``, or to the EXIF UserComment
(``UNICODE\\0`` + UTF-16) in JPEG and WebP::

    a castle on a hill, golden hour
    Negative prompt: blurry, lowres
    Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x768,
    Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Lora hashes: "add_detail: 7c6bad76eb54, x: 1",
    Version: v1.10.1

(the settings are one line). Values that contain commas are JSON-quoted.
"""

from __future__ import annotations

import json
import re
from typing import Iterable

from .._base import Evidence, GenerationParameters, SignalError
from .._registry import register_reader
from .._source import ImageSource
from ._common import (as_float, as_int, as_text, generation_evidence, has_parameters_slot,
                      looks_like_json_object, parameters_text, parse_size)
from .comfyui import comfyui_platform, has_comfyui_graph

# A1111's key pattern (``\w[\w \-/]+``), anchored on one already-isolated key.
_KEY = re.compile(r"\w[\w \-/]+")
# A JSON-quoted value; possessive so an unterminated quote costs one linear scan.
_QUOTED = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.S)
_MAX_KEY_CHARS = 80  # real keys are short ("Hires upscaler", "ADetailer denoising strength")
_NEGATIVE = "Negative prompt:"
# Settings that make a line the settings line even when it is short.
_KNOWN_SETTINGS = {"Steps", "Sampler", "CFG scale", "Seed", "Size", "Model", "Model hash"}
# Keys only written for inpainting.
_INPAINT_KEYS = {"Mask blur", "Inpaint area", "Masked area padding", "Mask mode", "Masked content"}


def parse_settings_line(line: str) -> dict[str, str]:
    """Tokenise ``Key: value, Key: "quoted, value", ...`` into a dict, in one linear pass.

    Written by hand rather than with A1111's ``re_param`` regex: that regex retries from every
    word character of a long colon-free run, which is quadratic on a hostile multi-megabyte line.
    Semantics follow A1111: a key is ``\\w[\\w \\-/]+``, an unquoted value runs to the next comma,
    a quoted value is JSON-unquoted. Segments whose key is not a key are skipped.
    """
    settings: dict[str, str] = {}
    pos, end = 0, len(line)
    # Structural characters the bracket matcher may visit in all: real JSON values (Civitai
    # resources, Hashes) are a few KB; past this a hostile line is tokenised by commas alone.
    budget = [65_536]
    while pos < end:
        colon = line.find(":", pos)
        if colon < 0:
            break
        key = line[pos:colon].strip()
        start = colon + 1
        while start < end and line[start] == " ":
            start += 1
        quoted = _QUOTED.match(line, start) if line.startswith('"', start) else None
        bracketed = (_bracketed_end(line, start, budget)
                     if budget[0] > 0 and line.startswith(("[", "{"), start) else -1)
        if bracketed > 0:  # Civitai resources: [{...},{...}], Hashes: {...}: commas inside JSON
            value = line[start:bracketed]
            comma = line.find(",", bracketed)
            pos = end if comma < 0 else comma + 1
        elif quoted:
            try:
                value = json.loads(quoted.group(0))
            except ValueError:
                value = quoted.group(0)[1:-1]
            comma = line.find(",", quoted.end())
            pos = end if comma < 0 else comma + 1
        else:
            comma = line.find(",", start)
            if comma < 0:
                comma = end
            value = line[start:comma].strip()
            pos = comma + 1
        if len(key) <= _MAX_KEY_CHARS and _KEY.fullmatch(key):
            settings[key] = value
    return settings


_JSON_TOKEN = re.compile(r'[\[\]{}"\\]')


def _bracketed_end(line: str, start: int, budget: list[int]) -> int:
    """End (exclusive) of the JSON array/object opening at ``start``, or -1 when it never closes.

    Walks only the structural characters (the regex skips the rest in C), tracking depth and JSON
    strings; an unbalanced value falls back to the comma rule. ``budget`` (structural characters
    left for this line, shared by every call) keeps a line full of unclosed brackets linear.
    """
    depth, in_string, escaped_at = 0, False, -2
    for match in _JSON_TOKEN.finditer(line, start):
        budget[0] -= 1
        if budget[0] < 0:
            return -1
        char, index = match.group(), match.start()
        if in_string:
            if char == "\\" and escaped_at != index - 1:
                escaped_at = index
            elif char == '"' and escaped_at != index - 1:
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return index + 1
    return -1


def _is_settings_line(settings: dict[str, str]) -> bool:
    return len(settings) >= 3 and bool(_KNOWN_SETTINGS & settings.keys())


def _find_settings_line(lines: list[str]) -> tuple[int, dict[str, str]] | None:
    """The settings line: normally the last; extensions (Dynamic Prompts) append lines after it."""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].lstrip().startswith("Steps:"):
            settings = parse_settings_line(lines[index])
            if _is_settings_line(settings):
                return index, settings
    if lines:
        settings = parse_settings_line(lines[-1])
        if _is_settings_line(settings):
            return len(lines) - 1, settings
    return None


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def detect_flavour(settings: dict[str, str]) -> str:
    """Which tool wrote the infotext: they all share A1111's format, so the fields that only one
    tool writes decide (checked most specific first):

    * Civitai's generator: ``Created Date`` with ``Civitai resources``/``Civitai metadata``/``Hashes``,
      or Civitai's fields without a webui ``Version`` (an extension may add them to a local webui's);
    * Yodayo / Moescape: its content-filter score ``NGMS``, or a UUID as ``Model`` without a version;
    * SD.Next: ``App: SD.Next``; Fooocus' A1111 scheme: ``Version: Fooocus v...``;
    * Forge: ``Version: f2.0.1v1.10.1-...`` (``f`` + Forge's version + A1111's); reForge: its own
      version, a hyphen, then A1111's (``Version: f1.0.0v2-v1.10.1RC-...``); Forge Classic / Neo:
      ``classic`` / ``neo``;
    * ComfyUI save nodes: no Version, and ComfyUI's lower-case sampler ids (``euler_ancestral``) or a
      ``Model`` with its file extension (``.safetensors``);
    * otherwise AUTOMATIC1111 (``Version: v1.10.1``).
    """
    version = settings.get("Version", "")
    app = settings.get("App", "")
    civitai_fields = "Civitai resources" in settings or "Civitai metadata" in settings
    # Civitai's generator stamps "Created Date" and names no webui version; a local webui whose
    # extension adds "Civitai resources" still writes its own Version.
    if ("Created Date" in settings and (civitai_fields or "Hashes" in settings)) or (civitai_fields and not version):
        return "Civitai"
    if "NGMS" in settings or (_UUID.fullmatch(settings.get("Model", "").strip()) and not version):
        return "Yodayo"
    if version.startswith("Fooocus"):
        return "Fooocus"
    if "SD.Next" in app or "SD.Next" in version:
        return "SD.Next"
    if version.startswith("ComfyUI"):
        return "ComfyUI"
    # reForge: "f1.0.0v2-v1.10.1RC-latest-2498-g5120e679", "f1.3.0-v1.10.1RC-..." (its version, a
    # hyphen, then A1111's); Forge: "f2.0.1v1.10.1-previous-636-g..." (A1111's straight after).
    if re.match(r"f?\d+\.\d+[\w.]*-v\d+\.\d+", version):
        return "reForge"
    if re.match(r"f\d", version):
        return "Forge"
    sampler = settings.get("Sampler", "")
    model_file = re.search(r"\.(?:safetensors|ckpt|pt|gguf|sft)$", settings.get("Model", "").strip().lower())
    if not version and (re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)*", sampler) or model_file):
        # ComfyUI save nodes (SaveImageWithMetaData, comfy-image-saver) write A1111 text with no webui
        # Version (every webui writes one) and either ComfyUI's sampler ids ("euler_ancestral_karras")
        # or the checkpoint's file name with its extension (webuis write the bare name).
        return "ComfyUI"
    if re.match(r"(classic|neo)\b", version, re.IGNORECASE):
        return "Forge Classic" if version.lower().startswith("classic") else "Forge Neo"
    return "AUTOMATIC1111"


def parse_a1111_parameters(text: str) -> GenerationParameters:
    """Parse an A1111-style infotext into fields. Raises :class:`SignalError` when it has no settings line."""
    lines = text.replace("\r\n", "\n").strip().split("\n")
    found = _find_settings_line(lines)
    if found is None:
        raise SignalError("A1111 parameters: no settings line (\"Steps: ..., Sampler: ..., Seed: ...\")")
    index, settings = found
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    in_negative = False
    for line in lines[:index]:
        line = line.strip()
        if line.startswith(_NEGATIVE):
            in_negative = True
            line = line[len(_NEGATIVE):].strip()
        (negative_lines if in_negative else prompt_lines).append(line)

    width, height = parse_size(settings.get("Size"))
    params = GenerationParameters(
        tool=detect_flavour(settings),
        prompt="\n".join(prompt_lines).strip() or None,
        negative_prompt="\n".join(negative_lines).strip() or None,
        model=as_text(settings.get("Model")),
        model_hash=as_text(settings.get("Model hash")),
        seed=as_int(settings.get("Seed")),
        sampler=as_text(settings.get("Sampler")),
        scheduler=as_text(settings.get("Schedule type")),
        steps=as_int(settings.get("Steps")),
        cfg_scale=as_float(settings.get("CFG scale")),
        width=width,
        height=height,
    )
    mapped = {"Model", "Model hash", "Seed", "Sampler", "Schedule type", "Steps", "CFG scale", "Size"}
    params.extra = {k: v for k, v in settings.items() if k not in mapped}
    for line in lines[index + 1:]:  # e.g. "Template: ..." lines from Dynamic Prompts
        key, sep, value = line.partition(":")
        if sep and _KEY.fullmatch(key.strip()):
            params.extra.setdefault(key.strip(), value.strip())
    return params


def image_to_image_reason(params: GenerationParameters) -> str | None:
    """Why the infotext is img2img / inpainting, or None for text-to-image.

    A mask setting (inpainting), an init image (SD.Next's ``Init image ...``), or a denoising strength
    below 1 that is not the hires-fix pass (txt2img writes ``Denoising strength`` with ``Hires ...``).
    """
    extra = params.extra
    mask = sorted(_INPAINT_KEYS & extra.keys())
    if mask:
        return f"inpainting settings ({', '.join(f'{k}: {extra[k]}' for k in mask[:3])})"
    init = sorted(k for k in extra if k.lower().startswith("init image"))
    if init:
        return f"init image ({init[0]}: {extra[init[0]]})"
    denoise = as_float(extra.get("Denoising strength"))
    hires = any(k.startswith("Hires") for k in extra)
    if denoise is not None and denoise < 1 and not hires:
        return f"Denoising strength {denoise:g} on an init image, without a hires-fix pass"
    return None


def is_image_to_image(params: GenerationParameters) -> bool:
    """img2img / inpainting (see :func:`image_to_image_reason`)."""
    return image_to_image_reason(params) is not None


@register_reader("a1111", applies=has_parameters_slot,
                 description="A1111-format infotext: AUTOMATIC1111, Forge, reForge, SD.Next, Civitai, Yodayo",
                 formats=("PNG tEXt/iTXt 'parameters'", "EXIF UserComment (JPEG, WebP, HEIF, AVIF, JXL)"))
def read_a1111(source: ImageSource) -> Iterable[Evidence]:
    found = parameters_text(source)
    if found is None:
        return []
    location, text = found
    if looks_like_json_object(text):
        return []  # Fooocus / SwarmUI write JSON into the same slot
    try:
        params = parse_a1111_parameters(text)
    except SignalError:
        if source.text("parameters") is not None:
            raise  # a 'parameters' chunk without settings is worth a warning
        return []  # a camera's free-text UserComment is not ours to judge
    note = ""
    if has_comfyui_graph(source):
        # ComfyUI save nodes (and apps running ComfyUI) write an A1111-style copy beside the graph
        # for Civitai and A1111 readers: the file was made by the graph's app, whatever the copy says.
        params.extra["written_as"] = params.tool
        params.tool = comfyui_platform(source)
        note = f"A1111-style copy of the parameters written beside a {params.tool} graph"
    reason = image_to_image_reason(params)
    if reason:
        params.extra["edit_reason"] = reason
        note = (note + "; " if note else f"{params.tool} generation parameters ") + f"(image edited: {reason})"
    return [generation_evidence("a1111", location, "parameters", text, params, edited=reason is not None, note=note)]
