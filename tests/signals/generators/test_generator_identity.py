"""Naming the tool among those that share A1111's infotext, kohya-ss' own chunks, and A1111 img2img.

Each infotext reproduces the fields the tool really writes (see a1111.detect_flavour's docstring
for where each marker comes from); the rest of the line is the common A1111 part.
"""

from __future__ import annotations

import pytest

from artlineage.signals._base import Implication

from ._fixtures import inspect, jpeg_with_user_comment, only_generation, png_with_text

BASE = ("a red fox in snow\nNegative prompt: blurry\n"
        "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6, Seed: 42, Size: 832x1216, ")


@pytest.mark.parametrize("tail, tool", [
    ("Model hash: 6ce0161689, Model: v1-5, Version: v1.10.1", "AUTOMATIC1111"),
    ("Model hash: 6ce0161689, Model: v1-5, Version: f2.0.1v1.10.1-previous-636-gb835f24a", "Forge"),
    ("Model hash: 6ce0161689, Model: v1-5, Version: 1.7.0-v1.10.1RC-latest-2181-g1e3f4b6a", "reForge"),
    ("Model hash: 6ce0161689, Model: v1-5, Version: classic", "Forge Classic"),
    ("Model: v1-5, App: SD.Next, Version: 0ef4ab5, Pipeline: StableDiffusionXLPipeline, Operations: txt2img",
     "SD.Next"),
    ('Model: v1-5, Version: Fooocus v2.5.5', "Fooocus"),
    ('Model hash: 6ce0161689, Civitai resources: [{"type":"checkpoint","modelVersionId":128713}], '
     'Civitai metadata: {"remixOfId":1}', "Civitai"),
    # Civitai's on-site generator as its downloads carry it (Created Date, resources array, no Version)
    ('Clip skip: 2, Created Date: 2024-09-23T06:17:42.9952795Z, Civitai resources: [{"type":"checkpoint",'
     '"modelVersionId":128078,"modelName":"SD XL","modelVersionName":"v1.0 VAE fix"},{"type":"lora","weight":0.85,'
     '"modelVersionId":210432,"modelName":"Double Exposure","modelVersionName":"Double Exposure"}]', "Civitai"),
    # a local A1111 whose extension adds Civitai resources is still AUTOMATIC1111
    ('Model: v1-5, Civitai resources: [{"type":"checkpoint","modelVersionId":128713}], Version: v1.9.4',
     "AUTOMATIC1111"),
    ('Hashes: {"model": "6ce0161689"}, Created Date: 2024-05-01T10:00:00.000Z, Model: v1-5', "Civitai"),
    ("Model: 8d1fa3a2-41a6-4f5e-9d0b-2b7d2b8f6c11, NGMS: 0.12, Lora hashes: \"x: 1\"", "Yodayo"),
])
def test_tool_named_from_its_own_fields(tail, tool):
    report = inspect(png_with_text({"parameters": BASE + tail}))
    evidence, gen = only_generation(report, "a1111")
    assert (gen["tool"], evidence.generator, report.verdict.generator) == (tool, tool, tool)
    assert evidence.implies is Implication.AI_GENERATED


def test_same_infotext_in_jpeg_user_comment_is_named_too():
    report = inspect(jpeg_with_user_comment(BASE + "Model: v1-5, Version: f2.0.1v1.10.1-previous-636-gb835f24a"))
    assert report.verdict.generator == "Forge"


@pytest.mark.parametrize("tail, reason", [
    ("Model: v1-5, Denoising strength: 0.45, Version: v1.10.1", "Denoising strength 0.45"),
    ("Model: v1-5, Denoising strength: 0.75, Mask blur: 4, Inpaint area: Only masked, Version: v1.10.1",
     "inpainting settings (Inpaint area: Only masked, Mask blur: 4)"),
    ("Model: v1-5, App: SD.Next, Init image size: 1024x1024, Init image hash: 1a2b3c4d", "init image"),
])
def test_a1111_img2img_and_inpaint_are_ai_edited_with_the_reason(tail, reason):
    report = inspect(png_with_text({"parameters": BASE + tail}))
    evidence, gen = only_generation(report, "a1111")
    assert evidence.implies is Implication.AI_EDITED and report.origin.value == "ai_edited"
    assert reason in gen["extra"]["edit_reason"] and reason in evidence.note


def test_hires_fix_denoise_is_still_text_to_image():
    report = inspect(png_with_text({"parameters": BASE + "Model: v1-5, Denoising strength: 0.4, Hires upscale: 2, "
                                                        "Hires steps: 10, Hires upscaler: Latent, Version: v1.10.1"}))
    evidence, gen = only_generation(report, "a1111")
    assert evidence.implies is Implication.AI_GENERATED and "edit_reason" not in gen["extra"]


def test_kohya_sd_scripts_gen_img_chunks():
    # gen_img.py: one tEXt chunk per field, prompt as plain text.
    chunks = {"prompt": "1girl, solo, masterpiece", "seed": "1234", "sampler": "euler_a", "steps": "30",
              "scale": "7.5", "negative-prompt": "lowres", "negative-scale": "None",
              "original-height": "1024", "original-width": "768", "crop-top": "0", "crop-left": "0"}
    report = inspect(png_with_text(chunks))
    evidence, gen = only_generation(report, "kohya")
    assert report.verdict.generator == "kohya-ss sd-scripts"
    assert (gen["prompt"], gen["negative_prompt"], gen["seed"], gen["steps"], gen["cfg_scale"], gen["sampler"]) == (
        "1girl, solo, masterpiece", "lowres", 1234, 30, 7.5, "euler_a")
    assert (gen["width"], gen["height"], gen["extra"]["crop-top"]) == (768, 1024, "0")
    assert evidence.location == "PNG tEXt 'prompt'"


