"""Round trips of artlineage.stamping: every stamped file read back by artlineage's inspect, by
c2pa-python's Reader and by exiftool; pixels and existing metadata unchanged."""

import io
import json
import shutil
import subprocess

import c2pa
import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from artlineage import inspect_file
from artlineage.errors import InputError
from artlineage.matching.artist_names import ArtistEntry, load_artist_names, merge_entries
from artlineage.matching.prompt_guard import PromptGuard
from artlineage.signals.watermark import KNOWN_WATERMARKS, detect_known_watermarks, detection_threshold
from artlineage.stamping import (INFLUENCES_LABEL, SigningCredentials, StampOptions, make_test_chain,
                                 read_container_xmp, stamp_bytes, stamp_file)
from artlineage.verdicts import Origin

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
EXIF_ARTIST = "Studio Test"
OLD_XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
           b'<dc:creator><rdf:Seq><rdf:li>Jane Maker</rdf:li></rdf:Seq></dc:creator></rdf:Description>'
           b'</rdf:RDF></x:xmpmeta>')


@pytest.fixture(scope="module")
def creds(tmp_path_factory):
    files = make_test_chain(tmp_path_factory.mktemp("certs"))
    return SigningCredentials.from_files(files.chain, files.key)


def _pixels(seed=0, size=(320, 288), alpha=False):
    rng = np.random.default_rng(seed)
    arr = (rng.random((size[1], size[0], 4 if alpha else 3)) * 255).astype("uint8")
    return Image.fromarray(arr, "RGBA" if alpha else "RGB")


def _exif():
    exif = Image.Exif()
    exif[0x013B] = EXIF_ARTIST          # Artist
    return exif.tobytes()


def make_image(kind: str) -> bytes:
    """Files carrying metadata a stamp must keep: EXIF everywhere, a PNG text chunk, JPEG XMP."""
    buf = io.BytesIO()
    if kind == "png":
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", "a castle, Steps: 20, Seed: 1")
        _pixels(alpha=True).save(buf, "PNG", pnginfo=info, exif=_exif())
    elif kind == "jpeg":
        _pixels().save(buf, "JPEG", quality=90, exif=_exif(), xmp=OLD_XMP)
    elif kind == "webp-lossless":
        _pixels().save(buf, "WEBP", lossless=True)                  # simple VP8L: becomes VP8X
    elif kind == "webp-lossy":
        _pixels().save(buf, "WEBP", quality=80)                     # simple VP8
    elif kind == "webp-extended":
        _pixels(alpha=True).save(buf, "WEBP", lossless=True, exif=_exif())   # VP8X with EXIF
    return buf.getvalue()


def _decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA"))


def _manifest(path) -> tuple[str, dict, list[str]]:
    reader = c2pa.Reader(str(path))
    store = json.loads(reader.json())
    codes = [s.get("code") for s in store.get("validation_status") or []]
    return reader.get_validation_state(), store["manifests"][store["active_manifest"]], codes


def _assertion(manifest: dict, label: str) -> dict:
    return next(a["data"] for a in manifest["assertions"] if a["label"].startswith(label))


