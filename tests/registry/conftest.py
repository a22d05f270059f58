"""Registry fixtures: every test using ``registry`` runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import pytest

from artlineage.registry import Registry


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "registry.sqlite")
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
def registry(registry_url):
    reg = Registry(registry_url)
    yield reg
    reg.close()
