import json

from artlineage.signals._base import Implication

from ._fixtures import inspect, only_generation, png_with_text

COMMENT = {
    "prompt": "1girl, silver hair, library, sunlight, best quality, amazing quality", "steps": 28,
    "height": 1216, "width": 832, "scale": 5.0, "uncond_scale": 1.0, "cfg_rescale": 0.0, "seed": 2210791717,
    "n_samples": 1, "hide_debug_overlay": False, "noise_schedule": "native", "legacy_v3_extend": False,
    "reference_information_extracted_multiple": [], "reference_strength_multiple": [],
    "sampler": "k_euler_ancestral", "controlnet_strength": 1.0, "controlnet_model": None,
    "dynamic_thresholding": False, "sm": False, "sm_dyn": False, "skip_cfg_below_sigma": 0.0,
    "uc": "nsfw, lowres, bad anatomy, bad hands", "request_type": "PromptGenerateRequest",
    "signed_hash": "GmN8pDY3b0ZcOHj2H0a2q4gkYdLoqpKqX8xN0fqW",
}
FIELDS = {
    "Title": "AI generated image",
    "Description": COMMENT["prompt"],
    "Software": "NovelAI",
    "Source": "Stable Diffusion XL C1E1DE52",
    "Generation time": "4.07",
    "Comment": json.dumps(COMMENT),
}


def test_novelai_text_chunks():
    report = inspect(png_with_text(FIELDS))
    evidence, gen = only_generation(report, "novelai")
    assert evidence.implies is Implication.AI_GENERATED and report.verdict.generator == "NovelAI"
    assert gen["prompt"] == COMMENT["prompt"] and gen["negative_prompt"] == COMMENT["uc"]
    assert (gen["model"], gen["model_hash"]) == ("Stable Diffusion XL", "C1E1DE52")
    assert (gen["seed"], gen["steps"], gen["cfg_scale"], gen["sampler"], gen["scheduler"]) == (
        2210791717, 28, 5.0, "k_euler_ancestral", "native")
    assert (gen["width"], gen["height"]) == (832, 1216)
    assert gen["extra"]["request_type"] == "PromptGenerateRequest"


def test_v4_prompt_block_and_img2img():
    comment = {k: v for k, v in COMMENT.items() if k not in ("prompt", "uc")}
    comment.update(request_type="Img2ImgRequest", strength=0.6,
                   v4_prompt={"caption": {"base_caption": "a lighthouse, night", "char_captions": []},
                              "use_coords": False, "use_order": True},
                   v4_negative_prompt={"caption": {"base_caption": "blurry", "char_captions": []}})
    fields = dict(FIELDS, Source="NovelAI Diffusion V4 F4D50568", Comment=json.dumps(comment))
    del fields["Description"]
    report = inspect(png_with_text(fields))
    evidence, gen = only_generation(report, "novelai")
    assert evidence.implies is Implication.AI_EDITED
    assert (gen["prompt"], gen["negative_prompt"]) == ("a lighthouse, night", "blurry")
    assert (gen["model"], gen["model_hash"]) == ("NovelAI Diffusion V4", "F4D50568")


def test_other_software_is_ignored_and_bad_comment_warns():
    report = inspect(png_with_text({"Software": "GIMP 2.10", "Comment": "{}"}))
    assert not [e for e in report.evidence if e.reader == "novelai"]
    report = inspect(png_with_text(dict(FIELDS, Comment="{not json")))
    assert any(w.startswith("novelai:") and "malformed JSON" in w for w in report.warnings)


def test_v45_character_prompts_and_director_references():
    # enslo/sd-metadata's novelai-full-3char.png / novelai-ref.png Comment layout (trimmed)
    comment = {"prompt": "2girls, 1boy, dancing", "steps": 28, "scale": 5, "seed": 1, "uc": "lowres",
               "request_type": "PromptGenerateRequest",
               "v4_prompt": {"caption": {"base_caption": "2girls, 1boy, dancing", "char_captions": [
                   {"char_caption": "girl, hatsune miku, spread arms, ", "centers": [{"x": 0.5, "y": 0.3}]},
                   {"char_caption": "boy, kagamine len, hand up, ", "centers": [{"x": 0.3, "y": 0.7}]}]}},
               "director_reference_strengths": [0.6], "director_reference_descriptions": [{"caption": "x"}]}
    report = inspect(png_with_text({"Software": "NovelAI", "Source": "NovelAI Diffusion V4.5 4BDE2A90",
                                    "Comment": json.dumps(comment)}))
    evidence, gen = only_generation(report, "novelai")
    assert evidence.implies is Implication.AI_GENERATED
    assert gen["extra"]["character_prompts"] == ["girl, hatsune miku, spread arms, ", "boy, kagamine len, hand up, "]
    assert gen["extra"]["image_references"] == 1
