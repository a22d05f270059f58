"""XMP reader: IPTC digital source type over every container, AI fields, consent, hostile XML."""

from __future__ import annotations


import pytest

from artlineage._inspect import inspect_bytes
from artlineage.signals._base import Implication, SignalError
from artlineage.signals._iptc_vocab import (DATA_MINING_TERMS, DIGITAL_SOURCE_TYPES, lookup_data_mining,
                                            lookup_digital_source_type)
from artlineage.signals._source import open_source
from artlineage.signals.xmp import (consent_uses_in_text, parse_midjourney_description, parse_xmp, read_xmp,
                                    read_xmp_properties)
from artlineage.verdicts.provenance import _ORIGIN_OF, Origin

from ._xmp_fixtures import (DST_BASE, XMP_FORMATS, billion_laughs_packet, data_mining_packet,
                            digital_source_type_packet, embed_xmp, xmp_alt, xmp_packet, xmp_seq, xmp_text)

EXPECTED = {
    "trainedAlgorithmicMedia": Implication.AI_GENERATED,
    "compositeWithTrainedAlgorithmicMedia": Implication.AI_EDITED,
    "compositeSynthetic": Implication.AI_EDITED,
    "algorithmicMedia": Implication.ALGORITHMIC,
    "dataDrivenMedia": Implication.ALGORITHMIC,
    "digitalCapture": Implication.CAMERA,
    "computationalCapture": Implication.CAMERA,
    "negativeFilm": Implication.CAMERA,
    "positiveFilm": Implication.CAMERA,
    "print": Implication.CAMERA,
    "compositeCapture": Implication.CAMERA,
    "humanEdits": Implication.HUMAN_DECLARED,
    "minorHumanEdits": Implication.HUMAN_DECLARED,
    "digitalCreation": Implication.HUMAN_DECLARED,
    "digitalArt": Implication.HUMAN_DECLARED,
    "algorithmicallyEnhanced": Implication.INFO,
    "screenCapture": Implication.INFO,
    "virtualRecording": Implication.INFO,
    "composite": Implication.INFO,
    "softwareImage": Implication.INFO,
}


def _xmp_evidence(report):
    return [e for e in report.evidence if e.reader == "xmp"]


def test_vocabulary_covers_every_term_and_maps_deliberately():
    assert set(DIGITAL_SOURCE_TYPES) == set(EXPECTED)
    for code, implies in EXPECTED.items():
        term = DIGITAL_SOURCE_TYPES[code]
        assert term.implies is implies, code
        assert term.description
        assert (term.strength > 0) == (implies is not Implication.INFO), code


@pytest.mark.parametrize("value", [
    DST_BASE + "trainedAlgorithmicMedia", "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    "trainedAlgorithmicMedia", "TRAINEDALGORITHMICMEDIA", "digsrctype:trainedAlgorithmicMedia",
    "https://schema.org/TrainedAlgorithmicMediaDigitalSource", f" {DST_BASE}trainedAlgorithmicMedia/ ",
])
def test_digital_source_type_lookup_accepts_uri_qcode_and_bare_code(value):
    assert lookup_digital_source_type(value).code == "trainedAlgorithmicMedia"


def test_unknown_digital_source_type_is_none():
    assert lookup_digital_source_type("http://example.com/madeUp") is None


@pytest.mark.parametrize("fmt", XMP_FORMATS)
@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_each_digital_source_type_in_each_container(fmt, code):
    report = inspect_bytes(embed_xmp(digital_source_type_packet(code), fmt), readers=["xmp"])
    assert report.error is None and report.format == fmt
    [ev] = [e for e in _xmp_evidence(report) if e.field == "Iptc4xmpExt:DigitalSourceType"]
    assert ev.implies is EXPECTED[code]
    assert ev.data["digital_source_type"] == code
    assert ev.value == DST_BASE + code
    assert report.origin is _ORIGIN_OF.get(EXPECTED[code], Origin.UNKNOWN)
    if EXPECTED[code] is not Implication.INFO:
        assert ev.strength >= 0.7


@pytest.mark.parametrize("form", ["attribute", "element", "resource"])
@pytest.mark.parametrize("full_uri", [True, False])
def test_attribute_element_and_resource_forms(form, full_uri):
    packet = digital_source_type_packet("trainedAlgorithmicMedia", form=form, full_uri=full_uri)
    report = inspect_bytes(embed_xmp(packet, "JPEG"), readers=["xmp"])
    assert report.origin is Origin.AI_GENERATED
    assert report.verdict.confidence >= 0.85


