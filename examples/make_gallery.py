"""Build the bundled example gallery (examples/gallery/): one image per kind of evidence.

Run once by maintainers (`python examples/make_gallery.py`); the outputs are committed so the
README's first command works offline. Every file is generated here: nothing is downloaded.
The C2PA file is signed with a throw-away test certificate chain, so artlineage reports it as
valid but signed by a signer that is not on a trust list.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test fixtures hold the C2PA/XMP builders

from artlineage.signals.generators.novelai_stealth import embed_stealth_metadata  # noqa: E402
from tests.signals import _c2pa_fixtures as c2pa_fx  # noqa: E402
from tests.signals import _xmp_fixtures as xmp_fx  # noqa: E402

OUT = Path(__file__).resolve().parent / "gallery"


def painting(seed: int, size=(384, 256)) -> Image.Image:
    """A soft, painterly test image (gradients and blobs), deterministic per seed."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.zeros((h, w, 3))
    for c in range(3):
        img[..., c] = 0.5 + 0.4 * np.sin(6 * x * rng.uniform(0.5, 2) + 4 * y * rng.uniform(0.5, 2) + rng.uniform(0, 6))
    for _ in range(6):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 0.7), rng.uniform(0.05, 0.2)
        mask = ((x - cx) ** 2 + (y - cy) ** 2) < r * r
        img[mask] = img[mask] * 0.4 + rng.uniform(0, 1, 3) * 0.6
    img += rng.normal(0, 0.02, img.shape)
    return Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))


def save_png(im: Image.Image, name: str, texts: dict[str, str]) -> None:
    info = PngImagePlugin.PngInfo()
    for k, v in texts.items():
        info.add_text(k, v)
    im.save(OUT / name, pnginfo=info, optimize=True)


def jpeg_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85, **kw)
    return buf.getvalue()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    save_png(painting(1), "a1111_txt2img.png", {"parameters": (
        "a lighthouse on a cliff at dusk, oil painting, dramatic sky\n"
        "Negative prompt: blurry, lowres, watermark\n"
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567890, Size: 384x256, "
        "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, "
        'Lora hashes: "detail: 1a2b3c, light: 4d5e6f", Version: v1.10.1')})
    comfy = {
        "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "cfg": 8.0, "sampler_name": "euler",
              "scheduler": "normal", "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0],
              "negative": ["7", 0], "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 384, "height": 256, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox in a snowy forest", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["4", 1]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }
    save_png(painting(2), "comfyui.png", {"prompt": json.dumps(comfy)})
    stealth = embed_stealth_metadata(painting(3).convert("RGBA"), {
        "Software": "NovelAI", "Source": "NovelAI Diffusion V4 4F49EC75",
        "Comment": json.dumps({"prompt": "1girl, watercolor, cherry blossoms", "uc": "lowres", "steps": 28,
                               "scale": 5.0, "seed": 987654, "sampler": "k_euler_ancestral",
                               "width": 384, "height": 256})})
    stealth.save(OUT / "novelai_stealth_only.png")  # no text chunks: only the alpha LSBs carry it
    (OUT / "iptc_trained_algorithmic.jpg").write_bytes(
        xmp_fx.jpeg_with_xmp(xmp_fx.digital_source_type_packet("trainedAlgorithmicMedia"), size=(384, 256)))
    (OUT / "iptc_composite_with_ai.png").write_bytes(
        xmp_fx.png_with_xmp(xmp_fx.digital_source_type_packet("compositeWithTrainedAlgorithmicMedia"),
                            size=(384, 256)))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "FUJIFILM", "X100V", "Digital Camera X100V Ver2.00"
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "2024:05:01 18:22:03"
    exif_ifd[0x829A] = (1, 250)
    exif_ifd[0x829D] = (56, 10)
    (OUT / "camera_photo.jpg").write_bytes(jpeg_bytes(painting(4), exif=exif))
    (OUT / "human_digital_art.png").write_bytes(
        xmp_fx.png_with_xmp(xmp_fx.digital_source_type_packet("digitalCreation"), size=(384, 256)))
    manifest = c2pa_fx.manifest_with_actions(c2pa_fx.created_action("trainedAlgorithmicMedia"),
                                             generator="Example AI Studio",
                                             extra_assertions=[c2pa_fx.training_mining(ai_training="notAllowed",
                                                                                       ai_generative_training="notAllowed")])
    (OUT / "c2pa_signed_ai.jpg").write_bytes(c2pa_fx.sign_image(jpeg_bytes(painting(5)), "JPEG", manifest))
    painting(6).save(OUT / "no_metadata.webp", quality=80)
    (OUT / "corrupt_truncated.jpg").write_bytes(jpeg_bytes(painting(7))[:300])
    try:
        from artlineage.signals.watermark import KNOWN_WATERMARKS, embed_dwtdct
        bits = KNOWN_WATERMARKS["StableDiffusionV1"] if isinstance(KNOWN_WATERMARKS, dict) else None
        if bits is not None:
            bits = getattr(bits, "bits", bits)
            marked = embed_dwtdct(np.asarray(painting(8)), bits)
            Image.fromarray(marked).save(OUT / "sd_invisible_watermark.png")
    except ImportError:
        pass
    for p in sorted(OUT.iterdir()):
        print(f"{p.stat().st_size:8d}  {p.name}")


if __name__ == "__main__":
    main()
