"""Open the platform database: the artists' registry schema, then the platform's own tables, both
brought up to date with their Alembic histories (SQLite file or ``postgresql://`` URL)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy.engine import Engine

from ...registry.migrate import alembic_config, current_revision, make_registry_engine, upgrade_registry

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "artlineage_platform_version"


def upgrade_platform(engine: Engine, revision: str = "head") -> str | None:
    """``alembic upgrade head`` for the registry and then the platform tables; safe to repeat."""
    upgrade_registry(engine)
    cfg = alembic_config(MIGRATIONS_DIR)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return platform_revision(engine)


def platform_revision(engine: Engine) -> str | None:
    return current_revision(engine, VERSION_TABLE)


def open_platform_engine(db: str | Path, *, upgrade: bool = True) -> Engine:
    """Engine for the platform database (WAL + foreign keys on SQLite, psycopg 3 on PostgreSQL)."""
    engine = make_registry_engine(db)
    if upgrade:
        upgrade_platform(engine)
    return engine
