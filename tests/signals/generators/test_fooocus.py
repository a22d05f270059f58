import json

from artlineage.signals._base import Implication

from ._fixtures import inspect, jpeg_with_user_comment, only_generation, png_with_text

FOOOCUS = {
    "adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion.safetensors",
    "base_model_hash": "aeb7e9e689", "clip_skip": 2, "full_negative_prompt": ["(worst quality, low quality:1.4)"],
    "full_prompt": ["a red fox in the snow, cinematic"], "guidance_scale": 4,
    "loras": [["sd_xl_offset_example-lora_1.0.safetensors", 0.1, "4852686128"]], "metadata_scheme": "fooocus",
    "negative_prompt": "cartoon", "performance": "Speed", "prompt": "a red fox in the snow",
    "refiner_model": "None", "refiner_switch": 0.5, "resolution": "(1152, 896)", "sampler": "dpmpp_2m_sde_gpu",
    "scheduler": "karras", "seed": "1234567890", "sharpness": 2, "steps": 30,
    "styles": "['Fooocus V2', 'Fooocus Enhance', 'Fooocus Sharp']", "vae": "Default (model)",
    "version": "Fooocus v2.5.5",
}


def _check(gen):
    assert (gen["prompt"], gen["negative_prompt"]) == ("a red fox in the snow", "cartoon")
    assert (gen["model"], gen["model_hash"]) == ("juggernautXL_v8Rundiffusion.safetensors", "aeb7e9e689")
    assert (gen["seed"], gen["steps"], gen["cfg_scale"], gen["sampler"], gen["scheduler"]) == (
        1234567890, 30, 4.0, "dpmpp_2m_sde_gpu", "karras")
    assert (gen["width"], gen["height"]) == (1152, 896)
    assert gen["extra"]["version"] == "Fooocus v2.5.5"


def test_fooocus_png_json_scheme():
    report = inspect(png_with_text({"parameters": json.dumps(FOOOCUS, sort_keys=True), "fooocus_scheme": "fooocus"}))
    evidence, gen = only_generation(report, "fooocus")
    assert evidence.implies is Implication.AI_GENERATED and report.verdict.generator == "Fooocus"
    _check(gen)


def test_fooocus_jpeg_user_comment():
    report = inspect(jpeg_with_user_comment(json.dumps(FOOOCUS), software="Fooocus v2.5.5"))
    _, gen = only_generation(report, "fooocus")
    _check(gen)


def test_fooocus_a1111_scheme_goes_to_a1111_reader():
    text = ("a red fox in the snow\nNegative prompt: cartoon\nSteps: 30, Sampler: DPM++ 2M SDE Karras, "
            "Seed: 1234567890, Size: 1152x896, CFG scale: 4, Model: juggernautXL_v8Rundiffusion, "
            "Version: Fooocus v2.5.5")
    evidence, gen = only_generation(inspect(png_with_text({"parameters": text, "fooocus_scheme": "a1111"})), "a1111")
    assert evidence.generator == "Fooocus" and gen["seed"] == 1234567890
