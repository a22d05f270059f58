"""The node classes (plain Python: ComfyUI calls INPUT_TYPES, then FUNCTION with the inputs).

IMAGE inputs are ComfyUI's [batch, height, width, channels] float tensors in 0..1; anything with
``.cpu().numpy()`` or a numpy array is accepted, so the nodes run (and are tested) without torch.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from artlineage.stamping import GenerationService

CATEGORY = "artlineage"
_services: dict[tuple, GenerationService] = {}
_lock = threading.Lock()


def service(generator: str, registry: str = "", on_block: str = "stop", cert: str = "", key: str = "",
            watermark: bool = False) -> GenerationService:
    """One GenerationService per configuration, reused across runs (its guard is built once)."""
    from artlineage.stamping import SigningCredentials

    k = (generator, registry, on_block, cert, key, watermark)
    with _lock:
        if k not in _services:
            creds = SigningCredentials.from_files(cert, key) if cert and key else None
            _services[k] = GenerationService(generator, registry=registry or None, on_block=on_block,
                                             credentials=creds, watermark=watermark)
        return _services[k]


def _as_uint8_images(images: Any) -> list[np.ndarray]:
    arr = images.cpu().numpy() if hasattr(images, "cpu") else np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(f"expected IMAGE of shape [batch, height, width, channels], got {arr.shape}")
    return [np.clip(np.rint(255.0 * a), 0, 255).astype(np.uint8) for a in arr]


def _output_directory() -> str:
    try:
        import folder_paths   # ComfyUI's module, present when running inside ComfyUI

        return folder_paths.get_output_directory()
    except ImportError:
        return os.path.join(os.getcwd(), "output")      # outside ComfyUI (scripts, tests): ./output


def _png(arr: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(buf, "PNG")
    return buf.getvalue()


class ArtlineageCheckPrompt:
    """Apply the prompt guard (with the registry's terms when a registry is given): stop the run on
    a blocked artist, or let it go on with a warning. Passes the text through for the encoder."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("STRING", "STRING", "STRING")
    RETURN_NAMES = ("text", "decision", "report")
    FUNCTION = "check"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {"multiline": True, "default": ""}),
                             "on_block": (["stop", "warn"], {"default": "stop"})},
                "optional": {"registry": ("STRING", {"default": ""})}}

    def check(self, text: str, on_block: str = "stop", registry: str = ""):
        verdict = service("ComfyUI", registry, on_block).check(text)
        if not verdict.allowed:
            # An exception is how a node stops a ComfyUI run; the message is shown to the user.
            raise RuntimeError(f"artlineage: {verdict.message}")
        if verdict.decision != "allow":
            print(f"[artlineage] {verdict.decision}: {verdict.message}")
        return (text, verdict.decision, json.dumps(verdict.to_dict(), ensure_ascii=False))


class ArtlineageSaveStamped:
    """Save images as PNG with the ComfyUI graph (``prompt`` and ``workflow`` text chunks, as
    SaveImage writes them) plus IPTC DigitalSourceType XMP and, with a certificate, a signed C2PA
    manifest naming the artists the prompt credits."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"images": ("IMAGE",),
                             "filename_prefix": ("STRING", {"default": "artlineage"}),
                             "generator": ("STRING", {"default": "ComfyUI"})},
                "optional": {"positive_prompt": ("STRING", {"forceInput": True}),
                             "edited": ("BOOLEAN", {"default": False}),
                             "source_images": ("IMAGE",),     # the inputs of an edit: C2PA ingredients
                             "watermark": ("BOOLEAN", {"default": False}),
                             "cert_chain": ("STRING", {"default": ""}),
                             "private_key": ("STRING", {"default": ""}),
                             "registry": ("STRING", {"default": ""})},
                "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}

    def __init__(self, output_dir: str | None = None):
        self.output_dir = output_dir

    def save(self, images, filename_prefix: str = "artlineage", generator: str = "ComfyUI",
             positive_prompt: str | None = None, edited: bool = False, watermark: bool = False,
             cert_chain: str = "", private_key: str = "", registry: str = "", source_images=None, prompt=None,
             extra_pnginfo=None):
        from PIL import Image, PngImagePlugin

        svc = service(generator or "ComfyUI", registry, "warn", cert_chain, private_key, watermark)
        out_dir = Path(self.output_dir or _output_directory())
        sub = Path(filename_prefix).parent
        stem = Path(filename_prefix).name or "artlineage"
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
        existing = [p.name for p in (out_dir / sub).glob(f"{stem}_*.png")]
        counter = 1 + max((int(n[len(stem) + 1:-4].split("_")[0]) for n in existing
                           if n[len(stem) + 1:-4].split("_")[0].isdigit()), default=0)
        ingredients = tuple(_png(a) for a in _as_uint8_images(source_images)[:4]) if source_images is not None else ()
        results = []
        for i, arr in enumerate(_as_uint8_images(images)):
            info = PngImagePlugin.PngInfo()
            if prompt is not None:
                info.add_text("prompt", json.dumps(prompt))
            for k, v in (extra_pnginfo or {}).items():
                info.add_text(k, json.dumps(v))
            name = f"{stem}_{counter + i:05}_.png"
            image = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
            svc.stamp_image(image, out_dir / sub / name, prompt=positive_prompt, edited=edited or bool(ingredients),
                            ingredients=ingredients, pnginfo=info)
            results.append({"filename": name, "subfolder": str(sub) if str(sub) != "." else "", "type": "output"})
        return {"ui": {"images": results}}


NODE_CLASS_MAPPINGS = {"ArtlineageCheckPrompt": ArtlineageCheckPrompt, "ArtlineageSaveStamped": ArtlineageSaveStamped}
NODE_DISPLAY_NAME_MAPPINGS = {"ArtlineageCheckPrompt": "artlineage: check prompt",
                              "ArtlineageSaveStamped": "artlineage: save stamped image"}
