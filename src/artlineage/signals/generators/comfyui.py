"""ComfyUI: the executed node graph (``prompt``) and the editor graph (``workflow``).

``prompt`` (API format) maps node ids to ``{"class_type": ..., "inputs": {...}}``; an input that is
wired to another node is ``[source_node_id, output_slot]``. ``workflow`` (UI format) lists
``nodes`` with positional ``widgets_values`` and a ``links`` table. PNGs carry both as text
chunks. JPEG and WebP outputs keep them in EXIF, in the layouts real savers write:

* ComfyUI's own WebP savers: ``prompt:{json}`` in Model, ``workflow:{json}`` in Make, further
  extra-info keys (``key:{json}``) in ImageDescription and the tags below it;
* Kaharos94's Saveaswebp / SaveImgAdv: the bare API graph in Make, the bare workflow in
  ImageDescription (an A1111-style copy may sit in UserComment);
* ExtendedImageFormats: ``{"prompt": {...}, "workflow": {...}}`` as JSON in UserComment;
* Civitai's on-site ComfyUI generator: the API graph in UserComment with Civitai's own keys
  (``extra``/``extraMetadata``/``resource-stack``, ``urn:air:`` model ids), named "Civitai".

Parameters come from walking the graph the way it executes: the sampler's ``positive`` and
``negative`` links lead (through conditioning nodes) to text encoders, ``model`` to the
checkpoint loader, ``latent_image`` to the empty latent (size) or to a VAE encode (img2img).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterable

from .._base import Evidence, GenerationParameters, SignalError
from .._registry import register_reader
from .._source import ImageSource
from .._json import load_json_object
from ._common import (EXIF_IMAGE_DESCRIPTION, EXIF_MAKE, EXIF_MODEL, as_float, as_int, as_text, exif_text,
                      generation_evidence, json_safe, looks_like_json_object, user_comment)

MAX_NODES = 10_000
MAX_WALK = 500  # nodes visited by one upstream walk
# Inputs that lead away from the prompt text (into models, images, control nets).
_NOT_CONDITIONING = {"clip", "model", "vae", "image", "pixels", "mask", "control_net", "clip_vision",
                     "style_model", "gligen", "upscale_model"}
_TEXT_INPUTS = ("text", "text_g", "text_l", "t5xxl", "clip_l", "string", "value", "prompt", "text_positive")
_MODEL_INPUTS = ("ckpt_name", "unet_name", "model_name", "gguf_name", "base_ckpt_name")
# Positional widget names of core nodes, to read the UI-format ``workflow``.
_WIDGETS = {
    "KSampler": ["seed", None, "steps", "cfg", "sampler_name", "scheduler", "denoise"],
    "KSamplerAdvanced": ["add_noise", "noise_seed", None, "steps", "cfg", "sampler_name", "scheduler",
                         "start_at_step", "end_at_step", "return_with_leftover_noise"],
    "CLIPTextEncode": ["text"],
    "CLIPTextEncodeSDXL": ["width", "height", "crop_w", "crop_h", "target_width", "target_height",
                           "text_g", "text_l"],
    "CheckpointLoaderSimple": ["ckpt_name"],
    "UNETLoader": ["unet_name", "weight_dtype"],
    "EmptyLatentImage": ["width", "height", "batch_size"],
    "EmptySD3LatentImage": ["width", "height", "batch_size"],
    "LoadImage": ["image", None],
    "VAEEncodeForInpaint": ["grow_mask_by"],
    "InpaintModelConditioning": ["noise_mask"],
    "ImagePadForOutpaint": ["left", "top", "right", "bottom", "feathering"],
}
Graph = dict[str, dict[str, Any]]
# Nodes that only exist to edit a given image: inpaint/outpaint encoders and conditioning, and the
# conditioning of instruction-edit models (Flux Kontext, Qwen-Image-Edit, InstructPix2Pix, ...).
_EDIT_NODE_MARKERS = ("VAEEncodeForInpaint", "InpaintModelConditioning", "ImagePadForOutpaint",
                      "ReferenceLatent", "FluxKontext", "QwenImageEdit", "InstructPixToPix",
                      "Inpaint", "Outpaint", "SetLatentNoiseMask")
# Model files made for inpainting or instruction editing, by name.
_EDIT_MODEL_WORDS = ("inpaint", "kontext", "image_edit", "image-edit", "imageedit", "qwen_edit", "fill-dev",
                     "fill_dev", "flux1-fill", "instruct-pix2pix", "ip2p", "omnigen", "step1x-edit", "hidream_e1")
_CIVITAI_KEYS = ("extraMetadata", "resource-stack")
# Other model-file inputs whose names tell what a model does (an inpainting ControlNet edits).
_NAMED_MODEL_INPUTS = ("lora_name", "control_net_name")
# Structural-control models (Flux Depth / Canny) share InstructPixToPixConditioning with edit models.
_STRUCTURAL_CONTROL_WORDS = ("depth", "canny")


def _link(value: Any) -> str | None:
    """Source node id when ``value`` is a wire ``[node_id, slot]``."""
    if (isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int))
            and not isinstance(value[0], bool) and isinstance(value[1], int)):
        return str(value[0])
    return None


def _inputs(node: Any) -> dict[str, Any]:
    inputs = node.get("inputs") if isinstance(node, dict) else None
    return inputs if isinstance(inputs, dict) else {}


def _class(node: Any) -> str:
    value = node.get("class_type") if isinstance(node, dict) else None
    return value if isinstance(value, str) else ""


def is_api_graph(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(n, dict) and "class_type" in n for n in value.values())


def _walk(graph: Graph, start: str | None, follow: Any) -> Iterable[tuple[str, dict[str, Any]]]:
    """Breadth-first walk upstream from ``start``; ``follow(name)`` says which inputs to take. Cycle-safe."""
    if start is None:
        return
    seen: set[str] = set()
    queue = deque([start])
    while queue and len(seen) < MAX_WALK:
        node_id = queue.popleft()
        if node_id in seen or node_id not in graph:
            continue
        seen.add(node_id)
        node = graph[node_id]
        yield node_id, node
        for name, value in _inputs(node).items():
            source = _link(value)
            if source is not None and follow(name):
                queue.append(source)


def _resolve_text(graph: Graph, value: Any, depth: int = 0) -> str | None:
    """A text input's string, following wires to primitive / string nodes."""
    if isinstance(value, str):
        return value
    source = _link(value)
    if source is None or depth > 20 or source not in graph:
        return None
    inputs = _inputs(graph[source])
    for name in _TEXT_INPUTS:
        if name in inputs:
            text = _resolve_text(graph, inputs[name], depth + 1)
            if text is not None:
                return text
    return None


