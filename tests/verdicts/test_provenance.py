from artlineage.signals import Evidence, Implication
from artlineage.verdicts import Origin, decide_provenance


def ev(implies, strength, reader="t", field="f", value="v", generator=None):
    return Evidence(reader=reader, location="test", field=field, value=value, implies=implies,
                    strength=strength, generator=generator)


def test_no_evidence_is_unknown_not_human():
    v = decide_provenance([])
    assert v.origin is Origin.UNKNOWN
    assert "not evidence of human work" in v.explanation


def test_weak_hint_stays_unknown():
    v = decide_provenance([ev(Implication.CAMERA, 0.2)])
    assert v.origin is Origin.UNKNOWN


def test_info_only_is_unknown():
    v = decide_provenance([ev(Implication.INFO, 1.0, field="Artist", value="Jane")])
    assert v.origin is Origin.UNKNOWN
    assert v.evidence[0].value == "Jane"


def test_generator_metadata_outranks_camera_exif_and_names_conflict():
    v = decide_provenance([
        ev(Implication.CAMERA, 0.55, reader="exif", field="Make", value="Canon"),
        ev(Implication.AI_GENERATED, 0.95, reader="a1111", field="parameters", value="a cat", generator="AUTOMATIC1111"),
    ])
    assert v.origin is Origin.AI_GENERATED
    assert v.generator == "AUTOMATIC1111"
    assert len(v.conflicts) == 1 and "camera" in v.conflicts[0] and "Make=Canon" in v.conflicts[0]
    assert v.confidence < 0.95  # a conflict lowers confidence


def test_noisy_or_combines_independent_hints():
    v = decide_provenance([ev(Implication.AI_GENERATED, 0.5), ev(Implication.AI_GENERATED, 0.5)])
    assert v.origin is Origin.AI_GENERATED
    assert abs(v.scores["ai_generated"] - 0.75) < 1e-9


def test_untrusted_evidence_never_raises_a_score():
    v = decide_provenance([ev(Implication.UNTRUSTED, 0.99, reader="c2pa", field="signature", value="invalid")])
    assert v.origin is Origin.UNKNOWN
    assert "untrusted" in v.explanation


def test_composite_claim_wins_over_generated_when_as_strong():
    v = decide_provenance([ev(Implication.AI_EDITED, 0.9), ev(Implication.AI_GENERATED, 0.9)])
    assert v.origin is Origin.AI_EDITED
    assert v.conflicts == []


def test_verdict_round_trips_to_dict():
    v = decide_provenance([ev(Implication.CAMERA, 0.6, reader="exif", field="Model", value="X100V")])
    d = v.to_dict()
    assert d["origin"] == "camera"
    assert d["evidence"][0]["field"] == "Model"
    assert Evidence.from_dict(d["evidence"][0]) == v.evidence[0]
