"""The AUTOMATIC1111 / Forge extension without the web UI: its ``modules`` imports faked."""

import importlib.util
import sys
import types

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from artlineage import inspect_file
from artlineage.interfaces.integrations.install import HERE, install_a1111
from artlineage.stamping import read_container_xmp
from artlineage.verdicts import Origin


class FakeState:
    def __init__(self):
        self.interrupted = False

    def interrupt(self):
        self.interrupted = True


@pytest.fixture()
def webui(monkeypatch, tmp_path):
    """Fake modules.scripts / script_callbacks / shared, then load the extension's script by path as
    the web UI does."""
    callbacks = []
    scripts = types.ModuleType("modules.scripts")
    scripts.Script = type("Script", (), {})
    scripts.AlwaysVisible = object()
    script_callbacks = types.ModuleType("modules.script_callbacks")
    script_callbacks.on_image_saved = callbacks.append
    shared = types.ModuleType("modules.shared")
    shared.state = FakeState()
    modules = types.ModuleType("modules")
    modules.scripts, modules.script_callbacks, modules.shared = scripts, script_callbacks, shared
    for name, mod in (("modules", modules), ("modules.scripts", scripts),
                      ("modules.script_callbacks", script_callbacks), ("modules.shared", shared)):
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.delenv("ARTLINEAGE_STAMP_CERT", raising=False)
    monkeypatch.delenv("ARTLINEAGE_STAMP_KEY", raising=False)
    path = HERE / "a1111" / "scripts" / "artlineage_stamp.py"
    spec = importlib.util.spec_from_file_location("artlineage_stamp_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return types.SimpleNamespace(module=module, callbacks=callbacks, shared=shared, scripts=scripts)


def _p(prompt, **kw):
    return types.SimpleNamespace(prompt=prompt, all_prompts=[prompt], n_iter=2, extra_generation_params={},
                                 sd_model_name="sdxl_base", init_images=None, **kw)


def test_script_is_always_visible_and_registers_the_save_callback(webui):
    script = webui.module.Script()
    assert script.title() == "artlineage" and script.show(False) is webui.scripts.AlwaysVisible
    assert webui.callbacks == [webui.module.on_image_saved]


def test_blocked_prompt_stops_generation(webui, tmp_path, monkeypatch):
    from artlineage.registry import Registry

    reg_path = tmp_path / "reg.sqlite"
    with Registry(reg_path) as reg:
        a = reg.add_artist("Greg Rutkowski", living=True)
        reg.set_terms(a.id, style_imitation="not_allowed")
    monkeypatch.setenv("ARTLINEAGE_REGISTRY", str(reg_path))
    webui.module._services.clear()
    p = _p("a castle, art by greg rutkowski")
    with pytest.raises(RuntimeError, match="Greg Rutkowski"):
        webui.module.Script().process(p, True, "stop")
    assert p.n_iter == 0 and webui.shared.state.interrupted and p.extra_generation_params["artlineage"] == "block"
    warned = _p("a castle, art by greg rutkowski")
    webui.module.Script().process(warned, True, "warn")
    assert warned.n_iter == 2 and warned.extra_generation_params["artlineage"] == "block"


def test_saved_image_is_stamped_and_keeps_its_parameters(webui, tmp_path):
    webui.module._services.clear()
    p = _p("a lighthouse at dusk, w stylu Beksińskiego")
    webui.module.Script().process(p, True, "stop")
    path = tmp_path / "00001-7.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a lighthouse at dusk\nSteps: 20, Sampler: Euler a, Seed: 7, Model: sdxl_base")
    Image.fromarray((np.random.default_rng(1).random((32, 32, 3)) * 255).astype("uint8")).save(path, pnginfo=info)
    webui.module.on_image_saved(types.SimpleNamespace(p=p, filename=str(path), image=None, pnginfo={}))
    assert b"Stable Diffusion web UI (sdxl_base)" in read_container_xmp(path.read_bytes())
    report = inspect_file(path)
    assert report.verdict.origin == Origin.AI_GENERATED and report.generation[0].seed == 7
    untouched = tmp_path / "other.png"
    untouched.write_bytes(path.read_bytes())
    webui.module.on_image_saved(types.SimpleNamespace(p=_p("x"), filename=str(untouched), image=None, pnginfo={}))
    assert untouched.read_bytes() == path.read_bytes()       # not processed by the script: left alone


def test_install(tmp_path):
    with pytest.raises(Exception, match="extensions"):
        install_a1111(tmp_path)
    (tmp_path / "extensions").mkdir()
    dst = install_a1111(tmp_path)
    assert (dst / "scripts" / "artlineage_stamp.py").is_file()


def test_img2img_output_is_an_edit_with_its_input_as_ingredient(webui, tmp_path, monkeypatch):
    import json

    import c2pa

    from artlineage.stamping import make_test_chain

    certs = make_test_chain(tmp_path / "certs")
    monkeypatch.setenv("ARTLINEAGE_STAMP_CERT", str(certs.chain))
    monkeypatch.setenv("ARTLINEAGE_STAMP_KEY", str(certs.key))
    webui.module._services.clear()
    source = Image.new("RGB", (32, 32), (90, 30, 30))
    p = _p("the same street at night")
    p.init_images = [source]
    webui.module.Script().process(p, True, "stop")
    path = tmp_path / "00002-8.png"
    Image.new("RGB", (32, 32), (10, 10, 60)).save(path)
    webui.module.on_image_saved(types.SimpleNamespace(p=p, filename=str(path), image=None, pnginfo={}))
    store = json.loads(c2pa.Reader(str(path)).json())
    manifest = store["manifests"][store["active_manifest"]]
    assert manifest["ingredients"][0]["relationship"] == "parentOf"
    assert inspect_file(path).verdict.origin == Origin.AI_EDITED
