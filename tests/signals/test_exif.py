"""EXIF reader: camera evidence, AI software, UserComment decoding, text fields."""

from __future__ import annotations

import io

import piexif
import pytest
from PIL import Image

from artlineage._inspect import inspect_bytes
from artlineage.signals._ai_tools import match_ai_tool
from artlineage.signals._base import Implication
from artlineage.signals._source import open_source
from artlineage.signals.exif import (decode_user_comment, read_exif, read_exif_tags, TAG_MAKE,
                                     TAG_MODEL, TAG_SOFTWARE)
from artlineage.verdicts.provenance import Origin

from ._xmp_fixtures import embed_xmp

I, E = piexif.ImageIFD, piexif.ExifIFD


def camera_exif(**extra_exif) -> bytes:
    """A typical camera EXIF block: IFD0 identity plus capture-time Exif tags."""
    exif = {
        "0th": {I.Make: b"Canon", I.Model: b"Canon EOS R5", I.Software: b"Firmware Version 1.8.1",
                I.DateTime: b"2023:05:01 10:00:00"},
        "Exif": {E.DateTimeOriginal: b"2023:05:01 10:00:00", E.ExposureTime: (1, 250), E.FNumber: (28, 10),
                 E.ISOSpeedRatings: 200, E.FocalLength: (50, 1), E.LensModel: b"RF50mm F1.8 STM"},
    }
    exif["Exif"].update(extra_exif)
    return piexif.dump(exif)


def exif_only(ifd0: dict | None = None, sub: dict | None = None) -> bytes:
    return piexif.dump({"0th": ifd0 or {}, "Exif": sub or {}})


def _exif_evidence(report):
    return [e for e in report.evidence if e.reader == "exif"]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_camera_style_exif_is_camera_never_ai(fmt):
    report = inspect_bytes(embed_xmp(None, fmt, exif=camera_exif()))
    assert report.error is None
    assert report.origin is Origin.CAMERA
    assert not report.verdict.is_ai
    assert not any(e.implies in (Implication.AI_GENERATED, Implication.AI_EDITED) for e in report.evidence)
    [cam] = [e for e in _exif_evidence(report) if e.implies is Implication.CAMERA]
    assert cam.value == "Canon EOS R5"
    assert cam.strength == 0.65  # every capture tag present: strengths table exif_camera_max
    assert {"DateTimeOriginal", "ExposureTime", "FNumber"} <= set(cam.data["capture_tags"])
    assert cam.data["lens"] == "RF50mm F1.8 STM"


def test_make_model_alone_is_weaker_than_a_full_capture_set():
    bare = read_exif_tags({TAG_MAKE: "Canon", TAG_MODEL: "Canon EOS R5"}, "test")
    full = _exif_evidence(inspect_bytes(embed_xmp(None, "JPEG", exif=camera_exif()), readers=["exif"]))
    bare_cam = next(e for e in bare if e.implies is Implication.CAMERA)
    full_cam = next(e for e in full if e.implies is Implication.CAMERA)
    assert bare_cam.strength == pytest.approx(0.5)
    assert full_cam.strength > bare_cam.strength


@pytest.mark.parametrize("software, generator", [
    ("NovelAI", "NovelAI"), ("Stable Diffusion", "Stable Diffusion"), ("Midjourney", "Midjourney"),
    ("DALL-E 3", "DALL-E"), ("Adobe Firefly", "Adobe Firefly"), ("ComfyUI", "ComfyUI"),
    ("InvokeAI 4.2", "InvokeAI"), ("Fooocus v2.5.0", "Fooocus"), ("Draw Things", "Draw Things"),
    ("SwarmUI 0.9", "SwarmUI"), ("Leonardo.Ai", "Leonardo.Ai"),
])
def test_ai_software_is_ai_generated(software, generator):
    data = embed_xmp(None, "JPEG", exif=exif_only({I.Software: software.encode()}))
    report = inspect_bytes(data, readers=["exif"])
    [ev] = _exif_evidence(report)
    assert ev.field == "Software" and ev.implies is Implication.AI_GENERATED
    assert ev.generator == generator and ev.strength == pytest.approx(0.8)
    assert report.origin is Origin.AI_GENERATED


def test_novelai_software_outranks_copied_camera_tags():
    exif = piexif.dump({"0th": {I.Make: b"Canon", I.Model: b"Canon EOS R5", I.Software: b"NovelAI"}, "Exif": {}})
    report = inspect_bytes(embed_xmp(None, "PNG", exif=exif))
    assert report.origin is Origin.AI_GENERATED
    assert report.verdict.generator == "NovelAI"


@pytest.mark.parametrize("software", ["Adobe Photoshop 25.0 (Windows)", "GIMP 2.10.36", "Ver.1.00",
                                      "Firmware Version 1.8.1", "Leonardo", "Capture One 23"])
def test_editors_and_firmware_are_info(software):
    [ev] = [e for e in read_exif_tags({TAG_SOFTWARE: software}, "t") if e.field == "Software"]
    assert ev.implies is Implication.INFO and ev.generator is None


def test_ai_name_in_make_replaces_camera_evidence():
    evidence = read_exif_tags({TAG_MAKE: "NovelAI", TAG_MODEL: "NAI Diffusion V3"}, "t")
    assert [e.implies for e in evidence] == [Implication.AI_GENERATED]