def _prompt_text(graph: Graph, start: str | None) -> str | None:
    """Texts of the encoders that feed one conditioning input, in walk order."""
    texts: list[str] = []
    for _, node in _walk(graph, start, lambda name: name not in _NOT_CONDITIONING):
        if "TextEncode" not in _class(node) and "Prompt" not in _class(node):
            continue
        inputs = _inputs(node)
        for name in _TEXT_INPUTS:
            if name in inputs:
                text = _resolve_text(graph, inputs[name])
                if text and text.strip() and text.strip() not in texts:
                    texts.append(text.strip())
                    break
    return "\n".join(texts) or None


def _samplers(graph: Graph) -> list[str]:
    found = [node_id for node_id, node in graph.items()
             if "Sampler" in _class(node) and ({"steps", "seed", "noise_seed", "cfg"} & _inputs(node).keys())]
    return sorted(found, key=lambda i: (len(i), i))  # numeric ids in numeric order


def _latent_source(graph: Graph, sampler_id: str) -> tuple[dict[str, Any] | None, bool]:
    """(empty-latent node, whether the latent comes from an encoded image)."""
    from_image = False
    start = _link(_inputs(graph[sampler_id]).get("latent_image"))
    for _, node in _walk(graph, start, lambda name: name in ("samples", "latent", "latent_image", "pixels",
                                                              "latent_a", "source")):
        cls = _class(node)
        if "VAEEncode" in cls or "InpaintModelConditioning" in cls:
            from_image = True
        inputs = _inputs(node)
        if "Latent" in cls and as_int(inputs.get("width")) and as_int(inputs.get("height")):
            return node, from_image
    return None, from_image


def _model_name(graph: Graph, sampler_id: str) -> str | None:
    start = _link(_inputs(graph[sampler_id]).get("model"))
    for _, node in _walk(graph, start, lambda name: name == "model"):
        for name in _MODEL_INPUTS:
            text = _resolve_text(graph, _inputs(node).get(name))
            if text:
                return text
    return _model_name_any(graph)  # a custom model wiring we could not follow