def test_free_text_user_comment_in_a_png_exif_is_not_a_warning():
    # macOS screenshots: PNG eXIf whose UserComment is "Screenshot" (receyuki's sd-prompt-reader images).
    import io

    import piexif
    import piexif.helper
    from PIL import Image

    out = io.BytesIO()
    exif = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump("Screenshot")}})
    Image.new("RGB", (32, 32)).save(out, "PNG", exif=exif)
    report = inspect(out.getvalue())
    assert not [w for w in report.warnings if w.startswith("a1111")], report.warnings


def test_json_values_in_the_settings_line_keep_their_commas():
    from artlineage.signals.generators.a1111 import parse_settings_line

    settings = parse_settings_line('Steps: 8, Hashes: {"model": "123", "LORA:style, special": "456"}, '
                                   'Civitai resources: [{"air":"urn:model"}, {"air":"urn:lora", "weight":0.74}], '
                                   'Seed: 5, Broken: [{"a": 1, Size: 512x512')
    assert settings["Hashes"] == '{"model": "123", "LORA:style, special": "456"}'
    assert settings["Civitai resources"] == '[{"air":"urn:model"}, {"air":"urn:lora", "weight":0.74}]'
    assert (settings["Seed"], settings["Size"]) == ("5", "512x512")  # an unclosed bracket falls back to commas


def test_ruined_fooocus_json():
    # enslo/sd-metadata's ruined-fooocus.png layout (values are strings there)
    meta = {"Prompt": "1girl, solo", "Negative": "lowres", "steps": "30", "cfg": "8", "width": "1024",
            "height": "1024", "seed": "2020047614", "sampler_name": "dpmpp_2m_sde_gpu", "scheduler": "karras",
            "base_model_name": "waiNSFWIllustrious_v150.safetensors", "loras": "[]", "denoise": "None",
            "software": "RuinedFooocus"}
    import json

    report = inspect(png_with_text({"parameters": json.dumps(meta)}))
    evidence, gen = only_generation(report, "json_parameters")
    assert (report.verdict.generator, evidence.implies) == ("RuinedFooocus", Implication.AI_GENERATED)
    assert (gen["prompt"], gen["seed"], gen["steps"], gen["cfg_scale"], gen["width"]) == (
        "1girl, solo", 2020047614, 30, 8.0, 1024)


def test_diffusers_space_json():
    import json

    meta = {"prompt": "1girl", "negative_prompt": "lowres", "resolution": "1024 x 1024", "guidance_scale": 5.5,
            "num_inference_steps": 24, "seed": 443800072, "sampler": "DPM++ 2M Karras",
            "Model": "WAI NSFW illustrious SDXL v16", "use_upscaler": None}
    report = inspect(png_with_text({"parameters": json.dumps(meta)}))
    evidence, gen = only_generation(report, "json_parameters")
    assert report.verdict.generator == "Diffusers"
    assert (gen["width"], gen["height"], gen["steps"], gen["cfg_scale"], gen["model"]) == (
        1024, 1024, 24, 5.5, "WAI NSFW illustrious SDXL v16")


@pytest.mark.parametrize("version, tool", [
    ("f1.0.0v2-v1.10.1RC-latest-2498-g5120e679", "reForge"),   # enslo/sd-metadata reforge.png
    ("f1.3.0-v1.10.1RC-latest-1038-g19395bf9", "reForge"),     # easy-reforge.png
    ("f2.0.1v1.10.1-previous-669-gdfdcbab6", "Forge"),          # forge.png
    ("neo", "Forge Neo"),
])
def test_real_version_strings(version, tool):
    report = inspect(png_with_text({"parameters": BASE + f"Model: v1-5, Version: {version}"}))
    assert report.verdict.generator == tool


def test_comfyui_save_node_a1111_text_without_version():
    # ComfyUI-SaveImageWithMetaData: A1111 text only, ComfyUI sampler ids, no Version
    text = ("1girl\nNegative prompt: lowres\nSteps: 20, Sampler: euler_ancestral_karras, CFG scale: 5.0, "
            "Seed: 347382230306562, Clip skip: 2, Size: 1024x1024, Model: waiIllustriousSDXL_v160.safetensors, "
            'Model hash: 45a21ea00a, Hashes: {"model": "45a21ea00a"}')
    report = inspect(jpeg_with_user_comment(text))
    assert report.verdict.generator == "ComfyUI"


def test_comfyui_save_node_text_with_a1111_sampler_names_but_a_model_file_name():
    # the same node's WebP: "Sampler: Euler a" but "Model: ....safetensors" and still no Version
    text = ("1girl\nSteps: 20, Sampler: Euler a, CFG scale: 5.0, Seed: 827555711811618, Size: 1024x1024, "
            "Model: waiIllustriousSDXL_v160.safetensors, Model hash: 45a21ea00a")
    assert inspect(jpeg_with_user_comment(text)).verdict.generator == "ComfyUI"
