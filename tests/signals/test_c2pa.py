"""C2PA reader: every fixture is signed here with a throwaway CA chain (see _c2pa_fixtures)."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from artlineage._inspect import inspect_bytes, inspect_file, run_readers
from artlineage.signals import c2pa as c2pa_reader
from artlineage.signals._ai_tools import match_ai_tool
from artlineage.signals._base import Implication, SignalError
from artlineage.signals._registry import get_readers
from artlineage.signals._source import open_source
from artlineage.signals.c2pa import (
    C2paManifest,
    has_c2pa,
    parse_manifest_store_json,
    read_c2pa,
    read_c2pa_manifest,
    set_trust_anchors,
    source_type_claim,
    source_type_implication,
)
from artlineage.verdicts.provenance import Origin

from ._c2pa_fixtures import (
    IPTC_DST,
    created_action,
    make_test_signer,
    manifest_with_actions,
    plain_image,
    sign_image,
    training_mining,
)


def _signed(fmt: str, *actions, **kw) -> bytes:
    return sign_image(plain_image(fmt), fmt, manifest_with_actions(*actions, **kw))


def _c2pa_evidence(report, implies=None):
    return [e for e in report.evidence if e.reader == "c2pa" and (implies is None or e.implies is implies)]


def _tamper_pixels(jpeg: bytes) -> bytes:
    """Flip bytes inside the JPEG entropy-coded data, after the C2PA segment."""
    data = bytearray(jpeg)
    scan = data.rfind(b"\xff\xda")
    for offset in (20, 21, 22):
        data[scan + offset] ^= 0x5A
    return bytes(data)


# ----- origin from signed digitalSourceType ---------------------------------------------

def test_signed_jpeg_trained_algorithmic_media_is_ai_generated(tmp_path):
    path = tmp_path / "firefly.jpg"
    path.write_bytes(_signed("JPEG", created_action("trainedAlgorithmicMedia"), generator="Adobe Firefly"))

    report = inspect_file(path, readers=["c2pa"])

    assert report.origin is Origin.AI_GENERATED
    assert report.verdict.generator == "Adobe Firefly"
    [claim] = _c2pa_evidence(report, Implication.AI_GENERATED)
    assert claim.value == IPTC_DST + "trainedAlgorithmicMedia"
    assert claim.location.startswith("JPEG APP11 JUMBF")
    # The test CA is on no trust list: intact manifest, reduced strength, and the note says why.
    assert claim.strength == pytest.approx(0.8)
    assert "not on a configured trust list" in claim.note
    assert claim.data["trust"] == "untrusted_signer"
    assert claim.data["action"]["action"] == "c2pa.created"
    [info] = _c2pa_evidence(report, Implication.INFO)
    assert info.field == "claim_generator" and "Adobe Firefly" in info.value
    assert report.warnings == []


def test_signed_png_trained_algorithmic_media_is_ai_generated():
    report = inspect_bytes(_signed("PNG", created_action("trainedAlgorithmicMedia")), readers=["c2pa"])

    assert report.origin is Origin.AI_GENERATED
    [claim] = _c2pa_evidence(report, Implication.AI_GENERATED)
    assert claim.location.startswith("PNG caBX")


def test_signer_on_the_trust_list_gives_full_strength():
    data = _signed("JPEG", created_action("trainedAlgorithmicMedia"))
    set_trust_anchors(make_test_signer().ca_pem)
    try:
        report = inspect_bytes(data, readers=["c2pa"])
    finally:
        set_trust_anchors(None)

    [claim] = _c2pa_evidence(report, Implication.AI_GENERATED)
    assert claim.strength == pytest.approx(0.97)
    assert claim.data["validation_state"] == "Trusted"
    assert report.verdict.origin is Origin.AI_GENERATED
    assert report.verdict.confidence == pytest.approx(0.97)  # the trusted claim's strength decides
    assert report.verdict.scores == {"ai_generated": pytest.approx(0.97)}


def test_webp_manifest_is_found_by_the_byte_search():
    report = inspect_bytes(_signed("WEBP", created_action("trainedAlgorithmicMedia")), readers=["c2pa"])

    assert report.origin is Origin.AI_GENERATED
    assert _c2pa_evidence(report, Implication.AI_GENERATED)[0].location.startswith("WEBP JUMBF")


def test_digital_capture_is_camera():
    report = inspect_bytes(_signed("JPEG", created_action("digitalCapture")), readers=["c2pa"])

    assert report.origin is Origin.CAMERA
    assert _c2pa_evidence(report, Implication.CAMERA)


def test_composite_with_trained_media_is_ai_edited():
    report = inspect_bytes(_signed("JPEG", created_action("compositeWithTrainedAlgorithmicMedia")),
                           readers=["c2pa"])

    assert report.origin is Origin.AI_EDITED


def test_ai_content_added_by_an_edit_makes_a_photo_ai_edited():
    edit = {"action": "c2pa.edited", "digitalSourceType": IPTC_DST + "trainedAlgorithmicMedia",
            "softwareAgent": {"name": "Adobe Firefly", "version": "3"}}
    report = inspect_bytes(_signed("JPEG", created_action("digitalCapture"), edit), readers=["c2pa"])

    assert report.origin is Origin.AI_EDITED
    [edited] = _c2pa_evidence(report, Implication.AI_EDITED)
    assert edited.generator == "Adobe Firefly"
    assert edited.data["software_agent"] == "Adobe Firefly/3"


# ----- training and data mining ---------------------------------------------------------

@pytest.mark.parametrize("label", ["c2pa.training-mining", "cawg.training-mining"])
def test_training_mining_not_allowed_is_consent_reserved(label):
    prefix = label.split(".")[0]
    data = _signed("PNG", created_action("digitalCreation"),
                   extra_assertions=[training_mining(label, ai_training="notAllowed",
                                                     ai_inference="allowed")])
    report = inspect_bytes(data, readers=["c2pa"])

    [reserved] = _c2pa_evidence(report, Implication.CONSENT_RESERVED)
    assert reserved.field == f"{prefix}.ai_training"
    assert reserved.data["use"] == "notAllowed"
    assert reserved.data["purpose"] == "ai_training"
    [allowed] = _c2pa_evidence(report, Implication.CONSENT_ALLOWED)
    assert allowed.field == f"{prefix}.ai_inference" and allowed.data["use"] == "allowed"
    assert report.origin is Origin.HUMAN_DECLARED


# ----- failed validation ----------------------------------------------------------------

def test_tampered_pixels_make_the_manifest_untrusted():
    signed = _signed("JPEG", created_action("trainedAlgorithmicMedia"), generator="Adobe Firefly",
                     extra_assertions=[training_mining(ai_training="notAllowed")])
    report = inspect_bytes(_tamper_pixels(signed), readers=["c2pa"])

    assert report.origin is not Origin.AI_GENERATED
    evidence = _c2pa_evidence(report)
    assert evidence and all(e.implies is Implication.UNTRUSTED for e in evidence)
    summary = next(e for e in evidence if e.field == "validation_state")
    assert "assertion.dataHash.mismatch" in summary.data["failure_codes"]
    assert "assertion.dataHash.mismatch" in summary.note and "assertion.dataHash.mismatch" in summary.value
    assert summary.data["claimed"]["actions"][0]["digitalSourceType"].endswith("trainedAlgorithmicMedia")
    claimed = next(e for e in evidence if e.field == "digitalSourceType")
    assert claimed.data["claimed_implication"] == "ai_generated"
    assert "untrusted" in report.verdict.explanation
    assert "assertion.dataHash.mismatch" in report.verdict.explanation


def test_tampered_claim_breaks_the_signature():
    signed = bytearray(_signed("JPEG", created_action("digitalCapture"), generator="Honest Camera"))
    at = signed.find(b"Honest Camera")
    signed[at:at + 6] = b"Forged"

    manifest = read_c2pa_manifest(bytes(signed), "image/jpeg")

    assert manifest.trust == "invalid"
    assert "claimSignature.mismatch" in manifest.failure_codes
    report = inspect_bytes(bytes(signed), readers=["c2pa"])
    assert report.origin is Origin.UNKNOWN
    assert not _c2pa_evidence(report, Implication.CAMERA)


def test_corrupt_jumbf_is_a_clear_signal_error():
    signed = bytearray(_signed("JPEG", created_action("trainedAlgorithmicMedia")))
    at = signed.find(b"jumb")
    signed[at + 8:at + 400] = b"\xff" * 392

    with pytest.raises(SignalError, match="C2PA"):
        list(read_c2pa(open_source(data=bytes(signed))))
    report = inspect_bytes(bytes(signed), readers=["c2pa"])
    assert report.origin is Origin.UNKNOWN
    assert any(w.startswith("c2pa:") and "C2PA" in w for w in report.warnings)


# ----- files without C2PA ---------------------------------------------------------------

def test_plain_jpeg_never_reaches_the_native_library(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("c2pa.Reader called on a file without C2PA")

    monkeypatch.setattr(c2pa_reader.c2pa_lib.Reader, "try_create", refuse)
    source = open_source(data=plain_image("JPEG"))

    assert has_c2pa(source) is False
    evidence, problems = run_readers(source, get_readers(["c2pa"]))
    assert evidence == [] and problems == []


def test_marker_bytes_in_a_gif_comment_are_not_a_manifest():
    buf = io.BytesIO()
    Image.new("P", (8, 8)).save(buf, "GIF", comment=b"jumb c2pa lookalike")
    source = open_source(data=buf.getvalue())

    assert has_c2pa(source)  # the byte search cannot tell; c2pa-rs then finds no store
    assert list(read_c2pa(source)) == []


# ----- the manifest dataclass -----------------------------------------------------------

def test_read_c2pa_manifest_exposes_the_active_manifest():
    data = _signed("JPEG", created_action("trainedAlgorithmicMedia"), generator="DALL-E", title="robot.jpg",
                   extra_assertions=[training_mining(ai_generative_training="constrained")])

    manifest = read_c2pa_manifest(data, "image/jpeg")

    assert isinstance(manifest, C2paManifest)
    assert manifest.active_label.startswith("urn:c2pa:")
    assert manifest.title == "robot.jpg"
    assert any(g.startswith("DALL-E/1.0") for g in manifest.claim_generators)
    assert manifest.validation_state == "Valid"
    assert manifest.failure_codes == ["signingCredential.untrusted"]
    assert manifest.actions[0]["digitalSourceType"].endswith("trainedAlgorithmicMedia")
    assert {"c2pa.actions.v2", "c2pa.training-mining"} <= set(manifest.assertions)
    assert manifest.training_mining == [{"assertion": "c2pa.training-mining",
                                         "entry": "c2pa.ai_generative_training", "use": "constrained",
                                         "constraint_info": None}]
    assert manifest.signature["common_name"] == "artlineage test signer"
    assert json.dumps(manifest.to_dict())  # serialisable for reports
    assert read_c2pa_manifest(plain_image("PNG"), "image/png") is None


@pytest.mark.parametrize("source_type, action, implies", [
    (IPTC_DST + "trainedAlgorithmicMedia", "c2pa.created", Implication.AI_GENERATED),
    ("https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia", "c2pa.created",
     Implication.AI_GENERATED),
    ("trainedAlgorithmicMedia", "c2pa.created", Implication.AI_GENERATED),
    ("http://c2pa.org/digitalsourcetype/trainedAlgorithmicData", "c2pa.created", Implication.AI_GENERATED),
    ("compositeWithTrainedAlgorithmicMedia", "c2pa.created", Implication.AI_EDITED),
    ("algorithmicMedia", "c2pa.created", Implication.ALGORITHMIC),
    # Shared vocabulary's deliberate mapping (see _iptc_vocab): AI-edited, at reduced certainty.
    ("compositeSynthetic", "c2pa.created", Implication.AI_EDITED),
    ("dataDrivenMedia", "c2pa.created", Implication.ALGORITHMIC),
    ("digitalCapture", "c2pa.created", Implication.CAMERA),
    ("computationalCapture", "c2pa.created", Implication.CAMERA),
    ("negativeFilm", "c2pa.created", Implication.CAMERA),
    ("compositeCapture", "c2pa.created", Implication.CAMERA),
    ("digitalCreation", "c2pa.created", Implication.HUMAN_DECLARED),
    ("digitalArt", "c2pa.created", Implication.HUMAN_DECLARED),
    ("minorHumanEdits", "c2pa.created", Implication.HUMAN_DECLARED),
    ("screenCapture", "c2pa.created", Implication.INFO),
    ("algorithmicallyEnhanced", "c2pa.created", Implication.INFO),
    ("somethingNew", "c2pa.created", Implication.INFO),
    # On other actions the source type describes the added content only.
    ("trainedAlgorithmicMedia", "c2pa.placed", Implication.AI_EDITED),
    ("humanEdits", "c2pa.edited", Implication.INFO),
    ("digitalCapture", "c2pa.placed", Implication.INFO),
])
def test_source_type_vocabulary(source_type, action, implies):
    assert source_type_implication(source_type, action) is implies


@pytest.mark.parametrize("text, tool", [
    ("Adobe_Firefly/0.1 c2pa-rs/0.25", "Adobe Firefly"),
    ("ChatGPT/1.0", "OpenAI"),
    ("Bing Image Creator", "Bing Image Creator"),
    ("Google Imagen 3", "Google Imagen"),
    ("stable-diffusion-webui", "AUTOMATIC1111"),  # A1111's own name, as the EXIF/XMP readers say
    ("stable diffusion 3", "Stable Diffusion"),
    ("Midjourney v6", "Midjourney"),
    ("Adobe Photoshop 25.0", None),
    ("Google Pixel Camera", None),
])
def test_known_ai_tools(text, tool):
    assert match_ai_tool(text) == tool


def test_ambiguous_source_type_claims_at_reduced_certainty():
    assert source_type_claim("trainedAlgorithmicMedia") == (Implication.AI_GENERATED, 1.0)
    implies, certainty = source_type_claim(IPTC_DST + "compositeSynthetic", "c2pa.created")
    # the term's strength 0.7 over the declared strength 0.9 of the unambiguous terms
    assert implies is Implication.AI_EDITED and certainty == pytest.approx(0.7 / 0.9)
    assert source_type_claim("somethingNew") == (Implication.INFO, 1.0)


@pytest.mark.parametrize("raw, message", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply|malformed"),
    ("x" * (c2pa_reader.MAX_MANIFEST_JSON + 1), "limit"),
    ("[1]", "not an object"),
    ('{"active_manifest": "a", "manifests": {}}', "no readable active manifest"),
])
def test_hostile_manifest_json_is_refused(raw, message):
    with pytest.raises(SignalError, match=message):
        parse_manifest_store_json(raw)


# ----- ingredients ----------------------------------------------------------------------

def _edit_of(parent: bytes, relationship: str) -> bytes:
    import c2pa

    manifest = manifest_with_actions({"action": "c2pa.opened" if relationship == "parentOf" else "c2pa.placed",
                                      "parameters": {"ingredientIds": ["ing1"]}},
                                     {"action": "c2pa.edited"}, generator="Adobe Photoshop")
    if relationship == "componentOf":
        manifest["assertions"][0]["data"]["actions"].insert(0, created_action("digitalCreation"))
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    out = io.BytesIO()
    with c2pa.Builder(manifest, context=context) as builder, make_test_signer().signer() as signer:
        builder.add_ingredient({"title": "source.jpg", "relationship": relationship, "label": "ing1"},
                               "image/jpeg", io.BytesIO(parent))
        builder.sign(signer, "image/jpeg", io.BytesIO(plain_image("JPEG", color=(9, 9, 9))), out)
    return out.getvalue()


def test_edit_of_an_ai_generated_parent_keeps_the_parents_claim():
    parent = _signed("JPEG", created_action("trainedAlgorithmicMedia"), generator="Adobe Firefly")
    report = inspect_bytes(_edit_of(parent, "parentOf"), readers=["c2pa"])

    assert report.origin is Origin.AI_GENERATED
    [claim] = _c2pa_evidence(report, Implication.AI_GENERATED)
    assert claim.field == "ingredient.digitalSourceType"
    assert claim.generator == "Adobe Firefly"
    assert claim.strength == pytest.approx(0.8 * 0.95)


def test_ai_component_placed_into_a_human_creation_is_ai_edited():
    component = _signed("JPEG", created_action("trainedAlgorithmicMedia"))
    report = inspect_bytes(_edit_of(component, "componentOf"), readers=["c2pa"])

    assert report.origin is Origin.AI_EDITED
    assert _c2pa_evidence(report, Implication.AI_EDITED)[0].field == "ingredient.digitalSourceType"


def test_edit_of_a_captured_parent_stays_a_capture():
    # c2pa-rs' CA.jpg chain: a parent's own source type carries through an opened-and-adjusted edit.
    parent = _signed("JPEG", created_action("digitalCapture"), generator="Camera App")
    report = inspect_bytes(_edit_of(parent, "parentOf"), readers=["c2pa"])
    assert report.origin is Origin.CAMERA
    [claim] = [e for e in report.evidence if e.implies is Implication.CAMERA]
    assert (claim.field, claim.generator) == ("ingredient.digitalSourceType", None)
    assert claim.strength == pytest.approx(0.8 * 0.95)
