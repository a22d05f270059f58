import pytest

from artlineage.errors import ConfigurationError
from artlineage.vocabulary import ALL_USES, ConsentUse, normalize_use, normalize_uses, use_of_name


def test_registry_scope_names_and_aliases_map_onto_the_verdict_uses():
    assert ALL_USES == ("training", "generative_training", "data_mining")
    assert normalize_uses(["ai_training", "TDM", ConsentUse.GENERATIVE_TRAINING, "training"]) == (
        "training", "data_mining", "generative_training")
    assert use_of_name("c2pa") is None


@pytest.mark.parametrize("bad", ["ai-training", "style_imitation", ""])
def test_unknown_uses_are_refused_with_the_accepted_names(bad):
    with pytest.raises(ConfigurationError, match="accepted: ai_generative_training, ai_training, data_mining"):
        normalize_use(bad)


def test_a_bare_string_is_not_taken_for_a_list_of_uses():
    with pytest.raises(ConfigurationError, match="single value 'training'"):
        normalize_uses("training")
