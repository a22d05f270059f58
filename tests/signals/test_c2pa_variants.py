"""C2PA layouts seen in real files: Adobe's legacy AI assertion and parameters, third-party models
named by Firefly, and CAWG identity assertions whose own credential fails (claim still valid).

Every manifest here is really signed by c2pa-rs (through c2pa-python) and validated on reading;
the layouts follow real files (c2pa-rs' C_with_CAWG_data.jpg and ocsp.jpg, Adobe's Firefly output).
"""

from __future__ import annotations

import io

import pytest

from artlineage._inspect import inspect_bytes
from artlineage.signals._base import Implication
from artlineage.signals._source import open_source
from artlineage.signals.c2pa import parse_manifest_store_json, read_c2pa, read_c2pa_manifest

from ._c2pa_fixtures import (IPTC_DST, created_action, make_test_signer, manifest_with_actions, plain_image,
                             sign_image)

TRAINED = IPTC_DST + "trainedAlgorithmicMedia"


def _signed(manifest: dict) -> bytes:
    return sign_image(plain_image("JPEG"), "JPEG", manifest)


def _opened(manifest: dict) -> bytes:
    """Sign ``manifest`` whose c2pa.opened action refers to a parent ingredient ``ing1`` (unsigned JPEG)."""
    import c2pa

    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    out = io.BytesIO()
    with c2pa.Builder(manifest, context=context) as builder, make_test_signer().signer() as signer:
        builder.add_ingredient({"title": "source.jpg", "relationship": "parentOf", "label": "ing1"},
                               "image/jpeg", io.BytesIO(plain_image("JPEG", color=(1, 2, 3))))
        builder.sign(signer, "image/jpeg", io.BytesIO(plain_image("JPEG")), out)
    return out.getvalue()


def test_adobe_digital_source_type_parameter_of_an_opened_action():
    # Adobe's older manifests put the source type in the opened action's parameters.
    action = {"action": "c2pa.opened", "softwareAgent": "Adobe Firefly",
              "parameters": {"com.adobe.digitalSourceType": TRAINED, "ingredientIds": ["ing1"]}}
    data = _opened(manifest_with_actions(action, generator="Adobe_Illustrator/28.0"))
    claims = [e for e in read_c2pa(open_source(data=data)) if e.field.endswith("digitalSourceType")]
    assert [(e.field, e.implies, e.generator) for e in claims] == [
        ("parameters.com.adobe.digitalSourceType", Implication.AI_GENERATED, "Adobe Firefly")]
    report = inspect_bytes(data)
    assert report.verdict.origin.value == "ai_generated" and report.verdict.generator == "Adobe Firefly"


def test_third_party_model_named_in_firefly_parameters_is_the_generator():
    action = {"action": "c2pa.created", "digitalSourceType": TRAINED,
              "softwareAgent": {"name": "Adobe Firefly", "version": "4.1"},
              "parameters": {"com.adobe.model": "Gemini 2.5 Flash Image (Nano Banana)"}}
    data = _signed(manifest_with_actions(action, generator="Adobe_Firefly"))
    claim = next(e for e in read_c2pa(open_source(data=data)) if e.field == "digitalSourceType")
    assert claim.generator == "Google Gemini"
    assert claim.data["models"] == ["Gemini 2.5 Flash Image (Nano Banana)"]
    assert "by Adobe Firefly/4.1" in claim.note and "Gemini 2.5" in claim.note


def test_legacy_com_adobe_generative_ai_assertion_on_an_opened_file_is_ai_edited():
    # Photoshop's early generative fill: the only AI claim is Adobe's own assertion.
    legacy = {"label": "com.adobe.generative-ai",
              "data": {"description": "Adobe Firefly", "version": "0.1", "prompt": "a lighthouse at dusk"}}
    opened = {"action": "c2pa.opened", "parameters": {"ingredientIds": ["ing1"]}}
    data = _opened(manifest_with_actions(opened, generator="Adobe_Photoshop/24.6", extra_assertions=[legacy]))
    evidence = [e for e in read_c2pa(open_source(data=data)) if e.field == "com.adobe.generative-ai"]
    assert len(evidence) == 1
    assert (evidence[0].implies, evidence[0].generator, evidence[0].value) == (
        Implication.AI_EDITED, "Adobe Firefly", "Adobe Firefly 0.1")
    assert evidence[0].data["prompt"] == "a lighthouse at dusk"
    verdict = inspect_bytes(data).verdict
    assert (verdict.origin.value, verdict.generator) == ("ai_edited", "Adobe Firefly")


