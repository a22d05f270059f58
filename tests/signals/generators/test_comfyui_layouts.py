"""ComfyUI graphs outside PNG chunks, and which graphs edit an image rather than generate one.

Each EXIF layout is the one a real saver writes (see the comfyui module docstring); each edit
graph is the shape of ComfyUI's own example workflows (inpaint, outpaint, Flux Kontext,
Qwen-Image-Edit), reduced to the nodes that matter.
"""

from __future__ import annotations

import copy
import io
import json

import piexif
import piexif.helper
import pytest
from PIL import Image

from artlineage.signals._base import Implication
from artlineage.signals.generators.comfyui import parse_comfyui_graph

from ._fixtures import inspect, jpeg_with_exif, only_generation, png_with_text
from .test_comfyui import DEFAULT_PROMPT, DEFAULT_WORKFLOW, _check_default

A1111_COPY = ("beautiful scenery nature glass bottle landscape, purple galaxy bottle,\nNegative prompt: text, watermark\n"
              "Steps: 20, Sampler: Euler, CFG scale: 8, Seed: 156680208700286, Size: 512x768, Model: v1-5-pruned-emaonly, "
              "Version: v1.10.1")


def webp_with_exif(exif: Image.Exif) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 40, 60)).save(out, "WEBP", exif=exif.tobytes())
    return out.getvalue()


def test_comfyui_core_webp_layout_prompt_in_model_workflow_in_make():
    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(DEFAULT_PROMPT)
    exif[0x010F] = "workflow:" + json.dumps(DEFAULT_WORKFLOW)
    report = inspect(webp_with_exif(exif))
    evidence, gen = only_generation(report, "comfyui")
    assert (evidence.location, evidence.field) == ("WEBP EXIF Model", "Model prompt")
    assert gen["extra"]["has_workflow"] is True
    _check_default(gen)


def test_saveimgadv_jpeg_layout_bare_graph_in_make_workflow_in_image_description():
    report = inspect(jpeg_with_exif({"0th": {piexif.ImageIFD.Make: json.dumps(DEFAULT_PROMPT),
                                             piexif.ImageIFD.ImageDescription: json.dumps(DEFAULT_WORKFLOW)},
                                     "Exif": {piexif.ExifIFD.UserComment:
                                              piexif.helper.UserComment.dump(A1111_COPY, encoding="unicode")}}))
    found = [e for e in report.evidence if e.reader in ("comfyui", "a1111")]
    assert {(e.reader, e.generator) for e in found} == {("comfyui", "ComfyUI"), ("a1111", "ComfyUI")}
    comfy = next(e for e in found if e.reader == "comfyui")
    assert comfy.location == "JPEG APP1 Exif Make"
    _check_default(comfy.data["generation"])
    assert report.verdict.generator == "ComfyUI" and report.origin.value == "ai_generated"


def test_workflow_only_in_image_description():
    report = inspect(jpeg_with_exif({"0th": {piexif.ImageIFD.ImageDescription: json.dumps(DEFAULT_WORKFLOW)}}))
    evidence, gen = only_generation(report, "comfyui")
    assert (evidence.location, evidence.field) == ("JPEG APP1 Exif ImageDescription", "ImageDescription")
    _check_default(gen)


def test_extended_image_formats_layout_json_object_in_user_comment():
    blob = json.dumps({"prompt": DEFAULT_PROMPT, "workflow": DEFAULT_WORKFLOW})
    report = inspect(jpeg_with_exif({"Exif": {piexif.ExifIFD.UserComment:
                                              piexif.helper.UserComment.dump(blob, encoding="unicode")}}))
    evidence, gen = only_generation(report, "comfyui")
    assert evidence.field == "UserComment prompt"
    _check_default(gen)


def test_civitai_comfy_export_in_user_comment_is_named_civitai():
    graph = copy.deepcopy(DEFAULT_PROMPT)
    graph["4"]["inputs"]["ckpt_name"] = "urn:air:sd1:checkpoint:civitai:4384@128713"
    graph["extra"] = {"airs": ["urn:air:sd1:checkpoint:civitai:4384@128713"]}
    graph["extraMetadata"] = json.dumps({"prompt": "beautiful scenery", "steps": 20})
    report = inspect(jpeg_with_exif({"Exif": {piexif.ExifIFD.UserComment:
                                              piexif.helper.UserComment.dump(json.dumps(graph), encoding="unicode")}}))
    evidence, gen = only_generation(report, "comfyui")
    assert report.verdict.generator == "Civitai" and gen["tool"] == "Civitai"
    assert gen["extra"]["engine"] == "ComfyUI" and gen["model"] == "urn:air:sd1:checkpoint:civitai:4384@128713"
    assert gen["seed"] == 156680208700286


