import artlineage


def test_public_names_resolve_and_private_modules_stay_private():
    for name in artlineage.__all__:
        assert getattr(artlineage, name) is not None, name
    assert not any(name.startswith("_") for name in artlineage.__all__)


def test_every_builtin_reader_is_registered():
    names = {r.name for r in artlineage.get_readers()}
    assert {"c2pa", "xmp", "exif", "a1111", "comfyui", "novelai", "novelai_stealth", "invokeai", "fooocus",
            "swarmui", "drawthings", "watermark"} <= names
    assert {r.name for r in artlineage.get_readers(pixels=False)} == names - {"watermark", "novelai_stealth"}