def test_compressed_png_itxt_packet_is_read():
    from ._xmp_fixtures import png_with_xmp
    data = png_with_xmp(digital_source_type_packet("compositeWithTrainedAlgorithmicMedia"), compressed=True)
    assert inspect_bytes(data, readers=["xmp"]).origin is Origin.AI_EDITED


def test_billion_laughs_is_a_prompt_warning_not_a_hang():
    data = embed_xmp(billion_laughs_packet(), "PNG")
    report = inspect_bytes(data)  # its time: benchmarks/bench_hostile_inputs.py
    assert report.error is None
    assert any(w.startswith("xmp:") and "hostile XMP" in w for w in report.warnings), report.warnings


def test_billion_laughs_in_jpeg_raises_signal_error_fast():
    source = open_source(data=embed_xmp(billion_laughs_packet(12), "JPEG"))
    with pytest.raises(SignalError, match="DTD"):
        list(read_xmp(source))


def test_external_entity_packet_is_refused():
    packet = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
              b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&e;</x:xmpmeta>')
    with pytest.raises(SignalError, match="hostile"):
        parse_xmp(packet)


@pytest.mark.parametrize("packet", [b"<x:xmpmeta><rdf:RDF", b"not xml at all", b"<a><b></a>", b"\x00\x00"])
def test_malformed_packet_is_a_warning(packet):
    report = inspect_bytes(embed_xmp(packet, "JPEG"))
    assert report.error is None
    assert any(w.startswith("xmp:") for w in report.warnings), report.warnings
    assert report.origin is Origin.UNKNOWN


def test_oversized_packet_is_refused():
    with pytest.raises(SignalError, match="limit"):
        parse_xmp(b"<a/>" + b" " * 100, max_bytes=50)


def test_deeply_nested_packet_is_refused_not_a_crash():
    depth = 5000
    inner = "<rdf:Description>" * depth + "</rdf:Description>" * depth
    packet = xmp_packet(elements=f"<dc:title>{inner}</dc:title>")
    report = inspect_bytes(embed_xmp(packet, "PNG"), readers=["xmp"])
    assert report.error is None
    assert any("nested" in w for w in report.warnings), report.warnings


def test_one_bad_packet_keeps_the_other_packets_evidence():
    good = digital_source_type_packet("trainedAlgorithmicMedia")
    source = open_source(data=embed_xmp(good, "PNG"))
    source.xmp_packets.append(("PNG iTXt 'XML:com.adobe.xmp' #2", b"<broken"))
    evidence = list(read_xmp(source))
    assert any(e.implies is Implication.AI_GENERATED for e in evidence)
    assert any("unreadable XMP packet" in e.note for e in evidence)


# ----- creator, rights, creator tool, AI fields -------------------------------------------------

def test_creator_rights_and_plain_creator_tool_are_info():
    packet = xmp_packet({"xmp:CreatorTool": "Adobe Photoshop 25.0 (Windows)",
                         "xmpRights:WebStatement": "https://example.com/licence"},
                        [xmp_seq("dc:creator", ["Ada Lovelace", "Studio X"]),
                         xmp_alt("dc:rights", "© 2024 Ada Lovelace. All rights reserved."),
                         xmp_alt("xmpRights:UsageTerms", "Editorial use only")])
    report = inspect_bytes(embed_xmp(packet, "JPEG"), readers=["xmp"])
    by_field = {e.field: e for e in _xmp_evidence(report)}
    assert by_field["dc:creator"].data["creators"] == ["Ada Lovelace", "Studio X"]
    assert by_field["dc:rights"].value.startswith("© 2024 Ada Lovelace")
    assert by_field["xmpRights:UsageTerms"].value == "Editorial use only"
    assert by_field["xmpRights:WebStatement"].value == "https://example.com/licence"
    assert by_field["xmp:CreatorTool"].implies is Implication.INFO
    assert all(e.implies is Implication.INFO for e in _xmp_evidence(report))
    assert report.origin is Origin.UNKNOWN