@pytest.mark.parametrize("camera_name", ["Canon", "NIKON CORPORATION", "SONY", "FUJIFILM", "Apple", "Google",
                                         "OLYMPUS IMAGING CORP.", "Panasonic", "LEICA CAMERA AG", "samsung",
                                         "Pixel 8 Pro", "iPhone 15 Pro", "DC-GH6", "ILCE-7M4", "Leonardo"])
def test_camera_names_never_match_ai_tools(camera_name):
    assert match_ai_tool(camera_name) is None


# ----- UserComment ------------------------------------------------------------------------------

TEXT = "a castle, masterpiece\nSteps: 20, Sampler: Euler a, Seed: 42 — café"


@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le"])
def test_unicode_user_comment_both_byte_orders(encoding):
    raw = b"UNICODE\x00" + TEXT.encode(encoding)
    assert decode_user_comment(raw) == TEXT


@pytest.mark.parametrize("hint", ["be", "le", None])
def test_unicode_byte_order_detection_beats_the_tiff_hint(hint):
    assert decode_user_comment(b"UNICODE\x00" + TEXT.encode("utf-16-le"), hint) == TEXT
    assert decode_user_comment(b"UNICODE\x00" + TEXT.encode("utf-16-be"), hint) == TEXT


def test_unicode_with_bom_and_cjk_uses_bom_and_hint():
    assert decode_user_comment(b"UNICODE\x00" + "日本語".encode("utf-16")) == "日本語"  # BOM
    assert decode_user_comment(b"UNICODE\x00" + "日本語".encode("utf-16-le"), "le") == "日本語"


def test_ascii_user_comment_and_utf8_under_ascii_prefix():
    assert decode_user_comment(b"ASCII\x00\x00\x00Steps: 20\x00\x00") == "Steps: 20"
    assert decode_user_comment(b"ASCII\x00\x00\x00" + "café".encode()) == "café"


def test_jis_undefined_and_unprefixed_user_comments():
    assert decode_user_comment(b"JIS\x00\x00\x00\x00\x00" + "日本".encode("iso2022_jp")) == "日本"
    assert decode_user_comment(b"JIS\x00\x00\x00\x00\x00" + "日本".encode("shift_jis")) == "日本"
    assert decode_user_comment(b"\x00" * 8 + "naïve".encode()) == "naïve"
    assert decode_user_comment(b"\x00" * 8 + b"\x00" * 20) == ""
    assert decode_user_comment(b"no prefix here") == "no prefix here"
    assert decode_user_comment(None) == ""
    assert decode_user_comment("already text\x00") == "already text"


def test_piexif_helper_output_decodes():
    from piexif.helper import UserComment
    assert decode_user_comment(UserComment.dump(TEXT, encoding="unicode")) == TEXT
    assert decode_user_comment(UserComment.dump("plain ascii", encoding="ascii")) == "plain ascii"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le"])
def test_user_comment_evidence_in_containers(fmt, encoding):
    exif = exif_only(sub={E.UserComment: b"UNICODE\x00" + TEXT.encode(encoding)})
    report = inspect_bytes(embed_xmp(None, fmt, exif=exif), readers=["exif"])
    [ev] = [e for e in _exif_evidence(report) if e.field == "UserComment"]
    assert ev.implies is Implication.INFO and ev.value == TEXT and ev.data["text"] == TEXT


def test_little_endian_tiff_exif_from_pillow():
    exif = Image.Exif()
    exif[0x010F] = "Nikon"
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + TEXT.encode("utf-16-le")
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", exif=exif.tobytes())
    source = open_source(data=buf.getvalue())
    fields = {e.field: e for e in read_exif(source)}
    assert fields["UserComment"].value == TEXT
    assert fields["Make/Model"].value == "Nikon"


# ----- text fields -----------------------------------------------------------------------------

def test_artist_copyright_description_are_info_and_utf8_decoded():
    exif = exif_only({I.Artist: "Zoë Ångström".encode(), I.Copyright: "© 2024 Zoë".encode(),
                      I.ImageDescription: b"Harbour at dawn", I.XPComment: tuple("Windows note".encode("utf-16-le"))})
    report = inspect_bytes(embed_xmp(None, "JPEG", exif=exif), readers=["exif"])
    fields = {e.field: e for e in _exif_evidence(report)}
    assert fields["Artist"].value == "Zoë Ångström"
    assert fields["Copyright"].value == "© 2024 Zoë"
    assert fields["ImageDescription"].value == "Harbour at dawn"
    assert fields["XPComment"].value == "Windows note"
    assert all(e.implies is Implication.INFO for e in fields.values())
    assert report.origin is Origin.UNKNOWN


def test_huge_user_comment_is_truncated():
    exif = exif_only(sub={E.UserComment: b"ASCII\x00\x00\x00" + b"x" * 60_000})
    [ev] = _exif_evidence(inspect_bytes(embed_xmp(None, "JPEG", exif=exif), readers=["exif"]))
    assert len(ev.value) < 5000


@pytest.mark.filterwarnings("ignore:Corrupt EXIF")
def test_corrupt_exif_gives_no_evidence_and_no_crash():
    data = embed_xmp(None, "PNG", exif=b"Exif\x00\x00MM\x00*\xff\xff\xff\xff")
    report = inspect_bytes(data, readers=["exif"])
    assert report.error is None
    assert report.evidence == []
    assert report.origin is Origin.UNKNOWN


def test_reader_is_skipped_without_exif():
    report = inspect_bytes(embed_xmp(None, "PNG"), readers=["exif"])
    assert report.evidence == [] and report.warnings == []