KINDS = ["png", "jpeg", "webp-lossless", "webp-lossy", "webp-extended"]


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip(kind, creds, tmp_path):
    src = tmp_path / f"in.{kind.split('-')[0]}"
    src.write_bytes(make_image(kind))
    dst = tmp_path / f"out{src.suffix}"
    guard = PromptGuard(merge_entries([ArtistEntry("Greg Rutkowski", living=True, artist_id=4,
                                                   style_imitation="not_allowed", source="registry")],
                                      load_artist_names()))
    result = stamp_file(src, dst, StampOptions(generator="Acme Imagine", generator_version="2.1",
                                               prompt="castle в стиле Шишкина, by greg rutkowski",
                                               credentials=creds), guard=guard)
    assert result.signed and result.xmp and result.test_certificate and not result.watermarked

    # artlineage inspect: AI-generated, by that generator
    report = inspect_file(dst)
    assert report.verdict.origin == Origin.AI_GENERATED and report.verdict.generator == "Acme Imagine"
    assert {e.reader for e in report.verdict.evidence if e.implies.name == "AI_GENERATED"} >= {"xmp", "c2pa"}

    # c2pa-python: a valid manifest, the only failure being the test signer's absence from trust lists
    state, manifest, codes = _manifest(dst)
    assert state == "Valid" and codes == ["signingCredential.untrusted"]
    (action,) = _assertion(manifest, "c2pa.actions")["actions"]
    assert action["action"] == "c2pa.created"
    assert action["digitalSourceType"] == IPTC + "trainedAlgorithmicMedia"
    assert action["softwareAgent"]["name"] == "Acme Imagine"
    assert _assertion(manifest, "c2pa.training-mining")["entries"]["c2pa.ai_generative_training"] == {
        "use": "notAllowed"}
    artists = _assertion(manifest, INFLUENCES_LABEL)["artists"]
    assert [(a["name"], a.get("registry_id"), a["decision"], a.get("style_imitation")) for a in artists] == [
        ("Ivan Shishkin", None, "allow", None), ("Greg Rutkowski", 4, "block", "not_allowed")]

    # exiftool: the IPTC field
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool not installed (CI installs it)")
    out = subprocess.run(["exiftool", "-j", "-XMP-iptcExt:all", "-PNG:Parameters", "-XMP-dc:Creator", str(dst)],
                         capture_output=True, text=True, check=True)
    tags = json.loads(out.stdout)[0]
    assert tags["DigitalSourceType"] == IPTC + "trainedAlgorithmicMedia"
    assert tags["AISystemUsed"] == "Acme Imagine"

    # pixels unchanged, metadata that was there kept
    before, after = src.read_bytes(), dst.read_bytes()
    assert np.array_equal(_decoded(before), _decoded(after))
    if kind in ("png", "jpeg", "webp-extended"):
        with Image.open(dst) as im:
            assert im.getexif()[0x013B] == EXIF_ARTIST
    if kind == "png":
        assert tags["Parameters"] == "a castle, Steps: 20, Seed: 1"
    if kind == "jpeg":
        assert tags["Creator"] == "Jane Maker"


def test_edit_with_ingredient(creds, tmp_path):
    parent = tmp_path / "photo.jpg"
    parent.write_bytes(make_image("jpeg"))
    edited = tmp_path / "edited.png"
    _pixels(seed=3).save(edited)
    result = stamp_file(edited, options=StampOptions(generator="Acme Inpaint", edited=True, ingredients=(parent,),
                                                     credentials=creds))
    assert result.digital_source_type == IPTC + "compositeWithTrainedAlgorithmicMedia"
    state, manifest, codes = _manifest(edited)
    assert state == "Valid" and codes == ["signingCredential.untrusted"]
    actions = _assertion(manifest, "c2pa.actions")["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited"]
    assert actions[1]["digitalSourceType"] == IPTC + "compositeWithTrainedAlgorithmicMedia"
    (ingredient,) = manifest["ingredients"]
    assert ingredient["title"] == "photo.jpg" and ingredient["relationship"] == "parentOf"
    assert inspect_file(edited).verdict.origin == Origin.AI_EDITED


def test_unsigned_stamp_is_xmp_only(tmp_path, monkeypatch):
    monkeypatch.delenv("ARTLINEAGE_STAMP_CERT", raising=False)
    monkeypatch.delenv("ARTLINEAGE_STAMP_KEY", raising=False)
    data = make_image("png")
    out, result = stamp_bytes(data, StampOptions(generator="Acme Imagine"))
    assert (result.signed, result.xmp) == (False, True)
    assert b"trainedAlgorithmicMedia" in read_container_xmp(out)
    path = tmp_path / "x.png"
    path.write_bytes(out)
    verdict = inspect_file(path).verdict
    assert verdict.origin == Origin.AI_GENERATED and verdict.generator == "Acme Imagine"
    # stamping twice replaces the fields instead of repeating them
    again, _ = stamp_bytes(out, StampOptions(generator="Other Model"))
    packet = read_container_xmp(again)
    assert packet.count(b"DigitalSourceType>") == 2 and b"Other Model" in packet and b"Acme Imagine" in packet
    assert packet.count(b"AISystemUsed>") == 2   # one element, open and close tag


def test_credentials_from_env(creds, tmp_path, monkeypatch):
    (tmp_path / "c.pem").write_bytes(creds.chain_pem)
    (tmp_path / "k.pem").write_bytes(creds.key_pem)
    monkeypatch.setenv("ARTLINEAGE_STAMP_CERT", str(tmp_path / "c.pem"))
    monkeypatch.setenv("ARTLINEAGE_STAMP_KEY", str(tmp_path / "k.pem"))
    _out, result = stamp_bytes(make_image("jpeg"), StampOptions(generator="Acme Imagine"))
    assert result.signed and result.test_certificate