@pytest.mark.parametrize("tool, generator", [
    ("Midjourney", "Midjourney"), ("DALL·E 3", "DALL-E"), ("Adobe Firefly Image 3", "Adobe Firefly"),
    ("Stable Diffusion XL", "Stable Diffusion"), ("NovelAI", "NovelAI"), ("ComfyUI", "ComfyUI"),
])
def test_ai_creator_tool_implies_ai_generated(tool, generator):
    report = inspect_bytes(embed_xmp(xmp_packet({"xmp:CreatorTool": tool}), "WEBP"), readers=["xmp"])
    [ev] = [e for e in _xmp_evidence(report) if e.field == "xmp:CreatorTool"]
    assert ev.implies is Implication.AI_GENERATED and ev.generator == generator
    assert ev.strength == 0.8  # strengths table: xmp_ai_creator_tool
    assert report.origin is Origin.AI_GENERATED and report.verdict.generator == generator


def test_iptc_ai_fields_give_generation_data():
    packet = xmp_packet({"Iptc4xmpExt:AISystemUsed": "Stable Diffusion XL",
                         "Iptc4xmpExt:AISystemVersionUsed": "1.0"},
                        [xmp_text("Iptc4xmpExt:AIPromptInformation", "a lighthouse at dusk, oil painting"),
                         xmp_text("Iptc4xmpExt:AIPromptWriterName", "Bo")])
    report = inspect_bytes(embed_xmp(packet, "TIFF"), readers=["xmp"])
    assert report.origin is Origin.AI_GENERATED
    assert [g.to_dict() for g in report.generation] == [{"tool": "Stable Diffusion", "prompt": "a lighthouse at dusk, oil painting",
                                  "extra": {"ai_system_version": "1.0", "prompt_writer": "Bo"}}]
    assert report.verdict.generator == "Stable Diffusion"


def test_ai_fields_follow_an_ai_edited_source_type():
    packet = xmp_packet({"Iptc4xmpExt:DigitalSourceType": DST_BASE + "compositeWithTrainedAlgorithmicMedia",
                         "Iptc4xmpExt:AISystemUsed": "Adobe Firefly"})
    evidence = read_xmp_properties(parse_xmp(packet), "test")
    assert {e.implies for e in evidence if e.field.startswith("Iptc4xmpExt:")} == {Implication.AI_EDITED}
    assert inspect_bytes(embed_xmp(packet, "PNG"), readers=["xmp"]).origin is Origin.AI_EDITED


MJ_DESCRIPTION = ("https://s.mj.run/abc a watercolor fox in snow --ar 3:2 --v 6.1 --stylize 250 --no people, text "
                  "--seed 1234 Job ID: 5f0c1c2e-8c5b-4e4f-9a51-2f1f9d0f6a77")


def test_midjourney_description_is_parsed():
    params, job_id = parse_midjourney_description(MJ_DESCRIPTION)
    assert job_id == "5f0c1c2e-8c5b-4e4f-9a51-2f1f9d0f6a77"
    assert params.tool == "Midjourney"
    assert params.prompt == "https://s.mj.run/abc a watercolor fox in snow"
    assert params.negative_prompt == "people, text"
    assert params.seed == 1234 and params.model == "Midjourney v6.1"
    assert params.extra["aspect_ratio"] == "3:2" and params.extra["stylize"] == "250"
    assert parse_midjourney_description("A photo of my cat") is None


def test_midjourney_xmp_gives_one_generation_block():
    packet = xmp_packet({"Iptc4xmpExt:DigitalSourceType": DST_BASE + "trainedAlgorithmicMedia"},
                        [xmp_alt("dc:description", MJ_DESCRIPTION), xmp_seq("dc:creator", ["mj_user"])])
    report = inspect_bytes(embed_xmp(packet, "PNG"), readers=["xmp"])
    assert report.origin is Origin.AI_GENERATED
    assert report.verdict.generator == "Midjourney"
    assert len(report.generation) == 1 and report.generation[0].tool == "Midjourney"
    assert report.generation[0].extra["job_id"] == "5f0c1c2e-8c5b-4e4f-9a51-2f1f9d0f6a77"


def test_plain_description_is_info():
    report = inspect_bytes(embed_xmp(xmp_packet(elements=[xmp_alt("dc:description", "Harbour at dawn")]), "JPEG"),
                           readers=["xmp"])
    [ev] = _xmp_evidence(report)
    assert ev.implies is Implication.INFO and ev.value == "Harbour at dawn"


# ----- PLUS data mining and consent wording ---------------------------------------------------

