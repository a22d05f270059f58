import json

from artlineage.signals._base import Implication
from artlineage.signals.generators.comfyui import parse_comfyui_graph, workflow_to_api_graph

from ._fixtures import inspect, only_generation, png_with_text

# ComfyUI's default text-to-image graph, as SaveImage writes it.
DEFAULT_PROMPT = {
    "3": {"inputs": {"seed": 156680208700286, "steps": 20, "cfg": 8, "sampler_name": "euler",
                     "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0],
                     "negative": ["7", 0], "latent_image": ["5", 0]},
          "class_type": "KSampler", "_meta": {"title": "KSampler"}},
    "4": {"inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}, "class_type": "CheckpointLoaderSimple",
          "_meta": {"title": "Load Checkpoint"}},
    "5": {"inputs": {"width": 512, "height": 768, "batch_size": 1}, "class_type": "EmptyLatentImage"},
    "6": {"inputs": {"text": "beautiful scenery nature glass bottle landscape, purple galaxy bottle,",
                     "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
    "7": {"inputs": {"text": "text, watermark", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
    "8": {"inputs": {"samples": ["3", 0], "vae": ["4", 2]}, "class_type": "VAEDecode"},
    "9": {"inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}, "class_type": "SaveImage"},
}
DEFAULT_WORKFLOW = {
    "last_node_id": 9, "last_link_id": 9, "version": 0.4,
    "nodes": [
        {"id": 3, "type": "KSampler", "inputs": [{"name": "model", "type": "MODEL", "link": 1},
                                                 {"name": "positive", "type": "CONDITIONING", "link": 4},
                                                 {"name": "negative", "type": "CONDITIONING", "link": 6},
                                                 {"name": "latent_image", "type": "LATENT", "link": 2}],
         "widgets_values": [156680208700286, "randomize", 20, 8, "euler", "normal", 1]},
        {"id": 4, "type": "CheckpointLoaderSimple", "widgets_values": ["v1-5-pruned-emaonly.safetensors"]},
        {"id": 5, "type": "EmptyLatentImage", "widgets_values": [512, 768, 1]},
        {"id": 6, "type": "CLIPTextEncode", "inputs": [{"name": "clip", "type": "CLIP", "link": 3}],
         "widgets_values": ["beautiful scenery nature glass bottle landscape, purple galaxy bottle,"]},
        {"id": 7, "type": "CLIPTextEncode", "inputs": [{"name": "clip", "type": "CLIP", "link": 5}],
         "widgets_values": ["text, watermark"]},
    ],
    "links": [[1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [3, 4, 1, 6, 0, "CLIP"],
              [4, 6, 0, 3, 1, "CONDITIONING"], [5, 4, 1, 7, 0, "CLIP"], [6, 7, 0, 3, 2, "CONDITIONING"]],
}


def _check_default(gen):
    assert gen["prompt"] == "beautiful scenery nature glass bottle landscape, purple galaxy bottle,"
    assert gen["negative_prompt"] == "text, watermark"
    assert gen["model"] == "v1-5-pruned-emaonly.safetensors"
    assert (gen["seed"], gen["steps"], gen["cfg_scale"], gen["sampler"], gen["scheduler"]) == (
        156680208700286, 20, 8.0, "euler", "normal")
    assert (gen["width"], gen["height"]) == (512, 768)


def test_prompt_graph_from_png():
    data = png_with_text({"prompt": json.dumps(DEFAULT_PROMPT), "workflow": json.dumps(DEFAULT_WORKFLOW)})
    report = inspect(data)
    evidence, gen = only_generation(report, "comfyui")
    assert evidence.implies is Implication.AI_GENERATED and report.verdict.generator == "ComfyUI"
    assert evidence.field == "prompt"
    _check_default(gen)


def test_workflow_only():
    report = inspect(png_with_text({"workflow": json.dumps(DEFAULT_WORKFLOW)}))
    evidence, gen = only_generation(report, "comfyui")
    assert evidence.field == "workflow"
    _check_default(gen)
    assert workflow_to_api_graph(DEFAULT_WORKFLOW)["3"]["inputs"]["positive"] == ["6", 0]


def test_conditioning_chain_sdxl_encoder_and_img2img():
    graph = json.loads(json.dumps(DEFAULT_PROMPT))
    graph["10"] = {"class_type": "ConditioningCombine",
                   "inputs": {"conditioning_1": ["6", 0], "conditioning_2": ["11", 0]}}
    graph["11"] = {"class_type": "CLIPTextEncodeSDXL", "inputs": {"text_g": ["12", 0], "text_l": "x", "clip": ["4", 1]}}
    graph["12"] = {"class_type": "PrimitiveString", "inputs": {"value": "golden hour"}}
    graph["13"] = {"class_type": "LoadImage", "inputs": {"image": "photo.png"}}
    graph["14"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["13", 0], "vae": ["4", 2]}}
    graph["3"]["inputs"].update(positive=["10", 0], latent_image=["14", 0], denoise=0.55)
    params, edited = parse_comfyui_graph(graph)
    assert params.prompt == ("beautiful scenery nature glass bottle landscape, purple galaxy bottle,\n"
                             "golden hour")
    assert edited and params.width is None
    report = inspect(png_with_text({"prompt": json.dumps(graph)}))
    assert report.origin.value == "ai_edited"


def test_missing_links_and_unknown_nodes_do_not_crash():
    graph = {"1": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 9, "positive": ["99", 0],
                                                          "negative": "not a link", "model": [None, 0],
                                                          "latent_image": ["1", 0]}},
             "2": {"class_type": "SomeCustomNode", "inputs": {"x": [["nested"]]}},
             "3": "not a node"}
    params, edited = parse_comfyui_graph(graph)
    assert (params.seed, params.steps, params.prompt, params.negative_prompt, edited) == (5, 9, None, None, False)


def test_malformed_and_deep_json_become_warnings():
    report = inspect(png_with_text({"prompt": '{"3": {"class_type": "KSampler", "inputs": '}))
    assert report.origin.value == "unknown"
    assert any(w.startswith("comfyui:") and "malformed JSON" in w for w in report.warnings)
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    report = inspect(png_with_text({"prompt": deep}))
    assert any(w.startswith("comfyui:") and "nested 5000 levels" in w for w in report.warnings)
    # A plain-text 'prompt' chunk from some other tool is simply not ComfyUI's.
    report = inspect(png_with_text({"prompt": "a cat on a mat"}))
    assert not [w for w in report.warnings if w.startswith("comfyui")] and report.origin.value == "unknown"
