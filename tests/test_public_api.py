import subprocess
import sys

import artlineage


def test_public_names_resolve_and_private_modules_stay_private():
    for name in artlineage.__all__:
        assert getattr(artlineage, name) is not None, name
    assert not any(name.startswith("_") for name in artlineage.__all__)


def test_import_stays_light():
    code = ("import sys, artlineage; heavy = [m for m in ('sqlalchemy', 'pyarrow', 'httpx', 'fastapi', 'sklearn',"
            " 'matplotlib', 'torch', 'ray') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_every_builtin_reader_is_registered():
    names = {r.name for r in artlineage.get_readers()}
    assert {"c2pa", "xmp", "exif", "a1111", "comfyui", "novelai", "novelai_stealth", "invokeai", "fooocus",
            "swarmui", "drawthings", "watermark"} <= names
    assert {r.name for r in artlineage.get_readers(pixels=False)} == names - {"watermark", "novelai_stealth"}