def test_watermark_when_asked(creds):
    # a smooth picture (a photograph's statistics, unlike noise, keep the dwtDct change small)
    y, x = np.mgrid[0:288, 0:320]
    rgb = np.stack([x * 0.7, y * 0.8, (x + y) * 0.35], axis=-1).astype("uint8")
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a castle, Steps: 20, Seed: 1")
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG", pnginfo=info)
    data = buf.getvalue()
    out, result = stamp_bytes(data, StampOptions(generator="Acme Imagine", watermark=True, credentials=creds))
    assert result.watermarked and result.signed
    a, b = _decoded(data), _decoded(out)
    assert not np.array_equal(a[..., :3], b[..., :3]) and np.array_equal(a[..., 3], b[..., 3])
    mse = np.mean((a[..., :3].astype(float) - b[..., :3]) ** 2)
    assert 10 * np.log10(255 ** 2 / mse) > 35                        # invisible: PSNR above 35 dB
    found = [(name, acc) for name, acc in detect_known_watermarks(b[..., :3])
             if acc >= detection_threshold(len(KNOWN_WATERMARKS[name].bits))]
    assert found == [("artlineage", 1.0)]
    assert b"a castle, Steps: 20" in out                            # the PNG text chunk is kept


@pytest.mark.parametrize("data,message", [
    (b"plain text, not an image", "PNG, JPEG and WebP"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00", "truncated"),
    (b"\xff\xd8\xff\xe1\xff\xff", "past the end"),
])
def test_bad_input_is_a_clear_error(data, message):
    with pytest.raises(InputError, match=message):
        stamp_bytes(data, StampOptions(generator="Acme Imagine", sign=False))


def test_options_are_checked():
    with pytest.raises(InputError, match="generator"):
        StampOptions(generator=" ")
    with pytest.raises(InputError, match="training-mining"):
        StampOptions(generator="g", training_mining={"c2pa.ai_training": "maybe"})
    with pytest.raises(InputError, match="edited=True"):
        StampOptions(generator="g", ingredients=("a.png",))


def test_test_chain_says_not_trusted(tmp_path):
    from cryptography import x509

    files = make_test_chain(tmp_path)
    leaf, ca = x509.load_pem_x509_certificates(files.chain.read_bytes())
    assert "NOT TRUSTED" in leaf.subject.rfc4514_string() and "NOT TRUSTED" in ca.subject.rfc4514_string()
    assert (files.key.stat().st_mode & 0o777) == 0o600
    assert SigningCredentials.from_files(files.chain, files.key).alg == "es256"


def test_avif_gets_the_c2pa_manifest(creds, tmp_path):
    from PIL import features

    if not features.check("avif"):
        pytest.skip("Pillow built without AVIF")
    src = tmp_path / "a.avif"
    _pixels(size=(64, 64)).save(src)
    result = stamp_file(src, tmp_path / "b.avif", StampOptions(generator="Acme Imagine", credentials=creds))
    assert (result.container, result.xmp, result.signed) == ("avif", False, True)
    state, manifest, codes = _manifest(tmp_path / "b.avif")
    assert state == "Valid" and _assertion(manifest, "c2pa.actions")["actions"][0]["softwareAgent"]["name"] == \
        "Acme Imagine"
    assert inspect_file(tmp_path / "b.avif").verdict.origin == Origin.AI_GENERATED


def test_watermarked_jpeg_keeps_its_exif_and_xmp(creds):
    y, x = np.mgrid[0:288, 0:320]
    rgb = np.stack([x * 0.7, y * 0.8, (x + y) * 0.35], axis=-1).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=95, exif=_exif(), xmp=OLD_XMP)
    out, result = stamp_bytes(buf.getvalue(), StampOptions(generator="Acme Imagine", watermark=True, sign=False))
    assert result.watermarked
    packet = read_container_xmp(out)
    assert b"Jane Maker" in packet and b"trainedAlgorithmicMedia" in packet
    with Image.open(io.BytesIO(out)) as im:
        assert im.getexif()[0x013B] == EXIF_ARTIST