def _model_name_any(graph: Graph) -> str | None:
    for node in graph.values():
        for name in _MODEL_INPUTS:
            text = _inputs(node).get(name)
            if isinstance(text, str) and text:
                return text
    return None


def _loads_an_image(graph: Graph) -> str | None:
    """Id of a node that loads an input image (LoadImage and the custom loaders named like it)."""
    return next((i for i, n in graph.items() if "LoadImage" in _class(n) or _class(n) in ("ETN_LoadImageBase64",)),
                None)


def edit_reason(graph: Graph, sampler_id: str | None, from_image: bool, partial: bool,
                denoise: float | None) -> str | None:
    """Why this graph edits an existing image (inpaint, outpaint, img2img, instruction edit), or None.

    An image loaded *and* one of: an inpaint/outpaint/edit node, an edit or inpaint model, or the
    sampled latent encoded from that image with denoise below 1. A loaded image that only feeds a
    ControlNet or IP-Adapter is a reference, not an edit.
    """
    loader = _loads_an_image(graph)
    if loader is None:
        return None
    loaded = _inputs(graph[loader]).get("image")
    if isinstance(loaded, str) and loaded.startswith("https://") and ".civitai.com/" in loaded[:80]:
        return None  # Civitai's hires/upscale pass over an image its own generator made
    names = [v.lower() for node in graph.values() for k, v in _inputs(node).items()
             if k in _MODEL_INPUTS + _NAMED_MODEL_INPUTS and isinstance(v, str)]
    structural = any(word in n for n in names for word in _STRUCTURAL_CONTROL_WORDS)
    for node_id, node in graph.items():
        cls = _class(node)
        if any(marker in cls for marker in _EDIT_NODE_MARKERS):
            if "InstructPixToPix" in cls and structural:
                continue  # Flux Depth/Canny feed a depth map or edges through it: guidance, not an edit
            return f"{cls} node {node_id} edits the image loaded by node {loader} ({_class(graph[loader])})"
    for node_id, node in graph.items():
        for name in _MODEL_INPUTS + _NAMED_MODEL_INPUTS:
            value = _inputs(node).get(name)
            if isinstance(value, str) and any(word in value.lower() for word in _EDIT_MODEL_WORDS):
                return f"edit/inpaint model {value!r} (node {node_id}) applied to the image loaded by node {loader}"
    if from_image and partial:
        amount = f"denoise {denoise:g}" if denoise is not None else "a partial schedule (start_at_step > 0)"
        return f"sampler node {sampler_id} starts from the image loaded by node {loader}, encoded, with {amount}"
    return None


def is_civitai_graph(graph: dict[str, Any]) -> bool:
    """Civitai's generator adds its own top-level keys and ``urn:air:`` resource ids to the graph."""
    if any(key in graph for key in _CIVITAI_KEYS):
        return True
    extra = graph.get("extra")
    if isinstance(extra, dict) and "airs" in extra:
        return True
    return any(isinstance(v, str) and v.startswith("urn:air:")
               for node in list(graph.values())[:MAX_NODES] for v in _inputs(node).values())