def test_legacy_generative_ai_assertion_without_a_parent_is_ai_generated():
    store = """{"active_manifest": "m", "validation_state": "Valid",
      "manifests": {"m": {"claim_generator": "Adobe_Firefly c2pa-rs/0.16.0",
        "assertions": [{"label": "com.adobe.generative-ai", "data": {"description": "Adobe Firefly", "version": "1.0"}}]}},
      "validation_results": {"activeManifest": {"failure": [{"code": "signingCredential.untrusted"}]}}}"""
    from artlineage.signals.c2pa import manifest_evidence

    [claim] = [e for e in manifest_evidence(parse_manifest_store_json(store)) if e.field == "com.adobe.generative-ai"]
    assert (claim.implies, claim.generator, claim.strength) == (Implication.AI_GENERATED, "Adobe Firefly", 0.8)


def test_cawg_identity_failure_keeps_the_claim_and_marks_the_identity():
    # A cawg.identity assertion whose signature does not verify: c2pa-rs reports cawg.* codes for it
    # and still calls the manifest Valid; the claim keeps its (untrusted-signer) strength.
    identity = {"label": "cawg.identity", "data": {
        "signer_payload": {"referenced_assertions": [], "sig_type": "cawg.x509.cose"}, "signature": "00", "pad1": ""}}
    data = _signed(manifest_with_actions(created_action("trainedAlgorithmicMedia"), extra_assertions=[identity]))
    manifest = read_c2pa_manifest(open_source(data=data))
    assert manifest.validation_state == "Valid"
    assert manifest.identity_failure_codes and all(c.startswith("cawg.") for c in manifest.identity_failure_codes)
    assert manifest.claim_failure_codes == ["signingCredential.untrusted"]
    assert manifest.trust == "untrusted_signer"
    evidence = list(read_c2pa(open_source(data=data)))
    claim = next(e for e in evidence if e.field == "digitalSourceType")
    assert (claim.implies, claim.strength) == (Implication.AI_GENERATED, 0.8)
    marker = next(e for e in evidence if e.field == "cawg.identity")
    assert marker.implies is Implication.INFO and marker.data["identity_trust"] == "invalid"
    assert marker.data["identity_failure_codes"] == manifest.identity_failure_codes


def test_cawg_untrusted_credential_layout_of_c2pa_rs_fixture():
    # The JSON c2pa-rs gives for its C_with_CAWG_data.jpg (trimmed): the only failures are the two
    # untrusted-signer codes, one for the claim and one for the identity assertion's X.509 credential.
    store = """{"active_manifest": "urn:c2pa:822f", "validation_state": "Valid",
      "manifests": {"urn:c2pa:822f": {"claim_generator_info": [{"name": "c2pa cawg test", "version": "0.58.0"}],
        "assertions": [
          {"label": "c2pa.actions.v2", "data": {"actions": [{"action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}},
          {"label": "cawg.training-mining", "data": {"entries": {"cawg.ai_generative_training": {"use": "notAllowed"}}}},
          {"label": "cawg.identity", "data": {"signer_payload": {"sig_type": "cawg.x509.cose"},
            "signature_info": {"alg": "Ed25519", "issuer": "C2PA Test Signing Cert", "common_name": "C2PA Signer"}}}]}},
      "validation_results": {"activeManifest": {"failure": [
        {"code": "signingCredential.untrusted", "explanation": "signing certificate untrusted"},
        {"code": "cawg.x509.credential.untrusted", "url": "self#jumbf=c2pa.assertions/cawg.identity"}]}}}"""
    manifest = parse_manifest_store_json(store)
    assert manifest.trust == "untrusted_signer"
    from artlineage.signals.c2pa import manifest_evidence

    evidence = manifest_evidence(manifest, "JPEG APP11 JUMBF")
    assert {(e.field, e.implies) for e in evidence} >= {
        ("digitalSourceType", Implication.CAMERA), ("cawg.ai_generative_training", Implication.CONSENT_RESERVED)}
    marker = next(e for e in evidence if e.field == "cawg.identity")
    assert (marker.value, marker.data["identity_trust"]) == ("C2PA Signer", "untrusted")


def test_a_real_claim_failure_still_makes_the_manifest_invalid_whatever_cawg_says():
    store = """{"active_manifest": "m", "validation_state": "Invalid", "manifests": {"m": {"assertions": []}},
      "validation_results": {"activeManifest": {"failure": [{"code": "claimSignature.mismatch"},
        {"code": "cawg.x509.credential.untrusted"}]}}}"""
    assert parse_manifest_store_json(store).trust == "invalid"


