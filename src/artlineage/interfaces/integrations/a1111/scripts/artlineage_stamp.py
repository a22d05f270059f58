"""artlineage for the AUTOMATIC1111 / Forge web UI: check each prompt before generation (stop or
warn when it names an artist whose terms refuse style imitation) and stamp every saved image
(IPTC DigitalSourceType XMP, and a signed C2PA manifest when ARTLINEAGE_STAMP_CERT / _KEY are set).

Installed by ``artlineage integrations install-a1111 WEBUI_DIR`` (copies this extension into
``extensions/``); needs artlineage installed in the web UI's Python environment.
"""

from __future__ import annotations

import os

import modules.scripts as scripts
from modules import script_callbacks, shared

from artlineage.stamping import GenerationService

_services: dict[tuple, GenerationService] = {}
REGISTRY_ENV = "ARTLINEAGE_REGISTRY"


def _service(generator: str, on_block: str) -> GenerationService:
    key = (generator, on_block)
    if key not in _services:
        _services[key] = GenerationService(generator, registry=os.environ.get(REGISTRY_ENV) or None,
                                           on_block=on_block)
    return _services[key]


def _generator(p) -> str:
    model = getattr(p, "sd_model_name", None) or getattr(getattr(p, "sd_model", None), "sd_checkpoint_info", None)
    name = getattr(model, "model_name", model)
    return f"Stable Diffusion web UI ({name})" if name else "Stable Diffusion web UI"


class Script(scripts.Script):
    def title(self):
        return "artlineage"

    def show(self, is_img2img):
        return scripts.AlwaysVisible

    def ui(self, is_img2img):
        import gradio as gr

        with gr.Accordion("artlineage: prompt check and stamping", open=False):
            enabled = gr.Checkbox(label="Check prompts and stamp outputs", value=True)
            on_block = gr.Radio(["stop", "warn"], value="stop", label="When the prompt names an artist who refused")
        return [enabled, on_block]

    def process(self, p, enabled=True, on_block="stop", *args):
        if not enabled:
            return
        svc = _service(_generator(p), on_block)
        prompts = list(dict.fromkeys(getattr(p, "all_prompts", None) or [p.prompt]))
        verdicts = [svc.check(text) for text in prompts]
        worst = next((v for v in verdicts if not v.allowed), None) or next(
            (v for v in verdicts if v.decision != "allow"), None)
        p.extra_generation_params["artlineage"] = worst.decision if worst else "allow"
        p._artlineage = {"service": svc, "edited": bool(getattr(p, "init_images", None)),
                         "ingredients": _encoded(getattr(p, "init_images", None) or [])}
        if worst is not None and not worst.allowed:
            # A script's exception is only logged by the web UI; stopping means no iteration runs.
            p.n_iter = 0
            shared.state.interrupt()
            raise RuntimeError(f"artlineage: {worst.message}")
        if worst is not None:
            print(f"[artlineage] {worst.decision}: {worst.message}")


def _encoded(images, limit: int = 4) -> tuple[bytes, ...]:
    """img2img inputs (PIL images) as PNG bytes, the C2PA ingredients of the edit (at most ``limit``)."""
    import io

    out = []
    for im in images[:limit]:
        buf = io.BytesIO()
        im.save(buf, "PNG")
        out.append(buf.getvalue())
    return tuple(out)


def on_image_saved(params):
    p = getattr(params, "p", None)
    state = getattr(p, "_artlineage", None)
    if not state or not params.filename:
        return
    path = params.filename
    if not os.path.isabs(path):
        path = os.path.join(getattr(shared, "data_path", "") or "", path) if not os.path.exists(path) else path
    try:
        state["service"].stamp_file(path, prompt=getattr(p, "prompt", None), edited=state["edited"],
                                    ingredients=state["ingredients"])
    except Exception as exc:   # a stamp that fails must not lose the user's image
        print(f"[artlineage] could not stamp {path}: {exc}")


script_callbacks.on_image_saved(on_image_saved)
