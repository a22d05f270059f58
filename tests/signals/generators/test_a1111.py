from artlineage.signals._base import Implication
from artlineage.signals.generators.a1111 import parse_a1111_parameters, parse_settings_line

from ._fixtures import inspect, jpeg_with_user_comment, only_generation, png_with_text

TXT2IMG = (
    "masterpiece, best quality, 1girl, (cherry blossoms:1.2), looking at viewer\n"
    "spring, soft light\n"
    "Negative prompt: (worst quality, low quality:1.4), easynegative\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 3735928559, Size: 512x768, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, VAE hash: 735e4c3a44, "
    "VAE: vae-ft-mse-840000-ema-pruned.safetensors, Denoising strength: 0.45, Clip skip: 2, "
    "Hires upscale: 2, Hires steps: 10, Hires upscaler: R-ESRGAN 4x+ Anime6B, "
    'Lora hashes: "add_detail: 7c6bad76eb54, more_details: 3b8aa1d351ef", '
    'TI hashes: "easynegative: c74b4e810b03", Version: v1.10.1'
)
INPAINT = (
    "a red door on a stone cottage\n"
    "Negative prompt: blurry\n"
    "Steps: 30, Sampler: Euler a, Schedule type: Automatic, CFG scale: 6.5, Seed: 42, Size: 768x512, "
    "Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Denoising strength: 0.6, Mask blur: 4, "
    "Inpaint area: Only masked, Masked area padding: 32, Version: v1.9.4"
)


def test_png_parameters_parsed_into_fields():
    report = inspect(png_with_text({"parameters": TXT2IMG}))
    evidence, gen = only_generation(report, "a1111")
    assert report.origin.value == "ai_generated" and report.verdict.generator == "AUTOMATIC1111"
    assert evidence.implies is Implication.AI_GENERATED and evidence.strength >= 0.9
    assert gen["prompt"] == ("masterpiece, best quality, 1girl, (cherry blossoms:1.2), looking at viewer\n"
                             "spring, soft light")
    assert gen["negative_prompt"] == "(worst quality, low quality:1.4), easynegative"
    assert (gen["steps"], gen["sampler"], gen["scheduler"], gen["cfg_scale"], gen["seed"]) == (
        28, "DPM++ 2M", "Karras", 7.0, 3735928559)
    assert (gen["width"], gen["height"], gen["model"], gen["model_hash"]) == (
        512, 768, "v1-5-pruned-emaonly", "6ce0161689")
    # Hires fix's denoising strength is not img2img.
    assert gen["extra"]["Denoising strength"] == "0.45"
    assert [g.to_dict() for g in report.generation] == [gen]
    assert (report.generation[0].seed, report.generation[0].steps) == (3735928559, 28)


def test_quoted_values_keep_their_commas():
    settings = parse_settings_line(
        'Steps: 20, Lora hashes: "a: 1, b: 2", Note: "say \\"hi\\", ok", Seed: 7, Size: 64x64')
    assert settings == {"Steps": "20", "Lora hashes": "a: 1, b: 2", "Note": 'say "hi", ok', "Seed": "7",
                        "Size": "64x64"}
    gen = parse_a1111_parameters(TXT2IMG)
    assert gen.extra["Lora hashes"] == "add_detail: 7c6bad76eb54, more_details: 3b8aa1d351ef"
    assert gen.extra["TI hashes"] == "easynegative: c74b4e810b03"
    assert gen.extra["Version"] == "v1.10.1"


def test_unterminated_quote_and_huge_line_are_bounded():
    settings = parse_settings_line('Steps: 20, Sampler: Euler, Seed: 1, Bad: "never closed, Size: 1x1')
    assert settings["Steps"] == "20" and settings["Bad"].startswith('"never closed')
    hostile = "a" * 2_000_000 + ": x, " + '"\\"' * 300_000
    assert len(parse_settings_line(hostile)) <= 1  # linear scan; key too long to be a key


def test_jpeg_user_comment_unicode():
    report = inspect(jpeg_with_user_comment(INPAINT.replace("red door", "red door, «café»")))
    evidence, gen = only_generation(report, "a1111")
    assert evidence.location.endswith("UserComment")
    assert evidence.implies is Implication.AI_EDITED and report.origin.value == "ai_edited"
    assert gen["prompt"] == "a red door, «café» on a stone cottage"
    assert (gen["width"], gen["height"], gen["seed"], gen["cfg_scale"]) == (768, 512, 42, 6.5)


def test_forge_sdnext_and_fooocus_flavours():
    forge = TXT2IMG.replace("Version: v1.10.1", "Version: f2.0.1v1.10.1-previous-635-gf5330788")
    report = inspect(png_with_text({"parameters": forge}))
    assert report.verdict.generator == "Forge"
    assert parse_a1111_parameters(TXT2IMG + ", App: SD.Next").tool == "SD.Next"
    assert parse_a1111_parameters(TXT2IMG.replace("v1.10.1", "Fooocus v2.5.5")).tool == "Fooocus"


def test_img2img_without_mask_is_edited_and_prompt_only_is_a_warning():
    img2img = "a cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64, Denoising strength: 0.3"
    _, gen = only_generation(inspect(png_with_text({"parameters": img2img})), "a1111")
    report = inspect(png_with_text({"parameters": img2img}))
    assert report.origin.value == "ai_edited" and gen["prompt"] == "a cat"
    report = inspect(png_with_text({"parameters": "just a caption, nothing else"}))
    assert report.origin.value == "unknown"
    assert any(w.startswith("a1111:") and "settings line" in w for w in report.warnings)
