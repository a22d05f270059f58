from artlineage.signals._base import Evidence, Implication
from artlineage.verdicts.consent import Decision, decide_consent

ALL = ["training", "generative_training", "data_mining"]


def ev(reader, implies, strength=0.8, **data):
    return Evidence(reader, "loc", f"{reader}-field", "v", implies, strength, data=data)


def test_most_restrictive_wins_and_names_override():
    v = decide_consent([ev("tdmrep", Implication.CONSENT_ALLOWED, uses=ALL),
                        ev("xmp", Implication.CONSENT_RESERVED, 0.9, uses=["generative_training"])])
    assert v.uses["generative_training"].decision is Decision.RESERVED
    assert v.uses["generative_training"].evidence.reader == "xmp"
    assert v.uses["generative_training"].overridden and "tdmrep" in v.uses["generative_training"].overridden[0]
    assert v.uses["training"].decision is Decision.ALLOWED and v.decision is Decision.RESERVED
    assert "most restrictive" in v.explanation


def test_nesting_of_reservations_and_unknown():
    v = decide_consent([ev("c2pa", Implication.CONSENT_RESERVED, purpose="data_mining")])
    assert v.reserved_uses == ALL
    v = decide_consent([ev("c2pa", Implication.CONSENT_RESERVED, purpose="ai_training")])
    assert v.reserved_uses == ["training", "generative_training"]
    assert decide_consent([]).decision is Decision.UNKNOWN


def test_strongest_rule_decides_and_registry_terms():
    v = decide_consent([ev("robots", Implication.CONSENT_RESERVED, 0.6), ev("x-robots-tag", Implication.CONSENT_RESERVED, 0.85)],
                       registry_terms=[{"ai_training": "allowed", "data_mining": "not_allowed", "source": "reg"}])
    # the registry's data_mining reservation (0.95) covers training too and beats both web signals and
    # the registry's own "allowed" for ai_training, which is named as overridden
    training = v.uses["training"]
    assert training.decision is Decision.RESERVED
    assert training.rule == "registry data_mining: not_allowed @ reg"
    assert (training.evidence.reader, training.evidence.field, training.evidence.value) == (
        "registry", "data_mining", "not_allowed")
    assert training.evidence.strength == 0.95
    assert training.overridden == ["registry ai_training: allowed @ reg"]
    assert v.uses["data_mining"].decision is Decision.RESERVED
    v = decide_consent([], registry_terms=[{"ai_training": "allowed_with_credit", "generative_training": None}])
    assert v.uses["training"].decision is Decision.ALLOWED and v.uses["generative_training"].decision is Decision.UNKNOWN
    assert v.to_dict()["uses"]["training"]["reader"] == "registry"
