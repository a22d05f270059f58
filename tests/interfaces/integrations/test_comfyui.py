"""The ComfyUI node pack without ComfyUI: node classes called as ComfyUI calls them, IMAGE inputs
faked as numpy arrays shaped [batch, height, width, channels] in 0..1."""

import importlib.util
import json
import sys

import c2pa
import numpy as np
import pytest
from PIL import Image

from artlineage import inspect_file
from artlineage.interfaces.integrations.comfyui import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS
from artlineage.interfaces.integrations.install import install_comfyui
from artlineage.registry import Registry
from artlineage.stamping import make_test_chain
from artlineage.verdicts import Origin

GRAPH = {"3": {"class_type": "KSampler", "inputs": {"seed": 7, "steps": 20, "cfg": 7.0, "sampler_name": "euler",
                                                    "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
                                                    "positive": ["6", 0], "negative": ["7", 0],
                                                    "latent_image": ["5", 0]}},
         "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
         "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a castle by Greg Rutkowski", "clip": ["4", 1]}},
         "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}}}


@pytest.fixture()
def registry(tmp_path):
    path = tmp_path / "reg.sqlite"
    with Registry(path) as reg:
        a = reg.add_artist("Greg Rutkowski", living=True)
        reg.set_terms(a.id, style_imitation="not_allowed")
        b = reg.add_artist("Mira Okonkwo", living=True)
        reg.set_terms(b.id, style_imitation="allowed_with_credit")
    return str(path)


def test_mappings_follow_comfyui_conventions():
    assert set(NODE_CLASS_MAPPINGS) == set(NODE_DISPLAY_NAME_MAPPINGS) == {"ArtlineageCheckPrompt",
                                                                          "ArtlineageSaveStamped"}
    for cls in NODE_CLASS_MAPPINGS.values():
        spec = cls.INPUT_TYPES()
        assert "required" in spec and callable(getattr(cls(), cls.FUNCTION))
        assert isinstance(cls.RETURN_TYPES, tuple) and cls.CATEGORY == "artlineage"
    assert NODE_CLASS_MAPPINGS["ArtlineageSaveStamped"].INPUT_TYPES()["hidden"] == {
        "prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}


def test_check_prompt_stops_or_warns_by_the_registry_terms(registry):
    node = NODE_CLASS_MAPPINGS["ArtlineageCheckPrompt"]()
    with pytest.raises(RuntimeError, match="Greg Rutkowski"):
        node.check("a castle, art by greg rutkowski", "stop", registry)
    text, decision, report = node.check("a castle, art by greg rutkowski", "warn", registry)
    assert (text, decision) == ("a castle, art by greg rutkowski", "block")
    assert json.loads(report)["matches"][0]["artist"] == "Greg Rutkowski"
    _, decision, report = node.check("harbour in the style of Mira Okonkwo", "stop", registry)
    assert decision == "credit_required" and json.loads(report)["credits"] == ["Mira Okonkwo"]
    assert node.check("宮崎駿風の風景", "stop")[1] == "warn"     # starter list, living artist, no terms


def test_save_stamped_image_keeps_the_graph_and_stamps(tmp_path):
    certs = make_test_chain(tmp_path / "certs")
    images = np.random.default_rng(0).random((2, 48, 64, 3)).astype(np.float32)     # ComfyUI IMAGE, batch of 2
    node = NODE_CLASS_MAPPINGS["ArtlineageSaveStamped"](output_dir=str(tmp_path / "output"))
    workflow = {"nodes": [{"id": 3, "type": "KSampler"}], "links": []}
    out = node.save(images, "run/castle", "ComfyUI", positive_prompt="a castle by Greg Rutkowski",
                    cert_chain=str(certs.chain), private_key=str(certs.key), prompt=GRAPH,
                    extra_pnginfo={"workflow": workflow})
    names = [r["filename"] for r in out["ui"]["images"]]
    assert names == ["castle_00001_.png", "castle_00002_.png"] and out["ui"]["images"][0]["subfolder"] == "run"
    path = tmp_path / "output" / "run" / names[1]
    with Image.open(path) as im:
        assert json.loads(im.text["prompt"]) == GRAPH and json.loads(im.text["workflow"]) == workflow
        assert np.array_equal(np.asarray(im), np.clip(np.rint(images[1] * 255), 0, 255).astype(np.uint8))
    report = inspect_file(path)
    assert report.verdict.origin == Origin.AI_GENERATED
    assert report.generation and report.generation[0].tool == "ComfyUI"       # the graph is read back
    reader = c2pa.Reader(str(path))
    assert reader.get_validation_state() == "Valid"
    store = json.loads(reader.json())
    labels = [a["label"] for a in store["manifests"][store["active_manifest"]]["assertions"]]
    assert "org.artlineage.influences" in labels
    again = node.save(images[:1], "run/castle", "ComfyUI")
    assert again["ui"]["images"][0]["filename"] == "castle_00003_.png"


def test_install_copies_a_loadable_pack(tmp_path, monkeypatch):
    with pytest.raises(Exception, match="custom_nodes"):
        install_comfyui(tmp_path)
    (tmp_path / "custom_nodes").mkdir()
    dst = install_comfyui(tmp_path)
    assert sorted(p.name for p in dst.iterdir()) == ["__init__.py"]
    # loaded the way ComfyUI's nodes.load_custom_node does: the folder's __init__.py executed as a
    # module put in sys.modules before it runs, named by the folder's path with "." as "_x_" (older
    # ComfyUI: by the folder's name alone, which is why the folder is not called "artlineage")
    assert dst.name == "artlineage_nodes"
    for module_name in (str(dst).replace(".", "_x_"), dst.name):
        spec = importlib.util.spec_from_file_location(module_name, dst / "__init__.py")
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, module_name, module)
        spec.loader.exec_module(module)
        assert module.NODE_CLASS_MAPPINGS is NODE_CLASS_MAPPINGS


def test_save_stamped_edit_names_its_source_as_ingredient(tmp_path):
    certs = make_test_chain(tmp_path / "certs")
    rng = np.random.default_rng(1)
    node = NODE_CLASS_MAPPINGS["ArtlineageSaveStamped"](output_dir=str(tmp_path))
    out = node.save(rng.random((1, 32, 32, 3)), "edit", "ComfyUI", source_images=rng.random((1, 32, 32, 3)),
                    cert_chain=str(certs.chain), private_key=str(certs.key))
    path = tmp_path / out["ui"]["images"][0]["filename"]
    store = json.loads(c2pa.Reader(str(path)).json())
    manifest = store["manifests"][store["active_manifest"]]
    assert [i["relationship"] for i in manifest["ingredients"]] == ["parentOf"]
    assert inspect_file(path).verdict.origin == Origin.AI_EDITED