@pytest.mark.parametrize("generator, agent, expected", [
    ("ChatGPT", {"name": "GPT-4o"}, "OpenAI"),          # ChatGPT image generation
    ("OpenAI-API", {"name": "gpt-image-1"}, "OpenAI"),  # the Images API
    ("Microsoft Responsible AI Image Provenance", "Bing Image Creator", "Bing Image Creator"),
    ("Microsoft Responsible AI Image Provenance", None, "Microsoft Designer"),
])
def test_openai_and_microsoft_manifests_name_their_generator(generator, agent, expected):
    action = {"action": "c2pa.created", "digitalSourceType": TRAINED}
    if agent is not None:
        action["softwareAgent"] = agent
    data = _signed(manifest_with_actions(action, {"action": "c2pa.converted"}, generator=generator))
    claim = next(e for e in read_c2pa(open_source(data=data)) if e.field == "digitalSourceType")
    assert (claim.implies, claim.generator) == (Implication.AI_GENERATED, expected)


def test_c2pa_claim_signing_eku_is_accepted():
    # OpenAI's certificates (c2pa-rs' built-in EKU list lacks c2pa-kp-claimSigning) read as
    # "signingCredential.invalid: certificate missing required EKU" without the C2PA profile's list.
    from ._c2pa_fixtures import C2PA_CLAIM_SIGNING_EKU

    signer = make_test_signer(C2PA_CLAIM_SIGNING_EKU)
    data = sign_image(plain_image("PNG"), "PNG", manifest_with_actions(
        {"action": "c2pa.created", "digitalSourceType": TRAINED, "softwareAgent": {"name": "gpt-image", "version": "2.0"}},
        {"action": "c2pa.converted"}, generator="OpenAI Media Service API"), signer=signer)
    manifest = read_c2pa_manifest(open_source(data=data))
    assert (manifest.validation_state, manifest.failure_codes) == ("Valid", ["signingCredential.untrusted"])
    verdict = inspect_bytes(data).verdict
    assert (verdict.origin.value, verdict.generator) == ("ai_generated", "OpenAI")


def test_gemini_layout_ai_edits_of_an_ai_created_parent_stay_generated():
    # enslo/sd-metadata's gemini_3.1pro.png: the parent (Google's library) was created with
    # trainedAlgorithmicMedia and AI-edited; the file opens it and adds a visible watermark (composite).
    store = """{"active_manifest": "m", "validation_state": "Valid",
      "manifests": {
        "m": {"claim_generator_info": [{"name": "Google C2PA Core Generator Library", "version": "925321024"}],
              "ingredients": [{"relationship": "parentOf", "active_manifest": "p"}],
              "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [
                  {"action": "c2pa.opened"},
                  {"action": "c2pa.edited", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/composite",
                   "description": "Added visible watermark"}, {"action": "c2pa.converted"}]}}]},
        "p": {"claim_generator_info": [{"name": "Google C2PA Core Generator Library"}],
              "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [
                  {"action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"},
                  {"action": "c2pa.edited", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}]}},
      "validation_results": {"activeManifest": {"failure": [{"code": "signingCredential.untrusted"}]}}}"""
    from artlineage.signals.c2pa import manifest_evidence
    from artlineage.verdicts.provenance import decide_provenance

    evidence = manifest_evidence(parse_manifest_store_json(store))
    ai = [e for e in evidence if e.implies in (Implication.AI_GENERATED, Implication.AI_EDITED)]
    assert {(e.implies, e.generator) for e in ai} == {(Implication.AI_GENERATED, "Google AI")}
    verdict = decide_provenance(evidence)
    assert (verdict.origin.value, verdict.generator) == ("ai_generated", "Google AI")


def test_google_library_alone_names_no_ai():
    store = """{"active_manifest": "m", "validation_state": "Valid",
      "manifests": {"m": {"claim_generator_info": [{"name": "Google C2PA Core Generator Library"}],
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [{"action": "c2pa.created",
          "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}]}},
      "validation_results": {"activeManifest": {"failure": [{"code": "signingCredential.untrusted"}]}}}"""
    from artlineage.signals.c2pa import manifest_evidence

    evidence = manifest_evidence(parse_manifest_store_json(store))
    assert [e.generator for e in evidence] == [None, None]  # a Pixel photo: camera, no AI named
    assert evidence[1].implies is Implication.CAMERA


def test_remote_manifest_is_reported_not_fetched(monkeypatch):
    # c2pa-rs' cloud.jpg: the store is remote; c2pa-rs raises RemoteManifest (fetching is off).
    import c2pa

    from artlineage.signals import c2pa as reader

    def remote(*args, **kwargs):
        raise c2pa.C2paError.RemoteManifest("RemoteManifest: must fetch remote manifest")

    data = _signed(manifest_with_actions(created_action("trainedAlgorithmicMedia")))
    monkeypatch.setattr(reader.c2pa_lib.Reader, "try_create", remote)
    [evidence] = read_c2pa(open_source(data=data))
    assert (evidence.field, evidence.implies) == ("remote_manifest", Implication.INFO)
    assert "not fetched" in evidence.note
