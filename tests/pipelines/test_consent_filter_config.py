import pytest

from artlineage.errors import ConfigurationError
from artlineage.pipelines.consent_filter import FilterConfig, filter_rows


def _registry_reserves_training(row):
    return [{"ai_training": "not_allowed", "data_mining": "allowed", "source": "test registry"}]


def test_registry_scope_name_excludes_what_it_names():
    cfg = FilterConfig(exclude_uses=("ai_training",), in_file=False, registry_terms=_registry_reserves_training)
    assert cfg.exclude_uses == ("training",)
    [d] = filter_rows([{"path": "local.png"}], cfg)
    assert (d.excluded, d.reason, d.uses["training"], d.uses["data_mining"]) == (
        True, "registry", "reserved", "allowed")
    # Data mining is allowed by the same terms: excluding on it alone keeps the row.
    [d] = filter_rows([{"path": "local.png"}], FilterConfig(exclude_uses=("data_mining",), in_file=False,
                                                           registry_terms=_registry_reserves_training))
    assert (d.excluded, d.decision) == (False, "reserved")


@pytest.mark.parametrize("kwargs, message", [
    ({"exclude_uses": ("trainig",)}, "unknown consent use 'trainig'"),
    ({"exclude_uses": ()}, "exclude nothing"),
    ({"backend": "dask"}, "unknown backend 'dask'; accepted: local, ray"),
    ({"workers": 0}, "workers must be at least 1"),
])
def test_bad_configuration_is_refused(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        FilterConfig(**kwargs)