def test_png_with_graph_and_a1111_copy_is_comfyui():
    report = inspect(png_with_text({"prompt": json.dumps(DEFAULT_PROMPT), "parameters": A1111_COPY}))
    generators = {e.reader: e.generator for e in report.evidence if e.generator}
    assert generators == {"comfyui": "ComfyUI", "a1111": "ComfyUI"}
    a1111 = next(e for e in report.evidence if e.reader == "a1111")
    assert a1111.data["generation"]["extra"]["written_as"] == "AUTOMATIC1111"
    assert report.verdict.generator == "ComfyUI"


def test_other_json_in_user_comment_is_not_taken_for_a_graph():
    report = inspect(jpeg_with_exif({"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(
        json.dumps({"nodes": "not a list", "class_type": 3}), encoding="unicode")}}))
    assert [e for e in report.evidence if e.reader == "comfyui"] == []


# ----- generated vs edited ----------------------------------------------------------------

def _with(*nodes: tuple[str, dict], **sampler_inputs) -> dict:
    graph = copy.deepcopy(DEFAULT_PROMPT)
    for node_id, node in nodes:
        graph[node_id] = node
    graph["3"]["inputs"].update(sampler_inputs)
    return graph


LOAD = ("20", {"class_type": "LoadImage", "inputs": {"image": "photo.png", "upload": "image"}})


@pytest.mark.parametrize("graph, reason_part", [
    # inpainting with VAEEncodeForInpaint: denoise stays 1.0 and it is still an edit
    (_with(LOAD, ("21", {"class_type": "VAEEncodeForInpaint",
                         "inputs": {"pixels": ["20", 0], "mask": ["20", 1], "vae": ["4", 2], "grow_mask_by": 6}}),
           latent_image=["21", 0]), "VAEEncodeForInpaint node 21"),
    (_with(LOAD, ("21", {"class_type": "InpaintModelConditioning",
                         "inputs": {"positive": ["6", 0], "negative": ["7", 0], "vae": ["4", 2],
                                    "pixels": ["20", 0], "mask": ["20", 1], "noise_mask": True}}),
           latent_image=["21", 2]), "InpaintModelConditioning node 21"),
    (_with(LOAD, ("21", {"class_type": "ImagePadForOutpaint",
                         "inputs": {"image": ["20", 0], "left": 0, "top": 128, "right": 0, "bottom": 128}}),
           ("22", {"class_type": "VAEEncodeForInpaint", "inputs": {"pixels": ["21", 0], "mask": ["21", 1],
                                                                  "vae": ["4", 2]}}), latent_image=["22", 0]),
     "node 21 edits the image"),
    # Flux Kontext: the image goes in through ReferenceLatent, the sampler starts from an empty latent
    (_with(LOAD, ("21", {"class_type": "FluxKontextImageScale", "inputs": {"image": ["20", 0]}}),
           ("22", {"class_type": "VAEEncode", "inputs": {"pixels": ["21", 0], "vae": ["4", 2]}}),
           ("23", {"class_type": "ReferenceLatent", "inputs": {"conditioning": ["6", 0], "latent": ["22", 0]}}),
           positive=["23", 0]), "FluxKontextImageScale node 21"),
    (_with(LOAD, ("21", {"class_type": "TextEncodeQwenImageEdit",
                         "inputs": {"clip": ["4", 1], "prompt": "make it night", "vae": ["4", 2], "image": ["20", 0]}}),
           positive=["21", 0]), "TextEncodeQwenImageEdit node 21"),
    # a plain img2img: VAEEncode of the loaded image, denoise 0.6
    (_with(LOAD, ("21", {"class_type": "VAEEncode", "inputs": {"pixels": ["20", 0], "vae": ["4", 2]}}),
           latent_image=["21", 0], denoise=0.6), "denoise 0.6"),
])
def test_edit_graphs_are_ai_edited_with_the_reason(graph, reason_part):
    params, edited = parse_comfyui_graph(graph)
    assert edited is True, params.extra
    assert reason_part in params.extra["edit_reason"]
    report = inspect(png_with_text({"prompt": json.dumps(graph)}))
    evidence, _ = only_generation(report, "comfyui")
    assert evidence.implies is Implication.AI_EDITED and reason_part in evidence.note
    assert report.origin.value == "ai_edited"


