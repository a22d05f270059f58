import json

from artlineage.signals._base import Implication

from ._fixtures import inspect, only_generation, png_with_text

SWARM = {
    "sui_image_params": {
        "prompt": "a lighthouse at dusk, dramatic clouds", "negativeprompt": "blurry, lowres",
        "model": "OfficialStableDiffusion/sd_xl_base_1.0", "seed": 1869437216, "steps": 20, "cfgscale": 7,
        "aspectratio": "1:1", "width": 1024, "height": 1024, "sampler": "euler", "scheduler": "normal",
        "automaticvae": True, "swarm_version": "0.9.5.2", "date": "2025-03-02",
        "generation_time": "0.10 (prep) and 4.87 (gen) seconds"},
    "sui_extra_data": {"date": "2025-03-02", "prep_time": "0.10 sec", "generation_time": "4.87 sec"},
    "sui_models": [{"name": "sd_xl_base_1.0.safetensors", "param": "model",
                    "hash": "0x31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b"}],
}


def test_swarmui_parameters_json():
    report = inspect(png_with_text({"parameters": json.dumps(SWARM, indent=2)}))
    evidence, gen = only_generation(report, "swarmui")  # neither A1111 nor Fooocus claims it
    assert evidence.implies is Implication.AI_GENERATED and report.verdict.generator == "SwarmUI"
    assert (gen["prompt"], gen["negative_prompt"]) == ("a lighthouse at dusk, dramatic clouds", "blurry, lowres")
    assert gen["model"] == "OfficialStableDiffusion/sd_xl_base_1.0"
    assert gen["model_hash"].startswith("0x31e35c80")
    assert (gen["seed"], gen["steps"], gen["cfg_scale"], gen["sampler"], gen["scheduler"]) == (
        1869437216, 20, 7.0, "euler", "normal")
    assert (gen["width"], gen["height"], gen["extra"]["swarm_version"]) == (1024, 1024, "0.9.5.2")


def test_swarmui_init_image_is_edited_and_bad_json_warns():
    swarm = json.loads(json.dumps(SWARM))
    swarm["sui_image_params"].update(initimage="(image)", initimagecreativity=0.6)
    evidence, _ = only_generation(inspect(png_with_text({"parameters": json.dumps(swarm)})), "swarmui")
    assert evidence.implies is Implication.AI_EDITED
    report = inspect(png_with_text({"parameters": '{"sui_image_params": {"prompt": "x",'}))
    assert any(w.startswith("swarmui:") and "malformed JSON" in w for w in report.warnings)
    assert not [w for w in report.warnings if w.startswith(("a1111:", "fooocus:"))]