DMI_EXPECTED = {
    "DMI-UNSPECIFIED": (Implication.INFO, []),
    "DMI-ALLOWED": (Implication.CONSENT_ALLOWED, ["training", "generative_training", "data_mining"]),
    "DMI-PROHIBITED-AIMLTRAINING": (Implication.CONSENT_RESERVED, ["training", "generative_training"]),
    "DMI-PROHIBITED-GENAIMLTRAINING": (Implication.CONSENT_RESERVED, ["generative_training"]),
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": (Implication.CONSENT_RESERVED,
                                                  ["training", "generative_training", "data_mining"]),
    "DMI-PROHIBITED": (Implication.CONSENT_RESERVED, ["training", "generative_training", "data_mining"]),
    "DMI-PROHIBITED-SEECONSTRAINT": (Implication.CONSENT_RESERVED, ["training", "generative_training", "data_mining"]),
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": (Implication.CONSENT_RESERVED,
                                             ["training", "generative_training", "data_mining"]),
    "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR": (Implication.CONSENT_RESERVED,
                                           ["training", "generative_training", "data_mining"]),
}


def test_plus_vocabulary_is_complete():
    assert set(DATA_MINING_TERMS) == set(DMI_EXPECTED)
    assert lookup_data_mining("http://ns.useplus.org/ldf/vocab/dmi-prohibited").code == "DMI-PROHIBITED"
    assert lookup_data_mining("DMI-NONSENSE") is None


@pytest.mark.parametrize("full_uri", [True, False])
@pytest.mark.parametrize("code", sorted(DMI_EXPECTED))
def test_data_mining_terms_give_consent_evidence(code, full_uri):
    report = inspect_bytes(embed_xmp(data_mining_packet(code, full_uri=full_uri), "JPEG"), readers=["xmp"])
    [ev] = [e for e in _xmp_evidence(report) if e.field == "plus:DataMining"]
    implies, uses = DMI_EXPECTED[code]
    assert ev.implies is implies
    assert ev.data["uses"] == uses and ev.data["code"] == code
    assert report.origin is Origin.UNKNOWN  # consent says nothing about origin


def test_see_constraint_carries_the_constraint_text():
    packet = data_mining_packet("DMI-PROHIBITED-SEECONSTRAINT",
                                other_constraints="Not for AI training; search indexing allowed")
    evidence = read_xmp_properties(parse_xmp(packet), "test")
    [dm] = [e for e in evidence if e.field == "plus:DataMining"]
    assert dm.data["constraints"] == ["Not for AI training; search indexing allowed"]
    assert dm.data["refers_to"] == "plus:OtherConstraints"
    worded = [e for e in evidence if e.field == "plus:OtherConstraints" and e.implies is Implication.CONSENT_RESERVED]
    assert worded and worded[0].data["uses"] == ["training", "generative_training"]


@pytest.mark.parametrize("text, expected", [
    ("Not for use in AI training", (Implication.CONSENT_RESERVED, ["training", "generative_training"])),
    ("Use for generative AI training is prohibited",
     (Implication.CONSENT_RESERVED, ["generative_training"])),
    ("Text and data mining reserved under Art. 4 DSM Directive", (Implication.CONSENT_RESERVED, ["data_mining"])),
    ("Machine learning training permitted", (Implication.CONSENT_ALLOWED, ["training", "generative_training"])),
    ("All rights reserved", None),
    ("Editorial use only", None),
])
def test_consent_wording(text, expected):
    assert consent_uses_in_text(text) == expected


def test_usage_terms_reserving_ai_training_is_consent_evidence():
    packet = xmp_packet(elements=[xmp_alt("xmpRights:UsageTerms", "No AI training or data mining without consent")])
    report = inspect_bytes(embed_xmp(packet, "WEBP"), readers=["xmp"])
    reserved = [e for e in _xmp_evidence(report) if e.implies is Implication.CONSENT_RESERVED]
    assert reserved and reserved[0].data["uses"] == ["training", "generative_training", "data_mining"]


def test_tdmrep_reservation_in_xmp():
    packet = xmp_packet({"tdm:reservation": "1", "tdm:policy": "https://example.com/policy.json"})
    [ev] = [e for e in read_xmp_properties(parse_xmp(packet), "t") if e.field == "tdm:reservation"]
    assert ev.implies is Implication.CONSENT_RESERVED and ev.data["policy"] == "https://example.com/policy.json"


def test_reader_is_skipped_without_xmp():
    report = inspect_bytes(embed_xmp(None, "PNG"))
    assert not _xmp_evidence(report) and not any(w.startswith("xmp:") for w in report.warnings)
