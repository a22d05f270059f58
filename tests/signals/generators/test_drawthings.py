import html
import json

import piexif
import piexif.helper

from artlineage.signals._base import Implication

from ._fixtures import inspect, jpeg_with_exif, only_generation, png_with_text

DRAW_THINGS = {
    "c": "a watercolor fox in a birch forest", "uc": "blurry, text", "seed": 2891530713, "steps": 20,
    "scale": 5.5, "sampler": "DPM++ 2M Karras", "model": "sd_xl_base_1.0_f16.ckpt", "size": "1024x1024",
    "strength": 1, "seed_mode": "Scale Alike", "aesthetic_score": 6, "negative_aesthetic_score": 2,
    "hires_fix": False, "lora": [],
    "v2": {"aestheticScore": 6, "batchCount": 1, "batchSize": 1, "guidanceScale": 5.5, "height": 1024,
           "width": 1024, "model": "sd_xl_base_1.0_f16.ckpt", "seed": 2891530713, "steps": 20, "strength": 1,
           "sampler": 1, "seedMode": 2},
}


def _xmp(user_comment: str) -> str:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 6.0.0">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">a watercolor fox in a birch forest\n-blurry, text'
        '</rdf:li></rdf:Alt></dc:description>'
        f'<exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">{html.escape(user_comment)}</rdf:li>'
        '</rdf:Alt></exif:UserComment><xmp:CreatorTool>Draw Things</xmp:CreatorTool>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )


def _check(gen):
    assert (gen["prompt"], gen["negative_prompt"]) == ("a watercolor fox in a birch forest", "blurry, text")
    assert (gen["seed"], gen["steps"], gen["cfg_scale"], gen["sampler"]) == (2891530713, 20, 5.5, "DPM++ 2M Karras")
    assert (gen["model"], gen["width"], gen["height"]) == ("sd_xl_base_1.0_f16.ckpt", 1024, 1024)


def test_drawthings_png_xmp():
    data = png_with_text({"XML:com.adobe.xmp": _xmp(json.dumps(DRAW_THINGS))}, itxt=["XML:com.adobe.xmp"])
    report = inspect(data)
    evidence, gen = only_generation(report, "drawthings")
    assert evidence.implies is Implication.AI_GENERATED and evidence.generator == "Draw Things"
    _check(gen)


def test_drawthings_exif_user_comment_img2img():
    meta = dict(DRAW_THINGS, strength=0.45)
    data = jpeg_with_exif({"0th": {piexif.ImageIFD.Software: b"Draw Things"},
                           "Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(json.dumps(meta),
                                                                                                "unicode")}})
    evidence, gen = only_generation(inspect(data), "drawthings")
    assert evidence.implies is Implication.AI_EDITED
    _check(gen)
