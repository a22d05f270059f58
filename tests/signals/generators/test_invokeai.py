import json

from artlineage.signals._base import Implication
from artlineage.signals.generators.invokeai import parse_dream_string

from ._fixtures import inspect, only_generation, png_with_text

INVOKE4 = {
    "generation_mode": "txt2img", "positive_prompt": "a cozy cabin in snowy woods, warm window light",
    "negative_prompt": "blurry, oversaturated", "width": 1024, "height": 1024, "seed": 1190458337,
    "rand_device": "cpu", "cfg_scale": 6.5, "cfg_rescale_multiplier": 0, "steps": 30, "scheduler": "dpmpp_2m_k",
    "model": {"key": "8d3e2b4c-1c6a-4f0e-9d0b-2f5a7c1e9b31", "hash": "blake3:5f0c3b2e9a", "name": "Juggernaut XL v9",
              "base": "sdxl", "type": "main"},
    "app_version": "4.2.4",
}
SD_METADATA = {
    "model": "stable diffusion", "model_weights": "stable-diffusion-1.5",
    "model_hash": "cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516",
    "app_id": "invoke-ai/InvokeAI", "app_version": "2.2.4",
    "image": {"prompt": [{"prompt": "a fantasy castle on a cliff [blurry, lowres]", "weight": 1.0}], "steps": 50,
              "cfg_scale": 7.5, "threshold": 0, "perlin": 0, "height": 512, "width": 512, "seed": 3580914839,
              "seamless": False, "hires_fix": False, "type": "txt2img", "postprocessing": None,
              "sampler": "k_lms", "variations": []},
}
DREAM = '"a fantasy castle on a cliff [blurry, lowres]" -s 50 -S 3580914839 -W 512 -H 512 -C 7.5 -A k_lms'


def test_invokeai_metadata():
    report = inspect(png_with_text({"invokeai_metadata": json.dumps(INVOKE4)}))
    evidence, gen = only_generation(report, "invokeai")
    assert evidence.implies is Implication.AI_GENERATED and report.verdict.generator == "InvokeAI"
    assert gen["prompt"] == INVOKE4["positive_prompt"] and gen["negative_prompt"] == "blurry, oversaturated"
    assert (gen["model"], gen["model_hash"]) == ("Juggernaut XL v9", "blake3:5f0c3b2e9a")
    assert (gen["seed"], gen["steps"], gen["cfg_scale"], gen["scheduler"], gen["width"], gen["height"]) == (
        1190458337, 30, 6.5, "dpmpp_2m_k", 1024, 1024)


def test_invokeai3_model_name_and_img2img():
    meta = dict(INVOKE4, generation_mode="img2img", strength=0.7,
                model={"model_name": "stable-diffusion-v1-5", "base_model": "sd-1", "model_type": "main"})
    report = inspect(png_with_text({"invokeai_metadata": json.dumps(meta)}))
    evidence, gen = only_generation(report, "invokeai")
    assert evidence.implies is Implication.AI_EDITED and gen["model"] == "stable-diffusion-v1-5"


def test_legacy_sd_metadata_and_dream():
    report = inspect(png_with_text({"sd-metadata": json.dumps(SD_METADATA), "Dream": DREAM}))
    evidence, gen = only_generation(report, "invokeai")
    assert evidence.field == "sd-metadata"
    assert (gen["prompt"], gen["negative_prompt"]) == ("a fantasy castle on a cliff", "blurry, lowres")
    assert (gen["model"], gen["seed"], gen["steps"], gen["sampler"], gen["cfg_scale"]) == (
        "stable-diffusion-1.5", 3580914839, 50, "k_lms", 7.5)
    evidence, gen = only_generation(inspect(png_with_text({"Dream": DREAM})), "invokeai")
    assert (gen["prompt"], gen["seed"], gen["width"], gen["height"], gen["sampler"]) == (
        "a fantasy castle on a cliff", 3580914839, 512, 512, "k_lms")


def test_dream_img2img_and_bad_quoting():
    params, edited = parse_dream_string('"a cat" -n 1 -s 20 -I cat.png -f 0.4 -S 7')
    assert (params.prompt, params.steps, params.seed, edited) == ("a cat", 20, 7, True)
    report = inspect(png_with_text({"Dream": '"unterminated -s 50'}))
    assert any(w.startswith("invokeai:") and "cannot split" in w for w in report.warnings)