def parse_comfyui_graph(graph: dict[str, Any]) -> tuple[GenerationParameters, bool]:
    """Parameters from an API-format graph, and whether it is image-to-image. Robust to unknown nodes.

    The reason for an edit verdict is kept in ``params.extra["edit_reason"]``.
    """
    if not is_api_graph(graph):
        raise SignalError("ComfyUI graph: no node has a class_type")
    if len(graph) > MAX_NODES:
        raise SignalError(f"ComfyUI graph: {len(graph)} nodes, above the {MAX_NODES} limit")
    civitai = is_civitai_graph(graph)
    graph = {str(k): v for k, v in graph.items() if isinstance(v, dict) and "class_type" in v}
    params = GenerationParameters(tool="Civitai" if civitai else "ComfyUI")
    if civitai:
        params.extra["engine"] = "ComfyUI"
    samplers = _samplers(graph)
    edited = False
    reason: str | None = None
    if samplers:
        # The first sampler that starts from an empty latent is the base pass; refiners come later.
        chosen = samplers[0]
        latent, from_image = _latent_source(graph, chosen)
        for candidate in samplers:
            node, image = _latent_source(graph, candidate)
            if node is not None and not image:
                chosen, latent, from_image = candidate, node, image
                break
        inputs = _inputs(graph[chosen])
        params.seed = as_int(inputs.get("seed", inputs.get("noise_seed")))
        params.steps = as_int(inputs.get("steps"))
        params.cfg_scale = as_float(inputs.get("cfg"))
        params.sampler = as_text(inputs.get("sampler_name"))
        params.scheduler = as_text(inputs.get("scheduler"))
        params.prompt = _prompt_text(graph, _link(inputs.get("positive")))
        params.negative_prompt = _prompt_text(graph, _link(inputs.get("negative")))
        params.model = _model_name(graph, chosen)
        if latent is not None:
            params.width = as_int(_inputs(latent).get("width"))
            params.height = as_int(_inputs(latent).get("height"))
        denoise = as_float(inputs.get("denoise"))
        start_step = as_int(inputs.get("start_at_step"))
        partial = (denoise is not None and denoise < 1) or bool(start_step)
        reason = edit_reason(graph, chosen, from_image, partial, denoise)
        params.extra["sampler_node"] = _class(graph[chosen])
        if denoise is not None:
            params.extra["denoise"] = denoise
    else:
        params.model = _model_name_any(graph)
        reason = edit_reason(graph, None, False, False, None)
    if reason is not None:
        edited = True
        params.extra["edit_reason"] = reason
    loras = [json_safe(_inputs(n).get("lora_name")) for n in graph.values() if "lora_name" in _inputs(n)]
    if loras:
        params.extra["loras"] = loras[:20]
    params.extra["node_count"] = len(graph)
    return params, edited


def workflow_to_api_graph(workflow: dict[str, Any]) -> Graph:
    """Rebuild an API-format graph from the UI ``workflow`` (core nodes' widgets; links resolved)."""
    nodes = workflow.get("nodes")
    links = workflow.get("links")
    if not isinstance(nodes, list):
        raise SignalError("ComfyUI workflow: no 'nodes' list")
    if len(nodes) > MAX_NODES:
        raise SignalError(f"ComfyUI workflow: {len(nodes)} nodes, above the {MAX_NODES} limit")
    wires: dict[Any, list[Any]] = {}
    for link in links if isinstance(links, list) else []:
        if isinstance(link, list) and len(link) >= 3:  # [id, from_node, from_slot, to_node, to_slot, type]
            wires[link[0]] = [str(link[1]), link[2] if isinstance(link[2], int) else 0]
    graph: Graph = {}
    for node in nodes:
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            continue
        inputs: dict[str, Any] = {}
        values = node.get("widgets_values")
        if isinstance(values, list):
            for name, value in zip(_WIDGETS.get(node["type"], []), values):
                if name is not None:
                    inputs[name] = value
        for slot in node.get("inputs") or []:
            if isinstance(slot, dict) and isinstance(slot.get("name"), str) and slot.get("link") in wires:
                inputs[slot["name"]] = wires[slot["link"]]
        graph[str(node.get("id"))] = {"class_type": node["type"], "inputs": inputs}
    return graph


_EXIF_SLOTS = ((EXIF_MODEL, "Model"), (EXIF_MAKE, "Make"), (EXIF_IMAGE_DESCRIPTION, "ImageDescription"),
               (0x010D, "DocumentName"))
Found = tuple[str, str, str, dict[str, Any]]  # (location, field, raw text, parsed object)


def _classify(value: Any) -> str | None:
    """``"prompt"`` for an API graph, ``"workflow"`` for a UI workflow, else None."""
    if is_api_graph(value):
        return "prompt"
    if isinstance(value, dict) and isinstance(value.get("nodes"), list):
        return "workflow"
    return None


def _exif_candidates(source: ImageSource) -> list[tuple[str, str, str]]:
    """(location, field, text) of the EXIF slots savers put ComfyUI JSON in."""
    where = source.exif_location or "EXIF"
    found = [(f"{where} {label}", label, text) for tag, label in _EXIF_SLOTS if (text := exif_text(source, tag))]
    comment = user_comment(source)
    if comment:
        found.append((f"{where} UserComment", "UserComment", comment))
    return found


