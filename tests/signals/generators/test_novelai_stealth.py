import io
import json

import pytest
from PIL import Image

from artlineage.signals._base import Implication
from artlineage.signals.generators.novelai_stealth import embed_stealth_metadata, read_novelai_stealth

from ._fixtures import generator_evidence, inspect, only_generation
from .test_novelai import COMMENT

FIELDS = {"Title": "AI generated image", "Software": "NovelAI", "Source": "Stable Diffusion XL C1E1DE52",
          "Description": COMMENT["prompt"], "Comment": json.dumps(COMMENT)}


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _noise(mode="RGBA", size=(128, 96)) -> Image.Image:
    return Image.effect_noise(size, 40).convert(mode)


@pytest.mark.parametrize("compressed", [True, False])
def test_alpha_stealth_roundtrip_through_inspect(compressed):
    data = _png(embed_stealth_metadata(_noise(), FIELDS, compressed=compressed))
    report = inspect(data)
    evidence, gen = only_generation(report, "novelai_stealth")
    assert report.origin.value == "ai_generated" and report.verdict.generator == "NovelAI"
    assert evidence.field == ("stealth_pngcomp" if compressed else "stealth_pnginfo")
    assert gen["prompt"] == COMMENT["prompt"] and gen["negative_prompt"] == COMMENT["uc"]
    assert (gen["seed"], gen["steps"], gen["width"], gen["height"]) == (2210791717, 28, 832, 1216)


def test_pixels_off_skips_stealth_reader():
    data = _png(embed_stealth_metadata(_noise(), FIELDS))
    report = inspect(data, pixels=False)
    assert not generator_evidence(report) and report.origin.value == "unknown"


def test_rgb_variant_carries_a1111_infotext():
    infotext = "a foggy harbour\nNegative prompt: people\nSteps: 24, Sampler: Euler a, CFG scale: 6, Seed: 99, Size: 128x96"
    image = embed_stealth_metadata(_noise("RGB"), infotext, compressed=True, channel="rgb")
    assert image.mode == "RGB"
    evidence, gen = only_generation(inspect(_png(image)), "novelai_stealth")
    assert evidence.generator == "AUTOMATIC1111" and evidence.implies is Implication.AI_GENERATED
    assert (gen["prompt"], gen["negative_prompt"], gen["seed"]) == ("a foggy harbour", "people", 99)


def test_plain_images_and_hostile_headers():
    assert read_novelai_stealth(_noise()) is None
    assert read_novelai_stealth(Image.new("RGBA", (3, 3))) is None  # too small for a header
    with pytest.raises(ValueError):
        embed_stealth_metadata(Image.new("RGBA", (8, 8)), FIELDS)
    # A valid magic whose length claims more than the image holds -> a warning, not a crash.
    image = embed_stealth_metadata(_noise(size=(64, 64)), "x" * 100, compressed=False)
    pixels = bytearray(image.tobytes())
    # rewrite the 32 length bits (pixels 120..151 in column-major order) to all ones
    for index in range(120, 152):
        x, y = divmod(index, 64)
        pixels[(y * 64 + x) * 4 + 3] |= 1
    report = inspect(_png(Image.frombytes("RGBA", (64, 64), bytes(pixels))))
    assert any(w.startswith("novelai_stealth:") and "claims" in w for w in report.warnings)
