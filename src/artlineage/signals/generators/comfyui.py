"""ComfyUI: the executed node graph (``prompt``) and the editor graph (``workflow``).

``prompt`` (API format) maps node ids to ``{"class_type": ..., "inputs": {...}}``; an input that is
wired to another node is ``[source_node_id, output_slot]``. ``workflow`` (UI format) lists
``nodes`` with positional ``widgets_values`` and a ``links`` table. PNGs carry both as text
chunks; ComfyUI's animated WebP puts ``Prompt:{json}`` in EXIF Make and ``Workflow:{json}`` in
EXIF Model.

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
from ._common import (EXIF_MAKE, EXIF_MODEL, as_float, as_int, as_text, exif_text, generation_evidence,
                      json_safe, looks_like_json_object)

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
}
Graph = dict[str, dict[str, Any]]


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


def parse_comfyui_graph(graph: dict[str, Any]) -> tuple[GenerationParameters, bool]:
    """Parameters from an API-format graph, and whether it is image-to-image. Robust to unknown nodes."""
    if not is_api_graph(graph):
        raise SignalError("ComfyUI graph: no node has a class_type")
    if len(graph) > MAX_NODES:
        raise SignalError(f"ComfyUI graph: {len(graph)} nodes, above the {MAX_NODES} limit")
    graph = {str(k): v for k, v in graph.items() if isinstance(v, dict)}
    params = GenerationParameters(tool="ComfyUI")
    samplers = _samplers(graph)
    edited = False
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
        edited = from_image and partial
        params.extra["sampler_node"] = _class(graph[chosen])
        if denoise is not None:
            params.extra["denoise"] = denoise
    else:
        params.model = _model_name_any(graph)
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


def _comfy_sources(source: ImageSource) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    """(location, text) of the API graph and of the UI workflow, wherever this file keeps them."""
    prompt = source.text("prompt")
    workflow = source.text("workflow")
    api = (prompt.location, prompt.text) if prompt and looks_like_json_object(prompt.text) else None
    ui = (workflow.location, workflow.text) if workflow and looks_like_json_object(workflow.text) else None
    if api is None and ui is None and source.exif_bytes:
        for tag, label in ((EXIF_MAKE, "Make"), (EXIF_MODEL, "Model")):
            text = exif_text(source, tag) or ""
            head, sep, body = text.partition(":")
            if sep and looks_like_json_object(body):
                if head.lower() == "prompt":
                    api = (f"{source.exif_location} {label}", body)
                elif head.lower() == "workflow":
                    ui = (f"{source.exif_location} {label}", body)
    return api, ui


def _applies(source: ImageSource) -> bool:
    return source.text("prompt") is not None or source.text("workflow") is not None or bool(source.exif_bytes)


@register_reader("comfyui", applies=_applies, description="ComfyUI node graph ('prompt' / 'workflow')")
def read_comfyui(source: ImageSource) -> Iterable[Evidence]:
    api, ui = _comfy_sources(source)
    if api is not None:
        location, text = api
        graph = load_json_object(text, f"ComfyUI {location}")
        params, edited = parse_comfyui_graph(graph)
        field = "prompt"
    elif ui is not None:
        location, text = ui
        workflow = load_json_object(text, f"ComfyUI {location}")
        params, edited = parse_comfyui_graph(workflow_to_api_graph(workflow))
        field = "workflow"
    else:
        return []
    if ui is not None and api is not None:
        params.extra["has_workflow"] = True
    return [generation_evidence("comfyui", location, field, text, params, edited=edited)]
