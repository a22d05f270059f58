"""Open the platform database: the artists' registry schema, then the platform's own tables, both
brought up to date with their Alembic histories (SQLite file or ``postgresql://`` URL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from ..._db import database_url
from ..._migrate import current_revision, upgrade_schema
from ...registry.migrate import make_registry_engine, upgrade_registry

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "artlineage_platform_version"
POOL_SIZE = 20  # kept PostgreSQL connections per worker process (each worker also has the limiter's few)


def upgrade_platform(engine: Engine, revision: str = "head") -> str | None:
    """``alembic upgrade head`` for the registry and then the platform tables; safe to repeat."""
    upgrade_registry(engine)
    # The platform's tables always had migrations: no legacy create_all tables to adopt.
    return upgrade_schema(engine, script_location=MIGRATIONS_DIR, version_table=VERSION_TABLE, legacy_tables=(),
                          initial_revision="", make_engine=make_registry_engine, revision=revision)


def platform_revision(engine: Engine) -> str | None:
    return current_revision(engine, VERSION_TABLE)


def open_platform_engine(db: str | Path, *, upgrade: bool = True, pool_size: int = POOL_SIZE) -> Engine:
    """Engine for the platform database (WAL + foreign keys on SQLite, psycopg 3 on PostgreSQL).

    On PostgreSQL the pool keeps ``pool_size`` connections and may open half as many more (at most 30
    per worker with the default; with the rate limiter's 10, 2 workers stay under PostgreSQL's default
    ``max_connections`` of 100: raise it, or lower ``POOL_SIZE``, for more workers). SQLAlchemy's default (5 kept, 10 overflow) closed
    every connection above 5 on return: under 50 concurrent gallery clients the benchmark opened ~400
    PostgreSQL sessions in 10 s (a fork and a handshake each, and psycopg's prepared statements lost
    with them), which was most of PostgreSQL's gallery p99."""
    url = database_url(db)
    if url.startswith("postgresql"):
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size // 2)
    else:
        engine = make_registry_engine(db)
    if upgrade:
        upgrade_platform(engine)
    return engine