def _comfy_sources(source: ImageSource) -> tuple[Found | None, Found | None]:
    """The API graph and the UI workflow, wherever this file keeps them (see the module docstring)."""
    api: Found | None = None
    ui: Found | None = None
    for key in ("prompt", "workflow"):
        chunk = source.text(key)
        if chunk is not None and looks_like_json_object(chunk.text):
            parsed = load_json_object(chunk.text, f"ComfyUI {chunk.location}")
            if key == "prompt":
                api = (chunk.location, "prompt", chunk.text, parsed)
            else:
                ui = (chunk.location, "workflow", chunk.text, parsed)
    if api is not None or ui is not None or not source.exif_bytes:
        return api, ui
    for location, label, text in _exif_candidates(source):
        head, sep, body = text.partition(":")
        if sep and head.strip().lower() in ("prompt", "workflow") and looks_like_json_object(body):
            text, declared = body, head.strip().lower()
        elif looks_like_json_object(text) and ('"class_type"' in text or '"nodes"' in text):
            declared = None
        else:
            continue
        parsed = load_json_object(text, f"ComfyUI {location}")
        kind = _classify(parsed)
        if kind is None and declared is None:
            # ExtendedImageFormats: {"prompt": {...}, "workflow": {...}} in one JSON object.
            inner_api, inner_ui = parsed.get("prompt"), parsed.get("workflow")
            if api is None and _classify(inner_api) == "prompt":
                api = (location, f"{label} prompt", text, inner_api)
            if ui is None and _classify(inner_ui) == "workflow":
                ui = (location, f"{label} workflow", text, inner_ui)
            continue
        entry = (location, label if declared is None else f"{label} {declared}", text, parsed)
        if kind == "prompt" and api is None:
            api = entry
        elif kind == "workflow" and ui is None:
            ui = entry
    return api, ui


def comfyui_platform(source: ImageSource, graph: dict[str, Any] | None = None) -> str:
    """The app that ran the ComfyUI graph, from the chunks and nodes only it writes: SwarmUI
    (``parameters`` with ``sui_image_params`` beside the backend graph), Stability Matrix
    (``smproj`` / ``parameters-json``), Tensor.Art (``generation_data``, ``ECHO*`` nodes), Civitai
    (its keys in the graph); else ComfyUI itself."""
    parameters = source.text("parameters")
    if parameters is not None and "sui_image_params" in parameters.text[:4096]:
        return "SwarmUI"
    if source.text("smproj") is not None or source.text("parameters-json") is not None:
        return "Stability Matrix"
    if source.text("generation_data") is not None or (graph is not None and any(
            _class(n).startswith("ECHO") for n in list(graph.values())[:MAX_NODES])):
        return "Tensor.Art"
    if graph is not None and is_civitai_graph(graph):
        return "Civitai"
    return "ComfyUI"


def has_comfyui_graph(source: ImageSource) -> bool:
    """Whether the file holds a ComfyUI graph (other readers treat their text as a copy of it)."""
    try:
        api, ui = _comfy_sources(source)
    except SignalError:
        return False
    return api is not None or ui is not None


def _applies(source: ImageSource) -> bool:
    return source.text("prompt") is not None or source.text("workflow") is not None or bool(source.exif_bytes)


@register_reader("comfyui", applies=_applies, description="ComfyUI node graph ('prompt' / 'workflow')",
                 formats=("PNG tEXt 'prompt'/'workflow'",
                          "EXIF Model/Make/ImageDescription/UserComment (JPEG, WebP, HEIF, AVIF, JXL)"))
def read_comfyui(source: ImageSource) -> Iterable[Evidence]:
    api, ui = _comfy_sources(source)
    if api is not None:
        location, field, text, graph = api
        params, edited = parse_comfyui_graph(graph)
    elif ui is not None:
        location, field, text, workflow = ui
        params, edited = parse_comfyui_graph(workflow_to_api_graph(workflow))
    else:
        return []
    if ui is not None and api is not None:
        params.extra["has_workflow"] = True
    platform = comfyui_platform(source, graph if api is not None else None)
    if platform != params.tool:
        params.tool = platform
        params.extra["engine"] = "ComfyUI"
    note = ""
    if edited:
        note = f"{params.tool} generation parameters (image edited: {params.extra['edit_reason']})"
    return [generation_evidence("comfyui", location, field, text, params, edited=edited, note=note)]