def test_inpainting_controlnet_by_name_is_an_edit():
    # ComfyUI_examples' stable_cascade__inpaint_controlnet.png
    graph = _with(LOAD, ("47", {"class_type": "ControlNetLoader",
                                "inputs": {"control_net_name": "stable_cascade_inpainting.safetensors"}}),
                  ("49", {"class_type": "ControlNetApplyAdvanced",
                          "inputs": {"positive": ["6", 0], "control_net": ["47", 0], "image": ["20", 0]}}),
                  positive=["49", 0])
    params, edited = parse_comfyui_graph(graph)
    assert edited and "stable_cascade_inpainting.safetensors" in params.extra["edit_reason"]


def test_edit_model_by_name_with_a_loaded_image():
    graph = _with(LOAD, ("21", {"class_type": "VAEEncode", "inputs": {"pixels": ["20", 0], "vae": ["4", 2]}}),
                  latent_image=["21", 0])
    graph["4"] = {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-kontext-dev.safetensors"}}
    params, edited = parse_comfyui_graph(graph)
    assert edited and "flux1-kontext-dev.safetensors" in params.extra["edit_reason"]


@pytest.mark.parametrize("graph", [
    DEFAULT_PROMPT,
    # Flux Depth LoRA (ComfyUI_examples' flux_depth_lora_example.png): a depth map through
    # InstructPixToPixConditioning guides a new image; it edits nothing
    _with(("17", {"class_type": "LoadImage", "inputs": {"image": "shark_depthmap.png"}}),
          ("35", {"class_type": "InstructPixToPixConditioning",
                  "inputs": {"positive": ["6", 0], "negative": ["7", 0], "vae": ["4", 2], "pixels": ["17", 0]}}),
          ("37", {"class_type": "LoraLoaderModelOnly",
                  "inputs": {"lora_name": "flux1-depth-dev-lora.safetensors", "model": ["4", 0]}}),
          positive=["35", 0]),
    # a loaded image that only guides a ControlNet is a reference, not an edit
    _with(LOAD, ("21", {"class_type": "ControlNetApply", "inputs": {"conditioning": ["6", 0], "image": ["20", 0],
                                                                    "control_net": ["22", 0], "strength": 1}}),
          ("22", {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "canny.safetensors"}}),
          positive=["21", 0]),
    # img2img at full denoise keeps nothing of the image
    _with(LOAD, ("21", {"class_type": "VAEEncode", "inputs": {"pixels": ["20", 0], "vae": ["4", 2]}}),
          latent_image=["21", 0], denoise=1.0),
])
def test_generation_graphs_stay_ai_generated(graph):
    params, edited = parse_comfyui_graph(graph)
    assert not edited and "edit_reason" not in params.extra


@pytest.mark.parametrize("extra_chunks, platform", [
    ({"parameters": json.dumps({"sui_image_params": {"prompt": "x", "seed": 1, "steps": 20}})}, "SwarmUI"),
    ({"parameters-json": "{}", "smproj": "{}", "parameters": A1111_COPY}, "Stability Matrix"),
    ({"generation_data": json.dumps({"prompt": "x"})}, "Tensor.Art"),
])
def test_apps_running_comfyui_are_named(extra_chunks, platform):
    # enslo/sd-metadata's swarmui.png, stability-matrix.png and tensorart.png: a ComfyUI backend
    # graph in 'prompt' beside the app's own chunks.
    report = inspect(png_with_text({"prompt": json.dumps(DEFAULT_PROMPT), **extra_chunks}))
    comfy = next(e for e in report.evidence if e.reader == "comfyui")
    assert comfy.generator == platform and comfy.data["generation"]["extra"]["engine"] == "ComfyUI"
    assert report.verdict.generator == platform


def test_civitai_hires_pass_over_its_own_generation_is_not_an_edit():
    # enslo/sd-metadata's civitai-hires.jpg: LoadImage of an orchestration.civitai.com blob, upscaled,
    # re-sampled at denoise 0.3: Civitai's hires fix of an image its generator made.
    graph = _with(("17", {"class_type": "LoadImage", "inputs": {
                      "image": "https://orchestration-new.civitai.com/v2/consumer/blobs/4CQ5EM1Q4P8B.jpeg?sig=x"}}),
                  ("21", {"class_type": "VAEEncode", "inputs": {"pixels": ["17", 0], "vae": ["4", 2]}}),
                  latent_image=["21", 0], denoise=0.3)
    graph["extra"] = {"airs": ["urn:air:sdxl:checkpoint:civitai:827184@2514310"]}
    params, edited = parse_comfyui_graph(graph)
    assert not edited and params.tool == "Civitai"
