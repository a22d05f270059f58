import pytest
from alembic import command
from sqlalchemy import inspect

from artlineage.registry import Registry, RegistryBase, make_registry_engine, upgrade_registry
from artlineage.registry.migrate import MIGRATIONS_DIR, VERSION_TABLE, alembic_config, registry_url

TABLES = {"artists", "artist_names", "works", "consent_terms", "artist_influences", "work_influences"}


def test_upgrade_from_empty_then_rerun_is_idempotent(registry_url):
    assert upgrade_registry(registry_url) == "0001_initial"
    reg = Registry(registry_url)  # opening upgrades again
    a = reg.add_artist("Kept")
    reg.close()
    assert upgrade_registry(registry_url) == "0001_initial"
    engine = make_registry_engine(registry_url)
    try:
        assert TABLES | {VERSION_TABLE} <= set(inspect(engine).get_table_names())
        cfg = alembic_config()
        with engine.connect() as conn:  # models and migrations agree: autogenerate finds nothing to do
            cfg.attributes["connection"] = conn
            command.check(cfg)
    finally:
        engine.dispose()
    with Registry(registry_url) as again:
        assert again.find_artist("kept").id == a.id


def test_database_made_without_alembic_is_adopted(tmp_path):
    db = tmp_path / "legacy.sqlite"
    engine = make_registry_engine(db)
    RegistryBase.metadata.create_all(engine)
    engine.dispose()
    assert upgrade_registry(db) == "0001_initial"
    with Registry(db) as reg:
        assert reg.add_artist("After").id == 1


def test_urls_and_packaged_migrations():
    assert registry_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert registry_url("reg.sqlite") == "sqlite:///reg.sqlite"
    assert (MIGRATIONS_DIR / "env.py").is_file() and (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    with pytest.raises(Exception):
        upgrade_registry("notadriver://x")
